// Outside publishers' events while Redis is out of memory (maxmemory, noeviction), with real
// redis-server and hermes-server processes: Redis accepts the PUBLISH but no node can adopt
// it. An outage shorter than HERMES_REDIS_ADOPT_RETRY_LIMIT: the retries adopt it once, every
// node delivers one copy. A longer one: every stream on that channel, and every resume from
// before, gets resync_required, the loss is counted and recorded in Redis, other channels go
// on untouched. And a seeded random run of outside publishes, outages of random lengths and
// node restarts, checked against the promise: each client gets each event once, or
// resync_required after the last event it had before it.

#include "redisprocess.h"
#include "respclient.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include "eventid.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QScopeGuard>
#include <QTest>

#include <map>
#include <memory>
#include <set>

using namespace Hermes;
using namespace Hermes::Test;

static const QByteArray Auth = QByteArray("Bearer ") + ServerProcess::ApiKey;
static const char *const ChannelOf[3] = {"download:updates", "queue:updates", "system:notifications"};
static const char *const ShortOf[3] = {"downloads", "queue", "system"};
static const char *const TypeOf[3] = {"download_progress", "queue_update", "system_notification"};
static const QLatin1StringView ResyncType("resync_required");

static QJsonObject json(const QString &text)
{
    return QJsonDocument::fromJson(text.toUtf8()).object();
}

/// What a Python Hermes worker publishes on channel `c`, numbered `n`.
static QByteArray outsideEnvelope(int c, int n)
{
    return "{\"type\": \"" + QByteArray(TypeOf[c]) + "\", \"data\": {\"n\": " + QByteArray::number(n)
        + ", \"download_id\": \"d" + QByteArray::number(n % 5) + "\"}, \"timestamp\": \"2026-12-07T10:00:00.000001\"}";
}

/// One thing a client received: an event carrying data.n, or resync_required.
struct Item
{
    int n = -1; ///< -1: a resync
    QByteArray id;
    QString reason;
};

static QList<Item> itemsOf(const SseClient &client)
{
    QList<Item> out;
    for (const auto &e : client.events()) {
        const QJsonObject envelope = json(e.data);
        const QString type = envelope.value(QStringLiteral("type")).toString();
        const QJsonObject data = envelope.value(QStringLiteral("data")).toObject();
        if (type == ResyncType)
            out.append({-1, e.lastEventId.toUtf8(), data.value(QStringLiteral("reason")).toString()});
        else if (data.value(QStringLiteral("n")).isDouble())
            out.append({data.value(QStringLiteral("n")).toInt(), e.lastEventId.toUtf8(), {}});
    }
    return out;
}

static int count(const QList<Item> &items, int n)
{
    return int(std::count_if(items.begin(), items.end(), [n](const Item &i) { return i.n == n; }));
}

static int resyncs(const QList<Item> &items)
{
    return count(items, -1);
}

static double metric(quint16 port, const QByteArray &sample)
{
    const HttpReply m = httpRequest(port, "GET", "/metrics", {{"Authorization", Auth}});
    for (const QByteArray &line : m.body.split('\n')) {
        if (line.startsWith(sample + ' '))
            return line.mid(sample.size() + 1).toDouble();
    }
    return -1;
}

static QByteArray lostSample(int c)
{
    return "hermes_events_lost_total{channel=\"" + QByteArray(ChannelOf[c]) + "\",reason=\"adopt_failed\"}";
}

class tst_RedisAdoptRetry : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void shortOutageTheEventIsAdoptedOnce();
    void longOutageTheChannelsStreamsResync();
    void aNodeThatDidNotSeeTheMessageLearnsOfTheLoss();
    void randomOutagesAndRestarts();

private:
    std::unique_ptr<ServerProcess> startNode(int retryLimitSec, quint16 port = 0);
    std::unique_ptr<SseClient> open(const ServerProcess &node, const QByteArray &query = {},
                                    const QByteArray &lastEventId = {});
    /// Makes Redis refuse writes the way a full one does: a small maxmemory, noeviction, and
    /// filler keys written until Redis answers OOM.
    bool fillUntilOutOfMemory();
    /// Deletes the filler keys (DEL is allowed when out of memory).
    void freeMemory();
    bool outsidePublish(int c, int n);

    std::unique_ptr<RedisProcess> m_redis;
    RespClient m_resp;
    int m_fillers = 0;
};

void tst_RedisAdoptRetry::init()
{
    m_redis = std::make_unique<RedisProcess>();
    QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString()));
    QVERIFY(m_resp.connectTo(m_redis->port()));
    QCOMPARE(m_resp.command({"CONFIG", "SET", "maxmemory-policy", "noeviction"}).toByteArray(), QByteArray("OK"));
    m_fillers = 0;
}

void tst_RedisAdoptRetry::cleanup()
{
    m_resp.close();
    m_redis.reset();
}

std::unique_ptr<ServerProcess> tst_RedisAdoptRetry::startNode(int retryLimitSec, quint16 port)
{
    auto node = std::make_unique<ServerProcess>();
    if (port)
        node->setPort(port);
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_REDIS_URL"), m_redis->url());
    env.insert(QStringLiteral("HERMES_REDIS_ADOPT_RETRY_LIMIT"), QString::number(retryLimitSec));
    env.insert(QStringLiteral("HERMES_SSE_HEARTBEAT_INTERVAL"), QStringLiteral("60"));
    if (!node->start(env)) {
        qWarning() << node->errorString();
        return nullptr;
    }
    return node;
}

std::unique_ptr<SseClient> tst_RedisAdoptRetry::open(const ServerProcess &node, const QByteArray &query,
                                                     const QByteArray &lastEventId)
{
    QList<QPair<QByteArray, QByteArray>> headers{{"Authorization", Auth}};
    if (!lastEventId.isEmpty())
        headers.append({"Last-Event-ID", lastEventId});
    auto client = std::make_unique<SseClient>();
    client->open(node.port(), "/api/v1/events/stream" + query, headers);
    return client;
}

bool tst_RedisAdoptRetry::fillUntilOutOfMemory()
{
    const auto usedMemory = [this] {
        const QByteArray info = m_resp.command({"INFO", "memory"}).toByteArray();
        const qsizetype at = info.indexOf("used_memory:");
        return at < 0 ? -1 : info.mid(at + 12, info.indexOf('\r', at) - at - 12).toLongLong();
    };
    const qint64 used = usedMemory();
    if (used < 0 || m_resp.command({"CONFIG", "SET", "maxmemory", QByteArray::number(used + (1 << 20))}).toByteArray() != "OK")
        return false;
    const QByteArray filler(16 * 1024, 'f');
    bool full = false;
    for (int i = 0; i < 200 && !full; ++i)
        full = RespClient::isError(m_resp.command({"SET", "filler:" + QByteArray::number(m_fillers++), filler}));
    // A margin below what is used now: client buffers that shrink must not let writes in.
    if (!full || m_resp.command({"CONFIG", "SET", "maxmemory", QByteArray::number(usedMemory() - (256 << 10))}).toByteArray() != "OK")
        return false;
    const QVariant probe = m_resp.command({"SET", "probe", "1"});
    return RespClient::isError(probe) && probe.value<RespClient::Error>().message.startsWith("OOM");
}

void tst_RedisAdoptRetry::freeMemory()
{
    for (int i = 0; i < m_fillers; ++i)
        m_resp.command({"DEL", "filler:" + QByteArray::number(i)});
    m_fillers = 0;
}

bool tst_RedisAdoptRetry::outsidePublish(int c, int n)
{
    const QVariant reply = m_resp.command({"PUBLISH", ChannelOf[c], outsideEnvelope(c, n)});
    return !RespClient::isError(reply);
}

void tst_RedisAdoptRetry::shortOutageTheEventIsAdoptedOnce()
{
    auto a = startNode(10);
    auto b = startNode(10);
    QVERIFY(a && b);
    auto onA = open(*a);
    auto onB = open(*b, "?channels=downloads");
    QTRY_VERIFY_WITH_TIMEOUT(!onA->events().isEmpty() && !onB->events().isEmpty(), 10000);

    QVERIFY(fillUntilOutOfMemory());
    QVERIFY(outsidePublish(0, 1)); // accepted by Redis: PUBLISH writes nothing
    QTest::qWait(1500);            // every node tried, and failed, a few times by now
    QVERIFY(itemsOf(*onA).isEmpty());
    QVERIFY(itemsOf(*onB).isEmpty());
    QVERIFY(a->output().contains("could not adopt"));

    freeMemory();
    QTRY_COMPARE_WITH_TIMEOUT(itemsOf(*onA).size(), 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(itemsOf(*onB).size(), 1, 10000);
    QTest::qWait(1000); // no second copy comes from the other node's retry
    const QList<Item> gotA = itemsOf(*onA), gotB = itemsOf(*onB);
    QCOMPARE(gotA.size(), 1);
    QCOMPARE(gotB.size(), 1);
    QCOMPARE(gotA[0].n, 1);
    QCOMPARE(gotA[0].id, gotB[0].id);
    QCOMPARE(m_resp.command({"XLEN", "hermes:stream:download:updates"}).toLongLong(), 1);
    QCOMPARE(metric(a->port(), lostSample(0)), 0.0);
    QCOMPARE(metric(b->port(), lostSample(0)), 0.0);
}

void tst_RedisAdoptRetry::longOutageTheChannelsStreamsResync()
{
    auto a = startNode(2);
    auto b = startNode(2);
    QVERIFY(a && b);
    // Positions before the outage: an outside event on each channel.
    auto onA = open(*a);
    auto downloadsOnB = open(*b, "?channels=downloads");
    auto systemOnA = open(*a, "?channels=system,queue");
    QTRY_VERIFY_WITH_TIMEOUT(!onA->events().isEmpty() && !downloadsOnB->events().isEmpty()
                                 && !systemOnA->events().isEmpty(), 10000);
    for (int c = 0; c < 3; ++c)
        QVERIFY(outsidePublish(c, 10 + c));
    QTRY_COMPARE_WITH_TIMEOUT(itemsOf(*onA).size(), 3, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(downloadsOnB->nonHeartbeatEvents().size(), 2, 10000);
    const QByteArray beforeLoss = itemsOf(*onA).last().id;
    const QByteArray firstEvent = itemsOf(*onA).first().id;

    QVERIFY(fillUntilOutOfMemory());
    QVERIFY(outsidePublish(0, 20));
    // Given up after 2 s of retries: the downloads streams on both nodes resync.
    QTRY_COMPARE_WITH_TIMEOUT(resyncs(itemsOf(*onA)), 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(resyncs(itemsOf(*downloadsOnB)), 1, 10000);
    QCOMPARE(itemsOf(*onA).last().reason, QStringLiteral("events_lost"));
    QCOMPARE(itemsOf(*onA).last().id, beforeLoss); // it goes on from the newest
    QCOMPARE(resyncs(itemsOf(*systemOnA)), 0);
    QTRY_COMPARE_WITH_TIMEOUT(metric(a->port(), lostSample(0)), 1.0, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(metric(b->port(), lostSample(0)), 1.0, 5000);
    QCOMPARE(metric(a->port(), lostSample(2)), 0.0);

    // Resuming from before the loss, or from the newest, on the downloads channel: resync;
    // on the other channels: a replay.
    for (const QByteArray &from : {firstEvent, beforeLoss}) {
        auto resumed = open(*b, {}, from);
        QTRY_VERIFY_WITH_TIMEOUT(resyncs(itemsOf(*resumed)) == 1, 10000);
        QCOMPARE(itemsOf(*resumed).first().reason, QStringLiteral("events_lost"));
    }
    auto otherChannels = open(*a, "?channels=system,queue", firstEvent);
    QTRY_COMPARE_WITH_TIMEOUT(itemsOf(*otherChannels).size(), 2, 10000);
    QCOMPARE(resyncs(itemsOf(*otherChannels)), 0);

    // Redis takes writes again: the loss is recorded (trimmed rises above what was
    // delivered), so a node that starts now sends a resume from before it resync too.
    freeMemory();
    const auto trimmedAbove = [&] {
        const auto trimmed = EventId::parse(m_resp.command({"GET", "hermes:trimmed:download:updates"}).toByteArray());
        return trimmed && *trimmed > EventId::parse(beforeLoss)->withEpoch(0);
    };
    QTRY_VERIFY_WITH_TIMEOUT(trimmedAbove(), 15000);
    auto c = startNode(2);
    QVERIFY(c);
    auto resumedOnC = open(*c, "?channels=downloads", beforeLoss);
    QTRY_COMPARE_WITH_TIMEOUT(resyncs(itemsOf(*resumedOnC)), 1, 10000);
    auto systemOnC = open(*c, "?channels=system", firstEvent);
    QTRY_COMPARE_WITH_TIMEOUT(itemsOf(*systemOnC).size(), 1, 10000);
    QCOMPARE(resyncs(itemsOf(*systemOnC)), 0);

    // And events flow on, to every stream, once.
    QVERIFY(outsidePublish(0, 30));
    QVERIFY(outsidePublish(2, 31));
    QTRY_COMPARE_WITH_TIMEOUT(count(itemsOf(*onA), 30) + count(itemsOf(*onA), 31), 2, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(count(itemsOf(*downloadsOnB), 30), 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(count(itemsOf(*systemOnA), 31), 1, 10000);
    QCOMPARE(resyncs(itemsOf(*onA)), 1); // the recorded loss was this node's own: no second resync
    QCOMPARE(resyncs(itemsOf(*systemOnA)), 0);
    QCOMPARE(count(itemsOf(*onA), 20), 0);
}

void tst_RedisAdoptRetry::aNodeThatDidNotSeeTheMessageLearnsOfTheLoss()
{
    auto a = startNode(2);
    auto b = startNode(2);
    QVERIFY(a && b);
    auto onA = open(*a, "?channels=queue");
    QTRY_VERIFY_WITH_TIMEOUT(!onA->events().isEmpty(), 10000);
    QVERIFY(outsidePublish(1, 1));
    QTRY_COMPARE_WITH_TIMEOUT(itemsOf(*onA).size(), 1, 10000);
    const QByteArray beforeLoss = itemsOf(*onA).last().id;

    // B is down when the message comes, and back (its history loaded) before A gives it up,
    // while Redis still refuses the record.
    const quint16 portB = b->port();
    b->kill();
    b.reset();
    QVERIFY(fillUntilOutOfMemory());
    QVERIFY(outsidePublish(1, 2));
    b = startNode(2, portB);
    QVERIFY(b);
    auto resumedOnB = open(*b, "?channels=queue", beforeLoss);
    QTRY_COMPARE_WITH_TIMEOUT(resumedOnB->nonHeartbeatEvents().size(), 1, 10000); // connected: a replay of nothing
    QTRY_COMPARE_WITH_TIMEOUT(resyncs(itemsOf(*onA)), 1, 10000); // A gave it up
    QCOMPARE(resyncs(itemsOf(*resumedOnB)), 0); // B knows nothing yet

    // Redis takes writes again: A records the loss and announces it; B's stream resyncs.
    freeMemory();
    QTRY_COMPARE_WITH_TIMEOUT(resyncs(itemsOf(*resumedOnB)), 1, 15000);
    QCOMPARE(itemsOf(*resumedOnB).last().reason, QStringLiteral("events_lost"));
    QTest::qWait(500);
    QCOMPARE(resyncs(itemsOf(*onA)), 1); // A's own announcement changes nothing there
    QCOMPARE(metric(b->port(), lostSample(1)), 0.0); // B did not give anything up itself
}

// The model: every outside event reaches each client on its channel exactly once, or the
// client gets resync_required after the last thing it received before the event was
// published. Ids only grow, except across a resync (its id says where the stream goes on).
//
// Clients also go away for a while and resume on any node.
//
// What is not promised, and so not done here: a message seen only by nodes that all stop
// before they adopt it or give it up is lost without a word (an outside PUBLISH is at most
// once; the retries live in the nodes' memory). A node is restarted only when every recent
// message was seen by another node that stays up.
void tst_RedisAdoptRetry::randomOutagesAndRestarts()
{
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED")
        ? qEnvironmentVariable("HERMES_TEST_SEED").toUInt()
        : QRandomGenerator::global()->generate();
    const int steps = qEnvironmentVariableIsSet("HERMES_ADOPT_SOAK_STEPS")
        ? qEnvironmentVariableIntValue("HERMES_ADOPT_SOAK_STEPS") : 40;
    auto printSeed = qScopeGuard([seed] { qWarning() << "seed" << seed << "(HERMES_TEST_SEED)"; });
    QRandomGenerator rng(seed);
    constexpr int LimitSec = 2;
    QElapsedTimer clock;
    clock.start();

    struct Node
    {
        std::unique_ptr<ServerProcess> process;
        quint16 port = 0;
        qint64 startedMs = 0; ///< its last start: it saw no message published before
    };
    std::vector<Node> nodes(2);
    for (Node &n : nodes) {
        n.process = startNode(LimitSec);
        QVERIFY(n.process);
        n.port = n.process->port();
    }
    const auto brokerUp = [](const Node &n) {
        const HttpReply r = httpRequest(n.port, "GET", "/api/v1/events/health", {}, {}, 2000);
        return json(QString::fromUtf8(r.body)).value(QStringLiteral("broker")).toObject()
                   .value(QStringLiteral("status")).toString() == u"up";
    };

    struct Client
    {
        int mask = 0;
        QByteArray query;
        std::unique_ptr<SseClient> conn;
        qsizetype taken = 0;      ///< events of conn whose ids were seen
        qsizetype itemsTaken = 0; ///< items of conn already moved into items
        QList<Item> items;
        QByteArray lastId;
        int reconnects = 0;
        qint64 awayUntilMs = 0; ///< dropped by the test: comes back (resumes) then
    };
    std::vector<Client> clients(6);
    for (size_t k = 0; k < clients.size(); ++k) {
        Client &cl = clients[k];
        cl.mask = k == 0 ? 7 : 1 + int(rng.bounded(7));
        QByteArrayList names;
        for (int c = 0; c < 3; ++c) {
            if (cl.mask & (1 << c))
                names.append(ShortOf[c]);
        }
        cl.query = "?channels=" + names.join(',');
        cl.conn = open(*nodes[k % nodes.size()].process, cl.query);
    }
    for (Client &cl : clients)
        QTRY_VERIFY_WITH_TIMEOUT(!cl.conn->events().isEmpty(), 10000);

    const auto poll = [&] {
        for (Client &cl : clients) {
            const auto events = cl.conn->events();
            for (; cl.taken < events.size(); ++cl.taken) {
                const auto &e = events[cl.taken];
                if (!e.lastEventId.isEmpty())
                    cl.lastId = e.lastEventId.toUtf8();
            }
            // The items of this connection, appended as they come.
            const QList<Item> now = itemsOf(*cl.conn);
            for (; cl.itemsTaken < now.size(); ++cl.itemsTaken)
                cl.items.append(now[cl.itemsTaken]);
            if (cl.conn->isClosed() && clock.elapsed() >= cl.awayUntilMs) {
                std::vector<Node *> up;
                for (Node &n : nodes) {
                    if (n.process)
                        up.push_back(&n);
                }
                cl.conn = open(*up[rng.bounded(quint32(up.size()))]->process, cl.query, cl.lastId);
                cl.taken = 0;
                cl.itemsTaken = 0;
                ++cl.reconnects;
            }
        }
    };

    struct Published
    {
        int n = 0;
        int channel = 0;
        qint64 atMs = 0;
        std::vector<qsizetype> snapshot; ///< per client: items received before it
        std::set<size_t> seers;          ///< nodes up and subscribed when it was published
    };
    std::vector<Published> published;
    bool oom = false;
    int outages = 0, restarts = 0;
    for (int step = 0; step < steps; ++step) {
        poll();
        const quint32 op = rng.bounded(10);
        if (op < 5) {
            Published p;
            p.n = 1000 + step;
            p.channel = int(rng.bounded(3));
            p.atMs = clock.elapsed();
            for (const Client &cl : clients)
                p.snapshot.push_back(cl.items.size());
            for (size_t i = 0; i < nodes.size(); ++i) {
                if (nodes[i].process && brokerUp(nodes[i]))
                    p.seers.insert(i);
            }
            QVERIFY(outsidePublish(p.channel, p.n));
            published.push_back(std::move(p));
        } else if (op < 7) {
            oom = !oom;
            outages += oom;
            QCOMPARE(m_resp.command({"CONFIG", "SET", "maxmemory", oom ? "1" : "0"}).toByteArray(), QByteArray("OK"));
        } else if (op == 8) {
            // A client goes away for a while, then resumes on any node.
            Client &cl = clients[rng.bounded(quint32(clients.size()))];
            if (!cl.conn->isClosed()) {
                poll();
                cl.conn->close();
                cl.awayUntilMs = clock.elapsed() + rng.bounded(4000);
            }
        } else if (op == 7) {
            const size_t i = rng.bounded(quint32(nodes.size()));
            bool allowed = true;
            for (const Published &p : published) {
                if (clock.elapsed() - p.atMs > (LimitSec + 3) * 1000)
                    continue;
                bool heldElsewhere = false;
                for (size_t s : p.seers)
                    heldElsewhere |= s != i && nodes[s].startedMs <= p.atMs;
                allowed &= heldElsewhere;
            }
            if (allowed) {
                nodes[i].process->kill();
                nodes[i].process.reset();
                poll(); // its clients go to the other node
                nodes[i].process = startNode(LimitSec, nodes[i].port);
                QVERIFY(nodes[i].process);
                nodes[i].startedMs = clock.elapsed();
                ++restarts;
            }
        }
        QTest::qWait(50 + int(rng.bounded(550)));
    }
    if (oom)
        QCOMPARE(m_resp.command({"CONFIG", "SET", "maxmemory", "0"}).toByteArray(), QByteArray("OK"));
    // Every retry ends (adopted or given up), every loss is recorded and announced, every
    // client is back.
    QDeadlineTimer settle((LimitSec + 5) * 1000);
    while (!settle.hasExpired()) {
        poll();
        QTest::qWait(100);
    }
    qsizetype total = -1;
    QDeadlineTimer quiet(15000);
    for (qsizetype now = 0; !quiet.hasExpired(); QTest::qWait(1500)) {
        poll();
        now = 0;
        for (const Client &cl : clients)
            now += cl.items.size();
        if (now == total)
            break;
        total = now;
    }

    int delivered = 0, excused = 0, given = 0;
    std::map<int, QByteArray> idOf;
    for (size_t k = 0; k < clients.size(); ++k) {
        const Client &cl = clients[k];
        // Ids grow; a resync may go back (it says where the stream goes on from).
        std::optional<EventId> last;
        for (qsizetype i = 0; i < cl.items.size(); ++i) {
            const Item &item = cl.items[i];
            const auto id = EventId::parse(item.id);
            QVERIFY2(id, item.id.constData());
            if (item.n >= 0 && last)
                QVERIFY2(*id > *last, qPrintable(QStringLiteral("client %1: %2 after %3").arg(k)
                                                  .arg(QString::fromUtf8(item.id), QString::fromUtf8(last->toByteArray()))));
            last = id;
            if (item.n >= 0) {
                // One id per event, on every node.
                const auto [it, fresh] = idOf.emplace(item.n, item.id);
                QVERIFY2(fresh || it->second == item.id, qPrintable(QString::number(item.n)));
            }
        }
        given += resyncs(cl.items);
        for (const Published &p : published) {
            if (!(cl.mask & (1 << p.channel)))
                continue;
            const auto where = [&](qsizetype from) {
                for (qsizetype i = from; i < cl.items.size(); ++i) {
                    if (cl.items[i].n == p.n)
                        return i;
                }
                return qsizetype(-1);
            };
            const qsizetype first = where(0);
            if (first >= 0) {
                ++delivered;
                const qsizetype again = where(first + 1);
                // A second copy only after a resync that went back before it.
                bool resyncBetween = false;
                for (qsizetype i = first + 1; again >= 0 && i < again; ++i)
                    resyncBetween |= cl.items[i].n < 0;
                QVERIFY2(again < 0 || resyncBetween,
                         qPrintable(QStringLiteral("client %1 got %2 twice").arg(k).arg(p.n)));
                continue;
            }
            bool told = false;
            for (qsizetype i = p.snapshot[k]; i < cl.items.size(); ++i)
                told |= cl.items[i].n < 0;
            QVERIFY2(told, qPrintable(QStringLiteral("client %1 (channels %2) neither got %3 (channel %4) nor resync_required after it")
                                          .arg(k).arg(cl.mask).arg(p.n).arg(p.channel)));
            ++excused;
        }
    }
    qInfo().noquote() << QStringLiteral("seed %1: %2 outside events, %3 outages, %4 restarts; %5 deliveries, "
                                        "%6 missed with a resync, %7 resyncs")
                             .arg(seed).arg(published.size()).arg(outages).arg(restarts).arg(delivered)
                             .arg(excused).arg(given);
    printSeed.dismiss();
}

QTEST_MAIN(tst_RedisAdoptRetry)
#include "tst_redisadoptretry.moc"
