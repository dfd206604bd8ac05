#pragma once

#include "protocol/payloads.h"

#include <QHash>
#include <QList>
#include <QObject>

namespace Hermes {

class ApiClient;

/**
 * Loads every download over REST: `GET /api/v1/downloads` page after page, each page after
 * the `next_cursor` of the one before, until a page has none.
 *
 * A cursor is a place in the queue order, not a count of rows: a download added or deleted
 * while the list is paged shifts nothing, so a load never has to start over for it. A load
 * that is interrupted (a page request failed, or the load was asked for again while it ran)
 * keeps its pages and walks on from the last cursor when resumed: what it fetched is merged
 * by id, a later copy of a download replacing an earlier one.
 *
 * What the pages cannot say, the event stream does: a download deleted after its page came
 * (the session tells the loader to forget it, or its removal event follows the merge), one
 * that moved in the order behind the cursor (its event names a row the table lacks, or one
 * it changed while the load was interrupted that no page brought: its details are fetched),
 * one changed after its page (events newer than the page win, by the
 * table's timestamp rule). So resuming is right only while the stream saw everything since
 * the first page; when it may not have (no resume, resync_required), start() loads anew.
 *
 * A server without cursors (no `next_cursor` member) is paged by `next_offset`.
 */
class SnapshotLoader final : public QObject
{
    Q_OBJECT
public:
    explicit SnapshotLoader(ApiClient *api, QObject *parent = nullptr);

    /// Items per request (the server allows 1-1000).
    void setPageSize(int n) { m_pageSize = qBound(1, n, 1000); }
    int pageSize() const { return m_pageSize; }

    /// Loads from the first page, forgetting the pages of an interrupted load.
    void start();
    /// Walks on from the last cursor of an interrupted (or running) load, keeping its pages;
    /// start() when there is none.
    void resume();
    void cancel();
    /// A download deleted since its page came: it is not handed on.
    void forget(const QString &id);
    bool isRunning() const { return m_running; }
    /// Whether a load stopped part-way (a failed page) and keeps its pages for resume().
    bool isInterrupted() const { return m_started && !m_running; }
    /// Whether the running load went on from pages kept across a failed request (events were
    /// applied to the table meanwhile: a kept page may be older than a row).
    bool resumedAfterFailure() const { return m_resumedAfterFailure; }
    /// Page requests made by the last load from its first page on, through its resumptions
    /// and restarts (for tests and the bench).
    int requestsMade() const { return m_requests; }

Q_SIGNALS:
    /// `complete`: every download the server had is in `items` (a row missing was deleted).
    void loaded(const QList<Hermes::DownloadResource> &items, bool complete);
    void failed(const QString &message);
    /// A page was merged and another is to be requested (for tests).
    void pageLoaded(int requests);

private:
    void requestPage();
    void fail(const QString &message, bool keepPages);
    void take(const QJsonArray &page);

    ApiClient *m_api;
    int m_pageSize = 1000;
    bool m_running = false;
    bool m_started = false;  ///< a load began and has not ended (finished or cancelled)
    bool m_failedMeanwhile = false;
    bool m_resumedAfterFailure = false;
    quint64 m_run = 0;       ///< an abandoned request's answer is ignored
    QString m_cursor;        ///< where the next page starts; empty: at the first
    int m_offset = 0;        ///< the same for a server without cursors
    int m_requests = 0;
    QList<DownloadResource> m_items;
    QHash<QString, qsizetype> m_index; ///< id → place in m_items
};

} // namespace Hermes
