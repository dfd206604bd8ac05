// TransferRoute inside a Transfer, against real local origins, several downloads sharing one
// network access manager as the engine's do: a URL's credentials go to its own origin only
// (never to a later download from the same host and port, never across a redirect to another
// host or port), redirects are followed and counted here, and with an address refusal every
// hop is checked, on the address connected to, before a byte is asked for.

#include "transferfixture.h"

#include "downloads/transfer.h"

#include <QNetworkAccessManager>
#include <QTest>

#include <memory>

using namespace Hermes;
using namespace Hermes::Test;

class tst_TransferRoute : public QObject, protected TransferFixture
{
    Q_OBJECT

private slots:
    void init() { setUp(); }
    void cleanup() { tearDown(); }
    void credentialsGoToTheirOwnDownloadOnly();
    void cookiesStayWithTheirDownload();
    void redirectKeepsThemOnTheOriginOnly();
    void redirectsAreCounted();
    void pinnedRequestsKeepTheHostName();
    void refusedAddressesAreNeverAsked();
};

static QByteArray basic(const QByteArray &pair)
{
    return "Basic " + pair.toBase64();
}

static QByteArray authorizationOf(const FileServer &files, const QByteArray &path, int request = 0)
{
    return files.requestHeaders(path).value(request).value("authorization");
}

// The URL of `files`' `path` with `userinfo@` in front of its host.
static QString withUser(const FileServer &files, const QByteArray &path, const QString &userinfo)
{
    return files.url(path).replace(QStringLiteral("http://"), QStringLiteral("http://") + userinfo + u'@');
}

void tst_TransferRoute::credentialsGoToTheirOwnDownloadOnly()
{
    for (const QByteArray path : {"/b", "/d"})
        m_files->addFile(path, {FileServer::makeContent(1000)});
    FileServer::File a{"a"}, c{"c"};
    a.basicAuth = "user:secret";
    c.basicAuth = "other:pw:1";
    m_files->addFile("/a", a);
    m_files->addFile("/c", c);
    // Before: Qt sent the URL's credentials after /a's challenge (401), then kept them for
    // 127.0.0.1:<port>, and /b, added without credentials, was sent them unasked. Now they
    // go with the first request (as curl sends them) and with nothing else.
    QCOMPARE(run(download(withUser(*m_files, "/a", QStringLiteral("user:secret"))))->results.value(0).kind,
             TransferResult::Kind::Finished);
    QCOMPARE(run(download(m_files->url("/b")))->results.value(0).kind, TransferResult::Kind::Finished);
    QCOMPARE(run(download(withUser(*m_files, "/c", QStringLiteral("other:pw%3A1"))))->results.value(0).kind,
             TransferResult::Kind::Finished);
    QCOMPARE(run(download(m_files->url("/d")))->results.value(0).kind, TransferResult::Kind::Finished);
    QCOMPARE(m_files->requests("/a"), 1); // no challenge needed
    QCOMPARE(authorizationOf(*m_files, "/a"), basic("user:secret"));
    QCOMPARE(authorizationOf(*m_files, "/b"), QByteArray());
    QCOMPARE(authorizationOf(*m_files, "/c"), basic("other:pw:1")); // decoded, its own
    QCOMPARE(authorizationOf(*m_files, "/d"), QByteArray());
    // A challenge is not answered with anything cached either: it fails as any 4xx.
    FileServer::File locked{"x"};
    locked.basicAuth = "user:secret";
    m_files->addFile("/locked", locked);
    const auto denied = run(download(m_files->url("/locked")));
    QCOMPARE(denied->results.value(0).kind, TransferResult::Kind::Failed);
    QVERIFY2(denied->results.value(0).message.contains(u"401"), qPrintable(denied->results.value(0).message));
    QCOMPARE(m_files->requests("/locked"), 1);
    QCOMPARE(authorizationOf(*m_files, "/locked"), QByteArray());
}

void tst_TransferRoute::cookiesStayWithTheirDownload()
{
    // The engine's downloads share one network access manager, and with it Qt's cookie jar: a
    // session cookie the origin set for a credentialed download went to every later download
    // from it, whoever asked for those.
    FileServer::File login{"logged in"};
    login.basicAuth = "user:secret";
    login.setCookie = "session=s3cr3t-c00kie; Path=/";
    m_files->addFile("/login", login);
    m_files->addFile("/next", {FileServer::makeContent(100)});
    QCOMPARE(run(download(withUser(*m_files, "/login", QStringLiteral("user:secret"))))->results.value(0).kind,
             TransferResult::Kind::Finished);
    QCOMPARE(run(download(m_files->url("/next")))->results.value(0).kind, TransferResult::Kind::Finished);
    QCOMPARE(m_files->requests("/next"), 1);
    QCOMPARE(m_files->requestHeaders("/next").value(0).value("cookie"), QByteArray());
}

void tst_TransferRoute::redirectKeepsThemOnTheOriginOnly()
{
    FileServer otherHost(nullptr, QHostAddress(QStringLiteral("127.0.0.2")));
    FileServer otherPort;
    otherHost.addFile("/x", {"elsewhere"});
    otherPort.addFile("/y", {"other port"});
    m_files->addFile("/target", {"same origin"});
    FileServer::File same, host, port;
    same.redirectTo = "/target";
    host.redirectTo = otherHost.url("/x").toLatin1();
    port.redirectTo = otherPort.url("/y").toLatin1();
    m_files->addFile("/same", same);
    m_files->addFile("/host", host);
    m_files->addFile("/port", port);
    const QString creds = QStringLiteral("user:secret");
    QCOMPARE(run(download(withUser(*m_files, "/same", creds)))->results.value(0).kind, TransferResult::Kind::Finished);
    QCOMPARE(run(download(withUser(*m_files, "/host", creds)))->results.value(0).kind, TransferResult::Kind::Finished);
    const auto toPort = run(download(withUser(*m_files, "/port", creds)));
    QCOMPARE(toPort->results.value(0).kind, TransferResult::Kind::Finished);
    QCOMPARE(authorizationOf(*m_files, "/same"), basic("user:secret"));
    QCOMPARE(authorizationOf(*m_files, "/target"), basic("user:secret")); // same origin: as curl
    QCOMPARE(authorizationOf(*m_files, "/host"), basic("user:secret"));
    QCOMPARE(otherHost.requests("/x"), 1);
    QCOMPARE(authorizationOf(otherHost, "/x"), QByteArray());
    QCOMPARE(otherPort.requests("/y"), 1);
    QCOMPARE(authorizationOf(otherPort, "/y"), QByteArray());
    QCOMPARE(toPort->transfer->download().filename, QStringLiteral("y")); // named after the last hop
    QCOMPARE(part(toPort->transfer->download().id), QByteArray("other port"));
}

void tst_TransferRoute::redirectsAreCounted()
{
    FileServer::File loop;
    loop.redirectTo = "/loop";
    m_files->addFile("/loop", loop);
    Transfer::Limits limits = defaultLimits();
    limits.maxRedirects = 3;
    const auto r = run(download(m_files->url("/loop")), limits);
    QCOMPARE(r->results.size(), 1);
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Failed);
    QVERIFY(!r->results[0].retryable); // a loop stays a loop
    QVERIFY2(r->results[0].message.contains(u"redirects"), qPrintable(r->results[0].message));
    QCOMPARE(m_files->requests("/loop"), 4); // the request and 3 redirects followed
}

void tst_TransferRoute::pinnedRequestsKeepTheHostName()
{
    // Both loopback families: "localhost" may resolve to ::1 or 127.0.0.1 first.
    FileServer dual(nullptr, QHostAddress::Any);
    dual.addFile("/f", {"pinned"});
    Transfer::Limits limits = defaultLimits();
    limits.refusal = [](const QHostAddress &) { return QString(); }; // checks on, refuses nothing
    const QString url = QStringLiteral("http://user:pw@localhost:%1/f").arg(dual.port());
    const auto r = run(download(url), limits);
    QCOMPARE(r->results.value(0).kind, TransferResult::Kind::Finished);
    QCOMPARE(part(r->transfer->download().id), QByteArray("pinned"));
    // Connected by address, and still asked for by name, with the credentials of its origin.
    QCOMPARE(dual.requestHeaders("/f").value(0).value("host"), QStringLiteral("localhost:%1").arg(dual.port()).toLatin1());
    QCOMPARE(authorizationOf(dual, "/f"), basic("user:pw"));
}

void tst_TransferRoute::refusedAddressesAreNeverAsked()
{
    // The private ranges are AddressPolicy's (tst_addresspolicy); here a refusal of one
    // loopback address stands for them, so that an allowed first hop can redirect to it.
    FileServer inside(nullptr, QHostAddress(QStringLiteral("127.0.0.2")));
    inside.addFile("/secret", {"internal"});
    FileServer::File hop;
    hop.redirectTo = inside.url("/secret").toLatin1();
    m_files->addFile("/hop", hop);
    m_files->addFile("/fine", {"public"});
    Transfer::Limits limits = defaultLimits();
    limits.refusal = [](const QHostAddress &a) {
        return a == QHostAddress(QStringLiteral("127.0.0.2")) ? QStringLiteral("test-private") : QString();
    };
    const auto direct = run(download(inside.url("/secret")), limits);
    const auto redirected = run(download(m_files->url("/hop")), limits);
    const auto fine = run(download(m_files->url("/fine")), limits);
    for (const auto *r : {direct.get(), redirected.get()}) {
        QCOMPARE(r->results.size(), 1);
        QCOMPARE(r->results[0].kind, TransferResult::Kind::Failed);
        QVERIFY(!r->results[0].retryable);
        QVERIFY2(r->results[0].message.startsWith(u"blocked_address: 127.0.0.2, a test-private address"),
                 qPrintable(r->results[0].message));
        QCOMPARE(part(r->transfer->download().id), QByteArray());
    }
    QCOMPARE(m_files->requests("/hop"), 1);
    QCOMPARE(inside.requests("/secret"), 0); // never connected to
    QCOMPARE(fine->results.value(0).kind, TransferResult::Kind::Finished);
    QCOMPARE(part(fine->transfer->download().id), QByteArray("public"));
}

QTEST_MAIN(tst_TransferRoute)
#include "tst_transferroute.moc"
