// Redis high availability with Sentinel, on real redis-server and redis-sentinel processes
// (one master, two replicas, three sentinels) and real hermes-server nodes: discovery past
// unreachable and stale sentinels, following a failover (SIGKILL, SIGSTOP), a promoted replica
// that missed events (resync, never a silent gap), HERMES_REDIS_WAIT_REPLICAS, and a seeded
// randomized model: every acknowledged event reaches every live client that was not told to
// resync, in order, once.

#include "redissentinelcluster.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include "eventid.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QSet>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <algorithm>
#include <memory>

using namespace Hermes;
using namespace Hermes::Test;

static const QByteArray Auth = QByteArray("Bearer ") + ServerProcess::ApiKey;
static const QString SentinelPassword = QStringLiteral("sentinel-pw-7f3a91c2");
static const QString DataPassword = QStringLiteral("data-pw-5e8b20d4");

static QJsonObject json(const QByteArray &bytes)
{
    return QJsonDocument::fromJson(bytes).object();
}

/// A sentinel that answers every question with a fixed (stale) master: what a sentinel cut off
/// from the others still says after a failover.
class FakeSentinel : public QObject
{
public:
    explicit FakeSentinel(quint16 namedPort) : m_namedPort(namedPort)
    {
        m_server.listen(QHostAddress::LocalHost);
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection())
                connect(s, &QTcpSocket::readyRead, this, [this, s] { answer(s); });
        });
    }
    quint16 port() const { return m_server.serverPort(); }
    int asked = 0;

private:
    void answer(QTcpSocket *s)
    {
        QByteArray &buffer = m_buffers[s];
        buffer += s->readAll();
        for (;;) { // RESP arrays of bulk strings, as hiredis sends them
            QList<QByteArray> args;
            qsizetype pos = 0;
            if (!buffer.startsWith('*'))
                return;
            qsizetype eol = buffer.indexOf("\r\n");
            if (eol < 0)
                return;
            const int n = buffer.mid(1, eol - 1).toInt();
            pos = eol + 2;
            for (int i = 0; i < n; ++i) {
                eol = buffer.indexOf("\r\n", pos);
                if (eol < 0)
                    return;
                const int len = buffer.mid(pos + 1, eol - pos - 1).toInt();
                if (buffer.size() < eol + 2 + len + 2)
                    return;
                args.append(buffer.mid(eol + 2, len));
                pos = eol + 2 + len + 2;
            }
            buffer.remove(0, pos);
            const QByteArray name = args.value(0).toUpper();
            if (name == "SENTINEL") {
                ++asked;
                const QByteArray port = QByteArray::number(m_namedPort);
                s->write("*2\r\n$9\r\n127.0.0.1\r\n$" + QByteArray::number(port.size()) + "\r\n" + port + "\r\n");
            } else if (name == "PING") {
                s->write("+PONG\r\n");
            } else {
                s->write("+OK\r\n");
            }
        }
    }
    QTcpServer m_server;
    quint16 m_namedPort;
    QHash<QTcpSocket *, QByteArray> m_buffers;
};

class tst_RedisSentinel : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void discoverySkipsUnreachableAndStaleSentinels();
    void sigkilledMasterIsFollowed();
    void promotedReplicaThatMissedEventsMeansResync();
    void waitReplicasAcknowledgesOnlyReplicatedEvents();
    void waitLatencyCost();
    void randomFailoversKeepTheModel();

private:
    bool startCluster(RedisSentinelCluster::Options options = {});
    std::unique_ptr<ServerProcess> startNode(const QProcessEnvironment &extra = {});
    std::unique_ptr<SseClient> open(ServerProcess &node);
    /// POSTs event n; its id, or empty when it was not acknowledged (202).
    static QByteArray publish(ServerProcess &node, int n, int timeoutMs = 5000);
    static QJsonObject broker(ServerProcess &node);
    static QString masterOf(ServerProcess &node) { return broker(node).value(QStringLiteral("master")).toString(); }
    QString address(int server) { return QStringLiteral("127.0.0.1:%1").arg(m_cluster->server(server).port()); }
    /// Publishes through `node` until one is acknowledged (bounded); returns the ms it took.
    static qint64 publishUntilAcknowledged(ServerProcess &node, int n, int timeoutMs);
    static QList<int> numbers(const SseClient &client);
    static bool sawResync(const SseClient &client);

    std::unique_ptr<RedisSentinelCluster> m_cluster;
};

void tst_RedisSentinel::init()
{
    m_cluster.reset();
}

void tst_RedisSentinel::cleanup()
{
    m_cluster.reset(); // kills every sentinel and server
}

bool tst_RedisSentinel::startCluster(RedisSentinelCluster::Options options)
{
    m_cluster = std::make_unique<RedisSentinelCluster>(options);
    if (!m_cluster->start()) {
        qWarning().noquote() << "cluster:" << m_cluster->errorString();
        return false;
    }
    return true;
}

std::unique_ptr<ServerProcess> tst_RedisSentinel::startNode(const QProcessEnvironment &extra)
{
    auto node = std::make_unique<ServerProcess>();
    QProcessEnvironment env = extra;
    if (!env.contains(QStringLiteral("HERMES_REDIS_SENTINELS")))
        env.insert(QStringLiteral("HERMES_REDIS_SENTINELS"), m_cluster->sentinelList());
    env.insert(QStringLiteral("HERMES_REDIS_SENTINEL_MASTER"), QString::fromLatin1(RedisSentinelCluster::MasterName));
    env.insert(QStringLiteral("HERMES_REDIS_CONNECT_TIMEOUT"), QStringLiteral("2000"));
    env.insert(QStringLiteral("HERMES_BROKER_TIMEOUT"), QStringLiteral("3000"));
    env.insert(QStringLiteral("HERMES_TOKEN_SECRET"), QStringLiteral("shared-secret"));
    if (!node->start(env)) {
        qWarning() << node->errorString();
        return nullptr;
    }
    return node;
}

std::unique_ptr<SseClient> tst_RedisSentinel::open(ServerProcess &node)
{
    auto client = std::make_unique<SseClient>();
    client->open(node.port(), "/api/v1/events/stream", {{"Authorization", Auth}});
    return client;
}

QByteArray tst_RedisSentinel::publish(ServerProcess &node, int n, int timeoutMs)
{
    const QByteArray body = "{\"channel\":\"system:notifications\",\"type\":\"system_notification\","
                            "\"data\":{\"n\":" + QByteArray::number(n) + "}}";
    const HttpReply r = httpRequest(node.port(), "POST", "/api/v1/events/publish", {{"Authorization", Auth}},
                                    body, timeoutMs);
    return r.status == 202 ? json(r.body).value(QStringLiteral("id")).toString().toUtf8() : QByteArray();
}

QJsonObject tst_RedisSentinel::broker(ServerProcess &node)
{
    const HttpReply r = httpRequest(node.port(), "GET", "/api/v1/events/health", {}, {}, 2000);
    return json(r.body).value(QStringLiteral("broker")).toObject();
}

qint64 tst_RedisSentinel::publishUntilAcknowledged(ServerProcess &node, int n, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < timeoutMs) {
        if (!publish(node, n, 4000).isEmpty())
            return t.elapsed();
        QTest::qWait(50);
    }
    return -1;
}

QList<int> tst_RedisSentinel::numbers(const SseClient &client)
{
    QList<int> out;
    for (const auto &e : client.events()) {
        const QJsonObject envelope = json(e.data.toUtf8());
        if (envelope.value(QStringLiteral("type")).toString() == u"system_notification")
            out.append(envelope.value(QStringLiteral("data")).toObject().value(QStringLiteral("n")).toInt());
    }
    return out;
}

bool tst_RedisSentinel::sawResync(const SseClient &client)
{
    for (const auto &e : client.nonHeartbeatEvents()) {
        if (json(e.data.toUtf8()).value(QStringLiteral("type")).toString() == u"resync_required")
            return true;
    }
    return false;
}

void tst_RedisSentinel::discoverySkipsUnreachableAndStaleSentinels()
{
    // Passwords on both the sentinels and the data servers; the sentinel list starts with one
    // that is not there and one that names a replica (stale): both are skipped.
    QVERIFY(startCluster({.password = DataPassword, .sentinelPassword = SentinelPassword}));
    FakeSentinel stale(m_cluster->server(1).port());
    const quint16 nobody = freePort();
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_REDIS_SENTINELS"),
               QStringLiteral("127.0.0.1:%1,127.0.0.1:%2,").arg(nobody).arg(stale.port()) + m_cluster->sentinelList());
    env.insert(QStringLiteral("HERMES_REDIS_SENTINEL_PASSWORD"), SentinelPassword);
    env.insert(QStringLiteral("HERMES_REDIS_URL"), QStringLiteral("redis://:%1@sentinel/0").arg(DataPassword));
    auto node = startNode(env);
    QVERIFY(node);
    QTRY_COMPARE_WITH_TIMEOUT(broker(*node).value(QStringLiteral("status")).toString(), QStringLiteral("up"), 15000);
    QCOMPARE(masterOf(*node), address(0));
    QVERIFY(stale.asked >= 1);
    auto client = open(*node);
    QTRY_VERIFY_WITH_TIMEOUT(!client->events().isEmpty(), 10000);
    QVERIFY(!publish(*node, 1).isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*client), QList<int>{1}, 10000);
    const HttpReply metrics = httpRequest(node->port(), "GET", "/metrics", {{"Authorization", Auth}});
    QVERIFY2(metrics.body.contains("hermes_redis_master_info{address=\"" + address(0).toUtf8() + "\"} 1"),
             metrics.body.constData());
    // The log says why each was skipped, and never a password.
    QTRY_VERIFY_WITH_TIMEOUT(node->output().contains("as master"), 5000);
    const QByteArray log = node->output();
    QVERIFY2(log.contains("says it is slave"), log.constData());
    QVERIFY2(!log.contains(SentinelPassword.toUtf8()) && !log.contains(DataPassword.toUtf8()), log.constData());
    // A wrong sentinel password: a clear error in the log, retried, the password not in it.
    QProcessEnvironment wrong = env;
    wrong.insert(QStringLiteral("HERMES_REDIS_SENTINELS"), m_cluster->sentinelList());
    wrong.insert(QStringLiteral("HERMES_REDIS_SENTINEL_PASSWORD"), QStringLiteral("not-the-pw-31d9"));
    auto refused = startNode(wrong);
    QVERIFY(refused);
    QTRY_VERIFY_WITH_TIMEOUT(refused->output().contains("no sentinel named a usable master"), 10000);
    QVERIFY(refused->output().contains("AUTH failed"));
    QVERIFY(!refused->output().contains("not-the-pw-31d9"));
    QCOMPARE(broker(*refused).value(QStringLiteral("status")).toString(), QStringLiteral("down"));
    QVERIFY(publish(*refused, 2).isEmpty());
}

void tst_RedisSentinel::sigkilledMasterIsFollowed()
{
    QVERIFY(startCluster());
    auto a = startNode();
    auto b = startNode();
    QVERIFY(a && b);
    QTRY_COMPARE_WITH_TIMEOUT(masterOf(*a), address(0), 15000);
    QTRY_COMPARE_WITH_TIMEOUT(masterOf(*b), address(0), 15000);
    auto onA = open(*a);
    auto onB = open(*b);
    QTRY_VERIFY_WITH_TIMEOUT(!onA->events().isEmpty() && !onB->events().isEmpty(), 10000);
    QList<int> acknowledged;
    for (int i = 1; i <= 5; ++i) {
        if (!publish(i % 2 ? *a : *b, i).isEmpty())
            acknowledged.append(i);
    }
    QCOMPARE(acknowledged.size(), 5);
    QElapsedTimer sinceKill;
    sinceKill.start();
    m_cluster->server(0).kill();
    const qint64 ms = publishUntilAcknowledged(*a, 6, 30000);
    QVERIFY2(ms >= 0, "no publish was acknowledged within 30 s of the master's SIGKILL");
    acknowledged.append(6);
    const int promoted = m_cluster->namedMaster();
    QVERIFY(promoted > 0);
    QTRY_COMPARE_WITH_TIMEOUT(masterOf(*b), address(promoted), 15000);
    QCOMPARE(masterOf(*a), address(promoted));
    qInfo("SIGKILL of the master: publishes acknowledged again after %lld ms", sinceKill.elapsed());
    QVERIFY2(sinceKill.elapsed() < 20000, "the failover took too long");
    for (int i = 7; i <= 10; ++i) {
        QVERIFY(!publish(i % 2 ? *a : *b, i).isEmpty());
        acknowledged.append(i);
    }
    // Every acknowledged event, in order, once; or a resync (never a silent gap).
    for (SseClient *c : {onA.get(), onB.get()}) {
        QTRY_VERIFY_WITH_TIMEOUT(numbers(*c).contains(10), 10000);
        if (!sawResync(*c))
            QCOMPARE(numbers(*c), acknowledged);
    }
    const HttpReply metrics = httpRequest(a->port(), "GET", "/metrics", {{"Authorization", Auth}});
    QVERIFY2(metrics.body.contains("hermes_redis_master_switches_total 1"), metrics.body.constData());
}

void tst_RedisSentinel::promotedReplicaThatMissedEventsMeansResync()
{
    // Events 4 and 5 reach the master and the clients but no replica (both cut off); the
    // master dies, a replica with 1-3 is promoted. Its sequence is below what the node
    // delivered: the Load script starts a new epoch and the client is told to resync.
    QVERIFY(startCluster());
    auto a = startNode();
    QVERIFY(a);
    QTRY_COMPARE_WITH_TIMEOUT(masterOf(*a), address(0), 15000);
    auto client = open(*a);
    QTRY_VERIFY_WITH_TIMEOUT(!client->events().isEmpty(), 10000);
    QList<QByteArray> ids;
    for (int i = 1; i <= 3; ++i)
        ids.append(publish(*a, i));
    QVERIFY(m_cluster->waitForReplicas(2, 5000));
    QTRY_VERIFY_WITH_TIMEOUT(m_cluster->server(1).cli({QStringLiteral("XLEN"), QStringLiteral("hermes:stream:system:notifications")}) == "3"
                                 && m_cluster->server(2).cli({QStringLiteral("XLEN"), QStringLiteral("hermes:stream:system:notifications")}) == "3",
                             5000);
    // Paused, and cut off: what the master had sent would still wait in their sockets.
    m_cluster->server(1).pause();
    m_cluster->server(2).pause();
    QVERIFY(!m_cluster->server(0).cli({QStringLiteral("CLIENT"), QStringLiteral("KILL"), QStringLiteral("TYPE"),
                                       QStringLiteral("replica")}).isEmpty());
    for (int i = 4; i <= 5; ++i)
        ids.append(publish(*a, i));
    QVERIFY(!ids.contains(QByteArray()));
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*client), (QList<int>{1, 2, 3, 4, 5}), 5000);
    m_cluster->server(0).kill();
    m_cluster->server(1).resume(); // within down-after: the sentinels still count them
    m_cluster->server(2).resume();
    QVERIFY(m_cluster->waitForNewMaster(0, 30000) > 0);
    QVERIFY(publishUntilAcknowledged(*a, 6, 30000) >= 0);
    QTRY_VERIFY_WITH_TIMEOUT(numbers(*client).contains(6), 10000);
    QVERIFY2(sawResync(*client), "events 4 and 5 are gone from Redis: the client must be told");
    // 1-5 live, then (after resync_required) the new epoch's history, 1-3, then 6.
    const QList<int> got = numbers(*client);
    QCOMPARE(got.mid(0, 5), (QList<int>{1, 2, 3, 4, 5}));
    QCOMPARE(got.last(), 6);
    QVERIFY(!got.mid(5).contains(4) && !got.mid(5).contains(5));
}

void tst_RedisSentinel::waitReplicasAcknowledgesOnlyReplicatedEvents()
{
    QVERIFY(startCluster());
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_REDIS_WAIT_REPLICAS"), QStringLiteral("1"));
    env.insert(QStringLiteral("HERMES_REDIS_WAIT_TIMEOUT"), QStringLiteral("500"));
    auto a = startNode(env);
    QVERIFY(a);
    QTRY_COMPARE_WITH_TIMEOUT(broker(*a).value(QStringLiteral("status")).toString(), QStringLiteral("up"), 15000);
    auto client = open(*a);
    QTRY_VERIFY_WITH_TIMEOUT(!client->events().isEmpty(), 10000);
    QVERIFY(!publish(*a, 1).isEmpty());
    // No replica can confirm: 503 within the wait, though the event may still be delivered.
    m_cluster->server(1).pause();
    m_cluster->server(2).pause();
    QElapsedTimer t;
    t.start();
    QVERIFY(publish(*a, 2).isEmpty());
    QVERIFY2(t.elapsed() < 2500, "a publish waited longer than the WAIT timeout");
    m_cluster->server(1).resume();
    m_cluster->server(2).resume();
    QVERIFY(m_cluster->waitForReplicas(2, 10000));
    QList<int> acknowledged{1};
    for (int i = 3; i <= 6; ++i) {
        QVERIFY(!publish(*a, i).isEmpty());
        acknowledged.append(i);
    }
    // Acknowledged means replicated: a failover loses none of them, and needs no resync.
    m_cluster->server(0).kill();
    const int promoted = m_cluster->waitForNewMaster(0, 30000);
    QVERIFY(promoted > 0);
    const QByteArray kept = m_cluster->server(promoted).cli({QStringLiteral("XRANGE"), QStringLiteral("hermes:stream:system:notifications"),
                                                             QStringLiteral("-"), QStringLiteral("+")});
    for (int n : acknowledged)
        QVERIFY2(kept.contains("{\"n\":" + QByteArray::number(n) + "}"), kept.constData());
    QVERIFY(publishUntilAcknowledged(*a, 7, 30000) >= 0);
    acknowledged.append(7);
    QTRY_VERIFY_WITH_TIMEOUT(numbers(*client).contains(7), 10000);
    // Sentinel may fail over twice in a row (seen under load: the first promoted replica
    // demoted within a second) and the second pick may be the replica WAIT 1 did not wait
    // for: then the node rightly finds its history behind what it delivered and says
    // resync_required. Only a single failover owes the stream every event without one.
    const HttpReply metrics = httpRequest(a->port(), "GET", "/metrics", {{"Authorization", Auth}});
    if (sawResync(*client)) {
        QVERIFY2(!metrics.body.contains("hermes_redis_master_switches_total 1\n"),
                 "one failover to a replica that had every acknowledged event, and yet a resync");
        qInfo("more than one failover, and a resync: %s",
              metrics.body.mid(metrics.body.indexOf("hermes_redis_master_switches_total"), 40).constData());
        return;
    }
    QList<int> got = numbers(*client);
    got.removeAll(2); // not acknowledged: may or may not have been delivered
    QCOMPARE(got, acknowledged);
}

void tst_RedisSentinel::waitLatencyCost()
{
    // The figure for the README: one node with WAIT 1, one without, on the same cluster,
    // publishing in turns (sequential requests; HTTP included).
    QVERIFY(startCluster());
    QProcessEnvironment withWait;
    withWait.insert(QStringLiteral("HERMES_REDIS_WAIT_REPLICAS"), QStringLiteral("1"));
    auto plain = startNode();
    auto waiting = startNode(withWait);
    QVERIFY(plain && waiting);
    QTRY_COMPARE_WITH_TIMEOUT(broker(*plain).value(QStringLiteral("status")).toString(), QStringLiteral("up"), 15000);
    QTRY_COMPARE_WITH_TIMEOUT(broker(*waiting).value(QStringLiteral("status")).toString(), QStringLiteral("up"), 15000);
    const int rounds = qEnvironmentVariableIntValue("HERMES_TEST_WAIT_ROUNDS") > 0
        ? qEnvironmentVariableIntValue("HERMES_TEST_WAIT_ROUNDS") : 200;
    QList<double> off, on;
    for (int i = 0; i < rounds; ++i) {
        for (auto [node, out] : {std::pair{plain.get(), &off}, std::pair{waiting.get(), &on}}) {
            QElapsedTimer t;
            t.start();
            QVERIFY(!publish(*node, i).isEmpty());
            out->append(double(t.nsecsElapsed()) / 1e6);
        }
    }
    auto pct = [](QList<double> v, double p) {
        std::sort(v.begin(), v.end());
        return v[qMin(v.size() - 1, qsizetype(p * double(v.size())))];
    };
    qInfo("publish latency over %d sequential publishes (ms): WAIT 0 p50 %.2f p90 %.2f p99 %.2f; "
          "WAIT 1 p50 %.2f p90 %.2f p99 %.2f", rounds, pct(off, 0.5), pct(off, 0.9), pct(off, 0.99),
          pct(on, 0.5), pct(on, 0.9), pct(on, 0.99));
}

void tst_RedisSentinel::randomFailoversKeepTheModel()
{
    // Publishes through one or two nodes while the master is SIGKILLed or SIGSTOPped (past
    // down-after) at random moments; clients on every node from the start. The promise: every
    // event answered 202 reaches every client that was not told to resync, in order, once.
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED")
        ? qEnvironmentVariable("HERMES_TEST_SEED").toUInt() : QRandomGenerator::global()->generate();
    const int seconds = qEnvironmentVariableIntValue("HERMES_TEST_SENTINEL_SECONDS") > 0
        ? qEnvironmentVariableIntValue("HERMES_TEST_SENTINEL_SECONDS") : 20;
    QRandomGenerator rng(seed);
    QStringList story{QStringLiteral("seed %1 (rerun with HERMES_TEST_SEED=%1)").arg(seed)};
    auto story_ = [&story] { return story.join(QStringLiteral("\n  ")).toUtf8(); };
#define why() story_().constData()
    QVERIFY2(startCluster(), why());
    const bool wait = rng.bounded(2) == 1;
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_REDIS_WAIT_REPLICAS"), wait ? QStringLiteral("1") : QStringLiteral("0"));
    env.insert(QStringLiteral("HERMES_REDIS_WAIT_TIMEOUT"), QStringLiteral("500"));
    std::vector<std::unique_ptr<ServerProcess>> nodes;
    const int nodeCount = 1 + int(rng.bounded(2));
    for (int i = 0; i < nodeCount; ++i) {
        nodes.push_back(startNode(env));
        QVERIFY2(nodes.back(), why());
    }
    story << QStringLiteral("%1 node(s), WAIT %2").arg(nodeCount).arg(wait ? 1 : 0);
    for (auto &node : nodes)
        QTRY_COMPARE_WITH_TIMEOUT(broker(*node).value(QStringLiteral("status")).toString(), QStringLiteral("up"), 15000);
    // A client told to resync is excused from then on and replaced by a new one on the same
    // node, which owes every event published after it was seen to be connected.
    struct Watch
    {
        ServerProcess *node;
        std::unique_ptr<SseClient> client;
        int from = -1; ///< the first event number it owes; -1: not seen connected yet
    };
    std::vector<Watch> clients;
    for (auto &node : nodes) {
        for (int i = 0; i < 2; ++i)
            clients.push_back({node.get(), open(*node)});
    }
    for (auto &w : clients)
        QTRY_VERIFY_WITH_TIMEOUT(!w.client->events().isEmpty(), 10000);
    int resyncs = 0;
    QElapsedTimer run;
    run.start();
    QList<int> acknowledged;
    int n = 0, refused = 0;
    auto watchClients = [&] {
        for (Watch &w : clients) {
            if (w.from < 0 && !w.client->events().isEmpty())
                w.from = n + 1;
            if (sawResync(*w.client)) {
                ++resyncs;
                w.client = open(*w.node);
                w.from = -1;
            }
        }
    };
    watchClients();
    auto publishOne = [&] {
        watchClients();
        ServerProcess &node = *nodes[size_t(rng.bounded(nodeCount))];
        if (!publish(node, ++n, 4000).isEmpty())
            acknowledged.append(n);
        else
            ++refused;
        QTest::qWait(int(rng.bounded(5, 40)));
    };
    auto publishFor = [&](int ms) {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < ms)
            publishOne();
    };
    QList<qint64> failovers;
    while (run.elapsed() < qint64(seconds) * 1000) {
        publishFor(int(rng.bounded(500, 2500)));
        QVERIFY2(m_cluster->waitForReplicas(1, 20000), why()); // someone to fail over to
        const int master = m_cluster->namedMaster();
        QVERIFY2(master >= 0, why());
        const bool kill = rng.bounded(2) == 1;
        const int stopMs = int(rng.bounded(1500, 4000));
        story << QStringLiteral("%1 ms: %2 server %3 (master)%4").arg(run.elapsed()).arg(kill ? "SIGKILL" : "SIGSTOP")
                     .arg(master).arg(kill ? QString() : QStringLiteral(" for %1 ms").arg(stopMs));
        QElapsedTimer sinceFault;
        sinceFault.start();
        const int ackedBefore = int(acknowledged.size());
        if (kill) {
            m_cluster->server(master).kill();
        } else {
            m_cluster->server(master).pause();
            publishFor(stopMs);
            m_cluster->server(master).resume();
        }
        // Until a publish is acknowledged again (a short stop may end before any failover).
        QDeadlineTimer bound(30000);
        while (!bound.hasExpired() && int(acknowledged.size()) == ackedBefore)
            publishOne();
        QVERIFY2(!bound.hasExpired(), why());
        failovers.append(sinceFault.elapsed());
        story << QStringLiteral("  server %1 is master; publishes acknowledged again %2 ms after the fault")
                     .arg(m_cluster->namedMaster()).arg(sinceFault.elapsed());
        publishFor(int(rng.bounded(200, 1500)));
        if (kill)
            QVERIFY2(m_cluster->restartAsReplica(master), why());
    }
    // Every node acknowledges a last event, then every client has them all (or was told).
    QList<int> last;
    for (auto &node : nodes) {
        QVERIFY2(publishUntilAcknowledged(*node, ++n, 30000) >= 0, why());
        acknowledged.append(n);
        last.append(n);
    }
    story << QStringLiteral("%1 acknowledged, %2 refused; failovers (fault to the next 202) took %3 ms")
                 .arg(acknowledged.size()).arg(refused).arg([&] {
                     QStringList t;
                     for (qint64 f : failovers)
                         t << QString::number(f);
                     return t.join(u',');
                 }());
    story << QStringLiteral("%1 client(s) told to resync and replaced").arg(resyncs);
    for (size_t c = 0; c < clients.size(); ++c) {
        SseClient &client = *clients[c].client;
        QDeadlineTimer bound(20000);
        while (!bound.hasExpired() && !sawResync(client) && !numbers(client).contains(last.last()))
            QTest::qWait(50);
        if (sawResync(client) || clients[c].from < 0) {
            story << QStringLiteral("client %1: told to resync at the end").arg(c);
            continue;
        }
        const QList<int> owed = [&] {
            QList<int> out;
            for (int x : acknowledged) {
                if (x >= clients[c].from)
                    out.append(x);
            }
            return out;
        }();
        story << QStringLiteral("client %1: checked on %2 acknowledged event(s)").arg(c).arg(owed.size());
        const QList<int> got = numbers(client);
        QSet<int> seen;
        QList<int> ackedSeen;
        const QSet<int> ackedSet(owed.begin(), owed.end());
        for (int x : got) {
            QVERIFY2(!seen.contains(x), qPrintable(QStringLiteral("client %1 got event %2 twice\n").arg(c).arg(x) + why()));
            seen.insert(x);
            if (ackedSet.contains(x))
                ackedSeen.append(x);
        }
        for (int x : owed)
            QVERIFY2(seen.contains(x), qPrintable(QStringLiteral("client %1 never got acknowledged event %2 and was not "
                                                                 "told to resync\n").arg(c).arg(x) + why()));
        QVERIFY2(ackedSeen == owed, qPrintable(QStringLiteral("client %1: acknowledged events out of order\n").arg(c) + why()));
        // And the ids only grow.
        std::optional<EventId> previous;
        for (const auto &e : client.events()) {
            if (json(e.data.toUtf8()).value(QStringLiteral("type")).toString() != u"system_notification")
                continue;
            const auto id = EventId::parse(e.lastEventId.toUtf8());
            QVERIFY2(id && (!previous || *previous < *id), qPrintable(QStringLiteral("client %1: ids out of order\n").arg(c) + why()));
            previous = id;
        }
    }
    qInfo().noquote() << story.join(QStringLiteral("\n  "));
#undef why
}

QTEST_MAIN(tst_RedisSentinel)
#include "tst_redissentinel.moc"
