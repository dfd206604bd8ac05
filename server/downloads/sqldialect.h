#pragma once

#include <QString>
#include <QStringList>

namespace Hermes {

/**
 * Everything that differs between SQLite and PostgreSQL in the download store, in one place:
 * column types in the migrations, the database clock, row locks, advisory locks and
 * notifications. The queries themselves are written once, in DownloadRepository and
 * DownloadListQuery.
 */
class SqlDialect final
{
public:
    enum class Kind { Sqlite, Postgres };
    explicit SqlDialect(Kind kind) : m_kind(kind) {}

    Kind kind() const { return m_kind; }
    bool isPostgres() const { return m_kind == Kind::Postgres; }
    QString driver() const;

    /// The migrations, in order (index + 1 = the schema version each produces); a step may
    /// hold several statements, which commit together with the version bump.
    static QList<QStringList> migrations(Kind kind);
    /// Folds the per-status deltas of `download_counts` (migration 6) into one row per status:
    /// statements each binding the highest `seq` to fold, run in one transaction.
    QStringList foldCounts() const;
    /// A statement answering whether this transaction may fold (true/false); empty on SQLite.
    QString tryLockFold() const;
    /// Run after a fold, outside any transaction: reclaims the folded rows (empty on SQLite).
    QString vacuumCounts() const;

    /// The store's clock in milliseconds, in SQL: PostgreSQL's (leases compare against one
    /// clock, the database's, never the nodes'); for SQLite, its one node's SteadyClock as a
    /// literal (a step of the wall clock moves no lease or retry time).
    QString nowMs() const;
    /// Begins a read-only transaction whose statements all see one state of the database
    /// (SQLite: a deferred BEGIN holds one WAL snapshot from its first read; PostgreSQL: a
    /// snapshot for the transaction, not one per statement). Ended by COMMIT.
    QString beginRead() const;
    /// Appended to a SELECT that picks a row to change (row lock; nothing on SQLite, whose
    /// single writer is the lock).
    QString forUpdate() const;
    /// Appended to the SELECT that claims work: rows another node is claiming are skipped.
    QString forUpdateSkipLocked() const;
    /// Session-level advisory lock around the migrations (several nodes starting at once);
    /// empty on SQLite.
    QString lockMigrations() const;
    QString unlockMigrations() const;
    /// Transaction-level advisory lock that serializes claims when a cluster-wide limit is
    /// set (counting and claiming must not interleave); empty on SQLite.
    QString lockClaims() const;
    /// Transaction-level advisory lock held from reading the end of the queue to the insert
    /// (two nodes' lists must not take the same positions); empty on SQLite (one writer).
    QString lockQueueEnd() const;
    /// After `FROM downloads`: the index SQLite must use (its planner, without statistics,
    /// prefers the status index and sorts the whole table); PostgreSQL chooses by its own.
    QString indexedBy(const char *index) const;
    /// A statement that notifies the other nodes (payload bound as the one parameter); empty
    /// on SQLite, which has only one node.
    QString notify() const;

    static constexpr const char *Channel = "hermes_downloads";

private:
    static QStringList countMigration(Kind kind);
    Kind m_kind;
};

} // namespace Hermes
