// Hostile clients against the real hermes-server binary, while a normal client keeps receiving
// events: endless header lines, huge and endless bodies, slowloris, pipelined garbage, thousands
// of idle connections, random bytes. Each attack asserts what the server answered, that it
// closed every attacking connection, and a bound on its memory; at the end the server's memory
// is back near where it started, health answers, new streams open, and the normal client got
// every event. Counts and memory are asserted, never durations (every wait is bounded).
//
// Attackers come from other loopback addresses (127.0.0.x) than the normal client and the
// publisher, as they would from other hosts. Each attack prints a line with its figures.

#include "processstats.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QSet>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <memory>
#include <sys/resource.h>
#include <vector>

using namespace Hermes::Test;

namespace {

QHostAddress attacker(int n)
{
    return QHostAddress(QStringLiteral("127.0.%1.%2").arg(1 + n / 200).arg(10 + n % 200));
}

/// One attacking connection: sends `prefix`, then `filler` again and again (if any) until the
/// server closes or `maxBytes` went out; keeps what the server answered.
class Attacker : public QObject
{
public:
    Attacker(const QHostAddress &from, quint16 port, QByteArray prefix, QByteArray filler,
             qint64 maxBytes)
        : m_prefix(std::move(prefix)), m_filler(std::move(filler)), m_max(maxBytes)
    {
        m_socket.bind(from, 0);
        connect(&m_socket, &QTcpSocket::connected, this, [this] {
            m_connected = true;
            m_socket.write(m_prefix);
            refill();
        });
        connect(&m_socket, &QTcpSocket::bytesWritten, this, [this](qint64 n) {
            m_sent += n;
            refill();
        });
        connect(&m_socket, &QTcpSocket::readyRead, this, [this] { m_received += m_socket.readAll(); });
        connect(&m_socket, &QTcpSocket::stateChanged, this, [this](QAbstractSocket::SocketState s) {
            if (s == QAbstractSocket::UnconnectedState) {
                m_received += m_socket.readAll();
                m_closed = true;
            }
        });
        m_socket.connectToHost(QHostAddress::LocalHost, port);
    }
    void send(const QByteArray &bytes)
    {
        if (m_socket.state() == QAbstractSocket::ConnectedState)
            m_socket.write(bytes);
    }
    bool closed() const { return m_closed; }
    bool connected() const { return m_connected; }
    qint64 sent() const { return m_sent; }
    const QByteArray &received() const { return m_received; }
    int status() const { return m_received.startsWith("HTTP/1.1 ") ? m_received.mid(9, 3).toInt() : 0; }
    void abort() { m_socket.abort(); }

private:
    void refill()
    {
        if (!m_filler.isEmpty() && m_sent < m_max && m_socket.bytesToWrite() < 1 << 20
            && m_socket.state() == QAbstractSocket::ConnectedState)
            m_socket.write(m_filler);
    }

    QTcpSocket m_socket;
    QByteArray m_prefix;
    QByteArray m_filler;
    qint64 m_max;
    qint64 m_sent = 0;
    QByteArray m_received;
    bool m_connected = false;
    bool m_closed = false;
};

using Attackers = std::vector<std::unique_ptr<Attacker>>;

} // namespace

class tst_HostileClients : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void endlessHead_data();
    void endlessHead();
    void hugeDeclaredBody();
    void endlessChunkedBody();
    void slowloris();
    void pipelinedGarbage();
    void idleConnections();
    void randomBytes();
    void afterwardsTheServerIsWhole();
    void cleanupTestCase();

private:
    qint64 rss() { return rssKb(m_server.process().processId()); }
    /// Runs the event loop until `done` or `timeoutMs`, sampling the server's memory.
    bool runUntil(const std::function<bool()> &done, int timeoutMs)
    {
        QElapsedTimer t;
        t.start();
        while (!done() && t.elapsed() < timeoutMs) {
            QTest::qWait(20);
            m_peakKb = qMax(m_peakKb, rss());
        }
        return done();
    }
    void startAttack()
    {
        m_beforeKb = rss();
        m_peakKb = m_beforeKb;
        m_attackTimer.start();
    }
    /// Prints the figures of an attack and checks its memory bound (growth at the peak), given
    /// for a release build; AddressSanitizer's allocator (redzones, quarantine) gets 4 times it.
    void report(const char *attack, const QString &what, qint64 boundKb)
    {
        boundKb *= m_memoryFactor;
        QTest::qWait(500);
        const qint64 after = rss();
        qInfo("%s: %s; %lld ms; server RSS %lld KB before, %+lld KB at the peak, %+lld KB after",
              attack, qPrintable(what), m_attackTimer.elapsed(), m_beforeKb,
              m_peakKb - m_beforeKb, after - m_beforeKb);
        QVERIFY2(m_peakKb - m_beforeKb < boundKb,
                 qPrintable(QStringLiteral("%1: the server grew by %2 KB (bound %3 KB)")
                                .arg(QString::fromLatin1(attack)).arg(m_peakKb - m_beforeKb).arg(boundKb)));
        QVERIFY(m_server.process().state() == QProcess::Running);
    }
    int closedCount(const Attackers &list)
    {
        return int(std::count_if(list.begin(), list.end(), [](const auto &a) { return a->closed(); }));
    }
    void publish();

    ServerProcess m_server;
    SseClient m_normal;
    QNetworkAccessManager m_nam;
    QTimer m_publisher;
    int m_published = 0;
    int m_acknowledged = 0;
    qint64 m_baselineKb = 0;
    qint64 m_beforeKb = 0;
    qint64 m_peakKb = 0;
    QElapsedTimer m_attackTimer;
    quint32 m_seed = 0;
    int m_memoryFactor = 1;
};

void tst_HostileClients::initTestCase()
{
    // Thousands of sockets on our side too.
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);

    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_HTTP_HEADER_TIMEOUT"), QStringLiteral("2"));
    env.insert(QStringLiteral("HERMES_HTTP_BODY_TIMEOUT"), QStringLiteral("2"));
    env.insert(QStringLiteral("HERMES_SSE_HEARTBEAT_INTERVAL"), QStringLiteral("1"));
    measureOwnMemory(env);
    QVERIFY2(m_server.start(env), qPrintable(m_server.errorString()));
    m_memoryFactor = memoryFactor(m_server.process().processId());

    m_seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED")
        ? quint32(qEnvironmentVariableIntValue("HERMES_TEST_SEED"))
        : QRandomGenerator::global()->generate();
    qInfo("seed %u (HERMES_TEST_SEED reproduces the random bytes)", m_seed);

    m_normal.open(m_server.port(), "/api/v1/events/stream?channels=system",
                  {{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey}});
    QVERIFY(QTest::qWaitFor([&] { return m_normal.nonHeartbeatEvents().size() >= 1; }, 10000));
    m_publisher.setInterval(100);
    connect(&m_publisher, &QTimer::timeout, this, &tst_HostileClients::publish);
    m_publisher.start();
    QVERIFY(QTest::qWaitFor([&] { return m_acknowledged >= 5; }, 10000));
    QTest::qWait(1000);
    m_baselineKb = rss();
    qInfo("baseline server RSS %lld KB", m_baselineKb);
}

void tst_HostileClients::publish()
{
    QNetworkRequest request(QUrl(m_server.baseUrl() + QStringLiteral("/api/v1/events/publish")));
    request.setTransferTimeout(20000);
    request.setRawHeader("Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    const int n = ++m_published;
    QNetworkReply *reply = m_nam.post(request, QJsonDocument(QJsonObject{
        {QStringLiteral("channel"), QStringLiteral("system:notifications")},
        {QStringLiteral("type"), QStringLiteral("tick")},
        {QStringLiteral("data"), QJsonObject{{QStringLiteral("n"), n}}}}).toJson(QJsonDocument::Compact));
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        if (reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 202)
            ++m_acknowledged;
        reply->deleteLater();
    });
}

void tst_HostileClients::endlessHead_data()
{
    QTest::addColumn<QByteArray>("start");
    QTest::addColumn<int>("status");
    QTest::addColumn<int>("firstAttacker");
    QTest::newRow("endless request line") << QByteArray("GET /") << 414 << 0;
    QTest::newRow("endless header field")
        << QByteArray("GET /api/v1/events/health HTTP/1.1\r\nHost: x\r\nX-Endless: ") << 431 << 40;
}

void tst_HostileClients::endlessHead()
{
    QFETCH(QByteArray, start);
    QFETCH(int, status);
    QFETCH(int, firstAttacker);
    startAttack();
    Attackers attackers;
    for (int i = 0; i < 4; ++i)
        attackers.push_back(std::make_unique<Attacker>(attacker(firstAttacker + i), m_server.port(), start,
                                                       QByteArray(64 * 1024, 'a'), 300 << 20));
    QVERIFY(runUntil([&] { return closedCount(attackers) == 4; }, 60000));
    qint64 sent = 0;
    for (const auto &a : attackers) {
        QCOMPARE(a->status(), status);
        sent = qMax(sent, a->sent());
    }
    // The head's limit, what the linger drains (4 MiB at most) and what the socket buffers held.
    QVERIFY2(sent < 64 << 20, qPrintable(QString::number(sent)));
    report(QTest::currentDataTag(), QStringLiteral("%1 then closed after at most %2 bytes sent").arg(status).arg(sent),
           8 * 1024);
}

void tst_HostileClients::hugeDeclaredBody()
{
    startAttack();
    Attackers attackers;
    for (int i = 0; i < 4; ++i)
        attackers.push_back(std::make_unique<Attacker>(
            attacker(10 + i), m_server.port(),
            "POST /api/v1/events/publish HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
            "Content-Length: 2000000000\r\n\r\n",
            QByteArray(64 * 1024, '{'), 300 << 20));
    QVERIFY(runUntil([&] { return closedCount(attackers) == 4; }, 60000));
    qint64 sent = 0;
    for (const auto &a : attackers) {
        QCOMPARE(a->status(), 413);
        sent = qMax(sent, a->sent());
    }
    QVERIFY2(sent < 64 << 20, qPrintable(QString::number(sent)));
    report("Content-Length 2e9, no credential",
           QStringLiteral("413 at the head, closed after at most %1 bytes sent").arg(sent), 8 * 1024);
}

void tst_HostileClients::endlessChunkedBody()
{
    startAttack();
    Attackers attackers;
    const QByteArray chunk = "4000\r\n" + QByteArray(0x4000, 'x') + "\r\n";
    for (int i = 0; i < 4; ++i) {
        const QByteArray auth = i % 2 ? "Authorization: Bearer " + QByteArray(ServerProcess::ApiKey) + "\r\n"
                                      : QByteArray();
        attackers.push_back(std::make_unique<Attacker>(
            attacker(20 + i), m_server.port(),
            "POST /api/v1/events/publish HTTP/1.1\r\nHost: h\r\n" + auth + "Transfer-Encoding: chunked\r\n\r\n",
            chunk.repeated(4), 300 << 20));
    }
    QVERIFY(runUntil([&] { return closedCount(attackers) == 4; }, 60000));
    qint64 sent = 0;
    for (const auto &a : attackers) {
        QCOMPARE(a->status(), 413);
        sent = qMax(sent, a->sent());
    }
    QVERIFY2(sent < 64 << 20, qPrintable(QString::number(sent)));
    report("endless chunked body", QStringLiteral("413 once past 64 KiB, closed after at most %1 bytes sent").arg(sent),
           8 * 1024);
}

void tst_HostileClients::slowloris()
{
    startAttack();
    Attackers attackers;
    for (int i = 0; i < 500; ++i)
        attackers.push_back(std::make_unique<Attacker>(attacker(100 + i), m_server.port(),
                                                       "GET /api/v1/events/health HTTP/1.1\r\nHost: h\r\n", QByteArray(), 0));
    // A header byte now and then from every one of them, never the end of the head.
    QTimer drip;
    connect(&drip, &QTimer::timeout, this, [&] {
        for (auto &a : attackers)
            a->send("X");
    });
    drip.start(300);
    QVERIFY(runUntil([&] { return closedCount(attackers) == 500; }, 60000));
    drip.stop();
    int timedOut = 0;
    for (const auto &a : attackers)
        timedOut += a->status() == 408;
    QCOMPARE(timedOut, 500);
    report("500 slowloris connections", QStringLiteral("all 500 got 408 at the header timeout and were closed"),
           12 * 1024);
}

void tst_HostileClients::pipelinedGarbage()
{
    startAttack();
    Attackers attackers;
    QRandomGenerator rng(m_seed);
    for (int i = 0; i < 50; ++i) {
        QByteArray garbage(64 * 1024, Qt::Uninitialized);
        for (char &c : garbage)
            c = char(rng.bounded(256));
        attackers.push_back(std::make_unique<Attacker>(
            attacker(700 + i), m_server.port(),
            "GET /api/v1/events/health HTTP/1.1\r\nHost: h\r\n\r\nGET /api/v1/events/health HTTP/1.1\r\nHost: h\r\n\r\n"
                + garbage,
            garbage, 4 << 20));
    }
    QVERIFY(runUntil([&] { return closedCount(attackers) == 50; }, 60000));
    for (const auto &a : attackers) {
        // Both real requests answered, in order, then the garbage refused and the connection closed.
        QCOMPARE(a->received().count("HTTP/1.1 200 OK"), 2);
        const qsizetype refusal = a->received().lastIndexOf("HTTP/1.1 4");
        QVERIFY2(refusal > a->received().lastIndexOf("HTTP/1.1 200"), a->received().left(300).constData());
    }
    report("pipelined garbage", QStringLiteral("2 × 200 then 400 and closed, on all 50"), 12 * 1024);
}

void tst_HostileClients::idleConnections()
{
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    // Both ends live on this machine: each idle connection is a descriptor here and, once the
    // server accepted it, one there.
    const int count = int(qMin<rlim_t>(3000, limit.rlim_cur > 400 ? (limit.rlim_cur - 300) / 2 : 50));
    startAttack();
    Attackers attackers;
    for (int i = 0; i < count; ++i)
        attackers.push_back(std::make_unique<Attacker>(attacker(800 + i), m_server.port(), QByteArray(),
                                                       QByteArray(), 0));
    // The server closes each after its header timeout, HERMES_HTTP_MAX_CONNECTIONS (1024) at a
    // time; the rest wait in the listen backlog meanwhile.
    QVERIFY(runUntil([&] { return closedCount(attackers) == count; }, 120000));
    int answered = 0;
    for (const auto &a : attackers)
        answered += !a->received().isEmpty();
    QCOMPARE(answered, 0); // nothing asked, nothing answered
    report("idle TCP connections", QStringLiteral("%1 connections, all closed without a byte").arg(count),
           16 * 1024);
}

void tst_HostileClients::randomBytes()
{
    startAttack();
    Attackers attackers;
    QRandomGenerator rng(m_seed + 1);
    for (int i = 0; i < 200; ++i) {
        QByteArray bytes(1 + int(rng.bounded(64 * 1024)), Qt::Uninitialized);
        for (char &c : bytes)
            c = char(rng.bounded(256));
        // Sometimes a plausible start, so the parser gets past the request line.
        if (i % 4 == 0)
            bytes.prepend("POST /api/v1/events/publish HTTP/1.1\r\n");
        attackers.push_back(std::make_unique<Attacker>(attacker(1000 + i), m_server.port(), bytes,
                                                       QByteArray(), 0));
    }
    QVERIFY(runUntil([&] { return closedCount(attackers) == 200; }, 60000));
    QMap<int, int> statuses;
    for (const auto &a : attackers) {
        ++statuses[a->status()];
        QVERIFY2(a->status() == 0 || (a->status() >= 400 && a->status() < 500) || a->status() == 501
                     || a->status() == 505,
                 a->received().left(200).constData());
    }
    QString what;
    for (auto it = statuses.cbegin(); it != statuses.cend(); ++it)
        what += QStringLiteral("%1× %2 ").arg(it.value()).arg(it.key() ? QString::number(it.key()) : QStringLiteral("closed"));
    report("random bytes", what.trimmed() + QStringLiteral(", all 200 closed"), 12 * 1024);
}

void tst_HostileClients::afterwardsTheServerIsWhole()
{
    QTest::qWait(3000); // the last lingering connections end, freed pages go back
    m_publisher.stop();
    // The normal client got every acknowledged event, in order, through all of it.
    QVERIFY(QTest::qWaitFor([&] { return m_acknowledged == m_published; }, 20000));
    QVERIFY(QTest::qWaitFor([&] {
        int ticks = 0;
        for (const auto &e : m_normal.nonHeartbeatEvents())
            ticks += e.data.contains(QLatin1StringView("\"tick\""));
        return ticks == m_published;
    }, 10000));
    // Each exactly once (publishes overlap, so their order is the broker's, not ours), with
    // ids that only grow.
    QSet<int> seen;
    QByteArray lastId;
    for (const auto &e : m_normal.nonHeartbeatEvents()) {
        const QJsonObject o = QJsonDocument::fromJson(e.data.toUtf8()).object();
        if (o.value(QStringLiteral("type")).toString() != u"tick")
            continue;
        const int n = o.value(QStringLiteral("data")).toObject().value(QStringLiteral("n")).toInt();
        QVERIFY2(!seen.contains(n), qPrintable(QString::number(n)));
        seen.insert(n);
        const QByteArray id = e.lastEventId.toUtf8();
        QVERIFY(!id.isEmpty() && id != lastId);
        lastId = id;
    }
    QCOMPARE(seen.size(), m_published);
    QVERIFY(!m_normal.isClosed());

    const qint64 after = rss();
    qInfo("server RSS %lld KB at the start, %lld KB after every attack (%+lld KB); %d events delivered",
          m_baselineKb, after, after - m_baselineKb, m_published);
    // Release: back within 16 MB of the start (glibc keeps some, the server trims after bursts);
    // AddressSanitizer's allocator keeps more of what it freed.
    QVERIFY2(after - m_baselineKb < 16 * 1024 * m_memoryFactor,
             qPrintable(QString::number(after - m_baselineKb)));

    QCOMPARE(httpRequest(m_server.port(), "GET", "/api/v1/events/health").status, 200);
    SseClient fresh;
    fresh.open(m_server.port(), "/api/v1/events/stream",
               {{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey}});
    QVERIFY(QTest::qWaitFor([&] { return !fresh.nonHeartbeatEvents().isEmpty(); }, 10000));
    QCOMPARE(fresh.status(), 200);
    QCOMPARE(fresh.nonHeartbeatEvents().first().data.contains(QLatin1StringView("connected")), true);
}

void tst_HostileClients::cleanupTestCase()
{
    m_publisher.stop();
    m_normal.close();
    QCOMPARE(m_server.terminate(), 0);
}

QTEST_GUILESS_MAIN(tst_HostileClients)
#include "tst_hostileclients.moc"
