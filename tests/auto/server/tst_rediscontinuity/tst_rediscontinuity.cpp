// Continuity of the Redis history with real redis-server and hermes-server processes: what
// a user found (a restored Redis reached first by a fresh node, an evicted stream, nodes with
// different stream lengths), and the maxmemory-policy check.

#include "redisprocess.h"
#include "respclient.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include "eventid.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <csignal>

#include <memory>

using namespace Hermes;
using namespace Hermes::Test;

static const QByteArray Auth = QByteArray("Bearer ") + ServerProcess::ApiKey;

static QJsonObject json(const QByteArray &bytes)
{
    return QJsonDocument::fromJson(bytes).object();
}

class tst_RedisContinuity : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void restoredRedisReachedFirstByAFreshNode();
    void evictedQuietStreamMeansResync();
    void differentStreamLengthsMissNothing();
    void vanishedStreamResyncsOnlyItsChannel();
    void evictingPolicyKeepsTheNodeNotReady();
    void realEvictionWithAllowEviction();

private:
    std::unique_ptr<ServerProcess> startNode(const QProcessEnvironment &extra = {}, bool waitReady = true);
    bool restart(ServerProcess &node, const QProcessEnvironment &extra = {}, bool waitReady = true);
    std::unique_ptr<SseClient> open(ServerProcess &node, const QByteArray &lastEventId = {},
                                    const QByteArray &channels = {});
    /// SIGSTOPs `node` and has Redis drop every Pub/Sub subscription (the other nodes come
    /// back at once; `node` must fill its gap when it wakes), then waits for `ready` to be.
    void pauseWithoutSubscription(ServerProcess &node, ServerProcess &ready);
    QByteArray publish(ServerProcess &node, int n, const QByteArray &channel = "system:notifications");
    /// The numbers (data.n) a client got, and whether it was told to resync.
    static QList<int> numbers(const SseClient &client);
    static bool sawResync(const SseClient &client);
    /// Resumes from `lastEventId` on `node`: true when the replay is exactly `expected` or a
    /// resync (waits until one of them is there, bounded).
    bool replayIsWholeOrResync(ServerProcess &node, const QByteArray &lastEventId,
                               const QList<int> &expected, bool *resynced);
    static QString readyMessage(ServerProcess &node, int *status);

    std::unique_ptr<RedisProcess> m_redis;
};

void tst_RedisContinuity::init()
{
    m_redis = std::make_unique<RedisProcess>();
    if (QByteArray(QTest::currentTestFunction()) == "realEvictionWithAllowEviction")
        m_redis->setExtraArgs({QStringLiteral("--maxmemory"), QStringLiteral("3mb"),
                               QStringLiteral("--maxmemory-policy"), QStringLiteral("allkeys-lru")});
    QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString()));
}

void tst_RedisContinuity::cleanup()
{
    m_redis.reset();
}

std::unique_ptr<ServerProcess> tst_RedisContinuity::startNode(const QProcessEnvironment &extra, bool waitReady)
{
    auto node = std::make_unique<ServerProcess>();
    if (!restart(*node, extra, waitReady))
        return nullptr;
    return node;
}

bool tst_RedisContinuity::restart(ServerProcess &node, const QProcessEnvironment &extra, bool waitReady)
{
    QProcessEnvironment env = extra;
    env.insert(QStringLiteral("HERMES_REDIS_URL"), m_redis->url());
    env.insert(QStringLiteral("HERMES_TOKEN_SECRET"), QStringLiteral("shared-secret"));
    if (node.port() != 0)
        node.setPort(node.port());
    if (!node.start(env)) {
        qWarning() << node.errorString();
        return false;
    }
    if (!waitReady)
        return true;
    QDeadlineTimer deadline(20000);
    int status = 0;
    while (!deadline.hasExpired()) {
        readyMessage(node, &status);
        if (status == 200)
            return true;
        QTest::qWait(100);
    }
    return false;
}

QString tst_RedisContinuity::readyMessage(ServerProcess &node, int *status)
{
    const HttpReply r = httpRequest(node.port(), "GET", "/readyz", {}, {}, 2000);
    *status = r.status;
    return json(r.body).value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
}

std::unique_ptr<SseClient> tst_RedisContinuity::open(ServerProcess &node, const QByteArray &lastEventId,
                                                     const QByteArray &channels)
{
    QList<QPair<QByteArray, QByteArray>> headers{{"Authorization", Auth}};
    if (!lastEventId.isEmpty())
        headers.append({"Last-Event-ID", lastEventId});
    auto client = std::make_unique<SseClient>();
    client->open(node.port(), "/api/v1/events/stream" + (channels.isEmpty() ? QByteArray() : "?channels=" + channels),
                 headers);
    return client;
}

void tst_RedisContinuity::pauseWithoutSubscription(ServerProcess &node, ServerProcess &ready)
{
    ::kill(pid_t(node.process().processId()), SIGSTOP);
    QVERIFY(!m_redis->cli({QStringLiteral("CLIENT"), QStringLiteral("KILL"), QStringLiteral("TYPE"),
                           QStringLiteral("pubsub")}).isEmpty());
    QTest::qWait(200);
    int status = 0;
    QTRY_VERIFY_WITH_TIMEOUT((readyMessage(ready, &status), status == 200), 20000);
}

QByteArray tst_RedisContinuity::publish(ServerProcess &node, int n, const QByteArray &channel)
{
    const QByteArray type = channel == "system:notifications" ? "system_notification"
        : channel == "queue:updates" ? "queue_update" : "download_progress";
    const QByteArray body = "{\"channel\":\"" + channel + "\",\"type\":\"" + type
        + "\",\"data\":{\"n\":" + QByteArray::number(n) + ",\"download_id\":\"d\"}}";
    const HttpReply r = httpRequest(node.port(), "POST", "/api/v1/events/publish", {{"Authorization", Auth}}, body);
    return r.status == 202 ? json(r.body).value(QStringLiteral("id")).toString().toUtf8() : QByteArray();
}

QList<int> tst_RedisContinuity::numbers(const SseClient &client)
{
    QList<int> out;
    for (const auto &e : client.events()) {
        const QJsonValue n = json(e.data.toUtf8()).value(QStringLiteral("data")).toObject().value(QStringLiteral("n"));
        if (n.isDouble())
            out.append(n.toInt());
    }
    return out;
}

bool tst_RedisContinuity::sawResync(const SseClient &client)
{
    for (const auto &e : client.nonHeartbeatEvents()) {
        if (json(e.data.toUtf8()).value(QStringLiteral("type")).toString() == u"resync_required")
            return true;
    }
    return false;
}

bool tst_RedisContinuity::replayIsWholeOrResync(ServerProcess &node, const QByteArray &lastEventId,
                                                const QList<int> &expected, bool *resynced)
{
    auto client = open(node, lastEventId);
    QDeadlineTimer deadline(10000);
    while (!deadline.hasExpired() && !sawResync(*client) && numbers(*client).size() < expected.size())
        QTest::qWait(50);
    QTest::qWait(300); // nothing more may follow
    *resynced = sawResync(*client);
    if (*resynced)
        return true;
    if (numbers(*client) != expected)
        qWarning() << "resumed from" << lastEventId << "got" << numbers(*client) << "expected" << expected;
    return numbers(*client) == expected;
}

void tst_RedisContinuity::restoredRedisReachedFirstByAFreshNode()
{
    // e1-e5, a snapshot, e6-e10 answered 202 and delivered live by A. Redis comes back from
    // the snapshot while A cannot reach it (stopped); a fresh node B reaches it first and
    // publishes e11, e12. Resuming from e5 must never give e11, e12 as if whole.
    auto a = startNode();
    QVERIFY(a);
    auto live = open(*a);
    QTRY_VERIFY_WITH_TIMEOUT(!live->events().isEmpty(), 10000);
    QList<QByteArray> ids;
    for (int i = 1; i <= 5; ++i)
        ids.append(publish(*a, i));
    QCOMPARE(m_redis->cli({QStringLiteral("SAVE")}), QByteArray("OK"));
    for (int i = 6; i <= 10; ++i)
        ids.append(publish(*a, i));
    QVERIFY(!ids.contains(QByteArray()));
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*live).size(), 10, 10000);
    QTest::qWait(300);
    ::kill(pid_t(a->process().processId()), SIGSTOP);
    m_redis->kill();
    QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString())); // e1-e5
    auto b = startNode();
    QVERIFY(b);
    for (int i = 11; i <= 12; ++i)
        QVERIFY(!publish(*b, i).isEmpty());
    ::kill(pid_t(a->process().processId()), SIGCONT);
    // A reconnects, finds e10 gone and starts a new epoch; B is told at once.
    QTRY_VERIFY_WITH_TIMEOUT(sawResync(*live), 20000);
    for (ServerProcess *node : {a.get(), b.get()}) {
        bool resynced = false;
        QVERIFY(replayIsWholeOrResync(*node, ids[4], {6, 7, 8, 9, 10, 11, 12}, &resynced));
        QVERIFY(resynced); // e6-e10 are gone from Redis: nobody can give them
    }
}

void tst_RedisContinuity::evictedQuietStreamMeansResync()
{
    // A quiet channel's stream vanishes (DEL stands in for an eviction); after a restart a
    // client resuming from before its lost events must resync, on a restarted and a fresh node.
    auto a = startNode();
    QVERIFY(a);
    const QByteArray before = publish(*a, 0, "download:updates");
    QVERIFY(!before.isEmpty());
    for (int i = 1; i <= 10; ++i)
        QVERIFY(!publish(*a, i).isEmpty());
    QTest::qWait(300);
    QCOMPARE(m_redis->cli({QStringLiteral("DEL"), QStringLiteral("hermes:stream:system:notifications")}), QByteArray("1"));
    QCOMPARE(a->terminate(), 0);
    QVERIFY(restart(*a));
    auto fresh = startNode();
    QVERIFY(fresh);
    for (ServerProcess *node : {a.get(), fresh.get()}) {
        bool resynced = false;
        QVERIFY(replayIsWholeOrResync(*node, before, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, &resynced));
        QVERIFY(resynced);
    }
    // The floor stays when the channel gets events again; a later node still knows.
    QVERIFY(!publish(*a, 11).isEmpty());
    auto later = startNode();
    QVERIFY(later);
    bool resynced = false;
    QVERIFY(replayIsWholeOrResync(*later, before, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, &resynced));
    QVERIFY(resynced);
}

void tst_RedisContinuity::differentStreamLengthsMissNothing()
{
    // A keeps 10,000 per stream, B was started with 100: B uses the deployment's value, and
    // its gap fill after a lost connection gives its live client all 1,500 events.
    QProcessEnvironment longer;
    longer.insert(QStringLiteral("HERMES_REDIS_STREAM_LENGTH"), QStringLiteral("10000"));
    auto a = startNode(longer);
    QVERIFY(a);
    QProcessEnvironment shorter;
    shorter.insert(QStringLiteral("HERMES_REDIS_STREAM_LENGTH"), QStringLiteral("100"));
    auto b = startNode(shorter);
    QVERIFY(b);
    auto live = open(*b);
    QTRY_VERIFY_WITH_TIMEOUT(!live->events().isEmpty(), 10000);
    // B stops, and loses its subscription meanwhile (so does A, which comes back at once):
    // B must fill the gap when it wakes.
    pauseWithoutSubscription(*b, *a);
    if (QTest::currentTestFailed())
        return;
    QList<int> expected;
    for (int i = 0; i < 1500; ++i) {
        QVERIFY(!publish(*a, i).isEmpty());
        expected.append(i);
    }
    ::kill(pid_t(b->process().processId()), SIGCONT);
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*live).size(), 1500, 30000);
    QCOMPARE(numbers(*live), expected);
    QVERIFY(!sawResync(*live));
    QVERIFY2(b->output().contains("filled the gap"), "B did not lose its subscription: nothing was tested");
    QVERIFY(b->output().contains("using the deployment's value"));
}

void tst_RedisContinuity::vanishedStreamResyncsOnlyItsChannel()
{
    // B is away while a stream it had not read to the end is deleted (evicted, trimmed): B
    // reloads its history, and its streams of that channel must resync, and only those. (Every
    // stream was told history_reset: the model test's redis-gray found a queue client resynced
    // after system's stream was deleted.)
    auto a = startNode();
    auto b = startNode();
    QVERIFY(a && b);
    auto queueOnB = open(*b, {}, "queue");
    auto systemOnB = open(*b, {}, "system");
    QTRY_VERIFY_WITH_TIMEOUT(!queueOnB->events().isEmpty() && !systemOnB->events().isEmpty(), 10000); // connected
    QVERIFY(!publish(*a, 1, "queue:updates").isEmpty());
    const QByteArray second = publish(*a, 2);
    QVERIFY(!second.isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*queueOnB), QList<int>{1}, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*systemOnB), QList<int>{2}, 10000);
    pauseWithoutSubscription(*b, *a);
    if (QTest::currentTestFailed())
        return;
    QVERIFY(!publish(*a, 3).isEmpty());
    QVERIFY(!publish(*a, 4, "queue:updates").isEmpty());
    QVERIFY(!m_redis->cli({QStringLiteral("DEL"), QStringLiteral("hermes:stream:system:notifications")}).isEmpty());
    QVERIFY(!publish(*a, 5, "queue:updates").isEmpty());
    ::kill(pid_t(b->process().processId()), SIGCONT);
    QTRY_VERIFY_WITH_TIMEOUT(sawResync(*systemOnB), 20000);
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*queueOnB), (QList<int>{1, 4, 5}), 20000);
    QTest::qWait(500);
    QVERIFY2(!sawResync(*queueOnB), "the queue's stream lost nothing, yet was told to resync");
    QCOMPARE(numbers(*systemOnB), QList<int>{2});
    // A resume from before the deleted event (it got 2 elsewhere) resyncs on B too.
    bool resynced = false;
    QVERIFY(replayIsWholeOrResync(*b, second, {4, 5}, &resynced));
    QVERIFY(resynced);
    QVERIFY2(b->output().contains("trimmed past what this node delivered"),
             "B did not fill a gap across the deleted stream: nothing was tested");
}

void tst_RedisContinuity::evictingPolicyKeepsTheNodeNotReady()
{
    QCOMPARE(m_redis->cli({QStringLiteral("CONFIG"), QStringLiteral("SET"), QStringLiteral("maxmemory-policy"),
                           QStringLiteral("allkeys-lru")}), QByteArray("OK"));
    auto a = startNode({}, false);
    QVERIFY(a);
    int status = 0;
    QTRY_VERIFY_WITH_TIMEOUT(readyMessage(*a, &status).contains(QStringLiteral("maxmemory-policy is allkeys-lru")), 10000);
    QCOMPARE(status, 503);
    QVERIFY(publish(*a, 1).isEmpty());
    // The log line and the HTTP answer come on different pipes: the line may be read later.
    QTRY_VERIFY_WITH_TIMEOUT(a->output().contains("not ready: Redis' maxmemory-policy is allkeys-lru"), 5000);
    // Fixed at run time: the node notices within seconds.
    QCOMPARE(m_redis->cli({QStringLiteral("CONFIG"), QStringLiteral("SET"), QStringLiteral("maxmemory-policy"),
                           QStringLiteral("noeviction")}), QByteArray("OK"));
    QTRY_VERIFY_WITH_TIMEOUT((readyMessage(*a, &status), status == 200), 10000);
    QVERIFY(!publish(*a, 2).isEmpty());
    // And broken again at run time.
    QCOMPARE(m_redis->cli({QStringLiteral("CONFIG"), QStringLiteral("SET"), QStringLiteral("maxmemory-policy"),
                           QStringLiteral("allkeys-random")}), QByteArray("OK"));
    QTRY_VERIFY_WITH_TIMEOUT((readyMessage(*a, &status), status == 503), 10000);
    // Allowed: a warning, and the node is ready.
    QProcessEnvironment allow;
    allow.insert(QStringLiteral("HERMES_REDIS_ALLOW_EVICTION"), QStringLiteral("1"));
    auto b = startNode(allow);
    QVERIFY(b);
    QTRY_VERIFY_WITH_TIMEOUT(b->output().contains("allowed by HERMES_REDIS_ALLOW_EVICTION"), 5000);
}

void tst_RedisContinuity::realEvictionWithAllowEviction()
{
    // Redis really evicts (maxmemory 3 MB, allkeys-lru): a quiet channel's stream goes while
    // a busy one keeps `heads` hot. A resume from before the quiet channel's events is whole
    // or resync, on the node that restarts and on a fresh one.
    QProcessEnvironment allow;
    allow.insert(QStringLiteral("HERMES_REDIS_ALLOW_EVICTION"), QStringLiteral("1"));
    auto a = startNode(allow);
    QVERIFY(a);
    const QByteArray before = publish(*a, 0, "download:updates");
    QVERIFY(!before.isEmpty());
    QList<int> quiet;
    for (int i = 1; i <= 10; ++i) {
        QVERIFY(!publish(*a, i).isEmpty());
        quiet.append(i);
    }
    RespClient redis;
    QVERIFY(redis.connectTo(m_redis->port()));
    const QByteArray filler(64 * 1024, 'x');
    bool evicted = false;
    for (int round = 0; round < 400 && !evicted; ++round) {
        redis.command({"SET", "filler:" + QByteArray::number(round), filler});
        if (round % 4 == 0)
            publish(*a, 1000 + round, "queue:updates"); // keeps heads hot
        evicted = redis.command({"EXISTS", "hermes:stream:system:notifications"}).toLongLong() == 0;
    }
    if (!evicted)
        QSKIP("Redis did not evict the quiet stream within 400 rounds");
    QCOMPARE(a->terminate(), 0);
    QVERIFY(restart(*a, allow));
    auto fresh = startNode(allow);
    QVERIFY(fresh);
    for (ServerProcess *node : {a.get(), fresh.get()}) {
        bool resynced = false;
        // Whole would be 1..10 and the queue events in between: only the quiet ones are counted.
        auto client = open(*node, before);
        QTRY_VERIFY_WITH_TIMEOUT(sawResync(*client) || numbers(*client).contains(10), 10000);
        resynced = sawResync(*client);
        if (!resynced) {
            QList<int> got;
            for (int n : numbers(*client))
                if (n <= 10)
                    got.append(n);
            QCOMPARE(got, quiet);
        }
        qInfo() << "resume across the evicted stream:" << (resynced ? "resync" : "whole");
    }
}

QTEST_MAIN(tst_RedisContinuity)
#include "tst_rediscontinuity.moc"
