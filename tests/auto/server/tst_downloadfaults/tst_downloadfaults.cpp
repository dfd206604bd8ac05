// Downloads of the real hermes-server under faults a real host has: a download dir that fills
// up (a small tmpfs: the download pauses with the reason, nothing is lost, no transfer starts
// below HERMES_DOWNLOAD_MIN_FREE, and it resumes by itself when there is room), and a download
// dir with hostile entries planted in it (links and FIFOs at target and part names: nothing is
// followed, nothing outside changes, the server keeps answering). Mounting needs root: without
// it the full-disk test is skipped, saying so.

#include "fileserver.h"
#include "serverprocess.h"
#include "testutil.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

#include <memory>

using namespace Hermes;
using namespace Hermes::Test;

static const QByteArray Auth = QByteArray("Bearer ") + ServerProcess::ApiKey;

class tst_DownloadFaults : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void fullDiskPausesAndResumesByItself();
    void hostileEntriesInTheDownloadDir();
    void reservedNamesAreRefused();

private:
    bool startServer(const QString &downloadDir, const QProcessEnvironment &extra = {});
    HttpReply api(const QByteArray &method, const QByteArray &path, const QByteArray &body = {});
    QJsonObject add(const QJsonObject &request);
    QJsonObject get(const QString &id);
    bool waitStatus(const QString &id, const QString &status, int timeoutMs = 30000);
    static bool mount(const QString &dir, const QString &options);
    static QByteArray read(const QString &path);

    std::unique_ptr<QTemporaryDir> m_root;
    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<FileServer> m_files;
    QString m_mounted;
};

void tst_DownloadFaults::init()
{
    m_root = std::make_unique<QTemporaryDir>();
    m_files = std::make_unique<FileServer>();
    m_server = std::make_unique<ServerProcess>();
}

void tst_DownloadFaults::cleanup()
{
    m_server.reset();
    m_files.reset();
    if (!m_mounted.isEmpty())
        QProcess::execute(QStringLiteral("umount"), {QStringLiteral("-l"), m_mounted});
    m_mounted.clear();
    m_root.reset();
}

bool tst_DownloadFaults::mount(const QString &dir, const QString &options)
{
    QProcess p;
    p.start(QStringLiteral("mount"), {QStringLiteral("-t"), QStringLiteral("tmpfs"), QStringLiteral("-o"), options,
                                      QStringLiteral("tmpfs"), dir});
    return p.waitForFinished(10000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

QByteArray tst_DownloadFaults::read(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

bool tst_DownloadFaults::startServer(const QString &downloadDir, const QProcessEnvironment &extra)
{
    QProcessEnvironment env = extra;
    env.insert(QStringLiteral("HERMES_DOWNLOAD_DIR"), downloadDir);
    env.insert(QStringLiteral("HERMES_DOWNLOAD_RETRY_DELAY"), QStringLiteral("50"));
    env.insert(QStringLiteral("HERMES_DOWNLOAD_LEASE"), QStringLiteral("3000"));
    env.insert(QStringLiteral("HERMES_DOWNLOAD_LEASE_RENEW"), QStringLiteral("500"));
    env.insert(QStringLiteral("HERMES_DISK_WARNING_MB"), QStringLiteral("0"));
    if (!m_server->start(env)) {
        qWarning() << m_server->errorString();
        return false;
    }
    return true;
}

HttpReply tst_DownloadFaults::api(const QByteArray &method, const QByteArray &path, const QByteArray &body)
{
    return httpRequest(m_server->port(), method, path,
                       {{"Authorization", Auth}, {"Content-Type", "application/json"}}, body);
}

QJsonObject tst_DownloadFaults::add(const QJsonObject &request)
{
    const HttpReply r = api("POST", "/api/v1/downloads", QJsonDocument(request).toJson(QJsonDocument::Compact));
    if (r.status != 201)
        qWarning() << "add failed" << r.status << r.body;
    return QJsonDocument::fromJson(r.body).object();
}

QJsonObject tst_DownloadFaults::get(const QString &id)
{
    return QJsonDocument::fromJson(api("GET", "/api/v1/downloads/" + id.toUtf8()).body).object();
}

bool tst_DownloadFaults::waitStatus(const QString &id, const QString &status, int timeoutMs)
{
    return QTest::qWaitFor([&] { return get(id).value(QStringLiteral("status")).toString() == status; }, timeoutMs);
}

void tst_DownloadFaults::fullDiskPausesAndResumesByItself()
{
    const QString dir = m_root->filePath(QStringLiteral("small"));
    QVERIFY(QDir().mkpath(dir));
    if (!mount(dir, QStringLiteral("size=3m")))
        QSKIP("cannot mount a tmpfs here (needs root): the full-disk fault is not injected");
    m_mounted = dir;
    const QByteArray content = FileServer::makeContent(5 * 1024 * 1024, 31);
    FileServer::File f{content};
    f.bytesPerSecond = 4 * 1024 * 1024;
    m_files->addFile("/big.bin", f);
    // HERMES_DOWNLOAD_MIN_FREE 1 MB: the 3 MB disk has room to start, not to finish.
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_DOWNLOAD_MIN_FREE"), QStringLiteral("1"));
    QVERIFY(startServer(dir, env));
    const QString id = add({{QStringLiteral("url"), m_files->url("/big.bin")},
                            {QStringLiteral("sha256"), QString::fromLatin1(QCryptographicHash::hash(content, QCryptographicHash::Sha256).toHex())}})
                           .value(QStringLiteral("id")).toString();
    QVERIFY(waitStatus(id, QStringLiteral("paused")));
    const QJsonObject paused = get(id);
    const QString why = paused.value(QStringLiteral("error_message")).toString();
    QVERIFY2(why.contains(QStringLiteral("No space left on device")) && why.contains(QStringLiteral("paused until 1 MB")),
             qPrintable(why));
    const qint64 saved = paused.value(QStringLiteral("downloaded_bytes")).toInteger();
    QVERIFY2(saved > 0, qPrintable(QString::number(saved))); // nothing lost: the bytes so far stay counted
    // Still full (below the minimum): nothing starts, it stays paused.
    QTest::qWait(1500);
    QCOMPARE(get(id).value(QStringLiteral("status")).toString(), QStringLiteral("paused"));
    // Room again: it resumes by itself, from what it had, and completes with the right bytes.
    QProcess::execute(QStringLiteral("mount"), {QStringLiteral("-o"), QStringLiteral("remount,size=32m"), dir});
    QVERIFY(waitStatus(id, QStringLiteral("completed"), 30000));
    QCOMPARE(read(QDir(dir).filePath(QStringLiteral("big.bin"))), content);
    QVERIFY2(m_files->rangeHeaders("/big.bin").last() == "bytes=" + QByteArray::number(saved) + '-',
             qPrintable(m_files->rangeHeaders("/big.bin").join(' ')));
    QCOMPARE(QDir(dir).entryList({id + QStringLiteral(".*part")}, QDir::Files), QStringList());
}

void tst_DownloadFaults::hostileEntriesInTheDownloadDir()
{
    const QString dir = m_root->filePath(QStringLiteral("downloads"));
    const QString outside = m_root->filePath(QStringLiteral("outside"));
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(QDir().mkpath(outside));
    {
        QFile key(outside + QStringLiteral("/key"));
        QVERIFY(key.open(QIODevice::WriteOnly));
        key.write("secret");
    }
    const QByteArray a = FileServer::makeContent(300 * 1024, 32), b = FileServer::makeContent(200 * 1024, 33);
    m_files->addFile("/a.bin", {a});
    m_files->addFile("/b.bin", {b});
    // Links at the targets' names: one to a key file outside, one dangling into outside.
    QVERIFY(QFile::link(outside + QStringLiteral("/key"), QDir(dir).filePath(QStringLiteral("a.bin"))));
    QVERIFY(QFile::link(outside + QStringLiteral("/created"), QDir(dir).filePath(QStringLiteral("b.bin"))));
    QVERIFY(startServer(dir, {}));
    const QString ida = add({{QStringLiteral("url"), m_files->url("/a.bin")}}).value(QStringLiteral("id")).toString();
    const QString idb = add({{QStringLiteral("url"), m_files->url("/b.bin")}}).value(QStringLiteral("id")).toString();
    QVERIFY(waitStatus(ida, QStringLiteral("completed")));
    QVERIFY(waitStatus(idb, QStringLiteral("completed")));
    QCOMPARE(get(ida).value(QStringLiteral("filename")).toString(), QStringLiteral("a (1).bin"));
    QCOMPARE(get(idb).value(QStringLiteral("filename")).toString(), QStringLiteral("b (1).bin"));
    QCOMPARE(read(QDir(dir).filePath(QStringLiteral("a (1).bin"))), a);
    QCOMPARE(read(QDir(dir).filePath(QStringLiteral("b (1).bin"))), b);
    QCOMPARE(read(outside + QStringLiteral("/key")), QByteArray("secret"));
    QVERIFY(!QFile::exists(outside + QStringLiteral("/created")));

    // A FIFO and a link at the part names of the next claims of a download: it fails naming the
    // path, fast, and the server keeps answering (a FIFO opened for writing would block it).
    const QString idc = add({{QStringLiteral("url"), m_files->url("/a.bin")}, {QStringLiteral("filename"), QStringLiteral("c.bin")}})
                            .value(QStringLiteral("id")).toString();
    // Paused before it runs (or while), so the names are planted before its next claim.
    QCOMPARE(api("POST", "/api/v1/downloads/" + idc.toUtf8() + "/pause").status, 200);
    // Whichever generation claims it next: plant the next few generations' names.
    for (int g = 1; g <= 8; ++g) {
        const QString name = QDir(dir).filePath(QStringLiteral("%1.%2.part").arg(idc).arg(g));
        QFile::remove(name);
        if (g % 2)
            QCOMPARE(::mkfifo(QFile::encodeName(name).constData(), 0600), 0);
        else
            QVERIFY(QFile::link(outside + QStringLiteral("/key"), name));
    }
    QElapsedTimer t;
    t.start();
    QCOMPARE(api("POST", "/api/v1/downloads/" + idc.toUtf8() + "/resume").status, 200);
    QVERIFY(waitStatus(idc, QStringLiteral("failed"), 10000));
    const QString error = get(idc).value(QStringLiteral("error_message")).toString();
    QVERIFY2(error.contains(dir) && error.contains(QStringLiteral(".part")), qPrintable(error));
    QCOMPARE(api("GET", "/api/v1/downloads").status, 200); // still answering
    QVERIFY(t.elapsed() < 10000);
    QCOMPARE(read(outside + QStringLiteral("/key")), QByteArray("secret"));
    QCOMPARE(QDir(outside).entryList(QDir::Files | QDir::System | QDir::NoDotAndDotDot), QStringList{QStringLiteral("key")});
}

void tst_DownloadFaults::reservedNamesAreRefused()
{
    const QString dir = m_root->filePath(QStringLiteral("downloads"));
    QVERIFY(startServer(dir, {}));
    const HttpReply r = api("POST", "/api/v1/downloads",
                            R"({"url":"http://127.0.0.1:9/x","filename":"notes.part"})");
    QCOMPARE(r.status, 400);
    QCOMPARE(QJsonDocument::fromJson(r.body).object().value(QStringLiteral("error")).toObject()
                 .value(QStringLiteral("code")).toString(), QStringLiteral("invalid_filename"));
    // From the origin: `<other id>.part` in Content-Disposition is ignored for the URL's name.
    FileServer::File f{FileServer::makeContent(1000, 34)};
    f.contentDisposition = "attachment; filename=\"victim.part\"";
    m_files->addFile("/named/real.bin", f);
    const QString id = add({{QStringLiteral("url"), m_files->url("/named/real.bin")}}).value(QStringLiteral("id")).toString();
    QVERIFY(waitStatus(id, QStringLiteral("completed")));
    QCOMPARE(get(id).value(QStringLiteral("filename")).toString(), QStringLiteral("real.bin"));
    QVERIFY(!QFile::exists(QDir(dir).filePath(QStringLiteral("victim.part"))));
}

QTEST_MAIN(tst_DownloadFaults)
#include "tst_downloadfaults.moc"
