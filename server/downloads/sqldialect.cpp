#include "downloads/sqldialect.h"

#include "downloads/steadyclock.h"

namespace Hermes {

// Arbitrary but fixed keys of the two advisory locks ("HERM" + 1 / 2).
static constexpr qint64 MigrationLockKey = 0x4845524d01;
static constexpr qint64 ClaimLockKey = 0x4845524d02;
static constexpr qint64 FoldLockKey = 0x4845524d03;
static constexpr qint64 QueueEndLockKey = 0x4845524d04;

QString SqlDialect::driver() const
{
    return isPostgres() ? QStringLiteral("QPSQL") : QStringLiteral("QSQLITE");
}

QList<QStringList> SqlDialect::migrations(Kind kind)
{
    // SQLite's INTEGER is already 64-bit; PostgreSQL's is 32.
    const QString int64 = kind == Kind::Postgres ? QStringLiteral("BIGINT") : QStringLiteral("INTEGER");
    const QString real = kind == Kind::Postgres ? QStringLiteral("DOUBLE PRECISION") : QStringLiteral("REAL");
    const auto add = [](const QString &column) {
        return QStringLiteral("ALTER TABLE downloads ADD COLUMN ") + column;
    };
    return {
        // 1: downloads
        {QStringLiteral("CREATE TABLE downloads ("
                        " id TEXT PRIMARY KEY, url TEXT NOT NULL, filename TEXT NOT NULL,"
                        " filename_from_request INTEGER NOT NULL, priority INTEGER NOT NULL,"
                        " position %1 NOT NULL, sha256 TEXT NOT NULL, status TEXT NOT NULL,"
                        " downloaded_bytes %1 NOT NULL, total_bytes %1 NOT NULL,"
                        " error_message TEXT NOT NULL, note TEXT NOT NULL, attempts INTEGER NOT NULL,"
                        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, completed_at TEXT)").arg(int64)},
        // 2: listing by status is the common query
        {QStringLiteral("CREATE INDEX downloads_status ON downloads(status)")},
        // 3: leases (which node runs a download, until when), retry backoff any node honours,
        //    the validators for If-Range, and the progress the running node last reported
        {add(QStringLiteral("owner TEXT NOT NULL DEFAULT ''")),
         add(QStringLiteral("lease_until %1 NOT NULL DEFAULT 0").arg(int64)),
         add(QStringLiteral("not_before %1 NOT NULL DEFAULT 0").arg(int64)),
         add(QStringLiteral("etag TEXT NOT NULL DEFAULT ''")),
         add(QStringLiteral("last_modified TEXT NOT NULL DEFAULT ''")),
         add(QStringLiteral("speed %1 NOT NULL DEFAULT 0").arg(real)),
         add(QStringLiteral("percent %1 NOT NULL DEFAULT 0").arg(real)),
         QStringLiteral("CREATE INDEX downloads_owner ON downloads(owner)")},
        // 4: fenced writes and vouched resumes: the claim's generation (every claim bumps it;
        //    the running node's writes name it), the generation whose part file holds the
        //    saved bytes and a hash of their tail; the start of a run of transient failures
        //    (the retry window); why the server itself paused a download; a saved status
        //    change not yet published (its node holds the lease until it is)
        {add(QStringLiteral("lease_generation %1 NOT NULL DEFAULT 0").arg(int64)),
         add(QStringLiteral("part_generation %1 NOT NULL DEFAULT 0").arg(int64)),
         add(QStringLiteral("part_check TEXT NOT NULL DEFAULT ''")),
         add(QStringLiteral("retrying_since %1 NOT NULL DEFAULT 0").arg(int64)),
         add(QStringLiteral("held_by TEXT NOT NULL DEFAULT ''")),
         add(QStringLiteral("announce TEXT NOT NULL DEFAULT ''"))},
        // 5: the queue order as an index key (ListCursor): `queue_rank` is unfinished before
        //    finished, then higher priority first, in one ascending number the database derives
        //    (VIRTUAL on SQLite, whose ALTER TABLE adds no STORED column). The finished statuses
        //    are spelled as they were when this step was written: a new finished status needs a
        //    step of its own (tst_downloadlistquery checks the rank against DownloadRules).
        //    By status, the second index; the position index makes finding the end of the
        //    queue (insert) a seek. The status index (2) stays: the queue's counts read it whole,
        //    and its entries are a third of the second's.
        {add(QStringLiteral("queue_rank INTEGER GENERATED ALWAYS AS ("
                            "(CASE WHEN status IN ('completed', 'failed', 'cancelled') THEN 2001 ELSE 0 END)"
                            " + 1000 - priority) %1").arg(kind == Kind::Postgres ? "STORED" : "VIRTUAL")),
         QStringLiteral("CREATE INDEX downloads_queue_order ON downloads(queue_rank, position, id)"),
         QStringLiteral("CREATE INDEX downloads_status_order ON downloads(status, queue_rank, position, id)"),
         QStringLiteral("CREATE INDEX downloads_position ON downloads(position)"),
         // Every claim first looks for a saved change nobody announced (almost never one): a
         // partial index holds only those rows, where the table scan was 110 ms at 100,000
         // downloads on PostgreSQL.
         QStringLiteral("CREATE INDEX downloads_announce ON downloads(id) WHERE announce <> ''"),
         // ...and then for the next retry time, among the few downloads waiting for one.
         QStringLiteral("CREATE INDEX downloads_retry ON downloads(not_before) WHERE not_before > 0")},
        // 6: the number of downloads per status, kept by the database as rows change, so the
        //    queue's counts (read after every add and every status change, for its summary
        //    event) cost the same at 100,000 downloads as at 10 instead of a scan of the status
        //    index (10 ms of CPU per add at 100,000 on SQLite). Append-only deltas, not one row
        //    per status: on PostgreSQL a row per status would be a lock every status change of
        //    every node waits on (and two multi-row transactions taking them in opposite orders
        //    deadlock); inserts take no lock anyone waits for. The sum per status is the count;
        //    DownloadListQuery folds the deltas back into one row per status as they grow.
        countMigration(kind),
        // 7: what a running download does within `downloading` (DownloadPhase), saved by its
        //    node with each phase change (a change it saves anyway), so every node answers it;
        //    read back only while the lease of the node that saved it holds (DownloadRow).
        {add(QStringLiteral("phase TEXT NOT NULL DEFAULT ''"))},
    };
}

QStringList SqlDialect::countMigration(Kind kind)
{
    const QString table = kind == Kind::Postgres
        ? QStringLiteral("CREATE TABLE download_counts (seq BIGSERIAL PRIMARY KEY, status TEXT NOT NULL, n BIGINT NOT NULL)")
        : QStringLiteral("CREATE TABLE download_counts (seq INTEGER PRIMARY KEY, status TEXT NOT NULL, n INTEGER NOT NULL)");
    const QString fill = QStringLiteral("INSERT INTO download_counts (status, n) SELECT status, COUNT(*) FROM downloads GROUP BY status");
    if (kind == Kind::Postgres)
        // No change may commit between the fill's snapshot and the triggers (another node still
        // running the previous version, a rolling upgrade): it would be in neither. Writers
        // wait for this step's commit; readers do not.
        return {QStringLiteral("LOCK TABLE downloads IN SHARE ROW EXCLUSIVE MODE"), table, fill,
                QStringLiteral("CREATE FUNCTION downloads_count() RETURNS trigger LANGUAGE plpgsql AS '"
                               "BEGIN"
                               " IF TG_OP <> ''INSERT'' THEN INSERT INTO download_counts (status, n) VALUES (OLD.status, -1); END IF;"
                               " IF TG_OP <> ''DELETE'' THEN INSERT INTO download_counts (status, n) VALUES (NEW.status, 1); END IF;"
                               " RETURN NULL;"
                               " END'"),
                QStringLiteral("CREATE TRIGGER downloads_count_rows AFTER INSERT OR DELETE ON downloads"
                               " FOR EACH ROW EXECUTE FUNCTION downloads_count()"),
                QStringLiteral("CREATE TRIGGER downloads_count_status AFTER UPDATE OF status ON downloads"
                               " FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION downloads_count()")};
    return {table, fill,
            QStringLiteral("CREATE TRIGGER downloads_count_insert AFTER INSERT ON downloads BEGIN"
                           " INSERT INTO download_counts (status, n) VALUES (NEW.status, 1); END"),
            QStringLiteral("CREATE TRIGGER downloads_count_delete AFTER DELETE ON downloads BEGIN"
                           " INSERT INTO download_counts (status, n) VALUES (OLD.status, -1); END"),
            QStringLiteral("CREATE TRIGGER downloads_count_status AFTER UPDATE OF status ON downloads"
                           " WHEN OLD.status IS NOT NEW.status BEGIN"
                           " INSERT INTO download_counts (status, n) VALUES (OLD.status, -1), (NEW.status, 1); END")};
}

QStringList SqlDialect::foldCounts() const
{
    // Each statement binds the highest seq to fold (read before, in the same transaction): the
    // deltas up to it become one row per status with their sum. On PostgreSQL it is one
    // statement, so one snapshot: the rows it deletes are the rows it sums (two statements
    // could delete a delta committed between them without summing it); a delta of a
    // transaction not yet committed is invisible to it and stays; a second node folding at the
    // same time waits on the rows the first deletes and then finds them gone, so each delta is
    // summed once. SQLite has one writer, this connection: two statements in one transaction.
    if (isPostgres())
        return {QStringLiteral("WITH gone AS (DELETE FROM download_counts WHERE seq <= ? RETURNING status, n)"
                               " INSERT INTO download_counts (status, n) SELECT status, SUM(n) FROM gone GROUP BY status HAVING SUM(n) <> 0")};
    return {QStringLiteral("INSERT INTO download_counts (status, n)"
                           " SELECT status, SUM(n) FROM download_counts WHERE seq <= ? GROUP BY status HAVING SUM(n) <> 0"),
            QStringLiteral("DELETE FROM download_counts WHERE seq <= ?")};
}

QString SqlDialect::tryLockFold() const
{
    // One node folds at a time; the others skip (their count was read already) rather than
    // queue on the rows the first one deletes.
    return isPostgres() ? QStringLiteral("SELECT pg_try_advisory_xact_lock(%1)").arg(FoldLockKey) : QString();
}

QString SqlDialect::vacuumCounts() const
{
    // PostgreSQL keeps the folded rows as dead tuples until a vacuum, and every count (each
    // GET /queue, each summary after a change) scans them all: at 100,000 downloads added, a
    // sequential scan of 600+ pages of them (0.7 ms of the database's CPU per count) until
    // autovacuum came by, a minute later or more. Now a vacuum of the few pages a fold leaves,
    // skipped when another one (autovacuum, another node) holds the table rather than waited
    // for. SQLite reuses a deleted row's space at once.
    return isPostgres() ? QStringLiteral("VACUUM (SKIP_LOCKED) download_counts") : QString();
}

QString SqlDialect::nowMs() const
{
    return isPostgres() ? QStringLiteral("(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT")
                        : QString::number(SteadyClock::nowMs());
}

QString SqlDialect::beginRead() const
{
    return isPostgres() ? QStringLiteral("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") : QStringLiteral("BEGIN");
}

QString SqlDialect::forUpdate() const
{
    return isPostgres() ? QStringLiteral(" FOR UPDATE") : QString();
}

QString SqlDialect::forUpdateSkipLocked() const
{
    return isPostgres() ? QStringLiteral(" FOR UPDATE SKIP LOCKED") : QString();
}

QString SqlDialect::lockMigrations() const
{
    return isPostgres() ? QStringLiteral("SELECT pg_advisory_lock(%1)").arg(MigrationLockKey) : QString();
}

QString SqlDialect::unlockMigrations() const
{
    return isPostgres() ? QStringLiteral("SELECT pg_advisory_unlock(%1)").arg(MigrationLockKey) : QString();
}

QString SqlDialect::lockClaims() const
{
    return isPostgres() ? QStringLiteral("SELECT pg_advisory_xact_lock(%1)").arg(ClaimLockKey) : QString();
}

QString SqlDialect::lockQueueEnd() const
{
    return isPostgres() ? QStringLiteral("SELECT pg_advisory_xact_lock(%1)").arg(QueueEndLockKey) : QString();
}

QString SqlDialect::indexedBy(const char *index) const
{
    return isPostgres() ? QString() : QStringLiteral(" INDEXED BY ") + QLatin1StringView(index);
}

QString SqlDialect::notify() const
{
    return isPostgres() ? QStringLiteral("SELECT pg_notify('%1', ?)").arg(QLatin1StringView(Channel))
                        : QString();
}

} // namespace Hermes
