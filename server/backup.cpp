#include "backup.h"

#include "settings/serversettings.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QUrl>
#include <QUuid>

namespace Hermes {

namespace {

// The SQLite file of a sqlite:// URL or a plain path; empty for another kind of database.
QString sqlitePath(const QString &url)
{
    if (url.startsWith(u"sqlite://"))
        return QUrl(url).path();
    return url.contains(u"://") ? QString() : url;
}

// VACUUM INTO on its own connection, then an integrity check of the copy.
Result<void> copyDatabase(const QString &source, const QString &target, QString *manifest)
{
    if (!QFileInfo::exists(source))
        return Error::notFound("no_database", QStringLiteral("no database at %1 (HERMES_DATABASE_URL)").arg(source));
    bool ok = false;
    QString error;
    const QString name = QStringLiteral("hermes-backup-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(source);
        // The running server holds write transactions for a moment at a time: wait for them.
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=10000"));
        QSqlQuery q(db);
        QString into = target;
        into.replace(u'\'', QStringLiteral("''"));
        if (!db.open()) {
            error = QStringLiteral("cannot open %1: %2").arg(source, db.lastError().text());
        } else if (!q.exec(QStringLiteral("VACUUM INTO '%1'").arg(into))) {
            error = QStringLiteral("cannot copy %1: %2").arg(source, q.lastError().text());
        } else {
            ok = true;
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    if (!ok)
        return Error::failed("cannot_copy_database", error);
    {
        QSqlDatabase copy = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        copy.setDatabaseName(target);
        copy.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY"));
        QSqlQuery q(copy);
        if (!copy.open() || !q.exec(QStringLiteral("PRAGMA integrity_check")) || !q.next()
            || q.value(0).toString() != u"ok") {
            error = QStringLiteral("the copy of %1 failed its integrity check").arg(source);
            ok = false;
        } else {
            if (q.exec(QStringLiteral("SELECT version FROM schema_version")) && q.next())
                *manifest += QStringLiteral("schema_version=%1\n").arg(q.value(0).toInt());
            if (q.exec(QStringLiteral("SELECT COUNT(*) FROM downloads")) && q.next())
                *manifest += QStringLiteral("downloads=%1\n").arg(q.value(0).toLongLong());
        }
        copy.close();
    }
    QSqlDatabase::removeDatabase(name);
    if (!ok)
        return Error::failed("damaged_copy", error);
    return {};
}

} // namespace

Result<void> Backup::write(const ServerSettings &settings, const QString &file, QString *report)
{
    const QFileInfo target(file);
    if (target.isDir())
        return Error::invalid("not_a_file", QStringLiteral("--backup: %1 is a directory; name the archive file").arg(file));
    // Staged next to the archive: the database copy may be large, /tmp may be small.
    QTemporaryDir staging(target.absolutePath() + QStringLiteral("/.hermes-backup-XXXXXX"));
    if (!staging.isValid())
        return Error::failed("cannot_stage", QStringLiteral("--backup: cannot create a directory in %1").arg(target.absolutePath()));
    QFile::setPermissions(staging.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    QString manifest = QStringLiteral("hermes-server backup\nversion=%1\ncreated=%2\n")
                           .arg(QCoreApplication::applicationVersion(),
                                QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    QStringList members;
    const QString database = sqlitePath(settings.store.databaseUrl);
    if (database.isEmpty()) {
        *report += QStringLiteral("The database is not SQLite: back it up with pg_dump "
                                  "(see README, \"Backups and restores\"); this archive holds the key files.\n");
        manifest += QStringLiteral("database=external\n");
    } else {
        if (Result<void> copied = copyDatabase(database, staging.filePath(QStringLiteral("hermes.db")), &manifest); !copied)
            return copied;
        members << QStringLiteral("hermes.db");
    }
    for (const char *name : {"api-key", "token-secret"}) {
        const QString source = QDir(settings.general.dataDir).filePath(QString::fromLatin1(name));
        if (!QFileInfo::exists(source))
            continue;
        if (!QFile::copy(source, staging.filePath(QString::fromLatin1(name))))
            return Error::failed("cannot_read", QStringLiteral("cannot read %1").arg(source));
        members << QString::fromLatin1(name);
    }
    if (!settings.access.apiKeyFile.isEmpty())
        manifest += QStringLiteral("note=API keys are configured in %1, which is not in this archive\n").arg(settings.access.apiKeyFile);
    if (!settings.access.tokenSecret.isEmpty())
        manifest += QStringLiteral("note=the token secret is configured, not generated; it is not in this archive\n");
    {
        QFile m(staging.filePath(QStringLiteral("MANIFEST")));
        if (!m.open(QIODevice::WriteOnly) || m.write(manifest.toUtf8()) < 0)
            return Error::failed("cannot_write", QStringLiteral("cannot write the manifest"));
    }
    members.prepend(QStringLiteral("MANIFEST"));

    // tar is in every Debian system (Essential: yes); the archive holds secrets: 0600.
    const QString partial = target.absoluteFilePath() + QStringLiteral(".tmp");
    QFile::remove(partial);
    QProcess tar;
    tar.setProcessChannelMode(QProcess::MergedChannels);
    tar.start(QStringLiteral("tar"), QStringList{QStringLiteral("--create"), QStringLiteral("--file"), partial,
                                                 QStringLiteral("--directory"), staging.path(),
                                                 QStringLiteral("--")} + members);
    if (!tar.waitForFinished(600000) || tar.exitStatus() != QProcess::NormalExit || tar.exitCode() != 0) {
        const QString output = QString::fromLocal8Bit(tar.readAll()).trimmed();
        QFile::remove(partial);
        return Error::failed("tar_failed", QStringLiteral("tar failed: %1").arg(output));
    }
    QFile::setPermissions(partial, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    QFile::remove(target.absoluteFilePath());
    if (!QFile::rename(partial, target.absoluteFilePath()))
        return Error::failed("cannot_move", QStringLiteral("cannot move the archive to %1").arg(target.absoluteFilePath()));
    *report += QStringLiteral("wrote %1 (%2)\n").arg(target.absoluteFilePath(), members.join(QStringLiteral(", ")));
    return {};
}

} // namespace Hermes
