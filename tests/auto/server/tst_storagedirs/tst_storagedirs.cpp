// Who may read what the real server writes: the key, secret and database stay 0600 in a data
// dir nobody else can list; the download dir and finished files follow HERMES_DOWNLOAD_UMASK
// (and HERMES_DOWNLOAD_GROUP, with the setgid bit), so a same-host media server in that group
// reads finished files. A file downloaded from a local file server proves it end to end.

#include "fileserver.h"
#include "serverprocess.h"
#include "testutil.h"

#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Hermes::Test;

static int modeOf(const QString &path)
{
    struct stat st {};
    if (::stat(QFile::encodeName(path).constData(), &st) != 0)
        return -1;
    return int(st.st_mode & 07777);
}

class tst_StorageDirs : public QObject
{
    Q_OBJECT

private slots:
    void modes_data();
    void modes();
    void invalidSettingsAreClear_data();
    void invalidSettingsAreClear();
};

void tst_StorageDirs::modes_data()
{
    QTest::addColumn<QString>("umask");
    QTest::addColumn<bool>("group");
    QTest::addColumn<int>("dataDir");
    QTest::addColumn<int>("downloadDir");
    QTest::addColumn<int>("file");
    QTest::newRow("default: the group reads") << QString() << false << 0710 << 0750 << 0640;
    QTest::newRow("0022: everyone reads") << "0022" << false << 0711 << 0755 << 0644;
    QTest::newRow("0077: private") << "077" << false << 0700 << 0700 << 0600;
    QTest::newRow("a group, setgid") << "0027" << true << 0710 << 02750 << 0640;
    QTest::newRow("write bits are never given") << "0000" << false << 0711 << 0755 << 0644;
}

void tst_StorageDirs::modes()
{
    QFETCH(QString, umask);
    QFETCH(bool, group);
    QFETCH(int, dataDir);
    QFETCH(int, downloadDir);
    QFETCH(int, file);
    FileServer files;
    files.addFile("/movie.mkv", FileServer::File(FileServer::makeContent(200000)));
    ServerProcess server;
    QProcessEnvironment env;
    if (!umask.isEmpty())
        env.insert(QStringLiteral("HERMES_DOWNLOAD_UMASK"), umask);
    const struct group *own = ::getgrgid(::getegid());
    QVERIFY(own);
    if (group)
        env.insert(QStringLiteral("HERMES_DOWNLOAD_GROUP"), QString::fromLocal8Bit(own->gr_name));
    QVERIFY2(server.start(env), qPrintable(server.errorString()));
    const HttpReply created = httpRequest(server.port(), "POST", "/api/v1/downloads",
        {{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey}, {"Content-Type", "application/json"}},
        QJsonDocument(QJsonObject{{QStringLiteral("url"), files.url("/movie.mkv")}}).toJson());
    QCOMPARE(created.status, 201);
    const QString id = QJsonDocument::fromJson(created.body).object().value(QStringLiteral("id")).toString();
    QTRY_COMPARE_WITH_TIMEOUT(QJsonDocument::fromJson(httpRequest(server.port(), "GET", "/api/v1/downloads/" + id.toUtf8(),
        {{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey}}).body).object().value(QStringLiteral("status")).toString(),
                              QStringLiteral("completed"), 20000);

    const QDir data(server.dataDir());
    QCOMPARE(modeOf(data.path()), dataDir);
    QCOMPARE(modeOf(data.filePath(QStringLiteral("downloads"))), downloadDir);
    QCOMPARE(modeOf(data.filePath(QStringLiteral("downloads/movie.mkv"))), file);
    for (const char *secret : {"token-secret", "hermes.db"})
        QCOMPARE(modeOf(data.filePath(QString::fromLatin1(secret))), 0600);
    if (group) {
        struct stat st {};
        QCOMPARE(::stat(QFile::encodeName(data.filePath(QStringLiteral("downloads/movie.mkv"))).constData(), &st), 0);
        QCOMPARE(st.st_gid, own->gr_gid);
    }
    QCOMPARE(server.terminate(), 0);
}

void tst_StorageDirs::invalidSettingsAreClear_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("value");
    QTest::newRow("umask not octal") << "HERMES_DOWNLOAD_UMASK" << "0089";
    QTest::newRow("umask too large") << "HERMES_DOWNLOAD_UMASK" << "01777";
    QTest::newRow("unknown group") << "HERMES_DOWNLOAD_GROUP" << "no-such-group-hermes";
}

void tst_StorageDirs::invalidSettingsAreClear()
{
    QFETCH(QString, name);
    QFETCH(QString, value);
    ServerProcess server;
    QProcessEnvironment env;
    env.insert(name, value);
    QVERIFY(!server.start(env));
    QCOMPARE(server.process().exitCode(), 78);
    QVERIFY2(server.output().contains(name.toUtf8()) && server.output().contains(value.toUtf8()), server.output().constData());
}

QTEST_GUILESS_MAIN(tst_StorageDirs)
#include "tst_storagedirs.moc"
