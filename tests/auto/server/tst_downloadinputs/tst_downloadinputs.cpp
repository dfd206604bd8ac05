// What a download's inputs may do, through the real hermes-server and real local origins:
// a URL's credentials reach its own origin only (not a later download from the same host and
// port, not a redirect's other host) and are shown nowhere (REST, events a stream token reads,
// the log); bidi and invisible characters leave file names given or sent by the origin; and
// HERMES_DOWNLOAD_BLOCK_PRIVATE refuses private addresses with a clear reason (off: allowed).

#include "asynchttp.h"
#include "downloadapi.h"
#include "fileserver.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <memory>

using namespace Hermes;
using namespace Hermes::Test;


class tst_DownloadInputs : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void credentialsStayWithTheirTransfer();
    void crossHostRedirectDropsCredentials();
    void bidiAndInvisibleCharactersLeaveNames();
    void privateAddressesBlockedWhenAsked();
    void privateAddressesAllowedByDefault();

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

    std::unique_ptr<ServerProcess> m_server;
    std::unique_ptr<FileServer> m_files;
};

using DownloadApi::json;

static QString withUser(const QString &url, const QString &userinfo)
{
    return QString(url).replace(QStringLiteral("http://"), QStringLiteral("http://") + userinfo + u'@');
}

void tst_DownloadInputs::init()
{
    m_files = std::make_unique<FileServer>();
    m_server = std::make_unique<ServerProcess>();
}

void tst_DownloadInputs::cleanup()
{
    m_server.reset();
    m_files.reset();
}

bool tst_DownloadInputs::startServer(const QProcessEnvironment &extra)
{
    QProcessEnvironment env = extra;
    env.insert(QStringLiteral("HERMES_DOWNLOAD_RETRY_DELAY"), QStringLiteral("50"));
    env.insert(QStringLiteral("HERMES_DISK_WARNING_MB"), QStringLiteral("0"));
    if (!m_server->start(env)) {
        qWarning() << m_server->errorString();
        return false;
    }
    return true;
}

void tst_DownloadInputs::credentialsStayWithTheirTransfer()
{
    FileServer::File locked{FileServer::makeContent(64 * 1024, 2)};
    locked.basicAuth = "alice:s3cr3t-pw"; // challenges a request without them
    m_files->addFile("/private.bin", locked);
    m_files->addFile("/public.bin", {FileServer::makeContent(64 * 1024, 3)});
    // Every request logged: a URL or a header with the password would show here.
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_LOG_LEVEL"), QStringLiteral("debug"));
    QVERIFY(startServer(env));
    const HttpReply minted = api("POST", "/api/v1/events/token", R"({"scope":"stream"})");
    QCOMPARE(minted.status, 200);
    SseClient events; // what a stream token (a browser) reads
    events.open(m_server->port(), "/api/v1/events/stream?token=" + json(minted.body).value(QStringLiteral("token")).toString().toUtf8());
    QTRY_VERIFY_WITH_TIMEOUT(!events.events().isEmpty(), 10000);

    const QString secretUrl = withUser(m_files->url("/private.bin"), QStringLiteral("alice:s3cr3t-pw"));
    const HttpReply created = api("POST", "/api/v1/downloads",
                                  QJsonDocument(QJsonObject{{QStringLiteral("url"), secretUrl}}).toJson(QJsonDocument::Compact));
    QCOMPARE(created.status, 201);
    const QString first = json(created.body).value(QStringLiteral("id")).toString();
    const QString shown = QStringLiteral("http://alice:***@127.0.0.1:%1/private.bin").arg(m_files->port());
    QCOMPARE(json(created.body).value(QStringLiteral("url")).toString(), shown);
    QVERIFY(waitStatus(first, QStringLiteral("completed")));
    // Then one from the same host and port without credentials: before, Qt's cache sent it
    // `Authorization: Basic alice:s3cr3t-pw`.
    const QString second = add({{QStringLiteral("url"), m_files->url("/public.bin")}}).value(QStringLiteral("id")).toString();
    QVERIFY(waitStatus(second, QStringLiteral("completed")));
    QCOMPARE(m_files->requestHeaders("/private.bin").value(0).value("authorization"),
             "Basic " + QByteArray("alice:s3cr3t-pw").toBase64());
    QCOMPARE(m_files->requests("/public.bin"), 1);
    QVERIFY(!m_files->requestHeaders("/public.bin").value(0).contains("authorization"));

    // Shown redacted everywhere: one download, the list, the queue, the events; never in the log.
    QCOMPARE(get(first).value(QStringLiteral("url")).toString(), shown);
    const QByteArray list = api("GET", "/api/v1/downloads").body;
    QVERIFY(list.contains(shown.toUtf8()));
    QTRY_VERIFY_WITH_TIMEOUT(events.rawBody().contains("\"completed\"") && events.rawBody().contains(second.toUtf8()), 10000);
    QVERIFY(events.rawBody().contains(shown.toUtf8()));
    for (const QByteArray &text : {list, api("GET", "/api/v1/queue").body, events.rawBody(), m_server->output()}) {
        QVERIFY2(!text.contains("s3cr3t-pw"), text.left(2000).constData());
        QVERIFY(!text.contains(QByteArray("alice:s3cr3t-pw").toBase64()));
    }
}

void tst_DownloadInputs::crossHostRedirectDropsCredentials()
{
    // 127.0.0.2 is another host to a client (the whole of 127/8 is loopback on Linux).
    FileServer other(nullptr, QHostAddress(QStringLiteral("127.0.0.2")));
    other.addFile("/moved.bin", {"moved content"});
    FileServer::File hop;
    hop.redirectTo = other.url("/moved.bin").toLatin1();
    m_files->addFile("/hop", hop);
    QVERIFY(startServer());
    const QString id = add({{QStringLiteral("url"), withUser(m_files->url("/hop"), QStringLiteral("bob:pw-xyz"))}})
                           .value(QStringLiteral("id")).toString();
    QVERIFY(waitStatus(id, QStringLiteral("completed")));
    QCOMPARE(m_files->requestHeaders("/hop").value(0).value("authorization"), "Basic " + QByteArray("bob:pw-xyz").toBase64());
    QCOMPARE(other.requests("/moved.bin"), 1);
    QVERIFY(!other.requestHeaders("/moved.bin").value(0).contains("authorization")); // as curl
    QFile f(QDir(downloadDir()).filePath(QStringLiteral("moved.bin")));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), QByteArray("moved content"));
}

void tst_DownloadInputs::bidiAndInvisibleCharactersLeaveNames()
{
    m_files->addFile("/given", {"given"});
    FileServer::File fromOrigin{"origin"};
    // "report" RLO "fdp.exe" (U+202E, percent-encoded UTF-8) reads as "reportexe.pdf".
    fromOrigin.contentDisposition = "attachment; filename*=UTF-8''report%E2%80%AEfdp.exe";
    m_files->addFile("/cd", fromOrigin);
    m_files->addFile(QByteArray("/x%E2%80%8Fy%E2%81%A6z.txt"), {"path"}); // RLM, LRI in the URL's path
    QVERIFY(startServer());
    const QString given = add({{QStringLiteral("url"), m_files->url("/given")},
                               {QStringLiteral("filename"), QStringLiteral("\u202Bnotes\u200E\u2066.txt\u2069")}})
                              .value(QStringLiteral("id")).toString();
    const QString cd = add({{QStringLiteral("url"), m_files->url("/cd")}}).value(QStringLiteral("id")).toString();
    const QJsonObject pathAdded = add({{QStringLiteral("url"), m_files->url("/x%E2%80%8Fy%E2%81%A6z.txt")}});
    QCOMPARE(pathAdded.value(QStringLiteral("filename")).toString(), QStringLiteral("xyz.txt")); // at once
    for (const QString &id : {given, cd, pathAdded.value(QStringLiteral("id")).toString()})
        QVERIFY(waitStatus(id, QStringLiteral("completed")));
    QCOMPARE(get(given).value(QStringLiteral("filename")).toString(), QStringLiteral("notes.txt"));
    QCOMPARE(get(cd).value(QStringLiteral("filename")).toString(), QStringLiteral("reportfdp.exe"));
    QStringList files = QDir(downloadDir()).entryList(QDir::Files);
    files.sort();
    QCOMPARE(files, (QStringList{"notes.txt", "reportfdp.exe", "xyz.txt"}));
    // A name of marks alone has nothing usable in it.
    const HttpReply empty = api("POST", "/api/v1/downloads",
                                QJsonDocument(QJsonObject{{QStringLiteral("url"), m_files->url("/given")},
                                                          {QStringLiteral("filename"), QStringLiteral("\u202E\u200F")}})
                                    .toJson(QJsonDocument::Compact));
    QCOMPARE(empty.status, 400);
    QCOMPARE(json(empty.body).value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString(),
             QStringLiteral("invalid_filename"));
}

void tst_DownloadInputs::privateAddressesBlockedWhenAsked()
{
    m_files->addFile("/f.bin", {"inside"});
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_DOWNLOAD_BLOCK_PRIVATE"), QStringLiteral("1"));
    QVERIFY(startServer(env));
    // By address, by a name that resolves to loopback, by IPv6 and IPv4-mapped spellings.
    const QStringList urls{m_files->url("/f.bin"),
                           QStringLiteral("http://localhost:%1/f.bin").arg(m_files->port()),
                           QStringLiteral("http://[::1]:%1/f.bin").arg(m_files->port()),
                           QStringLiteral("http://[::ffff:127.0.0.1]:%1/f.bin").arg(m_files->port()),
                           QStringLiteral("http://user:pw@10.0.0.1:9/f.bin")};
    QStringList ids;
    for (const QString &url : urls)
        ids.append(add({{QStringLiteral("url"), url}}).value(QStringLiteral("id")).toString());
    for (int i = 0; i < ids.size(); ++i) {
        QVERIFY2(waitStatus(ids[i], QStringLiteral("failed"), 15000), qPrintable(urls[i]));
        const QJsonObject d = get(ids[i]);
        const QString why = d.value(QStringLiteral("error_message")).toString();
        QVERIFY2(why.startsWith(u"blocked_address: ") && why.contains(u"HERMES_DOWNLOAD_BLOCK_PRIVATE"), qPrintable(why));
    }
    QTest::qWait(500); // not retried: it stays refused
    for (const QString &id : std::as_const(ids))
        QCOMPARE(get(id).value(QStringLiteral("status")).toString(), QStringLiteral("failed"));
    QVERIFY(get(ids[1]).value(QStringLiteral("error_message")).toString().contains(u"localhost resolves to"));
    QCOMPARE(m_files->requests("/f.bin"), 0); // never connected to
}

void tst_DownloadInputs::privateAddressesAllowedByDefault()
{
    m_files->addFile("/f.bin", {"inside"});
    QVERIFY(startServer());
    const QString id = add({{QStringLiteral("url"), m_files->url("/f.bin")}}).value(QStringLiteral("id")).toString();
    QVERIFY(waitStatus(id, QStringLiteral("completed")));
    QCOMPARE(m_files->requests("/f.bin"), 1);
}

QTEST_MAIN(tst_DownloadInputs)
#include "tst_downloadinputs.moc"
