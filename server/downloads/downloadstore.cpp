#include "downloads/downloadstore.h"

#include <QDir>
#include <QFileInfo>
#include <QSqlError>
#include <QSqlQuery>
#include <QUrl>
#include <QUuid>
#include <QVariant>

namespace Hermes {

const QStringList &DownloadStore::migrations()
{
    static const QStringList list{
        // 1: downloads
        QStringLiteral("CREATE TABLE downloads ("
                       " id TEXT PRIMARY KEY, url TEXT NOT NULL, filename TEXT NOT NULL,"
                       " filename_from_request INTEGER NOT NULL, priority INTEGER NOT NULL,"
                       " position INTEGER NOT NULL, sha256 TEXT NOT NULL, status TEXT NOT NULL,"
                       " downloaded_bytes INTEGER NOT NULL, total_bytes INTEGER NOT NULL,"
                       " error_message TEXT NOT NULL, note TEXT NOT NULL, attempts INTEGER NOT NULL,"
                       " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, completed_at TEXT)"),
        // 2: listing by status is the common query
        QStringLiteral("CREATE INDEX downloads_status ON downloads(status)"),
    };
    return list;
}

DownloadStore::~DownloadStore()
{
    if (!m_connection.isEmpty()) {
        QSqlDatabase::database(m_connection).close();
        QSqlDatabase::removeDatabase(m_connection);
    }
}

bool DownloadStore::open(const QString &url, QString *error)
{
    QString path = url;
    if (url.startsWith(u"sqlite://")) {
        path = QUrl(url).path();
    } else if (url.contains(u"://")) {
        *error = QStringLiteral("HERMES_DATABASE_URL: only sqlite:///path/to/file.db is supported, not \"%1\"")
                     .arg(url.section(u':', 0, 0));
        return false;
    }
    if (path.isEmpty() || !QDir().mkpath(QFileInfo(path).absolutePath())) {
        *error = QStringLiteral("HERMES_DATABASE_URL: cannot use \"%1\"").arg(path);
        return false;
    }
    m_connection = QStringLiteral("hermes-store-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
    db.setDatabaseName(path);
    if (!db.open()) {
        *error = QStringLiteral("cannot open the database %1: %2").arg(path, db.lastError().text());
        return false;
    }
    QSqlQuery q(db);
    // WAL + FULL: a committed transaction survives a crash, an uncommitted one leaves nothing.
    for (const char *pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                               "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=5000"}) {
        if (!q.exec(QString::fromLatin1(pragma))) {
            *error = QStringLiteral("%1 failed: %2").arg(QString::fromLatin1(pragma), q.lastError().text());
            return false;
        }
    }
    return migrate(error);
}

int DownloadStore::schemaVersion() const
{
    QSqlQuery q(QSqlDatabase::database(m_connection));
    if (q.exec(QStringLiteral("SELECT version FROM schema_version")) && q.next())
        return q.value(0).toInt();
    return 0;
}

bool DownloadStore::isReachable() const
{
    QSqlDatabase db = QSqlDatabase::database(m_connection, false);
    QSqlQuery q(db);
    return db.isOpen() && q.exec(QStringLiteral("SELECT 1")) && q.next();
}

bool DownloadStore::migrate(QString *error)
{
    QSqlDatabase db = QSqlDatabase::database(m_connection);
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"))) {
        *error = q.lastError().text();
        return false;
    }
    int version = schemaVersion();
    if (version == 0 && !q.exec(QStringLiteral("INSERT INTO schema_version VALUES (0)"))) {
        *error = q.lastError().text();
        return false;
    }
    if (version > migrations().size()) {
        *error = QStringLiteral("the database has schema version %1, newer than this hermes-server "
                                "knows (%2); use a newer release").arg(version).arg(migrations().size());
        return false;
    }
    for (; version < migrations().size(); ++version) {
        // Each step and its version bump commit together.
        db.transaction();
        if (!q.exec(migrations().at(version))
            || !q.exec(QStringLiteral("UPDATE schema_version SET version = %1").arg(version + 1))) {
            *error = QStringLiteral("migration to schema %1 failed: %2").arg(version + 1).arg(q.lastError().text());
            db.rollback();
            return false;
        }
        db.commit();
    }
    return true;
}

// Qt binds a null QString as SQL NULL; the text columns are NOT NULL.
static QVariant text(const QString &s)
{
    return QVariant(s.isNull() ? QStringLiteral("") : s);
}

static QString iso(const QDateTime &t)
{
    return t.isValid() ? t.toUTC().toString(Qt::ISODateWithMs) : QString();
}

bool DownloadStore::save(const Download &d, QString *error)
{
    QSqlDatabase db = QSqlDatabase::database(m_connection);
    QSqlQuery q(db);
    q.prepare(QStringLiteral(
        "INSERT OR REPLACE INTO downloads (id, url, filename, filename_from_request, priority, position,"
        " sha256, status, downloaded_bytes, total_bytes, error_message, note, attempts, created_at,"
        " updated_at, completed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    for (const QVariant &v : {text(d.id), text(d.url), text(d.filename),
                              QVariant(int(d.filenameFromRequest)), QVariant(d.priority),
                              QVariant(d.position), text(d.sha256), text(toString(d.status)),
                              QVariant(d.downloadedBytes), QVariant(d.totalBytes),
                              text(d.errorMessage), text(d.note), QVariant(d.attempts),
                              text(iso(d.createdAt)), text(iso(d.updatedAt)),
                              d.completedAt.isValid() ? QVariant(iso(d.completedAt)) : QVariant()})
        q.addBindValue(v);
    if (!q.exec()) {
        if (error)
            *error = q.lastError().text();
        return false;
    }
    return true;
}

bool DownloadStore::remove(const QString &id)
{
    QSqlQuery q(QSqlDatabase::database(m_connection));
    q.prepare(QStringLiteral("DELETE FROM downloads WHERE id = ?"));
    q.addBindValue(id);
    return q.exec();
}

QList<Download> DownloadStore::all() const
{
    QList<Download> out;
    QSqlQuery q(QSqlDatabase::database(m_connection));
    q.exec(QStringLiteral("SELECT id, url, filename, filename_from_request, priority, position, sha256,"
                          " status, downloaded_bytes, total_bytes, error_message, note, attempts,"
                          " created_at, updated_at, completed_at FROM downloads ORDER BY position"));
    while (q.next()) {
        Download d;
        d.id = q.value(0).toString();
        d.url = q.value(1).toString();
        d.filename = q.value(2).toString();
        d.filenameFromRequest = q.value(3).toBool();
        d.priority = q.value(4).toInt();
        d.position = q.value(5).toLongLong();
        d.sha256 = q.value(6).toString();
        d.status = downloadStatusFromString(q.value(7).toString()).value_or(DownloadStatus::Failed);
        d.downloadedBytes = q.value(8).toLongLong();
        d.totalBytes = q.value(9).toLongLong();
        d.errorMessage = q.value(10).toString();
        d.note = q.value(11).toString();
        d.attempts = q.value(12).toInt();
        d.createdAt = QDateTime::fromString(q.value(13).toString(), Qt::ISODateWithMs);
        d.updatedAt = QDateTime::fromString(q.value(14).toString(), Qt::ISODateWithMs);
        d.completedAt = QDateTime::fromString(q.value(15).toString(), Qt::ISODateWithMs);
        out.append(d);
    }
    return out;
}

qint64 DownloadStore::nextPosition() const
{
    QSqlQuery q(QSqlDatabase::database(m_connection));
    if (q.exec(QStringLiteral("SELECT COALESCE(MAX(position), 0) + 1 FROM downloads")) && q.next())
        return q.value(0).toLongLong();
    return 1;
}

} // namespace Hermes
