#pragma once

#include "downloads/download.h"
#include "downloads/listcursor.h"
#include "protocol/payloads.h"
#include "result.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QStringList>

#include <functional>
#include <optional>

namespace Hermes {

/**
 * What the download engine's pieces ask of the store, and nothing else: the `downloads` table
 * as asynchronous operations. DownloadStore is the real one (SQLite or PostgreSQL, queries on
 * its own thread); the unit suites hand the pieces an in-memory one.
 *
 * Every operation answers once, through `done`, on the thread of `context` (the caller's: the
 * pieces live on the main thread), and not at all once `context` is gone. A store that cannot
 * answer (the database failed, or did not answer in time) hands `done` an Error of kind
 * Unavailable with the database's words; the callers say what it meant for them.
 *
 * The writes of the node that runs a download are fenced (update()): they apply only while
 * that node holds the row's lease and the row has the status the node last wrote, so a pause,
 * a cancel or a takeover decided elsewhere is never overwritten.
 */
class AbstractDownloadStore : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    template<typename T>
    using Done = std::function<void(Result<T>)>;
    /// Decides a control action on the locked row: false refuses it (nothing is written).
    using Change = std::function<bool(Download &)>;

    /// New downloads as saved (with their positions), and the queue after them.
    struct Inserted
    {
        QList<Download> rows;
        QueueSummary summary;
    };
    /// What control() did.
    struct Controlled
    {
        std::optional<Download> row;   ///< as written (as found when refused); nothing: no such download
        DownloadStatus before = DownloadStatus::Pending; ///< its status before the change
        bool refused = false;
        QueueSummary summary;          ///< the queue after the change (when there was one)
    };
    /// Which downloads a bulk control action is about: `ids` when it has any, else every
    /// download in one of `statuses` (at most `limit` of them, by id).
    struct Selection
    {
        QStringList ids;
        QList<DownloadStatus> statuses;
        int limit = 0;
    };
    /// What controlMany() did.
    struct ControlledMany
    {
        QList<Controlled> rows;        ///< each download found (by id); their `summary` is empty
        QStringList missing;           ///< ids asked for without a download
        bool more = false;             ///< by status: more matched than `limit` (left as they are)
        QueueSummary summary;          ///< the queue after the changes
    };
    /// Which page of the queue order list() and queue() answer.
    struct ListRequest
    {
        std::optional<DownloadStatus> status; ///< only downloads with this status
        int limit = 100;
        int offset = 0;                ///< rows to skip (without `after`)
        std::optional<ListCursor> after; ///< start after this place (keyset paging)
        bool withTotal = true;         ///< count the matching downloads too
    };
    struct Page
    {
        QList<Download> items;
        int total = 0;                 ///< matching downloads, beyond the page too (withTotal)
        bool more = false;             ///< more match after the page's last row
    };
    struct Queue
    {
        QList<Download> unfinished;    ///< in queue order: the page asked for
        QueueSummary summary;
        bool more = false;             ///< more unfinished ones after the page
    };
    struct Claimed
    {
        QList<Download> rows;          ///< `owner` still names the previous node, if any
        qint64 nextRetryInMs = -1;     ///< when the next retry becomes claimable; -1: none waits
    };

    /// Several nodes may share it (PostgreSQL).
    virtual bool isShared() const = 0;
    /// Where it is, for logs (never a password).
    virtual QString description() const = 0;

    // --- what the API asks --------------------------------------------------------------

    /// Saves new downloads at the end of the queue in this order (their positions are
    /// assigned), in one transaction: all or none.
    virtual void insert(QObject *context, const QList<Download> &downloads, Done<Inserted> done) = 0;
    void insert(QObject *context, const Download &download, Done<Inserted> done)
    {
        insert(context, QList<Download>{download}, std::move(done));
    }
    /// Locks the row, lets `change` decide, writes the fields a control action may change (or
    /// deletes the row when `remove`) and tells the other nodes.
    virtual void control(QObject *context, const QString &id, Change change, bool remove,
                         Done<Controlled> done) = 0;
    /// control() on many downloads in one transaction: each locked row is decided by `change`
    /// (a refusal leaves that row and no other), the changed ones written together, and the
    /// other nodes told once. Never removes.
    virtual void controlMany(QObject *context, const Selection &which, Change change,
                             Done<ControlledMany> done) = 0;
    /// One download, or nothing when there is no such download.
    virtual void get(QObject *context, const QString &id, Done<std::optional<Download>> done) = 0;
    /// A page in queue order: unfinished first, then priority, then arrival.
    virtual void list(QObject *context, const ListRequest &request, Done<Page> done) = 0;
    /// get() and list() for the API: what is committed, read beside the writes (DownloadStore:
    /// on connections of their own). The engine's reads (get, list) stay in order with its
    /// writes. Here: the same reads.
    virtual void show(QObject *context, const QString &id, Done<std::optional<Download>> done)
    {
        get(context, id, std::move(done));
    }
    virtual void showPage(QObject *context, const ListRequest &request, Done<Page> done)
    {
        list(context, request, std::move(done));
    }
    void list(QObject *context, std::optional<DownloadStatus> status, int limit, int offset, Done<Page> done)
    {
        list(context, ListRequest{status, limit, offset, std::nullopt, true}, std::move(done));
    }
    /// A page of the unfinished downloads in queue order (`request.status` is not used), and
    /// the queue's figures over every node: for the API (read as show() reads).
    virtual void queue(QObject *context, const ListRequest &request, Done<Queue> done) = 0;

    // --- leases ---------------------------------------------------------------------------

    /// Claims up to `max` runnable downloads for `node` (free, or their lease expired by the
    /// database's clock; their retry time reached), at most `clusterLimit` (0: none) running
    /// over every node, never one of `busy` (what `node` is still working on: were its clock
    /// stepped, a lease of its own could look expired to it).
    virtual void claim(QObject *context, const QString &node, int leaseMs, int max,
                       int clusterLimit, const QStringList &busy, Done<Claimed> done) = 0;
    /// Extends the leases of `node` on the downloads it `runs`, and only those; answers the
    /// rows of `runs` it still owns, with their status.
    virtual void renew(QObject *context, const QString &node, int leaseMs, const QStringList &runs,
                       Done<QHash<QString, DownloadStatus>> done) = 0;
    /// Gives up one lease (after a pause, a cancel, a loss); nobody waits for it.
    virtual void release(const QString &id, const QString &node) = 0;
    /// Tells the other nodes that download `id` changed (control() does not, for a change that
    /// makes it claimable: the caller does, once it published the change); nobody waits.
    virtual void notifyChanged(const QString &id) = 0;
    /// Gives up every lease of `node`, waiting at most `timeoutMs` (clean shutdown only).
    virtual bool releaseAll(const QString &node, int timeoutMs) = 0;
    /// One node only: voids the leases of a previous run, waiting at most `timeoutMs` (start).
    virtual bool resetOwners(int timeoutMs) = 0;

    // --- the running node's write ---------------------------------------------------------

    /// The running node's write (progress, status, validators), fenced: it applies only while
    /// `node` owns the row and its status is `expected`. `retryInMs` >= 0 sets the retry time,
    /// `release` gives the lease up. Answers nothing when it did not apply (the node no longer
    /// runs it), else the queue after it when `withSummary` (an empty summary otherwise).
    virtual void update(QObject *context, const Download &download, const QString &node,
                        DownloadStatus expected, qint64 retryInMs, bool release, bool withSummary,
                        Done<std::optional<QueueSummary>> done) = 0;

signals:
    /// A download changed on some node (its id; "*": anything may have changed).
    void changed(const QString &id);
};

} // namespace Hermes
