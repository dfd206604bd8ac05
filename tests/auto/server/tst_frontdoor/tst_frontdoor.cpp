// The front door of the real hermes-server binary: limits as bytes arrive, strict framing,
// keep-alive and Connection: close, HEAD on streams, timeouts, connection caps, stream quotas,
// /metrics exposure and bounded waits on the broker.

#include "rawclient.h"
#include "redisprocess.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include <QDir>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTest>

#include <memory>

using namespace Hermes::Test;

static const QByteArray Key = ServerProcess::ApiKey;
static const QByteArray Auth = "Authorization: Bearer " + Key + "\r\n";

static QString errorCode(const HttpReply &r)
{
    return QJsonDocument::fromJson(r.body).object().value(QStringLiteral("error")).toObject()
        .value(QStringLiteral("code")).toString();
}

static QProcessEnvironment env(std::initializer_list<std::pair<const char *, const char *>> vars)
{
    QProcessEnvironment e;
    for (const auto &[k, v] : vars)
        e.insert(QString::fromLatin1(k), QString::fromLatin1(v));
    return e;
}

class tst_FrontDoor : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void refusedAsBytesArrive_data();
    void refusedAsBytesArrive();
    void framing_data();
    void framing();
    void largeDeclaredBodyRefusedBeforeItIsSent();
    void endlessChunkedBodyRefused();
    void expectContinue();
    void keepAlivePipelining();
    void connectionCloseHonoured();
    void http10GetsCloseDelimitedAnswers();
    void noContentHasNoBodyHeaders();
    void headOnStreamRouteOpensNoStream();
    void http10Stream();
    void timeouts();
    void minimumBodyRate_data();
    void minimumBodyRate();
    void perAddressCapParks();
    void totalCapMakesClientsWait();
    void acceptingResumesAfterRunningOutOfDescriptors();
    void streamQuotaPerCredential();
    void metricsNeedACredential();
    void metricsOnSeparateAddress();
    void brokerWaitsAreBounded();

private:
    ServerProcess m_server;
    quint16 port() const { return const_cast<ServerProcess &>(m_server).port(); }
    int activeStreams(quint16 port)
    {
        const HttpReply r = httpRequest(port, "GET", "/api/v1/events/health");
        return QJsonDocument::fromJson(r.body).object().value(QStringLiteral("active_connections")).toInt(-1);
    }
};

void tst_FrontDoor::initTestCase()
{
    QVERIFY2(m_server.start(), qPrintable(m_server.errorString()));
}

// Each answered with its status and a JSON error, then the connection is closed.
void tst_FrontDoor::refusedAsBytesArrive_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    QTest::newRow("request line > 8 KiB") << "GET /" + QByteArray(9000, 'a') + " HTTP/1.1\r\n" << 414;
    QTest::newRow("endless request line") << "GET /" + QByteArray(64 * 1024, 'a') << 414;
    QTest::newRow("header block > 32 KiB") << "GET / HTTP/1.1\r\nHost: h\r\nX: " + QByteArray(33 * 1024, 'b') << 431;
    QByteArray fields = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (int i = 0; i < 101; ++i)
        fields += "X-" + QByteArray::number(i) + ": 1\r\n";
    QTest::newRow("101 fields") << fields + "\r\n" << 431;
    QTest::newRow("TLS hello") << QByteArray("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) << 400;
    QTest::newRow("HTTP/2 preface") << QByteArray("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") << 505;
}

void tst_FrontDoor::refusedAsBytesArrive()
{
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    RawClient c;
    QVERIFY(c.connect(port()));
    c.send(request);
    const HttpReply r = c.readResponse();
    QCOMPARE(r.status, status);
    QCOMPARE(r.header("connection"), QByteArray("close"));
    QCOMPARE(r.header("content-type"), QByteArray("application/json"));
    QVERIFY(!errorCode(r).isEmpty());
    QVERIFY(c.waitClosed(5000));
}

void tst_FrontDoor::framing_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    const QByteArray post = "POST /api/v1/events/publish HTTP/1.1\r\nHost: h\r\n" + Auth;
    QTest::newRow("CL + TE") << post + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" << 400;
    QTest::newRow("repeated CL") << post + "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}" << 400;
    QTest::newRow("invalid CL") << post + "Content-Length: 2x\r\n\r\n{}" << 400;
    QTest::newRow("negative CL") << post + "Content-Length: -2\r\n\r\n{}" << 400;
    QTest::newRow("bad chunk size") << post + "Transfer-Encoding: chunked\r\n\r\nxyz\r\n{}\r\n0\r\n\r\n" << 400;
    QTest::newRow("chunk longer than its size") << post + "Transfer-Encoding: chunked\r\n\r\n1\r\n{}\r\n0\r\n\r\n" << 400;
    QTest::newRow("unknown coding") << post + "Transfer-Encoding: gzip\r\n\r\n" << 400;
    QTest::newRow("no Host") << QByteArray("GET /api/v1/events/health HTTP/1.1\r\n\r\n") << 400;
    QTest::newRow("obs-fold") << QByteArray("GET /api/v1/events/health HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n") << 400;
    QTest::newRow("space before colon") << QByteArray("GET /api/v1/events/health HTTP/1.1\r\nHost : h\r\n\r\n") << 400;
    QTest::newRow("unknown method") << QByteArray("BREW /api/v1/events/health HTTP/1.1\r\nHost: h\r\n\r\n") << 501;
}

// A framing error ends the connection: what follows cannot be trusted to be a request.
void tst_FrontDoor::framing()
{
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    RawClient c;
    QVERIFY(c.connect(port()));
    c.send(request + "GET /api/v1/events/health HTTP/1.1\r\nHost: h\r\n\r\n");
    const HttpReply r = c.readResponse();
    QCOMPARE(r.status, status);
    QCOMPARE(r.header("connection"), QByteArray("close"));
    QVERIFY(c.waitClosed(5000));
    QVERIFY2(!c.buffer().contains("HTTP/1.1 200"), c.buffer().constData()); // the smuggled one
}

void tst_FrontDoor::largeDeclaredBodyRefusedBeforeItIsSent()
{
    // 2e9 bytes announced, none sent, no credential: 413 at once.
    RawClient c;
    QVERIFY(c.connect(port()));
    c.send("POST /api/v1/events/publish HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
           "Content-Length: 2000000000\r\n\r\n");
    const HttpReply r = c.readResponse();
    QCOMPARE(r.status, 413);
    QCOMPARE(errorCode(r), QStringLiteral("payload_too_large"));
    QVERIFY(c.waitClosed(5000));
}

void tst_FrontDoor::endlessChunkedBodyRefused()
{
    RawClient c;
    QVERIFY(c.connect(port()));
    c.send("POST /api/v1/events/publish HTTP/1.1\r\nHost: h\r\n" + Auth + "Transfer-Encoding: chunked\r\n\r\n");
    const QByteArray chunk = "1000\r\n" + QByteArray(4096, 'x') + "\r\n";
    int sent = 0;
    while (sent < 1000 && c.isOpen() && c.socket().bytesAvailable() == 0) {
        c.send(chunk);
        c.socket().waitForReadyRead(1);
        ++sent;
    }
    const HttpReply r = c.readResponse();
    QCOMPARE(r.status, 413);
    QVERIFY2(sent <= 64, qPrintable(QString::number(sent))); // 64 KiB limit: refused at the 17th
    QVERIFY(c.waitClosed(5000));
}

void tst_FrontDoor::expectContinue()
{
    RawClient c;
    QVERIFY(c.connect(port()));
    const QByteArray body = R"({"channel":"system:notifications","type":"t","data":{}})";
    c.send("POST /api/v1/events/publish HTTP/1.1\r\nHost: h\r\n" + Auth + "Expect: 100-continue\r\n"
           "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n");
    QCOMPARE(c.readResponse().status, 100);
    c.send(body);
    QCOMPARE(c.readResponse().status, 202);
    // Refused at once when the body would be too large: the client never sends it.
    c.send("POST /api/v1/events/publish HTTP/1.1\r\nHost: h\r\n" + Auth + "Expect: 100-continue\r\n"
           "Content-Length: 100000000\r\n\r\n");
    QCOMPARE(c.readResponse().status, 413);
}

void tst_FrontDoor::keepAlivePipelining()
{
    RawClient c;
    QVERIFY(c.connect(port()));
    QByteArray requests;
    for (int i = 0; i < 20; ++i)
        requests += (i % 2 ? "GET /api/v1/events/health" : "GET /nope/" + QByteArray::number(i))
            + " HTTP/1.1\r\nHost: h\r\n\r\n";
    c.send(requests);
    for (int i = 0; i < 20; ++i) {
        const HttpReply r = c.readResponse();
        QCOMPARE(r.status, i % 2 ? 200 : 404);
        QVERIFY(r.header("connection").isEmpty());
    }
    QVERIFY(c.isOpen());
}

void tst_FrontDoor::connectionCloseHonoured()
{
    RawClient c;
    QVERIFY(c.connect(port()));
    c.send("GET /api/v1/events/health HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
           "GET /api/v1/events/health HTTP/1.1\r\nHost: h\r\n\r\n");
    const HttpReply r = c.readResponse();
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("connection"), QByteArray("close"));
    QVERIFY(c.waitClosed(5000));
    QCOMPARE(c.buffer(), QByteArray()); // the second request was not answered
}

void tst_FrontDoor::http10GetsCloseDelimitedAnswers()
{
    RawClient c;
    QVERIFY(c.connect(port()));
    c.send("GET /api/v1/events/health HTTP/1.0\r\n\r\n");
    const HttpReply r = c.readResponse();
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("connection"), QByteArray("close"));
    QVERIFY(c.waitClosed(5000));
}

void tst_FrontDoor::noContentHasNoBodyHeaders()
{
    RawClient c;
    QVERIFY(c.connect(port()));
    c.send("OPTIONS /api/v1/events/publish HTTP/1.1\r\nHost: h\r\nOrigin: https://x\r\n\r\n"
           "GET /api/v1/events/health HTTP/1.1\r\nHost: h\r\n\r\n");
    const HttpReply r = c.readResponse();
    QCOMPARE(r.status, 204);
    QVERIFY(r.header("content-length").isEmpty());
    QVERIFY(r.header("content-type").isEmpty());
    QVERIFY(r.header("transfer-encoding").isEmpty());
    QCOMPARE(c.readResponse().status, 200); // nothing stood between the two answers
}

void tst_FrontDoor::headOnStreamRouteOpensNoStream()
{
    const int before = activeStreams(port());
    RawClient c;
    QVERIFY(c.connect(port()));
    c.send("HEAD /api/v1/events/stream HTTP/1.1\r\nHost: h\r\n" + Auth + "\r\n");
    const HttpReply r = c.readResponse(5000, true);
    QCOMPARE(r.status, 200);
    QVERIFY(r.header("content-type").startsWith("text/event-stream"));
    QCOMPARE(activeStreams(port()), before);
    // Nothing but the head came, and the connection serves the next request.
    c.send("GET /api/v1/events/health HTTP/1.1\r\nHost: h\r\n\r\n");
    const HttpReply next = c.readResponse();
    QCOMPARE(next.status, 200);
    QVERIFY(next.body.startsWith('{'));
    // Without a credential HEAD is refused like GET.
    c.send("HEAD /api/v1/events/stream HTTP/1.1\r\nHost: h\r\n\r\n");
    QCOMPARE(c.readResponse(5000, true).status, 401);
}

void tst_FrontDoor::http10Stream()
{
    RawClient c;
    QVERIFY(c.connect(port()));
    c.send("GET /api/v1/events/stream HTTP/1.0\r\n" + Auth + "\r\n");
    QElapsedTimer t;
    t.start();
    while (!c.buffer().contains("connected") && t.elapsed() < 5000) {
        c.socket().waitForReadyRead(100);
        c.buffer() += c.socket().readAll();
    }
    const qsizetype end = c.buffer().indexOf("\r\n\r\n");
    QVERIFY(end > 0);
    QList<QPair<QByteArray, QByteArray>> headers;
    QCOMPARE(parseResponseHead(QByteArrayView(c.buffer()).first(end), &headers), 200);
    for (const auto &h : headers)
        QVERIFY2(h.first != "transfer-encoding", "an HTTP/1.0 client cannot read chunked framing");
    // The body is the event stream itself, not chunk frames (StreamParams::chunked).
    QVERIFY2(c.buffer().mid(end + 4).startsWith("data:") || c.buffer().mid(end + 4).startsWith("event:")
                 || c.buffer().mid(end + 4).startsWith("id:") || c.buffer().mid(end + 4).startsWith("retry:"),
             c.buffer().mid(end + 4, 40).constData());
}

void tst_FrontDoor::timeouts()
{
    ServerProcess server;
    QVERIFY(server.start(env({{"HERMES_HTTP_HEADER_TIMEOUT", "1"}, {"HERMES_HTTP_BODY_TIMEOUT", "1"},
                              {"HERMES_HTTP_IDLE_TIMEOUT", "1"}})));
    // A head that stops half-way: 408, then closed.
    RawClient partial;
    QVERIFY(partial.connect(server.port()));
    partial.send("GET /api/v1/events/health HTTP/1.1\r\n");
    const HttpReply r = partial.readResponse(10000);
    QCOMPARE(r.status, 408);
    QVERIFY(partial.waitClosed(5000));
    // A connection that never sends a byte: closed without an answer.
    RawClient silent;
    QVERIFY(silent.connect(server.port()));
    QVERIFY(silent.waitClosed(10000));
    QCOMPARE(silent.buffer(), QByteArray());
    // A body that stalls: 408.
    RawClient body;
    QVERIFY(body.connect(server.port()));
    body.send("POST /api/v1/events/publish HTTP/1.1\r\nHost: h\r\n" + Auth + "Content-Length: 100\r\n\r\n{\"ch");
    QCOMPARE(body.readResponse(10000).status, 408);
    QVERIFY(body.waitClosed(5000));
    // Keep-alive: an idle connection is closed after the idle timeout.
    RawClient idle;
    QVERIFY(idle.connect(server.port()));
    idle.send("GET /api/v1/events/health HTTP/1.1\r\nHost: h\r\n\r\n");
    QCOMPARE(idle.readResponse().status, 200);
    QVERIFY(idle.waitClosed(10000));
    // A slowloris that sends a byte of its head now and then: still bounded by the header timeout.
    RawClient slow;
    QVERIFY(slow.connect(server.port()));
    QElapsedTimer t;
    t.start();
    const QByteArray head = "GET /api/v1/events/health HTTP/1.1\r\nHost: h\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    for (int i = 0; i < head.size() && slow.isOpen() && t.elapsed() < 8000; ++i) {
        slow.send(head.mid(i, 1));
        QTest::qWait(200);
    }
    QVERIFY(slow.waitClosed(5000));
    QVERIFY(slow.buffer().startsWith("HTTP/1.1 408"));
    QCOMPARE(server.terminate(), 0);
}

void tst_FrontDoor::minimumBodyRate_data()
{
    QTest::addColumn<QByteArray>("rate");
    QTest::addColumn<bool>("cut");
    QTest::newRow("1000 B/s") << QByteArray("1000") << true;
    QTest::newRow("any rate (0)") << QByteArray("0") << false;
}

// A body that never stalls for HERMES_HTTP_BODY_TIMEOUT but trickles (32 B/s) is cut once it
// falls below HERMES_HTTP_MIN_BODY_RATE on average; with 0 it may go on.
void tst_FrontDoor::minimumBodyRate()
{
    QFETCH(QByteArray, rate);
    QFETCH(bool, cut);
    ServerProcess server;
    QVERIFY(server.start(env({{"HERMES_HTTP_BODY_TIMEOUT", "1"}, {"HERMES_HTTP_MIN_BODY_RATE", rate.constData()}})));
    RawClient trickle;
    QVERIFY(trickle.connect(server.port()));
    trickle.send("POST /api/v1/events/publish HTTP/1.1\r\nHost: h\r\n" + Auth + "Content-Length: 60000\r\n\r\n");
    QElapsedTimer t;
    t.start();
    while (trickle.isOpen() && t.elapsed() < 3500) {
        trickle.send(QByteArray(8, ' '));
        QTest::qWait(250);
    }
    if (cut) {
        QVERIFY(trickle.waitClosed(5000));
        QVERIFY2(trickle.buffer().startsWith("HTTP/1.1 408"), trickle.buffer().left(80).constData());
    } else {
        QVERIFY(trickle.isOpen());
        QVERIFY(trickle.buffer().isEmpty());
    }
    QCOMPARE(server.terminate(), 0);
}

void tst_FrontDoor::perAddressCapParks()
{
    ServerProcess server;
    QVERIFY(server.start(env({{"HERMES_HTTP_MAX_CONNECTIONS_PER_IP", "3"}, {"HERMES_HTTP_HEADER_TIMEOUT", "30"}})));
    std::vector<std::unique_ptr<RawClient>> idle;
    for (int i = 0; i < 3; ++i) {
        idle.push_back(std::make_unique<RawClient>());
        QVERIFY(idle.back()->connect(server.port()));
    }
    QTest::qWait(300); // the server has accepted them
    // A fourth from the same address waits, unread...
    RawClient fourth;
    QVERIFY(fourth.connect(server.port()));
    fourth.send("GET /api/v1/events/health HTTP/1.1\r\nHost: h\r\n\r\n");
    QCOMPARE(fourth.readResponse(1500).status, 0);
    // ...while another address is served at once...
    RawClient other;
    QVERIFY(other.connect(server.port(), QHostAddress(QStringLiteral("127.0.0.2"))));
    other.send("GET /api/v1/events/health HTTP/1.1\r\nHost: h\r\n\r\n");
    QCOMPARE(other.readResponse().status, 200);
    // ...and it gets the slot of the first that leaves.
    idle.front()->socket().abort();
    QCOMPARE(fourth.readResponse(5000).status, 200);
    QCOMPARE(server.terminate(), 0);
}

void tst_FrontDoor::totalCapMakesClientsWait()
{
    ServerProcess server;
    QVERIFY(server.start(env({{"HERMES_HTTP_MAX_CONNECTIONS", "4"}, {"HERMES_HTTP_MAX_CONNECTIONS_PER_IP", "0"},
                              {"HERMES_HTTP_HEADER_TIMEOUT", "30"}})));
    std::vector<std::unique_ptr<RawClient>> idle;
    for (int i = 0; i < 4; ++i) {
        idle.push_back(std::make_unique<RawClient>());
        QVERIFY(idle.back()->connect(server.port()));
    }
    QTest::qWait(300);
    // The kernel completes the handshake (backlog), the server does not read it yet.
    RawClient waiting;
    QVERIFY(waiting.connect(server.port()));
    waiting.send("GET /api/v1/events/health HTTP/1.1\r\nHost: h\r\n\r\n");
    QCOMPARE(waiting.readResponse(1500).status, 0);
    idle.back()->socket().abort();
    QCOMPARE(waiting.readResponse(5000).status, 200);
    // Streams do not count: with the 4 slots taken again, a stream's connection is served
    // once it got a slot, and its slot is free again as soon as it streams.
    QCOMPARE(server.terminate(), 0);
}

// EMFILE: the server keeps the clients it cannot accept in the backlog, retries with backoff,
// and serves them once descriptors are free again (QTcpServer would stop accepting for good).
void tst_FrontDoor::acceptingResumesAfterRunningOutOfDescriptors()
{
    ServerProcess server;
    QVERIFY(server.start(env({{"HERMES_HTTP_HEADER_TIMEOUT", "60"}})));
    const qint64 pid = server.process().processId();
    // Every descriptor: the open files (the database's connections, the journals) as well as
    // the sockets, pipes and event fds (QDir::System alone lists only the latter).
    const int open = int(QDir(QStringLiteral("/proc/%1/fd").arg(pid))
                             .entryList(QDir::NoDotAndDotDot | QDir::AllEntries | QDir::System).size());
    QVERIFY(open > 0);
    const int limit = open + 10;
    QProcess prlimit;
    prlimit.start(QStringLiteral("prlimit"), {QStringLiteral("--pid"), QString::number(pid),
                                              QStringLiteral("--nofile=%1:%1").arg(limit)});
    QVERIFY(prlimit.waitForFinished(5000));
    if (prlimit.exitCode() != 0)
        QSKIP("prlimit cannot change the server's limit here");

    std::vector<std::unique_ptr<RawClient>> idle;
    for (int i = 0; i < 30; ++i) {
        idle.push_back(std::make_unique<RawClient>());
        QVERIFY(idle.back()->connect(server.port(), QHostAddress(QStringLiteral("127.0.0.%1").arg(10 + i))));
    }
    QVERIFY(QTest::qWaitFor([&] { return server.output().contains("cannot accept connections"); }, 5000));
    RawClient waiting;
    QVERIFY(waiting.connect(server.port(), QHostAddress(QStringLiteral("127.0.1.1"))));
    waiting.send("GET /api/v1/events/health HTTP/1.1\r\nHost: h\r\n\r\n");
    QCOMPARE(waiting.readResponse(1500).status, 0);
    idle.clear(); // descriptors come free
    QCOMPARE(waiting.readResponse(10000).status, 200);
    QVERIFY(server.output().count("cannot accept connections") <= 2); // no flood of warnings
    QCOMPARE(server.terminate(), 0);
}

void tst_FrontDoor::streamQuotaPerCredential()
{
    ServerProcess server;
    QVERIFY(server.start(env({{"HERMES_SSE_MAX_CONNECTIONS_PER_KEY", "2"},
                              {"HERMES_API_KEYS", "key-a,key-b"}})));
    auto open = [&](const QByteArray &path, const QByteArray &key) {
        auto c = std::make_unique<SseClient>();
        QList<QPair<QByteArray, QByteArray>> headers;
        if (!key.isEmpty())
            headers.append({"Authorization", "Bearer " + key});
        c->open(server.port(), path, headers);
        if (!QTest::qWaitFor([&] { return c->status() != 0; }, 5000))
            return std::unique_ptr<SseClient>();
        return c;
    };
    auto a1 = open("/api/v1/events/stream", "key-a");
    auto a2 = open("/api/v1/events/stream", "key-a");
    QVERIFY(a1 && a2);
    QCOMPARE(a1->status(), 200);
    QCOMPARE(a2->status(), 200);
    auto a3 = open("/api/v1/events/queue", "key-a");
    QVERIFY(a3);
    QCOMPARE(a3->status(), 429);
    QCOMPARE(a3->header("retry-after"), QByteArray("5"));
    auto b1 = open("/api/v1/events/stream", "key-b");
    QVERIFY(b1);
    QCOMPARE(b1->status(), 200);
    // A slot comes back when a stream ends.
    a1->close();
    QVERIFY(QTest::qWaitFor([&] {
        auto again = open("/api/v1/events/stream", "key-a");
        return again && again->status() == 200;
    }, 5000));

    // The streams of the tokens a key minted count against that key (key-b holds b1): minting
    // more tokens gives a key holder no more streams.
    auto mint = [&](const QByteArray &key) {
        const HttpReply r = httpRequest(server.port(), "POST", "/api/v1/events/token",
                                        {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}},
                                        R"({"scope":"stream"})");
        return QJsonDocument::fromJson(r.body).object().value("token").toString().toUtf8();
    };
    const QByteArray token = mint("key-b");
    const QByteArray other = mint("key-b");
    QVERIFY(!token.isEmpty() && !other.isEmpty() && token != other);
    auto t1 = open("/api/v1/events/stream?token=" + token, {});
    auto t2 = open("/api/v1/events/stream?token=" + token, {});
    auto o1 = open("/api/v1/events/stream?token=" + other, {});
    QVERIFY(t1 && t2 && o1);
    QCOMPARE(t1->status(), 200);
    QCOMPARE(t2->status(), 429);
    QCOMPARE(o1->status(), 429);
    b1->close();
    QVERIFY(QTest::qWaitFor([&] {
        auto again = open("/api/v1/events/stream?token=" + other, {});
        return again && again->status() == 200;
    }, 5000));
    // The secret itself is never what the server keeps: nothing in its log either.
    QVERIFY(!server.output().contains(token));
    QCOMPARE(server.terminate(), 0);
}

void tst_FrontDoor::metricsNeedACredential()
{
    ServerProcess server;
    QVERIFY(server.start(env({{"HERMES_METRICS_TOKEN", "scrape-me"}})));
    QCOMPARE(httpRequest(server.port(), "GET", "/metrics").status, 401);
    QCOMPARE(httpRequest(server.port(), "GET", "/metrics", {{"Authorization", "Bearer nope"}}).status, 401);
    const HttpReply withKey = httpRequest(server.port(), "GET", "/metrics", {{"Authorization", "Bearer " + Key}});
    QCOMPARE(withKey.status, 200);
    QVERIFY(withKey.body.contains("hermes_sse_active_connections"));
    QCOMPARE(httpRequest(server.port(), "GET", "/metrics", {{"Authorization", "Bearer scrape-me"}}).status, 200);
    // The health endpoint stays public.
    QCOMPARE(httpRequest(server.port(), "GET", "/api/v1/events/health").status, 200);
    QVERIFY(!server.output().contains("scrape-me"));
    QCOMPARE(server.terminate(), 0);
}

void tst_FrontDoor::metricsOnSeparateAddress()
{
    const quint16 metricsPort = freePort();
    ServerProcess server;
    const QByteArray address = "127.0.0.1:" + QByteArray::number(metricsPort);
    QVERIFY(server.start(env({{"HERMES_METRICS_ADDRESS", address.constData()}})));
    QCOMPARE(httpRequest(server.port(), "GET", "/metrics", {{"Authorization", "Bearer " + Key}}).status, 404);
    const HttpReply scraped = httpRequest(metricsPort, "GET", "/metrics");
    QCOMPARE(scraped.status, 200);
    QVERIFY(scraped.body.contains("hermes_sse_active_connections"));
    QCOMPARE(httpRequest(metricsPort, "GET", "/api/v1/events/health").status, 404);
    QCOMPARE(server.terminate(), 0);

    // With a metrics token, the separate listener asks for it too.
    ServerProcess guarded;
    QVERIFY(guarded.start(env({{"HERMES_METRICS_ADDRESS", address.constData()}, {"HERMES_METRICS_TOKEN", "t0k"}})));
    QCOMPARE(httpRequest(metricsPort, "GET", "/metrics").status, 401);
    QCOMPARE(httpRequest(metricsPort, "GET", "/metrics", {{"Authorization", "Bearer t0k"}}).status, 200);
    QCOMPARE(guarded.terminate(), 0);

    ServerProcess bad;
    QVERIFY(!bad.start(env({{"HERMES_METRICS_ADDRESS", "nowhere"}})));
    QVERIFY(bad.output().contains("HERMES_METRICS_ADDRESS"));
}

// Redis stops answering (CLIENT PAUSE) or goes away: publish and Python-token lookups get a
// 503 within HERMES_BROKER_TIMEOUT, never the broker's own error text; late answers are dropped.
void tst_FrontDoor::brokerWaitsAreBounded()
{
    RedisProcess redis;
    if (!redis.start())
        QSKIP(qPrintable(redis.errorString()));
    ServerProcess server;
    QVERIFY(server.start(env({{"HERMES_REDIS_URL", redis.url().toLatin1().constData()},
                              {"HERMES_BROKER_TIMEOUT", "700"}})));
    // The node answers before it has reached Redis, and refuses publishes meanwhile.
    QTRY_COMPARE_WITH_TIMEOUT(httpRequest(server.port(), "GET", "/readyz").status, 200, 10000);
    const QByteArray body = R"({"channel":"system:notifications","type":"t","data":{}})";
    const QList<QPair<QByteArray, QByteArray>> headers{{"Authorization", "Bearer " + Key},
                                                        {"Content-Type", "application/json"}};
    QCOMPARE(httpRequest(server.port(), "POST", "/api/v1/events/publish", headers, body).status, 202);

    QProcess pause;
    pause.start(QStringLiteral("redis-cli"), {QStringLiteral("-p"), QString::number(redis.port()),
                                              QStringLiteral("CLIENT"), QStringLiteral("PAUSE"),
                                              QStringLiteral("3000"), QStringLiteral("ALL")});
    QVERIFY(pause.waitForFinished(5000));
    QElapsedTimer t;
    t.start();
    const HttpReply paused = httpRequest(server.port(), "POST", "/api/v1/events/publish", headers, body, 10000);
    QCOMPARE(paused.status, 503);
    QVERIFY2(t.elapsed() < 2500, qPrintable(QString::number(t.elapsed())));
    QCOMPARE(errorCode(paused), QStringLiteral("broker_unavailable"));
    QCOMPARE(paused.header("retry-after"), QByteArray("1"));
    const HttpReply lookup = httpRequest(server.port(), "GET", "/api/v1/events/stream?token=python-made-token", {}, {}, 10000);
    QCOMPARE(lookup.status, 503);
    // The paused commands complete later: their answers must go nowhere (no crash, no second answer).
    QTest::qWait(3000);
    QCOMPARE(httpRequest(server.port(), "POST", "/api/v1/events/publish", headers, body).status, 202);

    redis.kill();
    QVERIFY(QTest::qWaitFor([&] {
        return httpRequest(server.port(), "POST", "/api/v1/events/publish", headers, body).status == 503;
    }, 10000));
    const HttpReply down = httpRequest(server.port(), "POST", "/api/v1/events/publish", headers, body);
    QCOMPARE(down.status, 503);
    QVERIFY2(!down.body.contains("edis") && !down.body.contains("127.0.0.1"), down.body.constData());
    QCOMPARE(httpRequest(server.port(), "GET", "/api/v1/events/stream?token=python-made-token").status, 503);
    QVERIFY(server.process().state() == QProcess::Running);
    QCOMPARE(server.terminate(), 0);
}

QTEST_GUILESS_MAIN(tst_FrontDoor)
#include "tst_frontdoor.moc"
