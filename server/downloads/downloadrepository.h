#pragma once

#include "downloads/abstractdownloadstore.h"
#include "downloads/databaseurl.h"
#include "downloads/download.h"
#include "downloads/downloadlistquery.h"
#include "downloads/sqldialect.h"
#include "downloads/steadyclock.h"
#include "protocol/payloads.h"

#include <QHash>
#include <QList>
#include <QSqlDatabase>
#include <QSqlError>
#include <QString>
#include <QVariantList>

#include <functional>
#include <optional>

class QSqlQuery;

namespace Hermes {

/// A failed database operation; `connection` when the database could not be reached.
///
/// The one exception type of Hermes, and it never leaves the download store: DownloadRepository
/// throws it (Qt SQL reports errors on every call, and a transaction must unwind on any of
/// them), DownloadStore catches every one on its thread and answers a Result instead.
struct StoreFailure
{
    QString message;
    bool connection = false;

    /// A failed Qt SQL statement on a connection that is (still) `open`.
    static StoreFailure of(const QSqlError &e, bool open)
    {
        // QPSQL reports a lost server as a statement error: ask the connection itself.
        const bool lost = e.type() == QSqlError::ConnectionError || !open
            || e.text().contains(u"connection", Qt::CaseInsensitive)
            || e.text().contains(u"server closed", Qt::CaseInsensitive);
        return StoreFailure{e.text(), lost};
    }
};

/**
 * The `downloads` table on one Qt SQL connection (SQLite or PostgreSQL), synchronously.
 *
 * Used only by DownloadStore, on its thread. Every method throws StoreFailure on error, which
 * DownloadStore catches (see StoreFailure). The writes of the node running a download are
 * fenced: they apply only while that node owns the row (its lease) and the row has the status
 * the node last wrote, so a pause, cancel or takeover decided elsewhere is never overwritten.
 */
class DownloadRepository final
{
public:
    DownloadRepository(const DatabaseUrl &url, const QString &connectionName);
    ~DownloadRepository();

    /// Connects and migrates (under an advisory lock on PostgreSQL); without `migrating`, a
    /// connection for reads only, to a database the store has migrated (DownloadReaders). The
    /// connection is connectionName's (QSqlDatabase::database).
    void open(bool migrating = true);
    /// After a failure: probes the connection and reconnects when it is gone.
    void recover();
    /// Group commit (SQLite): the jobs between beginBatch() and commitBatch() share one
    /// transaction, so one sync of the journal makes all of them durable; each job's own
    /// transaction is a savepoint inside it. Nothing of a batch is durable before
    /// commitBatch() returns, so no answer may leave before (DownloadStore holds them).
    /// A failed commit rolls the whole batch back and throws.
    void beginBatch();
    void commitBatch();
    /// SQLite rolled the batch's whole transaction back on its own (SQLITE_FULL, IOERR, NOMEM
    /// may): it is in autocommit mode again, where each later job's savepoint would commit at
    /// once. The batch is to be ended (commitBatch then throws, failing the jobs run in it).
    bool batchLost() const;
    bool inBatch() const { return m_batch; }
    int schemaVersion();
    const SqlDialect &dialect() const { return m_dialect; }

    /// Adds `rows` at the end of the queue, in this order, in one transaction (assigns
    /// their positions).
    void insert(QList<Download> &rows);
    void insert(Download &d)
    {
        QList<Download> one{d};
        insert(one);
        d = one.constFirst();
    }
    std::optional<Download> get(const QString &id);
    /// Pages of the queue order (unfinished first, then priority, then arrival).
    DownloadListQuery &lists() { return m_lists; }
    /// The queue over every node (speed as the running nodes last saved it); folds the
    /// counts' deltas when they have grown (migration 6).
    QueueSummary counts();

    /// Locks the row, lets `change` decide (false: refused, nothing written), writes the
    /// fields a control action may change (or deletes the row) and notifies the other nodes.
    /// Returns the row as written, or nothing when there is no such download.
    std::optional<Download> control(const QString &id, const std::function<bool(Download &)> &change,
                                    bool remove, bool *refused);

    /// control() on many rows in one transaction, locked in id order (two bulk actions on
    /// PostgreSQL never wait for each other in a circle): `which` names them (see
    /// AbstractDownloadStore::Selection). Returns the rows found, as written or as found when
    /// refused; `missing` gets the ids without a download, `more` whether a status selection
    /// matched more than its limit. Notifies the other nodes once ("*"), unless a change made
    /// a download claimable: then the caller does, once it published the changes.
    QList<AbstractDownloadStore::Controlled> controlMany(const AbstractDownloadStore::Selection &which,
                                                         const std::function<bool(Download &)> &change,
                                                         QStringList *missing, bool *more);

    /// Claims up to `max` runnable downloads for `node` (leases expired or free, retry time
    /// reached), respecting `clusterLimit` (0: none) over every node.
    QList<Download> claim(const QString &node, int leaseMs, int max, int clusterLimit,
                          const QStringList &busy, qint64 *nextRetryInMs);
    /// The running node's write: progress, status, validators. Applies only while `node`
    /// owns the row and its status is `expected`. `retryInMs` >= 0 sets the retry time;
    /// `release` gives the lease up. Returns false when the node no longer runs it.
    bool update(const Download &d, const QString &node, DownloadStatus expected, qint64 retryInMs,
                bool release);
    /// Extends the leases of `node` on the downloads it `runs`, and only those: a row it
    /// owns but stopped running (its lease ran out while the database was out of reach, or
    /// a write was fenced) is left to expire, so any node, this one too, claims it again.
    /// Returns the rows of `runs` it still owns, with their status.
    QHash<QString, DownloadStatus> renew(const QString &node, int leaseMs, const QStringList &runs);
    /// Gives up one lease (after a pause, a cancel or a loss).
    void release(const QString &id, const QString &node);
    /// Gives up every lease of `node` (clean shutdown): its downloads are claimable at once.
    void releaseAll(const QString &node);
    /// Single node: nobody else can hold a lease, so leases of a previous run are void.
    void resetOwners();
    void notify(const QString &payload);

private:
    /// The fields a control action may change, on a locked row.
    void writeControlled(Download &d);
    QSqlQuery exec(const QString &sql, const QVariantList &binds = {});
    QSqlDatabase db() const;
    void connect();
    void migrate();
    /// The store's clock in SQL (SqlDialect::nowMs).
    QString now() const { return m_dialect.nowMs(); }

    DatabaseUrl m_url;
    SqlDialect m_dialect;
    QString m_connection;
    DownloadListQuery m_lists;
    bool m_batch = false; ///< between beginBatch() and commitBatch()
};

} // namespace Hermes
