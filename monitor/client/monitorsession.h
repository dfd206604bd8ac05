#pragma once

#include "apiclient.h"
#include "downloadlistmodel.h"
#include "eventstreamclient.h"
#include "networkwatcher.h"
#include "reconnectbackoff.h"
#include "snapshotloader.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QObject>
#include <QQueue>
#include <QSet>

namespace Hermes {

/**
 * Keeps a DownloadListModel equal to the server, without ever resetting it.
 *
 * - The REST snapshot (every page) is loaded on the first connect, on `resync_required`, when
 *   a connection could not ask to resume (no Last-Event-ID yet), and on demand (F5). A
 *   reconnect whose Last-Event-ID replay delivered what was missed needs no reload.
 * - A snapshot is merged into the rows; events that arrive while it loads are held and applied
 *   after it, so none is lost and none undoes it. A load that is interrupted keeps its pages
 *   and walks on (SnapshotLoader says why that is right), unless events may have been lost.
 * - A snapshot that fails is retried with backoff, and the session is *stale* until one
 *   succeeds (the window dims the rows and shows a banner).
 * - Speed and ETA are marked unknown while the stream is not connected.
 * - downloadFinished() fires once per real transition to completed/failed: a replayed or
 *   repeated event finds the row in that state already.
 * - When the network comes back or the machine resumes, the stream retries at once (and a
 *   stale snapshot too) instead of waiting out its backoff.
 * - A queue_update that adds or reorders a download fetches its details (priority, creation
 *   time), which events do not carry; many at once become one reload.
 *
 * Lives on the GUI thread, with its stream, model and API client.
 */
class MonitorSession final : public QObject
{
    Q_OBJECT
public:
    explicit MonitorSession(QObject *parent = nullptr);

    /// The server root, e.g. http://127.0.0.1:8000.
    void setServer(const QUrl &base);
    void setApiKey(const QByteArray &key);
    EventStreamClient &stream() { return m_stream; }
    ApiClient &api() { return m_api; }
    DownloadListModel &model() { return m_model; }
    SnapshotLoader &loader() { return m_loader; }
    NetworkWatcher &network() { return m_network; }
    ReconnectBackoff &snapshotRetryPolicy() { return m_snapshotPolicy; }

    void start();
    void stop();
    /// Loads the snapshot again (F5). A load that is running or was interrupted (a failed
    /// page) walks on from where it was, keeping its pages: the stream has told of every
    /// change since. Unless events were dropped meanwhile (too many held): then it loads anew.
    void reload();
    /// Reloads and, unless connected, reconnects the stream now.
    void refresh();
    bool isLoading() const { return m_loader.isRunning() || !m_inserting.isEmpty(); }
    /// New downloads of a snapshot are inserted this many per event-loop turn, so that a
    /// large reload does not freeze the window (0: all at once).
    void setInsertSlice(int n) { m_insertSlice = qMax(0, n); }
    /// Events held while a load runs, at most: past this they are dropped, and the next load
    /// starts from the first page (100,000 by default; smaller in tests).
    void setMaxHeldEvents(int n) { m_maxHeld = qMax(1, n); }
    bool isStale() const { return m_stale; }
    QString staleReason() const { return m_snapshotError; }
    /// Milliseconds until the next snapshot attempt while stale, or -1.
    qint64 msUntilSnapshotRetry() const;
    QDateTime lastEventTime() const;
    int snapshotsLoaded() const { return m_snapshots; }
    int snapshotsRequested() const { return m_snapshotsRequested; }

Q_SIGNALS:
    void notificationReceived(const Hermes::SystemNotificationEvent &notification);
    /// A download reached completed (`succeeded`) or failed, once per real transition.
    void downloadFinished(const QString &id, const QString &name, bool succeeded);
    void snapshotLoaded();
    void staleChanged(bool stale);
    void errorOccurred(const QString &message);

private:
    void onStateChanged(EventStreamClient::State state);
    /// Loads from the first page: events may have been missed, so pages fetched before may
    /// hold downloads deleted since.
    void reloadAnew();
    void startLoad(bool anew);
    void onEvent(const SseParser::Event &event);
    void apply(const ReceivedEvent &event);
    void onLoaded(const QList<DownloadResource> &items, bool complete);
    void onLoadFailed(const QString &message);
    void setStale(bool stale);
    void fetchDetails();
    void insertSlice();
    void finishLoad();

    EventStreamClient m_stream;
    ApiClient m_api;
    DownloadListModel m_model;
    SnapshotLoader m_loader{&m_api};
    NetworkWatcher m_network;
    ReconnectBackoff m_snapshotPolicy;
    QTimer m_snapshotRetry;
    QDeadlineTimer m_snapshotDeadline;
    int m_snapshotAttempt = 0;
    QString m_snapshotError;
    bool m_haveSnapshot = false;
    bool m_stale = false;
    bool m_reloadAgain = false;   ///< held events were dropped: the next load starts anew
    bool m_loadIncomplete = false; ///< the last load's list moved under it: another follows
    int m_snapshots = 0;
    int m_snapshotsRequested = 0;
    QList<ReceivedEvent> m_held;
    int m_maxHeld = 100'000;
    QList<DownloadResource> m_inserting; ///< a snapshot's new downloads still to insert
    qsizetype m_insertAt = 0;
    int m_insertSlice = 100;
    QTimer m_insertTimer;
    QSet<QString> m_pendingDetails;
    /// Details asked for and not answered yet, per download. Two can be on their way (added,
    /// then reordered), answered in any order: the entry lives until the last answer, and once
    /// the download is removed no answer (each may predate the removal) may bring it back.
    struct DetailsInFlight
    {
        int requests = 0;
        bool removed = false;
    };
    QHash<QString, DetailsInFlight> m_detailsInFlight;
    /// Downloads that events changed while a load was interrupted (and events were applied
    /// at once): one may have moved behind the load's cursor, so its page never comes.
    QSet<QString> m_changedMeanwhile;
    QTimer m_detailTimer;
    QSet<QString> m_seenNotifications;
    QQueue<QString> m_seenOrder;
    qint64 m_lastEventMs = 0;
};

} // namespace Hermes
