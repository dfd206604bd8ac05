#pragma once

#include "protocol/payloads.h"
#include "queueplanner.h"

#include <QHash>
#include <QObject>

#include <functional>

class QAction;
class QKeySequence;
class QWidget;

namespace Hermes {

class MonitorSession;

/**
 * What the operator can do to downloads, as QActions: Pause, Resume, Cancel, Retry and Remove
 * on the selected ones, the queue moves (Move to Top, Up, Down, to Bottom), Copy URL, and
 * Pause All / Resume All, each with its key (listed in the menus), and Space for Pause or
 * Resume.
 *
 * Each action is enabled from the download rules (DownloadRules) for the selection, and sent
 * only for the downloads it applies to (a bulk pause skips the completed ones silently), so
 * the monitor never offers what the server would refuse. Actions run through the REST API,
 * one request for a selection (`POST /api/v1/downloads/actions`, up to 1,000 ids each) and
 * one for Pause All / Resume All (by status); a server without that route gets one request
 * per download. A failure is reported with message().
 */
class DownloadActions final : public QObject
{
    Q_OBJECT
public:
    /// `selection` gives the ids of the selected downloads; `window` parents the Remove
    /// question.
    DownloadActions(MonitorSession *session, std::function<QStringList()> selection, QWidget *window);

    QAction *action(DownloadAction action) const { return m_perDownload.at(int(action)); }
    /// Pause, Resume, Cancel, Retry.
    const QList<QAction *> &perDownload() const { return m_perDownload; }
    /// Move to Top, Up, Down, to Bottom.
    const QList<QAction *> &moves() const { return m_moves; }
    QAction *remove() const { return m_remove; }
    QAction *copyUrl() const { return m_copyUrl; }
    /// Space: Pause when the selection has something to pause, else Resume.
    QAction *pauseOrResume() const { return m_toggle; }
    QAction *pauseAll() const { return m_pauseAll; }
    QAction *resumeAll() const { return m_resumeAll; }
    /// By name: a download action's wire name (`pause`, …), or remove, pauseall, resumeall,
    /// pauseresume, top, up, down, bottom, copyurl; null for another.
    QAction *named(const QString &name) const { return m_byName.value(name); }

    /// Enables the actions for the current selection (call when it or the rows change).
    void update();

    /// Whether `action` applies to a download in `status`; one this version does not know
    /// allows none.
    static bool applies(DownloadAction action, const ReceivedStatus &status);
    /// Whether a download in `status` has a place in the queue to move.
    static bool canReorder(const ReceivedStatus &status);

Q_SIGNALS:
    /// Something went wrong (for the status bar).
    void message(const QString &text);

private:
    QAction *add(const QString &name, const QString &text, const char *icon, const QKeySequence &key,
                 std::function<void()> slot);
    void run(DownloadAction action);
    /// One bulk request for `ids` (at most ApiClient::MaxBulkIds); `names` for the messages.
    void sendBulk(DownloadAction action, const QStringList &ids, const QHash<QString, QString> &names);
    /// One request per download: for a server without the bulk route.
    void actOneByOne(DownloadAction action, const QStringList &ids, const QHash<QString, QString> &names);
    void runOnAll(DownloadAction action);
    void moveQueue(QueuePlanner::Move move);
    void removeSelected();

    MonitorSession *m_session;
    std::function<QStringList()> m_selection;
    QWidget *m_window;
    QList<QAction *> m_perDownload;
    QList<QAction *> m_moves;
    QAction *m_remove = nullptr;
    QAction *m_copyUrl = nullptr;
    QAction *m_toggle = nullptr;
    QAction *m_pauseAll = nullptr;
    QAction *m_resumeAll = nullptr;
    QHash<QString, QAction *> m_byName;
};

} // namespace Hermes
