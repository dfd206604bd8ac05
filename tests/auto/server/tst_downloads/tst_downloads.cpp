// The download engine, store and REST API of the real hermes-server, against a real local file
// server: bytes and checksums, progress events, pause/resume with Range, cancel, retries,
// the concurrency limit, hostile file names, a SIGKILL mid-download, and bad input.

#include "downloadapi.h"
#include "fileserver.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStorageInfo>
#include <QTest>

#include <memory>

using namespace Hermes;
using namespace Hermes::Test;

static const QByteArray Auth = QByteArray("Bearer ") + ServerProcess::ApiKey;

class tst_Downloads : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void completesWithTheRightBytes();
    void progressEventsArriveInOrderAndEndAt100();
    void pauseAndResumeContinueFromTheOffset();
    void serverWithoutRangeRestartsFromZero();
    void cancelRemovesThePartFile();
    void droppedConnectionIsRetried();
    void errorsFailOrRetry();
    void checksumMismatchFails();
    void concurrencyLimitHolds();
    void hostileFileNamesStayInside();
    void existingFilesAreNeverOverwritten();
    void sigkillMidDownloadThenRestartCompletes();
    void badInputGetsClearErrors();
    void queueAndListing();
    void secondServerOnTheSameDataDirRefuses();
    void resumeIsValidatedWithIfRange_data();
    void resumeIsValidatedWithIfRange();

private:
    bool startServer(const QProcessEnvironment &extra = {});
    HttpReply api(const QByteArray &method, const QByteArray &path, const QByteArray &body = {})
    {
        return DownloadApi::call(*m_server, method, path, body);
    }
    QJsonObject add(const QJsonObject &request) { return DownloadApi::add(*m_server, request); }
    QJsonObject get(const QString &id) { return DownloadApi::get(*m_server, id); }
    bool waitStatus(const QString &id, const QString &status, int timeoutMs = 30000)
    {
        return DownloadApi::waitStatus(*m_server, id, status, timeoutMs);
    }
    QString downloadDir() const { return m_server->dataDir() + QStringLiteral("/downloads"); }
    /// The part files of `id`, of every lease generation.
    QStringList partFiles(const QString &id) const
    {
        return QDir(downloadDir()).entryList({id + QStringLiteral(".*part")}, QDir::Files);
    }
    QByteArray fileBytes(const QString &name) const;

    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<FileServer> m_files;
};

using DownloadApi::json;

void tst_Downloads::init()
{
    m_files = std::make_unique<FileServer>();
    m_server = std::make_unique<ServerProcess>();
}

void tst_Downloads::cleanup()
{
    m_server.reset();
    m_files.reset();
}

bool tst_Downloads::startServer(const QProcessEnvironment &extra)
{
    QProcessEnvironment env = extra;
    if (!env.contains(QStringLiteral("HERMES_DOWNLOAD_RETRY_DELAY")))
        env.insert(QStringLiteral("HERMES_DOWNLOAD_RETRY_DELAY"), QStringLiteral("50"));
    env.insert(QStringLiteral("HERMES_DISK_WARNING_MB"), QStringLiteral("0"));
    if (!m_server->start(env)) {
        qWarning() << m_server->errorString();
        return false;
    }
    return true;
}

QByteArray tst_Downloads::fileBytes(const QString &name) const
{
    QFile f(QDir(downloadDir()).filePath(name));
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

static QString sha256(const QByteArray &bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

void tst_Downloads::completesWithTheRightBytes()
{
    const QByteArray content = FileServer::makeContent(3 * 1024 * 1024 + 17);
    m_files->addFile("/files/big.bin", {content});
    QVERIFY(startServer());
    const QJsonObject created = add({{QStringLiteral("url"), m_files->url("/files/big.bin")},
                                     {QStringLiteral("sha256"), sha256(content).toUpper()}});
    const QString id = created.value(QStringLiteral("id")).toString();
    QVERIFY(!id.isEmpty());
    QCOMPARE(created.value(QStringLiteral("filename")).toString(), QStringLiteral("big.bin"));
    QVERIFY(waitStatus(id, QStringLiteral("completed")));
    const QJsonObject done = get(id);
    QCOMPARE(done.value(QStringLiteral("downloaded_bytes")).toInteger(), content.size());
    QCOMPARE(done.value(QStringLiteral("total_bytes")).toInteger(), content.size());
    QCOMPARE(done.value(QStringLiteral("progress")).toObject().value(QStringLiteral("percentage")).toDouble(), 100.0);
    QCOMPARE(fileBytes(QStringLiteral("big.bin")), content);
    QCOMPARE(partFiles(id), QStringList());
}

void tst_Downloads::progressEventsArriveInOrderAndEndAt100()
{
    FileServer::File f{FileServer::makeContent(600 * 1024)};
    f.bytesPerSecond = 400 * 1024; // ≈ 1.5 s: several throttled progress events
    m_files->addFile("/slow.bin", f);
    QVERIFY(startServer());
    SseClient all;
    all.open(m_server->port(), "/api/v1/events/stream", {{"Authorization", Auth}});
    QTRY_VERIFY_WITH_TIMEOUT(!all.events().isEmpty(), 10000);
    const QString id = add({{QStringLiteral("url"), m_files->url("/slow.bin")}}).value(QStringLiteral("id")).toString();
    SseClient mine;
    mine.open(m_server->port(), "/api/v1/events/downloads/" + id.toUtf8(), {{"Authorization", Auth}});
    QVERIFY(waitStatus(id, QStringLiteral("completed")));

    auto progressOf = [&](const SseClient &client) {
        QList<QJsonObject> out;
        for (const auto &e : client.events()) {
            const QJsonObject env = json(e.data.toUtf8());
            if (env.value(QStringLiteral("type")).toString() == u"download_progress"
                && env.value(QStringLiteral("data")).toObject().value(QStringLiteral("download_id")).toString() == id)
                out.append(env.value(QStringLiteral("data")).toObject());
        }
        return out;
    };
    QTRY_VERIFY_WITH_TIMEOUT(!progressOf(all).isEmpty()
                                 && progressOf(all).last().value(QStringLiteral("status")).toString() == u"completed",
                             10000);
    const QList<QJsonObject> events = progressOf(all);
    QVERIFY2(events.size() >= 4, qPrintable(QString::number(events.size())));
    QVERIFY(events.size() < 200); // throttled, not one per read
    double last = -1;
    QStringList statuses;
    for (const QJsonObject &e : events) {
        const QJsonObject p = e.value(QStringLiteral("progress")).toObject();
        const double pct = p.value(QStringLiteral("percentage")).toDouble();
        QVERIFY2(pct >= last, "percentage went down");
        last = pct;
        QVERIFY(p.contains(QStringLiteral("speed")) && p.contains(QStringLiteral("eta")));
        QVERIFY(e.contains(QStringLiteral("error_message")) && e.contains(QStringLiteral("url")));
        if (statuses.isEmpty() || statuses.last() != e.value(QStringLiteral("status")).toString())
            statuses.append(e.value(QStringLiteral("status")).toString());
    }
    QCOMPARE(statuses, (QStringList{"pending", "downloading", "processing", "completed"}));
    QCOMPARE(last, 100.0);
    const QJsonObject result = events.last().value(QStringLiteral("result")).toObject();
    QCOMPARE(result.value(QStringLiteral("file_size")).toInteger(), 600 * 1024);
    QCOMPARE(result.value(QStringLiteral("title")).toString(), QStringLiteral("slow.bin"));
    // The per-download stream saw the same progress events, and nothing about others.
    QTRY_COMPARE_WITH_TIMEOUT(progressOf(mine).last().value(QStringLiteral("status")).toString(),
                              QStringLiteral("completed"), 10000);
    // Queue updates and the completion notice went out too.
    bool added = false, notified = false;
    for (const auto &e : all.events()) {
        const QJsonObject env = json(e.data.toUtf8());
        const QJsonObject data = env.value(QStringLiteral("data")).toObject();
        added |= env.value(QStringLiteral("type")).toString() == u"queue_update"
                 && data.value(QStringLiteral("action")).toString() == u"added";
        notified |= env.value(QStringLiteral("type")).toString() == u"system_notification"
                    && data.value(QStringLiteral("notification_type")).toString() == u"info";
    }
    QVERIFY(added);
    QVERIFY(notified);
}

void tst_Downloads::pauseAndResumeContinueFromTheOffset()
{
    const QByteArray content = FileServer::makeContent(1024 * 1024, 7);
    FileServer::File f{content};
    f.bytesPerSecond = 512 * 1024;
    m_files->addFile("/pause.bin", f);
    QVERIFY(startServer());
    const QString id = add({{QStringLiteral("url"), m_files->url("/pause.bin")}}).value(QStringLiteral("id")).toString();
    QVERIFY(QTest::qWaitFor([&] { return get(id).value(QStringLiteral("downloaded_bytes")).toInteger() > 100 * 1024; }, 20000));
    QCOMPARE(api("POST", "/api/v1/downloads/" + id.toUtf8() + "/pause").status, 200);
    QCOMPARE(get(id).value(QStringLiteral("status")).toString(), QStringLiteral("paused"));
    QCOMPARE(api("POST", "/api/v1/downloads/" + id.toUtf8() + "/pause").status, 409);
    QTest::qWait(300);
    QCOMPARE(partFiles(id).size(), 1);
    const qint64 partSize = QFileInfo(QDir(downloadDir()).filePath(partFiles(id).first())).size();
    QVERIFY(partSize > 0 && partSize < content.size());
    // What the resume vouches for is what was saved (the file may hold a little more, written
    // after the last progress save): asked for from there.
    const qint64 saved = get(id).value(QStringLiteral("downloaded_bytes")).toInteger();
    QVERIFY(saved > 0 && saved <= partSize);
    m_files->file("/pause.bin").bytesPerSecond = 0;
    QCOMPARE(api("POST", "/api/v1/downloads/" + id.toUtf8() + "/resume").status, 200);
    QVERIFY(waitStatus(id, QStringLiteral("completed")));
    QCOMPARE(fileBytes(QStringLiteral("pause.bin")), content);
    QCOMPARE(m_files->rangeHeaders("/pause.bin").last(), "bytes=" + QByteArray::number(saved) + '-');
    QCOMPARE(partFiles(id), QStringList()); // both generations' part files gone
    // Bytes never downloaded twice: the resume asked for the rest only (above), and what the
    // server sent in all is the file plus at most what was in flight when the pause hit.
    QVERIFY2(m_files->bytesServed("/pause.bin") <= content.size() + 256 * 1024,
             qPrintable(QString::number(m_files->bytesServed("/pause.bin"))));
}

void tst_Downloads::serverWithoutRangeRestartsFromZero()
{
    const QByteArray content = FileServer::makeContent(800 * 1024, 3);
    FileServer::File f{content};
    f.ranges = false;
    f.bytesPerSecond = 400 * 1024;
    m_files->addFile("/norange.bin", f);
    QVERIFY(startServer());
    const QString id = add({{QStringLiteral("url"), m_files->url("/norange.bin")}}).value(QStringLiteral("id")).toString();
    QVERIFY(QTest::qWaitFor([&] { return get(id).value(QStringLiteral("downloaded_bytes")).toInteger() > 100 * 1024; }, 20000));
    QCOMPARE(api("POST", "/api/v1/downloads/" + id.toUtf8() + "/pause").status, 200);
    m_files->file("/norange.bin").bytesPerSecond = 0;
    QCOMPARE(api("POST", "/api/v1/downloads/" + id.toUtf8() + "/resume").status, 200);
    QVERIFY(waitStatus(id, QStringLiteral("completed")));
    QCOMPARE(fileBytes(QStringLiteral("norange.bin")), content);
    QVERIFY(get(id).value(QStringLiteral("note")).toString().contains(u"Range"));
}

void tst_Downloads::cancelRemovesThePartFile()
{
    FileServer::File f{FileServer::makeContent(1024 * 1024)};
    f.bytesPerSecond = 256 * 1024;
    m_files->addFile("/cancel.bin", f);
    QVERIFY(startServer());
    const QString id = add({{QStringLiteral("url"), m_files->url("/cancel.bin")}}).value(QStringLiteral("id")).toString();
    QVERIFY(QTest::qWaitFor([&] {
        return partFiles(id).size() == 1 && QFileInfo(QDir(downloadDir()).filePath(partFiles(id).first())).size() > 0;
    }, 20000));
    QCOMPARE(api("POST", "/api/v1/downloads/" + id.toUtf8() + "/cancel").status, 200);
    QCOMPARE(get(id).value(QStringLiteral("status")).toString(), QStringLiteral("cancelled"));
    QCOMPARE(partFiles(id), QStringList());
    QCOMPARE(api("POST", "/api/v1/downloads/" + id.toUtf8() + "/cancel").status, 409);
    // A cancelled download can be retried, from zero.
    m_files->file("/cancel.bin").bytesPerSecond = 0;
    QCOMPARE(api("POST", "/api/v1/downloads/" + id.toUtf8() + "/retry").status, 200);
    QVERIFY(waitStatus(id, QStringLiteral("completed")));
}

void tst_Downloads::droppedConnectionIsRetried()
{
    const QByteArray content = FileServer::makeContent(512 * 1024, 11);
    FileServer::File f{content};
    f.dropTimes = 2;
    f.dropAfter = 100 * 1024;
    m_files->addFile("/flaky.bin", f);
    QVERIFY(startServer());
    SseClient events;
    events.open(m_server->port(), "/api/v1/events/stream?channels=downloads", {{"Authorization", Auth}});
    QTRY_VERIFY_WITH_TIMEOUT(!events.events().isEmpty(), 10000);
    const QString id = add({{QStringLiteral("url"), m_files->url("/flaky.bin")}}).value(QStringLiteral("id")).toString();
    QVERIFY(waitStatus(id, QStringLiteral("completed")));
    QCOMPARE(fileBytes(QStringLiteral("flaky.bin")), content);
    QCOMPARE(m_files->requests("/flaky.bin"), 3);
    QCOMPARE(m_files->bytesServed("/flaky.bin"), content.size()); // resumed, not restarted
    // The events say how many attempts it took (an addition to the Python payload), as REST does.
    const int attempts = get(id).value(QStringLiteral("attempts")).toInt(-1);
    QVERIFY(attempts >= 2);
    QTRY_VERIFY_WITH_TIMEOUT(events.events().size() > 1
                                 && json(events.events().last().data.toUtf8()).value(QStringLiteral("data")).toObject()
                                        .value(QStringLiteral("status")).toString() == u"completed", 10000);
    const QJsonObject last = json(events.events().last().data.toUtf8()).value(QStringLiteral("data")).toObject();
    QCOMPARE(last.value(QStringLiteral("attempts")).toInt(-1), attempts);
}

void tst_Downloads::errorsFailOrRetry()
{
    FileServer::File missing{"x"};
    missing.status = 404;
    FileServer::File broken{"x"};
    broken.status = 500;
    FileServer::File liar{FileServer::makeContent(1000)};
    liar.declaredLength = 5000;
    m_files->addFile("/missing", missing);
    m_files->addFile("/broken", broken);
    m_files->addFile("/liar", liar);
    FileServer::File moved;
    moved.redirectTo = "/target.txt";
    m_files->addFile("/moved", moved);
    m_files->addFile("/target.txt", FileServer::File{"redirected content"});
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_DOWNLOAD_MAX_ATTEMPTS"), QStringLiteral("3"));
    QVERIFY(startServer(env));
    const QString a = add({{QStringLiteral("url"), m_files->url("/missing")}}).value(QStringLiteral("id")).toString();
    const QString b = add({{QStringLiteral("url"), m_files->url("/broken")}}).value(QStringLiteral("id")).toString();
    const QString c = add({{QStringLiteral("url"), m_files->url("/liar")}}).value(QStringLiteral("id")).toString();
    const QString d = add({{QStringLiteral("url"), m_files->url("/moved")}}).value(QStringLiteral("id")).toString();
    QVERIFY(waitStatus(a, QStringLiteral("failed")));
    QVERIFY(waitStatus(b, QStringLiteral("failed")));
    QVERIFY(waitStatus(c, QStringLiteral("failed")));
    QVERIFY(waitStatus(d, QStringLiteral("completed")));
    QCOMPARE(m_files->requests("/missing"), 1);  // 404: no retry
    QCOMPARE(m_files->requests("/broken"), 3);   // 500: retried up to the limit
    QVERIFY(get(a).value(QStringLiteral("error_message")).toString().contains(u"404"));
    QVERIFY(get(c).value(QStringLiteral("error_message")).toString().contains(u"ended after"));
    QCOMPARE(get(d).value(QStringLiteral("filename")).toString(), QStringLiteral("target.txt"));
    QCOMPARE(fileBytes(QStringLiteral("target.txt")), QByteArray("redirected content"));
    // A failed one can be retried on request.
    m_files->file("/broken").status = 200;
    QCOMPARE(api("POST", "/api/v1/downloads/" + b.toUtf8() + "/retry").status, 200);
    QVERIFY(waitStatus(b, QStringLiteral("completed")));
}

void tst_Downloads::checksumMismatchFails()
{
    m_files->addFile("/sum.bin", {FileServer::makeContent(10000)});
    QVERIFY(startServer());
    const QString id = add({{QStringLiteral("url"), m_files->url("/sum.bin")},
                            {QStringLiteral("sha256"), QString(64, u'0')}}).value(QStringLiteral("id")).toString();
    QVERIFY(waitStatus(id, QStringLiteral("failed")));
    QVERIFY(get(id).value(QStringLiteral("error_message")).toString().contains(u"SHA-256"));
    QVERIFY(!QFile::exists(QDir(downloadDir()).filePath(QStringLiteral("sum.bin"))));
}

void tst_Downloads::concurrencyLimitHolds()
{
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_MAX_CONCURRENT_DOWNLOADS"), QStringLiteral("3"));
    QVERIFY(startServer(env));
    QStringList ids;
    for (int i = 0; i < 10; ++i) {
        FileServer::File f{FileServer::makeContent(60 * 1024, quint32(i + 100))};
        f.bytesPerSecond = 200 * 1024;
        const QByteArray path = "/c" + QByteArray::number(i);
        m_files->addFile(path, f);
        ids.append(add({{QStringLiteral("url"), m_files->url(path)}}).value(QStringLiteral("id")).toString());
    }
    const QJsonObject queue = json(api("GET", "/api/v1/queue").body);
    QVERIFY(queue.value(QStringLiteral("summary")).toObject().value(QStringLiteral("active")).toInt() <= 3);
    for (const QString &id : ids)
        QVERIFY(waitStatus(id, QStringLiteral("completed"), 60000));
    QCOMPARE(m_files->maxActiveTransfers(), 3);
}

void tst_Downloads::hostileFileNamesStayInside()
{
    m_files->addFile("/a", {"aaa"});
    FileServer::File cd{"ccc"};
    cd.contentDisposition = "attachment; filename=\"../../escape.txt\"";
    m_files->addFile("/b", cd);
    QVERIFY(startServer());
    const QString a = add({{QStringLiteral("url"), m_files->url("/a")},
                           {QStringLiteral("filename"), QStringLiteral("../../../etc/passwd")}}).value(QStringLiteral("id")).toString();
    const QString b = add({{QStringLiteral("url"), m_files->url("/b")}}).value(QStringLiteral("id")).toString();
    QVERIFY(waitStatus(a, QStringLiteral("completed")));
    QVERIFY(waitStatus(b, QStringLiteral("completed")));
    QCOMPARE(get(a).value(QStringLiteral("filename")).toString(), QStringLiteral("passwd"));
    QCOMPARE(get(b).value(QStringLiteral("filename")).toString(), QStringLiteral("escape.txt"));
    QCOMPARE(fileBytes(QStringLiteral("passwd")), QByteArray("aaa"));
    QCOMPARE(fileBytes(QStringLiteral("escape.txt")), QByteArray("ccc"));
    QVERIFY(!QFile::exists(m_server->dataDir() + QStringLiteral("/escape.txt")));
    const HttpReply bad = api("POST", "/api/v1/downloads", "{\"url\":\"http://127.0.0.1/x\",\"filename\":\"..\"}");
    QCOMPARE(bad.status, 400);
}

void tst_Downloads::existingFilesAreNeverOverwritten()
{
    m_files->addFile("/same.txt", {"new"});
    QVERIFY(startServer());
    QDir().mkpath(downloadDir());
    QFile existing(QDir(downloadDir()).filePath(QStringLiteral("same.txt")));
    QVERIFY(existing.open(QIODevice::WriteOnly));
    existing.write("old");
    existing.close();
    const QString id = add({{QStringLiteral("url"), m_files->url("/same.txt")}}).value(QStringLiteral("id")).toString();
    QVERIFY(waitStatus(id, QStringLiteral("completed")));
    QCOMPARE(get(id).value(QStringLiteral("filename")).toString(), QStringLiteral("same (1).txt"));
    QCOMPARE(fileBytes(QStringLiteral("same.txt")), QByteArray("old"));
    QCOMPARE(fileBytes(QStringLiteral("same (1).txt")), QByteArray("new"));
}

void tst_Downloads::sigkillMidDownloadThenRestartCompletes()
{
    const QByteArray content = FileServer::makeContent(1024 * 1024, 5);
    FileServer::File f{content};
    f.bytesPerSecond = 400 * 1024;
    f.etag = "\"crash-v1\"";
    m_files->addFile("/crash.bin", f);
    QVERIFY(startServer());
    const QString id = add({{QStringLiteral("url"), m_files->url("/crash.bin")},
                            {QStringLiteral("sha256"), sha256(content)}}).value(QStringLiteral("id")).toString();
    QVERIFY(QTest::qWaitFor([&] { return get(id).value(QStringLiteral("downloaded_bytes")).toInteger() > 200 * 1024; }, 20000));
    m_server->kill(); // SIGKILL: no clean shutdown, the database and the part file as they are
    m_files->file("/crash.bin").bytesPerSecond = 0;
    QVERIFY(startServer()); // same port, same data dir
    QVERIFY(waitStatus(id, QStringLiteral("completed")));
    QCOMPARE(fileBytes(QStringLiteral("crash.bin")), content);
    QVERIFY(m_files->rangeHeaders("/crash.bin").last().startsWith("bytes="));
    QCOMPARE(m_files->ifRangeHeaders("/crash.bin").last(), QByteArray("\"crash-v1\"")); // after a restart too
}

void tst_Downloads::badInputGetsClearErrors()
{
    m_files->addFile("/ok", {"ok"});
    QVERIFY(startServer());
    struct Case
    {
        QByteArray method, path, body;
        int status;
        const char *code;
    };
    const QList<Case> cases{
        {"POST", "/api/v1/downloads", "{nope", 400, "invalid_json"},
        {"POST", "/api/v1/downloads", "{}", 400, "invalid_url"},
        {"POST", "/api/v1/downloads", "{\"url\":\"ftp://example.org/x\"}", 400, "invalid_url"},
        {"POST", "/api/v1/downloads", "{\"url\":\"file:///etc/passwd\"}", 400, "invalid_url"},
        {"POST", "/api/v1/downloads", "{\"url\":\"not a url\"}", 400, "invalid_url"},
        {"POST", "/api/v1/downloads", "{\"url\":\"http://h/x\",\"sha256\":\"abc\"}", 400, "invalid_sha256"},
        {"POST", "/api/v1/downloads", "{\"url\":\"http://h/x\",\"priority\":\"high\"}", 400, "invalid_priority"},
        {"POST", "/api/v1/downloads", "{\"url\":\"http://h/x\",\"filename\":7}", 400, "invalid_filename"},
        {"GET", "/api/v1/downloads/nope", {}, 404, "not_found"},
        {"POST", "/api/v1/downloads/nope/pause", {}, 404, "not_found"},
        {"DELETE", "/api/v1/downloads/nope", {}, 404, "not_found"},
        {"GET", "/api/v1/downloads?status=sleeping", {}, 400, "invalid_status"},
        {"GET", "/api/v1/downloads?limit=0", {}, 400, "invalid_paging"},
    };
    for (const Case &c : cases) {
        const HttpReply r = api(c.method, c.path, c.body);
        QVERIFY2(r.status == c.status, qPrintable(c.method + ' ' + c.path + ' ' + c.body + " -> " + QByteArray::number(r.status)));
        QCOMPARE(json(r.body).value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString(),
                 QString::fromLatin1(c.code));
    }
    QCOMPARE(httpRequest(m_server->port(), "GET", "/api/v1/downloads").status, 401);
    const QString id = add({{QStringLiteral("url"), m_files->url("/ok")}}).value(QStringLiteral("id")).toString();
    QVERIFY(waitStatus(id, QStringLiteral("completed")));
    for (const char *action : {"pause", "resume", "cancel", "retry"}) {
        const HttpReply r = api("POST", "/api/v1/downloads/" + id.toUtf8() + '/' + action);
        QCOMPARE(r.status, 409);
        QVERIFY(json(r.body).value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(u"completed"));
    }
    QCOMPARE(api("DELETE", "/api/v1/downloads/" + id.toUtf8() + "?delete_file=true").status, 204);
    QCOMPARE(api("GET", "/api/v1/downloads/" + id.toUtf8()).status, 404);
    QVERIFY(!QFile::exists(QDir(downloadDir()).filePath(QStringLiteral("ok"))));
}

void tst_Downloads::queueAndListing()
{
    FileServer::File slow{FileServer::makeContent(400 * 1024)};
    slow.bytesPerSecond = 100 * 1024;
    for (int i = 0; i < 3; ++i)
        m_files->addFile("/q" + QByteArray::number(i), slow);
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_MAX_CONCURRENT_DOWNLOADS"), QStringLiteral("1"));
    QVERIFY(startServer(env));
    const QString first = add({{QStringLiteral("url"), m_files->url("/q0")}}).value(QStringLiteral("id")).toString();
    const QString second = add({{QStringLiteral("url"), m_files->url("/q1")}}).value(QStringLiteral("id")).toString();
    const QString urgent = add({{QStringLiteral("url"), m_files->url("/q2")}, {QStringLiteral("priority"), 5}})
                               .value(QStringLiteral("id")).toString();
    const QJsonObject queue = json(api("GET", "/api/v1/queue").body);
    const QJsonArray items = queue.value(QStringLiteral("items")).toArray();
    QCOMPARE(items.size(), 3);
    QCOMPARE(items[0].toObject().value(QStringLiteral("id")).toString(), urgent); // priority first
    const QJsonObject summary = queue.value(QStringLiteral("summary")).toObject();
    QCOMPARE(summary.value(QStringLiteral("active")).toInt(), 1);
    QCOMPARE(summary.value(QStringLiteral("queued")).toInt(), 2);
    QVERIFY(summary.contains(QStringLiteral("total_speed")));
    // Reorder: the second now goes before the urgent one.
    QCOMPARE(api("POST", "/api/v1/downloads/" + second.toUtf8() + "/priority", "{\"priority\":9}").status, 200);
    QCOMPARE(json(api("GET", "/api/v1/queue").body).value(QStringLiteral("items")).toArray()[0]
                 .toObject().value(QStringLiteral("id")).toString(), second);
    const QJsonObject pending = json(api("GET", "/api/v1/downloads?status=pending&limit=1").body);
    QCOMPARE(pending.value(QStringLiteral("total")).toInt(), 2);
    QCOMPARE(pending.value(QStringLiteral("items")).toArray().size(), 1);
    // Where the files go and the room there, for the monitor's free-space readout.
    QCOMPARE(pending.value(QStringLiteral("download_dir")).toString(), QDir(downloadDir()).absolutePath());
    const double free = pending.value(QStringLiteral("download_dir_free_bytes")).toDouble(-1);
    QVERIFY2(free > 0 && qAbs(free - double(QStorageInfo(downloadDir()).bytesAvailable())) < 64.0 * 1024 * 1024,
             qPrintable(QString::number(free)));
    Q_UNUSED(first);
}

void tst_Downloads::secondServerOnTheSameDataDirRefuses()
{
    QVERIFY(startServer());
    ServerProcess second;
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_DATA_DIR"), m_server->dataDir());
    QVERIFY(!second.start(env));
    QVERIFY(second.process().state() == QProcess::NotRunning || second.process().waitForFinished(10000));
    QVERIFY(second.process().exitCode() != 0);
    const QByteArray out = second.output();
    QVERIFY2(out.contains(QFile::encodeName(QDir(m_server->dataDir()).absolutePath())), out.constData());
    QVERIFY2(out.contains("pid " + QByteArray::number(m_server->process().processId())), out.constData());
    // The first one is unharmed; once it is gone (even SIGKILLed) the dir is free again.
    QCOMPARE(api("GET", "/api/v1/downloads").status, 200);
    m_server->kill();
    QVERIFY2(second.start(env), qPrintable(second.errorString()));
    QCOMPARE(second.terminate(), 0);
}

void tst_Downloads::resumeIsValidatedWithIfRange_data()
{
    QTest::addColumn<QByteArray>("etag");
    QTest::addColumn<QByteArray>("lastModified");
    QTest::addColumn<bool>("changeOnServer");
    QTest::addColumn<QByteArray>("expectedIfRange");
    const QByteArray date = "Tue, 01 Dec 2026 10:00:00 GMT";
    QTest::newRow("strong etag, unchanged: resumed") << QByteArray("\"a1\"") << date << false << QByteArray("\"a1\"");
    QTest::newRow("strong etag, changed: restarted") << QByteArray("\"a1\"") << date << true << QByteArray("\"a1\"");
    // A weak ETag may not validate a range (RFC 9110): the date does.
    QTest::newRow("weak etag, unchanged: date") << QByteArray("W/\"w1\"") << date << false << date;
    QTest::newRow("only a date, changed: restarted") << QByteArray() << date << true << date;
    QTest::newRow("no validator: plain Range") << QByteArray() << QByteArray() << false << QByteArray();
}

void tst_Downloads::resumeIsValidatedWithIfRange()
{
    QFETCH(QByteArray, etag);
    QFETCH(QByteArray, lastModified);
    QFETCH(bool, changeOnServer);
    QFETCH(QByteArray, expectedIfRange);
    const QByteArray original = FileServer::makeContent(700 * 1024, 21);
    FileServer::File f{original};
    f.bytesPerSecond = 350 * 1024;
    f.etag = etag;
    f.lastModified = lastModified;
    m_files->addFile("/v.bin", f);
    QVERIFY(startServer());
    const QString id = add({{QStringLiteral("url"), m_files->url("/v.bin")}}).value(QStringLiteral("id")).toString();
    QVERIFY(QTest::qWaitFor([&] { return get(id).value(QStringLiteral("downloaded_bytes")).toInteger() > 100 * 1024; }, 20000));
    QCOMPARE(api("POST", "/api/v1/downloads/" + id.toUtf8() + "/pause").status, 200);
    QByteArray expected = original;
    FileServer::File &served = m_files->file("/v.bin");
    served.bytesPerSecond = 0;
    if (changeOnServer) {
        // A new version of the file: splicing its tail onto the old head would corrupt it.
        expected = FileServer::makeContent(650 * 1024, 22);
        served.content = expected;
        served.etag = etag.isEmpty() ? etag : "\"a2\"";
        served.lastModified = "Wed, 02 Dec 2026 10:00:00 GMT";
    }
    QCOMPARE(api("POST", "/api/v1/downloads/" + id.toUtf8() + "/resume").status, 200);
    QVERIFY(waitStatus(id, QStringLiteral("completed")));
    QCOMPARE(fileBytes(QStringLiteral("v.bin")), expected);
    QVERIFY(m_files->rangeHeaders("/v.bin").last().startsWith("bytes="));
    QCOMPARE(m_files->ifRangeHeaders("/v.bin").last(), expectedIfRange);
    const QString note = get(id).value(QStringLiteral("note")).toString();
    if (changeOnServer)
        QVERIFY2(note.contains(u"changed on the server"), qPrintable(note));
    else // resumed, not restarted (a few KB were in flight when it paused)
        QVERIFY(note.isEmpty() && m_files->bytesServed("/v.bin") < original.size() + 64 * 1024);
}

QTEST_MAIN(tst_Downloads)
#include "tst_downloads.moc"
