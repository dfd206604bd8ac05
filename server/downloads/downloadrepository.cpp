#include "downloads/downloadrepository.h"
#include "downloads/downloadrow.h"
#include "downloads/postgresnotices.h"
#include "logging.h"

#include <QDir>
#include <QFileInfo>
#include <QSqlDriver>
#include <QSqlError>
#include <QSet>
#include <QSqlQuery>
#include <QVariant>

#include <algorithm>

#include <sqlite3.h>

namespace Hermes {

// Qt binds a null QString as SQL NULL; the text columns are NOT NULL.
static QVariant text(const QString &s)
{
    return QVariant(s.isNull() ? QStringLiteral("") : s);
}

static QString iso(const QDateTime &t)
{
    return t.isValid() ? t.toUTC().toString(Qt::ISODateWithMs) : QString();
}

static QString sqlStatus(DownloadStatus status)
{
    return u'\'' + QString(wireName(status)) + u'\'';
}

static const QString Active = DownloadRow::statusList([](DownloadStatus s) { return DownloadRules::isActive(s); });
// What a node may claim: waiting or running (a running one only once its lease expired).
static const QString Runnable = DownloadRow::statusList([](DownloadStatus s) {
    return s == DownloadStatus::Pending || DownloadRules::isActive(s);
});

/// Rolls back unless committed: an exception never leaves a transaction open. Inside a batch
/// (DownloadRepository::beginBatch) it is a savepoint: a failed job leaves nothing of its own,
/// and the jobs before it keep theirs.
class Transaction
{
public:
    Transaction(QSqlDatabase db, bool nested) : m_db(std::move(db)), m_nested(nested)
    {
        if (m_nested ? !QSqlQuery(m_db).exec(QStringLiteral("SAVEPOINT hermes_job")) : !m_db.transaction())
            throw StoreFailure{m_db.lastError().text(), m_db.lastError().type() == QSqlError::ConnectionError};
    }
    ~Transaction()
    {
        if (m_done)
            return;
        if (m_nested) {
            QSqlQuery q(m_db);
            q.exec(QStringLiteral("ROLLBACK TO hermes_job"));
            q.exec(QStringLiteral("RELEASE hermes_job"));
        } else {
            m_db.rollback();
        }
    }
    void commit()
    {
        m_done = true;
        if (m_nested ? !QSqlQuery(m_db).exec(QStringLiteral("RELEASE hermes_job")) : !m_db.commit())
            throw StoreFailure{m_db.lastError().text(), m_db.lastError().type() == QSqlError::ConnectionError};
    }

private:
    QSqlDatabase m_db;
    bool m_nested;
    bool m_done = false;
};

DownloadRepository::DownloadRepository(const DatabaseUrl &url, const QString &connectionName)
    : m_url(url),
      m_dialect(url.isPostgres() ? SqlDialect::Kind::Postgres : SqlDialect::Kind::Sqlite),
      m_connection(connectionName),
      m_lists(m_dialect, DownloadListQuery::overQtSql([this](const QString &sql, const QVariantList &binds) { return exec(sql, binds); }))
{
}

DownloadRepository::~DownloadRepository()
{
    {
        QSqlDatabase database = QSqlDatabase::database(m_connection, false);
        if (database.isValid())
            database.close();
    }
    QSqlDatabase::removeDatabase(m_connection);
}

QSqlDatabase DownloadRepository::db() const
{
    return QSqlDatabase::database(m_connection, false);
}

QSqlQuery DownloadRepository::exec(const QString &sql, const QVariantList &binds)
{
    QSqlQuery q(db());
    q.setForwardOnly(true);
    const bool ok = binds.isEmpty() ? q.exec(sql) : (q.prepare(sql) && [&] {
        for (const QVariant &v : binds)
            q.addBindValue(v);
        return q.exec();
    }());
    if (!ok)
        throw StoreFailure::of(q.lastError(), db().isOpen());
    return q;
}

void DownloadRepository::connect()
{
    QSqlDatabase database = QSqlDatabase::database(m_connection, false);
    if (!database.isValid()) {
        if (!QSqlDatabase::isDriverAvailable(m_dialect.driver()))
            throw StoreFailure{QStringLiteral("the Qt %1 driver (%2) is not installed: apt-get install libqt6sql6-%3")
                                   .arg(m_url.isPostgres() ? "PostgreSQL" : "SQLite", m_dialect.driver(),
                                        m_url.isPostgres() ? "psql" : "sqlite"),
                               false};
        database = QSqlDatabase::addDatabase(m_dialect.driver(), m_connection);
    }
    if (m_url.isPostgres()) {
        database.setHostName(m_url.host);
        if (m_url.port > 0)
            database.setPort(m_url.port);
        database.setUserName(m_url.user);
        database.setPassword(m_url.password);
        database.setDatabaseName(m_url.database);
        // Every network wait is bounded: the connect, and a peer that stops answering
        // (keepalives, and unacknowledged data for at most 10 s).
        QString options = QStringLiteral("connect_timeout=5;keepalives=1;keepalives_idle=5;"
                                         "keepalives_interval=2;keepalives_count=3;tcp_user_timeout=10000;"
                                         "application_name=hermes-server");
        if (!m_url.options.isEmpty())
            options += u';' + m_url.options;
        database.setConnectOptions(options);
    } else {
        if (!QDir().mkpath(QFileInfo(m_url.path).absolutePath()))
            throw StoreFailure{QStringLiteral("HERMES_DATABASE_URL: cannot create the directory of %1").arg(m_url.path)};
        database.setDatabaseName(m_url.path);
    }
    if (!database.open()) {
        // libpq's messages name the host and user, never the password.
        throw StoreFailure{QStringLiteral("cannot open the database %1: %2")
                               .arg(m_url.redacted(), database.lastError().text().trimmed()),
                           true};
    }
    PostgresNotices::route(database); // NOTICE lines through the log, with a priority
    if (!m_url.isPostgres()) {
        // WAL + FULL: a committed transaction survives a crash, an uncommitted one leaves nothing.
        for (const char *pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                                   "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=5000"})
            exec(QString::fromLatin1(pragma));
    }
}

void DownloadRepository::open(bool migrating)
{
    connect();
    if (migrating)
        migrate();
}

void DownloadRepository::recover()
{
    try {
        exec(QStringLiteral("SELECT 1"));
    } catch (const StoreFailure &) {
        db().close();
        connect();
    }
}

void DownloadRepository::beginBatch()
{
    if (!db().transaction())
        throw StoreFailure{db().lastError().text(), db().lastError().type() == QSqlError::ConnectionError};
    m_batch = true;
}

bool DownloadRepository::batchLost() const
{
    if (!m_batch || m_dialect.isPostgres())
        return false;
    // The Qt driver's connection: the same libsqlite3 (the driver links the system one).
    const QVariant handle = db().driver()->handle();
    sqlite3 *const sqlite = qstrcmp(handle.typeName(), "sqlite3*") == 0 ? *static_cast<sqlite3 *const *>(handle.constData()) : nullptr;
    return sqlite && sqlite3_get_autocommit(sqlite) != 0;
}

void DownloadRepository::commitBatch()
{
    const bool lost = batchLost();
    m_batch = false;
    if (lost)
        throw StoreFailure{QStringLiteral("the database rolled back the writes saved with this one (a full or failing disk?)"), false};
    if (!db().commit()) {
        const QSqlError e = db().lastError();
        db().rollback();
        throw StoreFailure{e.text(), e.type() == QSqlError::ConnectionError};
    }
}

int DownloadRepository::schemaVersion()
{
    QSqlQuery q = exec(QStringLiteral("SELECT version FROM schema_version"));
    return q.next() ? q.value(0).toInt() : 0;
}

void DownloadRepository::migrate()
{
    // Several nodes may start at once: one migrates, the others wait and find it done.
    if (!m_dialect.lockMigrations().isEmpty())
        exec(m_dialect.lockMigrations());
    struct Unlock
    {
        DownloadRepository *self;
        ~Unlock()
        {
            if (!self->m_dialect.unlockMigrations().isEmpty()) {
                try {
                    self->exec(self->m_dialect.unlockMigrations());
                } catch (const StoreFailure &) {
                    // the session ends with the connection, and the lock with it
                }
            }
        }
    } unlock{this};
    exec(QStringLiteral("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
    int version = schemaVersion();
    if (version == 0) {
        QSqlQuery q = exec(QStringLiteral("SELECT COUNT(*) FROM schema_version"));
        if (q.next() && q.value(0).toInt() == 0)
            exec(QStringLiteral("INSERT INTO schema_version VALUES (0)"));
    }
    const QList<QStringList> steps = SqlDialect::migrations(m_dialect.kind());
    if (version > steps.size())
        throw StoreFailure{QStringLiteral("the database has schema version %1, newer than this "
                                          "hermes-server knows (%2); use a newer release")
                               .arg(version).arg(steps.size())};
    for (; version < steps.size(); ++version) {
        // Each step and its version bump commit together.
        Transaction tx(db(), m_batch);
        try {
            for (const QString &statement : steps.at(version))
                exec(statement);
            exec(QStringLiteral("UPDATE schema_version SET version = %1").arg(version + 1));
        } catch (const StoreFailure &f) {
            throw StoreFailure{QStringLiteral("migration to schema %1 failed: %2").arg(version + 1).arg(f.message), f.connection};
        }
        tx.commit();
    }
}

QueueSummary DownloadRepository::counts()
{
    // Every status change adds two delta rows: folding them once a few hundred have gathered
    // keeps the count a read of a few hundred rows at most, and the fold itself small.
    static constexpr int FoldAbove = 512;
    int deltaRows = 0;
    QueueSummary c = m_lists.counts(&deltaRows);
    if (deltaRows > FoldAbove) {
        // Housekeeping after the caller's change has committed: its failure (a lock wait, a
        // busy database) must not turn a saved change into an error, and the next count folds.
        try {
            Transaction tx(db(), m_batch);
            if (const QString lock = m_dialect.tryLockFold(); !lock.isEmpty()) {
                QSqlQuery got = exec(lock);
                if (!got.next() || !got.value(0).toBool())
                    return c; // another node is folding them
            }
            QSqlQuery last = exec(QStringLiteral("SELECT MAX(seq) FROM download_counts"));
            const QVariant upTo = last.next() ? last.value(0) : QVariant();
            last.finish();
            for (const QString &statement : m_dialect.foldCounts())
                exec(statement, {upTo});
            tx.commit();
            if (const QString vacuum = m_dialect.vacuumCounts(); !vacuum.isEmpty() && !m_batch)
                exec(vacuum); // not in a transaction: PostgreSQL keeps no batch (see SqlDialect)
        } catch (const StoreFailure &f) {
            qCWarning(lcHub).noquote() << "downloads: folding the queue counts failed (retried at the next count):" << f.message;
        }
    }
    return c;
}

void DownloadRepository::insert(QList<Download> &rows)
{
    Transaction tx(db(), m_batch);
    if (!m_dialect.lockQueueEnd().isEmpty())
        exec(m_dialect.lockQueueEnd());
    qint64 position = 1;
    if (QSqlQuery q = exec(QStringLiteral("SELECT COALESCE(MAX(position), 0) + 1 FROM downloads")); q.next())
        position = q.value(0).toLongLong();
    for (Download &d : rows) {
        d.position = position++;
        exec(QStringLiteral("INSERT INTO downloads (%1) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)").arg(DownloadRow::Columns),
             {text(d.id), text(d.url), text(d.filename), QVariant(int(d.filenameFromRequest)),
              QVariant(d.priority), QVariant(d.position), text(d.sha256), text(QString(wireName(d.status))),
              QVariant(d.downloadedBytes), QVariant(d.totalBytes), text(d.errorMessage), text(d.note),
              QVariant(d.attempts), text(iso(d.createdAt)), text(iso(d.updatedAt)),
              d.completedAt.isValid() ? QVariant(iso(d.completedAt)) : QVariant(QMetaType::fromType<QString>()),
              text(d.owner), text(d.etag), text(d.lastModified), QVariant(d.speed), QVariant(d.percent),
              QVariant(d.leaseGeneration), QVariant(d.partGeneration), text(d.partCheck),
              QVariant(d.retryingSinceMs), text(d.heldBy), text(d.announce)});
        if (!m_dialect.notify().isEmpty())
            exec(m_dialect.notify(), {QVariant(d.id)});
    }
    tx.commit();
}

std::optional<Download> DownloadRepository::get(const QString &id)
{
    QSqlQuery q = exec(QStringLiteral("SELECT %1 FROM downloads WHERE id = ?").arg(DownloadRow::selected(now())), {QVariant(id)});
    if (!q.next())
        return std::nullopt;
    return DownloadRow::from(q);
}

std::optional<Download> DownloadRepository::control(const QString &id,
                                                    const std::function<bool(Download &)> &change,
                                                    bool remove, bool *refused)
{
    *refused = false;
    Transaction tx(db(), m_batch);
    QSqlQuery q = exec(QStringLiteral("SELECT %1 FROM downloads WHERE id = ?%2").arg(DownloadRow::selected(now()), m_dialect.forUpdate()),
                       {QVariant(id)});
    if (!q.next())
        return std::nullopt;
    Download d = DownloadRow::from(q);
    q.finish();
    if (!change(d)) {
        *refused = true;
        return d;
    }
    if (remove)
        exec(QStringLiteral("DELETE FROM downloads WHERE id = ?"), {QVariant(id)});
    else
        writeControlled(d);
    // A download made claimable (resumed, retried) is announced to the other nodes only once
    // its change is published (notifyChanged): a node claiming it at once would publish its
    // own change first. Anything else is told now (a running node stops at a pause).
    const bool claimable = !remove && d.status == DownloadStatus::Pending;
    if (!claimable && !m_dialect.notify().isEmpty())
        exec(m_dialect.notify(), {QVariant(id)});
    tx.commit();
    return d;
}

void DownloadRepository::writeControlled(Download &d)
{
    d.retryDueInMs = 0; // a waiting retry ends with any control action (not_before = 0 below)
    // Only what a control action decides: the running node's progress fields stay its own.
    // A change its node had saved but not yet published is superseded by this one, which
    // the caller publishes: nobody publishes the older one any more.
    exec(QStringLiteral("UPDATE downloads SET status = ?, priority = ?, error_message = ?,"
                        " attempts = ?, downloaded_bytes = ?, speed = ?, updated_at = ?, filename = ?,"
                        " percent = ?, note = ?, retrying_since = ?, held_by = ?, not_before = 0, announce = ''"
                        " WHERE id = ?"),
         {text(QString(wireName(d.status))), QVariant(d.priority), text(d.errorMessage), QVariant(d.attempts),
          QVariant(d.downloadedBytes), QVariant(d.speed), text(iso(d.updatedAt)), text(d.filename),
          QVariant(d.percent), text(d.note), QVariant(d.retryingSinceMs), text(d.heldBy), QVariant(d.id)});
}

QList<AbstractDownloadStore::Controlled> DownloadRepository::controlMany(
    const AbstractDownloadStore::Selection &which, const std::function<bool(Download &)> &change,
    QStringList *missing, bool *more)
{
    // SQLite's oldest builds allow 999 bound values in a statement.
    static constexpr qsizetype Chunk = 500;
    *more = false;
    QList<Download> rows;
    Transaction tx(db(), m_batch);
    if (!which.ids.isEmpty()) {
        QStringList ids = which.ids;
        ids.sort();
        ids.removeDuplicates();
        QSet<QString> found;
        for (qsizetype at = 0; at < ids.size(); at += Chunk) {
            const QStringList chunk = ids.mid(at, Chunk);
            const QString marks = QStringList(chunk.size(), QStringLiteral("?")).join(QStringLiteral(", "));
            QSqlQuery q = exec(QStringLiteral("SELECT %1 FROM downloads WHERE id IN (%2) ORDER BY id%3")
                                   .arg(DownloadRow::selected(now()), marks, m_dialect.forUpdate()),
                               QVariantList(chunk.cbegin(), chunk.cend()));
            while (q.next())
                found.insert(rows.emplace_back(DownloadRow::from(q)).id);
        }
        std::copy_if(ids.cbegin(), ids.cend(), std::back_inserter(*missing),
                     [&found](const QString &id) { return !found.contains(id); });
    } else if (!which.statuses.isEmpty()) {
        QStringList statuses;
        for (DownloadStatus s : which.statuses)
            statuses.append(sqlStatus(s));
        // One more than the limit says whether more matched. On PostgreSQL a row whose status
        // changed while this waited for its lock is checked again, and left if it no longer matches.
        QSqlQuery q = exec(QStringLiteral("SELECT %1 FROM downloads WHERE status IN (%2) ORDER BY id LIMIT %3%4")
                               .arg(DownloadRow::selected(now()), statuses.join(QStringLiteral(", "))).arg(which.limit + 1).arg(m_dialect.forUpdate()));
        while (q.next())
            rows.append(DownloadRow::from(q));
        if ((*more = rows.size() > which.limit))
            rows.resize(which.limit);
    }
    QList<AbstractDownloadStore::Controlled> out;
    bool told = false, claimable = false;
    for (Download &d : rows) {
        AbstractDownloadStore::Controlled &c = out.emplace_back();
        c.before = d.status;
        c.refused = !change(d);
        if (!c.refused) {
            writeControlled(d);
            told = true;
            claimable |= d.status == DownloadStatus::Pending;
        }
        c.row = std::move(d);
    }
    // As control(): work made claimable is announced only once its change is published (the
    // caller does); one "*" tells the running nodes to look at what they run.
    if (told && !claimable && !m_dialect.notify().isEmpty())
        exec(m_dialect.notify(), {QVariant(QStringLiteral("*"))});
    tx.commit();
    return out;
}

QList<Download> DownloadRepository::claim(const QString &node, int leaseMs, int max, int clusterLimit,
                                          const QStringList &busy, qint64 *nextRetryInMs)
{
    QList<Download> out;
    // What this node still works on is never claimed again by it, whatever its clock says.
    QString notBusy;
    QVariantList busyBinds;
    for (const QString &id : busy) {
        notBusy += notBusy.isEmpty() ? QStringLiteral(" AND id NOT IN (?") : QStringLiteral(", ?");
        busyBinds.append(QVariant(id));
    }
    if (!notBusy.isEmpty())
        notBusy += u')';
    for (int i = 0; i < max; ++i) {
        Transaction tx(db(), m_batch);
        if (clusterLimit > 0) {
            if (!m_dialect.lockClaims().isEmpty())
                exec(m_dialect.lockClaims());
            QSqlQuery running = exec(QStringLiteral("SELECT COUNT(*) FROM downloads WHERE owner <> ''"
                                                    " AND lease_until >= %1").arg(now()));
            if (running.next() && running.value(0).toInt() >= clusterLimit)
                break;
        }
        // A status change whose node died between saving and publishing it comes first: it
        // is finished (published, the file moved into place) by whoever takes it.
        QSqlQuery q = exec(QStringLiteral("SELECT %1 FROM downloads WHERE announce <> '' AND owner <> ''"
                                          " AND lease_until < %2%4 ORDER BY id LIMIT 1%3")
                               .arg(DownloadRow::selected(now()), now(), m_dialect.forUpdateSkipLocked(), notBusy), busyBinds);
        if (!q.next()) {
            q.finish();
            // Free work, or work whose node stopped renewing its lease (it died or lost the
            // database): the first node to lock the row takes it, the others skip it.
            q = exec(QStringLiteral("SELECT %1 FROM downloads%7 WHERE status IN (%2)"
                                    " AND (owner = '' OR lease_until < %3) AND not_before <= %3%5"
                                    "%6 LIMIT 1%4")
                         .arg(DownloadRow::selected(now()), Runnable, now(), m_dialect.forUpdateSkipLocked(), notBusy,
                              DownloadListQuery::Order, m_dialect.indexedBy("downloads_queue_order")), busyBinds);
            if (!q.next())
                break;
        }
        Download d = DownloadRow::from(q);
        q.finish();
        // A new generation: the fencing token of this claim. Every write of the running node
        // names it, so the writes of an earlier holder (paused past its lease) never apply.
        d.leaseGeneration += 1;
        // The previous holder's phase goes with its lease; this node saves its own.
        exec(QStringLiteral("UPDATE downloads SET owner = ?, lease_until = %1 + ?, lease_generation = ?,"
                            " phase = '' WHERE id = ?").arg(now()),
             {QVariant(node), QVariant(leaseMs), QVariant(d.leaseGeneration), QVariant(d.id)});
        tx.commit();
        out.append(d); // `owner` still names the previous node, if any: the caller logs a takeover
    }
    // `not_before > 0` is the predicate of downloads_retry: only the waiting retries are read.
    QSqlQuery next = exec(QStringLiteral("SELECT MIN(not_before) - %1 FROM downloads%3 WHERE status = %2"
                                         " AND not_before > 0 AND not_before > %1")
                              .arg(now(), sqlStatus(DownloadStatus::Pending), m_dialect.indexedBy("downloads_retry")));
    *nextRetryInMs = next.next() && !next.value(0).isNull() ? next.value(0).toLongLong() : -1;
    return out;
}

bool DownloadRepository::update(const Download &d, const QString &node, DownloadStatus expected,
                                qint64 retryInMs, bool release)
{
    QString sql = QStringLiteral(
        "UPDATE downloads SET status = ?, filename = ?, downloaded_bytes = ?, total_bytes = ?,"
        " error_message = ?, note = ?, attempts = ?, updated_at = ?, completed_at = ?, etag = ?,"
        " last_modified = ?, speed = ?, percent = ?, part_generation = ?, part_check = ?,"
        " retrying_since = ?, held_by = ?, announce = ?, phase = ?");
    if (retryInMs >= 0)
        sql += QStringLiteral(", not_before = %1 + %2").arg(now()).arg(retryInMs);
    if (release)
        sql += QStringLiteral(", owner = '', lease_until = 0");
    sql += QStringLiteral(" WHERE id = ? AND owner = ? AND lease_generation = ? AND status = ?");
    Transaction tx(db(), m_batch);
    QSqlQuery q = exec(sql, {text(QString(wireName(d.status))), text(d.filename), QVariant(d.downloadedBytes),
                             QVariant(d.totalBytes), text(d.errorMessage), text(d.note), QVariant(d.attempts),
                             text(iso(d.updatedAt)),
                             d.completedAt.isValid() ? QVariant(iso(d.completedAt)) : QVariant(QMetaType::fromType<QString>()),
                             text(d.etag), text(d.lastModified), QVariant(d.speed), QVariant(d.percent),
                             QVariant(d.partGeneration), text(d.partCheck), QVariant(d.retryingSinceMs),
                             text(d.heldBy), text(d.announce), text(d.phase ? QString(wireName(*d.phase)) : QString()),
                             QVariant(d.id), QVariant(node), QVariant(d.leaseGeneration),
                             text(QString(wireName(expected)))});
    const bool applied = q.numRowsAffected() == 1;
    if (applied && release && !m_dialect.notify().isEmpty())
        exec(m_dialect.notify(), {QVariant(d.id)}); // released work: another node may take it
    tx.commit();
    return applied;
}

QHash<QString, DownloadStatus> DownloadRepository::renew(const QString &node, int leaseMs,
                                                         const QStringList &runs)
{
    QHash<QString, DownloadStatus> out;
    if (runs.isEmpty())
        return out;
    QVariantList binds{QVariant(leaseMs), QVariant(node)};
    QString ids;
    for (const QString &id : runs) {
        ids += ids.isEmpty() ? QStringLiteral("?") : QStringLiteral(", ?");
        binds.append(QVariant(id));
    }
    Transaction tx(db(), m_batch);
    // Rows locked in id order first, as a bulk action locks them: an UPDATE locks in whatever
    // order its plan scans, and two transactions locking the same rows in different orders
    // deadlock on PostgreSQL (one is aborted with 40P01).
    if (const QString lock = m_dialect.forUpdate(); !lock.isEmpty()) {
        exec(QStringLiteral("SELECT id FROM downloads WHERE owner = ? AND id IN (%1) ORDER BY id%2").arg(ids, lock),
             binds.mid(1));
    }
    exec(QStringLiteral("UPDATE downloads SET lease_until = %1 + ? WHERE owner = ? AND id IN (%2)").arg(now(), ids),
         binds);
    binds.removeFirst();
    QSqlQuery q = exec(QStringLiteral("SELECT id, status FROM downloads WHERE owner = ? AND id IN (%1)").arg(ids),
                       binds);
    while (q.next())
        out.insert(q.value(0).toString(), fromWire<DownloadStatus>(q.value(1).toString()).value_or(DownloadStatus::Failed));
    q.finish();
    tx.commit();
    return out;
}

void DownloadRepository::release(const QString &id, const QString &node)
{
    Transaction tx(db(), m_batch);
    QSqlQuery q = exec(QStringLiteral("UPDATE downloads SET owner = '', lease_until = 0, speed = 0"
                                      " WHERE id = ? AND owner = ?"), {QVariant(id), QVariant(node)});
    if (q.numRowsAffected() > 0 && !m_dialect.notify().isEmpty())
        exec(m_dialect.notify(), {QVariant(id)});
    tx.commit();
}

void DownloadRepository::releaseAll(const QString &node)
{
    Transaction tx(db(), m_batch);
    // Locked in id order first, as renew() and a bulk action lock.
    if (const QString lock = m_dialect.forUpdate(); !lock.isEmpty()) {
        exec(QStringLiteral("SELECT id FROM downloads WHERE owner = ? AND announce = '' ORDER BY id%1").arg(lock),
             {QVariant(node)});
    }
    // What ran here waits again for any node (it resumes from its part file).
    QSqlQuery q = exec(QStringLiteral("UPDATE downloads SET owner = '', lease_until = 0, speed = 0,"
                                      " status = CASE WHEN status IN (%1) THEN %2 ELSE status END"
                                      " WHERE owner = ? AND announce = ''").arg(Active, sqlStatus(DownloadStatus::Pending)),
                       {QVariant(node)});
    if (q.numRowsAffected() > 0 && !m_dialect.notify().isEmpty())
        exec(m_dialect.notify(), {QVariant(QStringLiteral("*"))});
    tx.commit();
}

void DownloadRepository::resetOwners()
{
    // Not a pending announcement's: the next claim finishes it (its lease has expired).
    exec(QStringLiteral("UPDATE downloads SET owner = '', lease_until = 0, speed = 0 WHERE owner <> ''"
                        " AND announce = ''"));
    // One node's times are its SteadyClock's, whose base is the wall clock when the process
    // started: a clock stepped between two runs would shift every waiting retry (and retry
    // window) by the step. A restart makes waiting retries due and starts their windows anew.
    exec(QStringLiteral("UPDATE downloads SET not_before = 0, retrying_since = 0"
                        " WHERE not_before <> 0 OR retrying_since <> 0"));
}

void DownloadRepository::notify(const QString &payload)
{
    if (!m_dialect.notify().isEmpty())
        exec(m_dialect.notify(), {QVariant(payload)});
}

} // namespace Hermes
