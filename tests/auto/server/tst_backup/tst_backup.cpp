// `hermes-server --backup FILE` against a running server that keeps writing: the archive holds
// a consistent database (integrity_check, every download that existed before the backup
// started), the generated key and secret, a manifest, mode 0600; restoring it into an empty
// data dir gives a server with the same downloads, key and token secret. Failures are clear.

#include "serverprocess.h"
#include "testutil.h"
#include "http/streamtokens.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace Hermes::Test;

static QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

class tst_Backup : public QObject
{
    Q_OBJECT

private slots:
    void backupWhileWritingAndRestore();
    void failuresAreClear_data();
    void failuresAreClear();
};

void tst_Backup::backupWhileWritingAndRestore()
{
    ServerProcess server;
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_API_KEYS"), QString()); // use the generated key file
    env.insert(QStringLiteral("HERMES_API_KEY_FILE"), QString());
    QVERIFY2(server.start(env), qPrintable(server.errorString()));
    const QByteArray key = readAll(server.dataDir() + QStringLiteral("/api-key")).trimmed();
    QVERIFY(!key.isEmpty());
    const QList<QPair<QByteArray, QByteArray>> auth{{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}};
    const auto add = [&](int n) {
        return httpRequest(server.port(), "POST", "/api/v1/downloads", auth,
                           QJsonDocument(QJsonObject{{QStringLiteral("url"), QStringLiteral("http://127.0.0.1:9/f%1").arg(n)}}).toJson()).status;
    };
    for (int i = 0; i < 20; ++i)
        QCOMPARE(add(i), 201);

    QTemporaryDir out;
    const QString archive = out.filePath(QStringLiteral("hermes-backup.tar"));
    QProcess backup;
    QProcessEnvironment backupEnv = QProcessEnvironment::systemEnvironment();
    backupEnv.insert(QStringLiteral("HERMES_DATA_DIR"), server.dataDir());
    backup.setProcessEnvironment(backupEnv);
    backup.setProcessChannelMode(QProcess::MergedChannels);
    backup.start(QStringLiteral(HERMES_SERVER_BINARY), {QStringLiteral("--backup"), archive});
    // Writes go on while the backup runs.
    int added = 20;
    while (backup.state() != QProcess::NotRunning && added < 200) {
        QCOMPARE(add(added), 201);
        ++added;
        QCoreApplication::processEvents();
    }
    QVERIFY(backup.state() == QProcess::NotRunning || backup.waitForFinished(60000));
    const QByteArray report = backup.readAll();
    QVERIFY2(backup.exitCode() == 0, report.constData());
    QVERIFY2(report.contains("wrote " + archive.toUtf8()), report.constData());
    QCOMPARE(QFileInfo(archive).permissions() & 0x0077, QFileDevice::Permissions());
    QVERIFY(!QFileInfo::exists(archive + QStringLiteral(".tmp")));

    QTemporaryDir restored;
    QProcess tar;
    tar.start(QStringLiteral("tar"), {QStringLiteral("-xf"), archive, QStringLiteral("-C"), restored.path()});
    QVERIFY(tar.waitForFinished(30000));
    QCOMPARE(tar.exitCode(), 0);
    QCOMPARE(QDir(restored.path()).entryList(QDir::Files | QDir::Hidden, QDir::Name),
             (QStringList{"MANIFEST", "api-key", "hermes.db", "token-secret"}));
    QCOMPARE(readAll(restored.filePath(QStringLiteral("api-key"))).trimmed(), key);
    QCOMPARE(readAll(restored.filePath(QStringLiteral("token-secret"))),
             readAll(server.dataDir() + QStringLiteral("/token-secret")));
    const QByteArray manifest = readAll(restored.filePath(QStringLiteral("MANIFEST")));
    QVERIFY2(manifest.contains("schema_version=") && manifest.contains("version="), manifest.constData());

    qint64 inBackup = 0;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("check"));
        db.setDatabaseName(restored.filePath(QStringLiteral("hermes.db")));
        QVERIFY(db.open());
        QSqlQuery q(db);
        QVERIFY(q.exec(QStringLiteral("PRAGMA integrity_check")) && q.next());
        QCOMPARE(q.value(0).toString(), QStringLiteral("ok"));
        QVERIFY(q.exec(QStringLiteral("SELECT COUNT(*) FROM downloads")) && q.next());
        inBackup = q.value(0).toLongLong();
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("check"));
    // Everything before the backup started, at most what existed when it ended.
    QVERIFY2(inBackup >= 20 && inBackup <= added, qPrintable(QStringLiteral("%1 of %2").arg(inBackup).arg(added)));
    QVERIFY2(manifest.contains("downloads=" + QByteArray::number(inBackup)), manifest.constData());
    QCOMPARE(server.terminate(), 0);

    // A server on the restored data dir has the same downloads, key and token secret.
    ServerProcess again;
    QProcessEnvironment restoredEnv = env;
    restoredEnv.insert(QStringLiteral("HERMES_DATA_DIR"), restored.path());
    QVERIFY2(again.start(restoredEnv), qPrintable(again.errorString()));
    const HttpReply list = httpRequest(again.port(), "GET", "/api/v1/downloads?limit=1", auth);
    QCOMPARE(list.status, 200);
    QCOMPARE(QJsonDocument::fromJson(list.body).object().value(QStringLiteral("total")).toInteger(), inBackup);
    Hermes::StreamTokenService tokens(readAll(restored.filePath(QStringLiteral("token-secret"))).trimmed());
    const HttpReply minted = httpRequest(again.port(), "POST", "/api/v1/events/token", auth, R"({"scope":"stream"})");
    QCOMPARE(minted.status, 200);
    Hermes::TokenScope scope;
    QCOMPARE(tokens.verify(QJsonDocument::fromJson(minted.body).object().value(QStringLiteral("token")).toString().toUtf8(), &scope),
             Hermes::StreamTokenService::Verdict::Valid);
    QCOMPARE(again.terminate(), 0);
}

void tst_Backup::failuresAreClear_data()
{
    QTest::addColumn<QString>("target");
    QTest::addColumn<bool>("withDatabase");
    QTest::addColumn<QString>("message");
    QTest::newRow("no database yet") << "out.tar" << false << "no database at";
    QTest::newRow("a directory") << "." << true << "is a directory";
    QTest::newRow("unwritable place") << "/proc/hermes.tar" << true << "cannot";
}

void tst_Backup::failuresAreClear()
{
    QFETCH(QString, target);
    QFETCH(bool, withDatabase);
    QFETCH(QString, message);
    QTemporaryDir data;
    if (withDatabase) {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("make"));
        db.setDatabaseName(data.filePath(QStringLiteral("hermes.db")));
        QVERIFY(db.open());
        QSqlQuery(db).exec(QStringLiteral("CREATE TABLE downloads (id TEXT)"));
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("make"));
    QProcess backup;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HERMES_DATA_DIR"), data.path());
    backup.setProcessEnvironment(env);
    backup.setWorkingDirectory(data.path());
    backup.start(QStringLiteral(HERMES_SERVER_BINARY), {QStringLiteral("--backup"), target});
    QVERIFY(backup.waitForFinished(30000));
    const QByteArray err = backup.readAllStandardError();
    QCOMPARE(backup.exitCode(), 1);
    QVERIFY2(err.contains("backup failed") && err.contains(message.toUtf8()), err.constData());
    QVERIFY(QDir(data.path()).entryList({QStringLiteral("*.tar*"), QStringLiteral(".hermes-backup-*")},
                                        QDir::AllEntries | QDir::Hidden).isEmpty());
}

QTEST_GUILESS_MAIN(tst_Backup)
#include "tst_backup.moc"
