// The Redis broker with real redis-server and hermes-server processes: two nodes sharing one
// stream, outside publishers, failover with Last-Event-ID, a Redis restart mid-stream, bad
// payloads, and stream tokens stored in Redis by the Python Hermes API.

#include "redisprocess.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include "eventid.h"

#include <QDeadlineTimer>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QSet>
#include <QTcpSocket>
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

static QJsonObject json(const QString &text)
{
    return json(text.toUtf8());
}

class tst_RedisBroker : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void twoNodesShareOneStream();
    void outsidePublisherReachesEveryNodeWithOneId();
    void invalidPayloadsAreDroppedTheStreamGoesOn();
    void failoverToAnotherNodeWithLastEventId();
    void redisRestartLosesNothingAcknowledged();
    void lostSubscriptionIsFilledFromTheStream();
    void publishWhileRedisIsDownIs503();
    void pythonTokensFromRedis();
    void badRedisUrlIsAClearError();
    void outsidePipelineOverThreeChannelsIsOneOrder();
    void publishersEverywhereGiveEveryNodeTheSameOrder();
    void flushedRedisStartsANewEpoch();
    void streamsTrimmedPastAGapMeanResync();
    void streamsOpenedWhileRedisIsDownGoLiveWithIt();
    void redisBackInTimeMeansResync();
    void restoreWithNoNodeRunningMeansResync();

private:
    std::unique_ptr<ServerProcess> startNode(const QProcessEnvironment &extra = {});
    std::unique_ptr<SseClient> open(ServerProcess &node, const QByteArray &path = "/api/v1/events/stream",
                                    const QByteArray &lastEventId = {});
    /// POSTs one event; returns its id, or empty when it was not acknowledged.
    QByteArray publish(ServerProcess &node, int n);
    /// Publishes 1 and 2, has Redis SAVE a snapshot, publishes 3 to 5: returns the five ids
    /// (empty where one was not acknowledged). A Redis restarted now comes back with 1 and 2.
    QList<QByteArray> publishAroundASnapshot(ServerProcess &node);
    static QList<int> numbers(const SseClient &client);
    static QString brokerStatus(ServerProcess &node);

    /// Sends `commands` to Redis in one write (a pipeline, as Python workers' clients do)
    /// and waits for as many replies.
    void pipeline(const QList<QList<QByteArray>> &commands);
    struct Seen
    {
        QByteArray id;
        QString channel;
        int n;
    };
    /// The events of a /stream client that carry data.n, with the channel their type implies.
    static QList<Seen> seen(const SseClient &client);

    std::unique_ptr<RedisProcess> m_redis;
};

void tst_RedisBroker::pipeline(const QList<QList<QByteArray>> &commands)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_redis->port());
    QVERIFY(socket.waitForConnected(5000));
    QByteArray out;
    for (const auto &command : commands) {
        out += '*' + QByteArray::number(command.size()) + "\r\n";
        for (const QByteArray &arg : command)
            out += '$' + QByteArray::number(arg.size()) + "\r\n" + arg + "\r\n";
    }
    socket.write(out);
    QByteArray replies;
    QDeadlineTimer deadline(20000);
    while (replies.count("\r\n") < commands.size() && !deadline.hasExpired()) {
        socket.waitForReadyRead(100);
        replies += socket.readAll();
    }
    QCOMPARE(replies.count("\r\n"), commands.size());
}

QList<QByteArray> tst_RedisBroker::publishAroundASnapshot(ServerProcess &node)
{
    QList<QByteArray> ids;
    for (int i = 1; i <= 2; ++i)
        ids.append(publish(node, i));
    if (m_redis->cli({QStringLiteral("SAVE")}) != "OK")
        return {};
    for (int i = 3; i <= 5; ++i)
        ids.append(publish(node, i));
    return ids;
}

QList<tst_RedisBroker::Seen> tst_RedisBroker::seen(const SseClient &client)
{
    QList<Seen> out;
    for (const auto &e : client.events()) {
        const QJsonObject envelope = json(e.data);
        const QJsonValue n = envelope.value(QStringLiteral("data")).toObject().value(QStringLiteral("n"));
        if (!n.isDouble())
            continue;
        const QString type = envelope.value(QStringLiteral("type")).toString();
        out.append({e.lastEventId.toUtf8(), type, n.toInt()});
    }
    return out;
}

static bool sawResync(const SseClient &client)
{
    for (const auto &e : client.nonHeartbeatEvents()) {
        if (json(e.data).value(QStringLiteral("type")).toString() == u"resync_required")
            return true;
    }
    return false;
}

static QByteArray pythonEnvelope(const char *type, int n)
{
    return "{\"type\": \"" + QByteArray(type) + "\", \"data\": {\"n\": " + QByteArray::number(n)
        + ", \"download_id\": \"d" + QByteArray::number(n % 5) + "\"}, \"timestamp\": \"2026-11-28T10:00:00.000001\"}";
}

static const char *const ChannelOf[3] = {"download:updates", "queue:updates", "system:notifications"};
static const char *const TypeOf[3] = {"download_progress", "queue_update", "system_notification"};

void tst_RedisBroker::init()
{
    m_redis = std::make_unique<RedisProcess>(QByteArray(QTest::currentTestFunction()) == "redisRestartLosesNothingAcknowledged");
    QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString()));
}

void tst_RedisBroker::cleanup()
{
    m_redis.reset();
}

std::unique_ptr<ServerProcess> tst_RedisBroker::startNode(const QProcessEnvironment &extra)
{
    auto node = std::make_unique<ServerProcess>();
    QProcessEnvironment env = extra;
    env.insert(QStringLiteral("HERMES_REDIS_URL"), m_redis->url());
    env.insert(QStringLiteral("HERMES_TOKEN_SECRET"), QStringLiteral("shared-secret"));
    if (!node->start(env)) {
        qWarning() << node->errorString();
        return nullptr;
    }
    return node;
}

std::unique_ptr<SseClient> tst_RedisBroker::open(ServerProcess &node, const QByteArray &path,
                                                 const QByteArray &lastEventId)
{
    QList<QPair<QByteArray, QByteArray>> headers{{"Authorization", Auth}};
    if (!lastEventId.isEmpty())
        headers.append({"Last-Event-ID", lastEventId});
    auto client = std::make_unique<SseClient>();
    client->open(node.port(), path, headers);
    return client;
}

QByteArray tst_RedisBroker::publish(ServerProcess &node, int n)
{
    const QByteArray body = "{\"channel\":\"system:notifications\",\"type\":\"system_notification\","
                            "\"data\":{\"n\":" + QByteArray::number(n) + "}}";
    const HttpReply r = httpRequest(node.port(), "POST", "/api/v1/events/publish", {{"Authorization", Auth}}, body);
    return r.status == 202 ? json(r.body).value(QStringLiteral("id")).toString().toUtf8() : QByteArray();
}

QList<int> tst_RedisBroker::numbers(const SseClient &client)
{
    QList<int> out;
    for (const auto &e : client.events()) {
        const QJsonObject envelope = json(e.data);
        if (envelope.value(QStringLiteral("type")).toString() == u"system_notification")
            out.append(envelope.value(QStringLiteral("data")).toObject().value(QStringLiteral("n")).toInt());
    }
    return out;
}

QString tst_RedisBroker::brokerStatus(ServerProcess &node)
{
    const HttpReply r = httpRequest(node.port(), "GET", "/api/v1/events/health", {}, {}, 2000);
    return json(r.body).value(QStringLiteral("broker")).toObject().value(QStringLiteral("status")).toString();
}

void tst_RedisBroker::twoNodesShareOneStream()
{
    auto a = startNode();
    auto b = startNode();
    QVERIFY(a && b);
    auto onA = open(*a);
    auto onB = open(*b);
    QTRY_VERIFY_WITH_TIMEOUT(!onA->events().isEmpty() && !onB->events().isEmpty(), 10000);
    QList<QByteArray> ids;
    for (int i = 0; i < 10; ++i)
        ids.append(publish(i % 2 ? *b : *a, i));
    QVERIFY(!ids.contains(QByteArray()));
    const QList<int> expected{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*onA), expected, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*onB), expected, 10000);
    // The same ids on both nodes: the Redis stream ids.
    const auto eventsA = onA->nonHeartbeatEvents();
    const auto eventsB = onB->nonHeartbeatEvents();
    for (int i = 0; i < 10; ++i) {
        QCOMPARE(eventsA[i + 1].lastEventId.toUtf8(), ids[i]);
        QCOMPARE(eventsB[i + 1].lastEventId.toUtf8(), ids[i]);
    }
    QCOMPARE(m_redis->cli({QStringLiteral("XLEN"), QStringLiteral("hermes:stream:system:notifications")}), QByteArray("10"));
    const QByteArray channels = m_redis->cli({QStringLiteral("PUBSUB"), QStringLiteral("CHANNELS")});
    for (const char *c : {"download:updates", "queue:updates", "system:notifications"})
        QVERIFY2(channels.contains(c), channels.constData());
    QCOMPARE(brokerStatus(*a), QStringLiteral("up"));
}

void tst_RedisBroker::outsidePublisherReachesEveryNodeWithOneId()
{
    auto a = startNode();
    auto b = startNode();
    QVERIFY(a && b);
    auto onA = open(*a, "/api/v1/events/downloads/dl-1");
    auto onB = open(*b, "/api/v1/events/stream?style=named");
    QTRY_VERIFY_WITH_TIMEOUT(!onA->events().isEmpty() && !onB->events().isEmpty(), 10000);
    // Exactly what a Python Hermes worker publishes.
    const QString progress = QStringLiteral(
        "{\"type\": \"download_progress\", \"data\": {\"download_id\": \"dl-1\", \"status\": \"downloading\", "
        "\"progress\": {\"percentage\": 42.5, \"status\": \"downloading\", \"downloaded_bytes\": 425, "
        "\"total_bytes\": 1000, \"speed\": 100.0, \"eta\": 5}, \"error_message\": null}, "
        "\"timestamp\": \"2026-11-24T10:00:00.123456\"}");
    QCOMPARE(m_redis->cli({QStringLiteral("PUBLISH"), QStringLiteral("download:updates"), progress}), QByteArray("2"));
    QTRY_COMPARE_WITH_TIMEOUT(onA->nonHeartbeatEvents().size(), 2, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(onB->nonHeartbeatEvents().size(), 2, 10000);
    const auto fromA = onA->nonHeartbeatEvents()[1];
    const auto fromB = onB->nonHeartbeatEvents()[1];
    QVERIFY(!fromA.lastEventId.isEmpty());
    QCOMPARE(fromA.lastEventId, fromB.lastEventId);
    QCOMPARE(fromB.type, QStringLiteral("download_progress"));
    QCOMPARE(json(fromB.data).value(QStringLiteral("progress")).toObject().value(QStringLiteral("percentage")).toDouble(), 42.5);
    QCOMPARE(json(fromA.data).value(QStringLiteral("timestamp")).toString(), QStringLiteral("2026-11-24T10:00:00.123456"));
    // Adopted once: one stream entry for two nodes.
    QCOMPARE(m_redis->cli({QStringLiteral("XLEN"), QStringLiteral("hermes:stream:download:updates")}), QByteArray("1"));
    // And a third node that starts later can replay it by id.
    auto c = startNode();
    QVERIFY(c);
    const auto first = EventId::parse(fromA.lastEventId.toUtf8());
    QVERIFY(first && first->epoch() != 0);
    auto late = open(*c, "/api/v1/events/stream", EventId(0, 0, first->epoch()).toByteArray());
    QTRY_COMPARE_WITH_TIMEOUT(late->nonHeartbeatEvents().size(), 2, 10000);
    QCOMPARE(late->nonHeartbeatEvents()[1].lastEventId, fromA.lastEventId);
    QCOMPARE(json(late->nonHeartbeatEvents()[1].data).value(QStringLiteral("type")).toString(),
             QStringLiteral("download_progress"));
}

void tst_RedisBroker::invalidPayloadsAreDroppedTheStreamGoesOn()
{
    auto a = startNode();
    QVERIFY(a);
    auto client = open(*a);
    QTRY_VERIFY_WITH_TIMEOUT(!client->events().isEmpty(), 10000);
    for (const char *bad : {"not json", "[1,2]", "{\"data\":{}}", "{\"type\":\"x\",\"data\":5}", "", "{\"type\":",
                            "x,\"id\":\"}"})
        m_redis->cli({QStringLiteral("PUBLISH"), QStringLiteral("system:notifications"), QString::fromLatin1(bad)});
    QVERIFY(!publish(*a, 1).isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*client), QList<int>{1}, 10000);
    QCOMPARE(client->nonHeartbeatEvents().size(), 2);
    const HttpReply metrics = httpRequest(a->port(), "GET", "/metrics",
                                            {{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey}});
    QVERIFY2(metrics.body.contains("hermes_events_discarded_total 7"), metrics.body.constData());
    QVERIFY(a->process().state() == QProcess::Running);
}

void tst_RedisBroker::failoverToAnotherNodeWithLastEventId()
{
    auto a = startNode();
    auto b = startNode();
    QVERIFY(a && b);
    auto client = open(*a);
    QTRY_VERIFY_WITH_TIMEOUT(!client->events().isEmpty(), 10000);
    const int total = 30;
    int published = 0;
    for (; published < 10; ++published)
        QVERIFY(!publish(*b, published).isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*client).size(), 10, 10000);
    a->kill(); // SIGKILL: no goodbye, no retry hint
    for (; published < 20; ++published)
        QVERIFY(!publish(*b, published).isEmpty()); // while the client is away
    QTRY_VERIFY_WITH_TIMEOUT(client->isClosed(), 10000);
    const QByteArray lastId = client->events().last().lastEventId.toUtf8();
    auto resumed = open(*b, "/api/v1/events/stream", lastId);
    QTRY_VERIFY_WITH_TIMEOUT(!resumed->events().isEmpty(), 10000);
    for (; published < total; ++published)
        QVERIFY(!publish(*b, published).isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*client).size() + numbers(*resumed).size(), total, 10000);
    QList<int> all = numbers(*client) + numbers(*resumed);
    QList<int> expected;
    for (int i = 0; i < total; ++i)
        expected.append(i);
    QCOMPARE(all, expected); // every event exactly once, in order
    for (const auto &e : resumed->events())
        QVERIFY(json(e.data).value(QStringLiteral("type")).toString() != u"resync_required");
}

void tst_RedisBroker::redisRestartLosesNothingAcknowledged()
{
    auto a = startNode();
    auto b = startNode();
    QVERIFY(a && b);
    auto client = open(*a);
    QTRY_VERIFY_WITH_TIMEOUT(!client->events().isEmpty(), 10000);
    QList<int> acknowledged;
    for (int i = 0; i < 5; ++i) {
        if (!publish(*a, i).isEmpty())
            acknowledged.append(i);
    }
    QCOMPARE(acknowledged.size(), 5);

    m_redis->kill();
    QTRY_COMPARE_WITH_TIMEOUT(brokerStatus(*a), QStringLiteral("down"), 10000);
    const HttpReply metrics = httpRequest(a->port(), "GET", "/metrics",
                                            {{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey}});
    QVERIFY(metrics.body.contains("hermes_broker_up{broker=\"redis\"} 0"));
    for (int i = 5; i < 8; ++i) {
        if (!publish(*a, i).isEmpty()) // refused with 503 while Redis is down
            acknowledged.append(i);
    }
    QVERIFY(!client->isClosed()); // the stream stays open through the outage

    QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString()));
    // Publish through B as soon as it is back, while A may still be reconnecting: A must
    // find these in the stream (the gap fill), not only on the channel.
    QTRY_COMPARE_WITH_TIMEOUT(brokerStatus(*b), QStringLiteral("up"), 20000);
    for (int i = 8; i < 12; ++i) {
        if (!publish(*b, i).isEmpty())
            acknowledged.append(i);
    }
    QTRY_COMPARE_WITH_TIMEOUT(brokerStatus(*a), QStringLiteral("up"), 20000);
    // The return counts as a reconnect (the first connection does not).
    QVERIFY(httpRequest(a->port(), "GET", "/metrics", {{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey}})
                .body.contains("\nhermes_broker_reconnects_total 1\n"));
    for (int i = 12; i < 15; ++i) {
        if (!publish(*a, i).isEmpty())
            acknowledged.append(i);
    }
    QVERIFY(acknowledged.contains(14));
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*client), acknowledged, 20000);
    QVERIFY(!acknowledged.contains(5)); // nothing was acknowledged while Redis was down
}

void tst_RedisBroker::lostSubscriptionIsFilledFromTheStream()
{
    // Deterministic gap: node A is frozen (SIGSTOP) while its subscription is cut and events
    // are published through B; pub/sub drops them for A, so only the stream can give them back.
    auto a = startNode();
    auto b = startNode();
    QVERIFY(a && b);
    auto client = open(*a);
    QTRY_VERIFY_WITH_TIMEOUT(!client->events().isEmpty(), 10000);
    QVERIFY(!publish(*b, 0).isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*client), QList<int>{0}, 10000);

    ::kill(pid_t(a->process().processId()), SIGSTOP);
    m_redis->cli({QStringLiteral("CLIENT"), QStringLiteral("KILL"), QStringLiteral("TYPE"), QStringLiteral("pubsub")});
    QTRY_VERIFY_WITH_TIMEOUT(m_redis->cli({QStringLiteral("PUBSUB"), QStringLiteral("NUMSUB"),
                                           QStringLiteral("queue:updates")}).endsWith("1"), 10000); // B is back
    for (int i = 1; i < 6; ++i)
        QVERIFY(!publish(*b, i).isEmpty());
    ::kill(pid_t(a->process().processId()), SIGCONT);

    QTRY_COMPARE_WITH_TIMEOUT(numbers(*client), (QList<int>{0, 1, 2, 3, 4, 5}), 20000);
    QVERIFY(!publish(*b, 6).isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*client), (QList<int>{0, 1, 2, 3, 4, 5, 6}), 20000);
    QVERIFY(a->output().contains("filled the gap with 5 event(s)"));
}

void tst_RedisBroker::publishWhileRedisIsDownIs503()
{
    auto a = startNode();
    QVERIFY(a);
    m_redis->kill();
    QTRY_COMPARE_WITH_TIMEOUT(brokerStatus(*a), QStringLiteral("down"), 10000);
    const HttpReply r = httpRequest(a->port(), "POST", "/api/v1/events/publish", {{"Authorization", Auth}},
                                    "{\"channel\":\"queue:updates\",\"type\":\"t\",\"data\":{}}");
    QCOMPARE(r.status, 503);
    QCOMPARE(json(r.body).value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString(),
             QStringLiteral("broker_unavailable"));
    QVERIFY(!r.header("retry-after").isEmpty());
    const HttpReply health = httpRequest(a->port(), "GET", "/api/v1/events/health");
    QCOMPARE(json(health.body).value(QStringLiteral("status")).toString(), QStringLiteral("degraded"));
}

void tst_RedisBroker::pythonTokensFromRedis()
{
    auto a = startNode();
    QVERIFY(a);
    const QString record = QStringLiteral(
        "{\"scope\": \"queue\", \"user_id\": \"u1\", \"expires_at\": \"%1\", \"permissions\": [\"read\"], "
        "\"created_at\": \"2026-01-01T00:00:00\"}").arg(QDateTime::currentDateTimeUtc().addSecs(300).toString(Qt::ISODate));
    const QString token = QStringLiteral("sse_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde");
    QCOMPARE(m_redis->cli({QStringLiteral("SET"), QStringLiteral("sse:token:") + token, record, QStringLiteral("EX"), QStringLiteral("60")}),
             QByteArray("OK"));
    SseClient ok;
    ok.open(a->port(), "/api/v1/events/queue?token=" + token.toUtf8());
    QTRY_COMPARE_WITH_TIMEOUT(ok.status(), 200, 10000);
    QCOMPARE(httpRequest(a->port(), "GET", "/api/v1/events/stream?token=" + token.toUtf8()).status, 403);
    QCOMPARE(httpRequest(a->port(), "GET", "/api/v1/events/queue?token=sse_unknown").status, 401);
    // Our own signed tokens work on every node sharing the secret.
    auto b = startNode();
    QVERIFY(b);
    const HttpReply minted = httpRequest(a->port(), "POST", "/api/v1/events/token", {{"Authorization", Auth}},
                                         "{\"scope\":\"stream\"}");
    const QByteArray ours = json(minted.body).value(QStringLiteral("token")).toString().toUtf8();
    SseClient other;
    other.open(b->port(), "/api/v1/events/stream?token=" + ours);
    QTRY_COMPARE_WITH_TIMEOUT(other.status(), 200, 10000);
}

void tst_RedisBroker::badRedisUrlIsAClearError()
{
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HERMES_REDIS_URL"), QStringLiteral("http://:secretpw@nowhere"));
    env.insert(QStringLiteral("HERMES_PORT"), QString::number(freePort()));
    env.insert(QStringLiteral("HERMES_API_KEYS"), QStringLiteral("k"));
    QTemporaryDir dir;
    env.insert(QStringLiteral("HERMES_DATA_DIR"), dir.path());
    process.setProcessEnvironment(env);
    process.start(QStringLiteral(HERMES_SERVER_BINARY), {});
    QVERIFY(process.waitForFinished(20000));
    QVERIFY(process.exitCode() != 0);
    const QByteArray err = process.readAllStandardError();
    QVERIFY2(err.contains("HERMES_REDIS_URL"), err.constData());
    QVERIFY(!err.contains("secretpw"));
}

void tst_RedisBroker::outsidePipelineOverThreeChannelsIsOneOrder()
{
    // The case: 900 bare PUBLISHes back to back over the three channels, the way
    // Python workers publish. Every event gets one id, distinct and ascending across
    // channels, the same on both nodes, and a client resuming on the other node from any
    // received id gets exactly the rest.
    auto a = startNode();
    auto b = startNode();
    QVERIFY(a && b);
    auto onA = open(*a);
    auto onB = open(*b);
    QTRY_VERIFY_WITH_TIMEOUT(!onA->events().isEmpty() && !onB->events().isEmpty(), 10000);
    const int total = 900;
    // A Redis that forgot the scripts (a restart, SCRIPT FLUSH) must not reorder them either.
    QCOMPARE(m_redis->cli({QStringLiteral("SCRIPT"), QStringLiteral("FLUSH")}), QByteArray("OK"));
    QList<QList<QByteArray>> commands;
    for (int i = 0; i < total; ++i)
        commands.append({"PUBLISH", ChannelOf[i % 3], pythonEnvelope(TypeOf[i % 3], i)});
    pipeline(commands);
    QTRY_COMPARE_WITH_TIMEOUT(seen(*onA).size(), total, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(seen(*onB).size(), total, 30000);
    const QList<Seen> fromA = seen(*onA), fromB = seen(*onB);
    QSet<QByteArray> distinct;
    for (int i = 0; i < total; ++i) {
        QCOMPARE(fromA[i].n, i); // in publish order
        QCOMPARE(fromB[i].id, fromA[i].id);
        distinct.insert(fromA[i].id);
        if (i > 0)
            QVERIFY2(*EventId::parse(fromA[i - 1].id) < *EventId::parse(fromA[i].id), fromA[i].id.constData());
    }
    QCOMPARE(distinct.size(), total);
    QRandomGenerator rng(QRandomGenerator::global()->generate());
    for (int attempt = 0; attempt < 8; ++attempt) {
        const int from = int(rng.bounded(total - 1));
        auto resumed = open(*b, "/api/v1/events/stream", fromA[from].id);
        QTRY_COMPARE_WITH_TIMEOUT(seen(*resumed).size(), total - 1 - from, 20000);
        const QList<Seen> rest = seen(*resumed);
        for (int i = 0; i < rest.size(); ++i)
            QCOMPARE(rest[i].id, fromA[from + 1 + i].id);
    }
}

void tst_RedisBroker::publishersEverywhereGiveEveryNodeTheSameOrder()
{
    // API publishes through both nodes interleaved with outside PUBLISHes: both nodes deliver
    // one sequence, with ids ascending, whatever path each event took.
    auto a = startNode();
    auto b = startNode();
    QVERIFY(a && b);
    auto onA = open(*a);
    auto onB = open(*b);
    QTRY_VERIFY_WITH_TIMEOUT(!onA->events().isEmpty() && !onB->events().isEmpty(), 10000);
    const int rounds = 40;
    for (int i = 0; i < rounds; ++i) {
        pipeline({{"PUBLISH", ChannelOf[i % 3], pythonEnvelope(TypeOf[i % 3], 1000 + i)}});
        QVERIFY(!publish(i % 2 ? *a : *b, i).isEmpty());
    }
    QTRY_COMPARE_WITH_TIMEOUT(seen(*onA).size(), 2 * rounds, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(seen(*onB).size(), 2 * rounds, 20000);
    const QList<Seen> fromA = seen(*onA), fromB = seen(*onB);
    for (int i = 0; i < fromA.size(); ++i) {
        QCOMPARE(fromB[i].id, fromA[i].id);
        QCOMPARE(fromB[i].n, fromA[i].n);
        if (i > 0)
            QVERIFY(*EventId::parse(fromA[i - 1].id) < *EventId::parse(fromA[i].id));
    }
}

void tst_RedisBroker::flushedRedisStartsANewEpoch()
{
    auto a = startNode();
    QVERIFY(a);
    auto client = open(*a);
    QTRY_VERIFY_WITH_TIMEOUT(!client->events().isEmpty(), 10000);
    const QByteArray before = publish(*a, 1);
    QVERIFY(!before.isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*client), QList<int>{1}, 10000);
    QCOMPARE(m_redis->cli({QStringLiteral("FLUSHALL")}), QByteArray("OK"));
    const QByteArray after = publish(*a, 2);
    QVERIFY(!after.isEmpty());
    QVERIFY(EventId::parse(after)->epoch() != EventId::parse(before)->epoch());
    // The stream is told its history is gone, then goes on in the new epoch.
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*client), (QList<int>{1, 2}), 10000);
    QVERIFY(sawResync(*client));
    QCOMPARE(client->nonHeartbeatEvents().last().lastEventId.toUtf8(), after);
    // An id of the old epoch can no longer be served.
    auto old = open(*a, "/api/v1/events/stream", before);
    QTRY_COMPARE_WITH_TIMEOUT(old->nonHeartbeatEvents().size(), 2, 10000);
    const QJsonObject r = json(old->nonHeartbeatEvents()[1].data);
    QCOMPARE(r.value(QStringLiteral("data")).toObject().value(QStringLiteral("reason")).toString(),
             QStringLiteral("unknown_history"));
}

void tst_RedisBroker::streamsTrimmedPastAGapMeanResync()
{
    // Node A misses more events than the streams keep: its clients cannot be given what they
    // missed, so they are told to resync instead of silently skipping ahead.
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_REDIS_STREAM_LENGTH"), QStringLiteral("100"));
    auto a = startNode(env);
    auto b = startNode(env);
    QVERIFY(a && b);
    auto client = open(*a);
    QTRY_VERIFY_WITH_TIMEOUT(!client->events().isEmpty(), 10000);
    ::kill(pid_t(a->process().processId()), SIGSTOP);
    m_redis->cli({QStringLiteral("CLIENT"), QStringLiteral("KILL"), QStringLiteral("TYPE"), QStringLiteral("pubsub")});
    QTRY_VERIFY_WITH_TIMEOUT(m_redis->cli({QStringLiteral("PUBSUB"), QStringLiteral("NUMSUB"),
                                           QStringLiteral("queue:updates")}).endsWith("1"), 10000);
    QList<QList<QByteArray>> commands;
    for (int i = 0; i < 400; ++i) // one channel, trimmed well past what A delivered
        commands.append({"PUBLISH", "system:notifications", pythonEnvelope("system_notification", i)});
    pipeline(commands);
    QTRY_VERIFY_WITH_TIMEOUT(m_redis->cli({QStringLiteral("XLEN"), QStringLiteral("hermes:stream:system:notifications")}).toInt() >= 400
                             || m_redis->cli({QStringLiteral("GET"), QStringLiteral("hermes:seq")}).size() > 0, 10000);
    ::kill(pid_t(a->process().processId()), SIGCONT);
    QTRY_VERIFY_WITH_TIMEOUT(sawResync(*client), 20000);
    QVERIFY(!client->isClosed());
    // And it goes on live.
    QVERIFY(!publish(*b, 7).isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(numbers(*client).contains(7), 10000);
}

void tst_RedisBroker::streamsOpenedWhileRedisIsDownGoLiveWithIt()
{
    // A node that starts while Redis is away holds its streams (headers sent, then only
    // comments) until the history is there; only then does `connected` promise a place in the
    // order. A fresh one then goes live from there; a resuming one is served or told to
    // resync. One that waits longer than the bound ends cleanly with a retry hint, before
    // `connected`: nothing was promised, the client comes back.
    m_redis->kill();
    // Attempts at most a second apart: the history then arrives within the streams' bound
    // however the backoff's jitter fell (at the default cap the next attempt may be 8 s off).
    QProcessEnvironment quick;
    quick.insert(QStringLiteral("HERMES_REDIS_RECONNECT_MAX"), QStringLiteral("1000"));
    auto a = startNode(quick);
    QVERIFY(a);
    auto fresh = open(*a);
    auto resuming = open(*a, "/api/v1/events/stream", "k3x9q2-1-0");
    QTRY_COMPARE_WITH_TIMEOUT(fresh->status(), 200, 10000);
    QTest::qWait(4000); // longer than a resume waits for an id, shorter than for a history
    QVERIFY(fresh->events().isEmpty() && resuming->events().isEmpty());
    QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString()));
    QTRY_COMPARE_WITH_TIMEOUT(brokerStatus(*a), QStringLiteral("up"), 20000);
    QTRY_VERIFY_WITH_TIMEOUT(!fresh->events().isEmpty() && resuming->nonHeartbeatEvents().size() >= 2, 10000);
    QCOMPARE(json(fresh->events().first().data).value(QStringLiteral("type")).toString(), QStringLiteral("connected"));
    QCOMPARE(json(resuming->nonHeartbeatEvents()[1].data).value(QStringLiteral("data")).toObject()
                 .value(QStringLiteral("reason")).toString(), QStringLiteral("unknown_history"));
    QVERIFY(!publish(*a, 1).isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*fresh), QList<int>{1}, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*resuming), QList<int>{1}, 10000);
    QCOMPARE(fresh->nonHeartbeatEvents().size(), 2); // connected, then the event: nothing else

    // Redis away for longer than a stream waits.
    m_redis->kill();
    auto b = startNode();
    QVERIFY(b);
    auto late = open(*b);
    QTRY_VERIFY_WITH_TIMEOUT(late->isClosed(), 20000);
    QCOMPARE(late->status(), 200);
    QVERIFY(late->events().isEmpty()); // no `connected`: nothing promised
    QVERIFY(!late->retries().isEmpty()); // come back later
}

void tst_RedisBroker::redisBackInTimeMeansResync()
{
    // Redis restarted from an older snapshot (RDB persistence after a crash, a promoted
    // replica, a restored backup) in the same epoch: events a node delivered are gone. The
    // node notices on its reconnect and starts a new epoch, so nobody resumes into the gap.
    auto a = startNode();
    QVERIFY(a);
    auto client = open(*a);
    QTRY_VERIFY_WITH_TIMEOUT(!client->events().isEmpty(), 10000);
    const QList<QByteArray> ids = publishAroundASnapshot(*a);
    QCOMPARE(ids.size(), 5);
    QVERIFY(!ids.contains(QByteArray()));
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*client), (QList<int>{1, 2, 3, 4, 5}), 10000);
    m_redis->kill();
    QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString())); // loads the snapshot
    QTRY_COMPARE_WITH_TIMEOUT(brokerStatus(*a), QStringLiteral("up"), 20000);
    const QByteArray after = publish(*a, 6);
    QVERIFY(!after.isEmpty());
    QVERIFY(EventId::parse(after)->epoch() != EventId::parse(ids[0])->epoch());
    QTRY_VERIFY_WITH_TIMEOUT(numbers(*client).contains(6), 10000);
    QVERIFY(sawResync(*client));
    // A node started afterwards does not serve the lost range either.
    auto b = startNode();
    QVERIFY(b);
    auto late = open(*b, "/api/v1/events/stream", ids[1]);
    QTRY_COMPARE_WITH_TIMEOUT(late->nonHeartbeatEvents().size(), 2, 10000);
    QCOMPARE(json(late->nonHeartbeatEvents()[1].data).value(QStringLiteral("type")).toString(),
             QStringLiteral("resync_required"));
}

void tst_RedisBroker::restoreWithNoNodeRunningMeansResync()
{
    // The same loss while no node runs: nobody knows what was delivered, and the restored
    // Redis goes on in the same epoch. A client that resumes from a lost id must still not
    // be given what follows it as if nothing was missing: once new events pass the lost
    // ids, the history holds every event around its id and none has it.
    auto a = startNode();
    QVERIFY(a);
    // A node answers before it has reached Redis, and refuses publishes until then.
    QTRY_COMPARE_WITH_TIMEOUT(brokerStatus(*a), QStringLiteral("up"), 20000);
    const QList<QByteArray> ids = publishAroundASnapshot(*a);
    QCOMPARE(ids.size(), 5);
    QVERIFY(!ids.contains(QByteArray()));
    a.reset();
    m_redis->kill();
    QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString())); // loads the snapshot: 1, 2
    auto b = startNode();
    QVERIFY(b);
    QTRY_COMPARE_WITH_TIMEOUT(brokerStatus(*b), QStringLiteral("up"), 20000);
    for (int i = 6; i <= 8; ++i) {
        const QByteArray id = publish(*b, i);
        QVERIFY(!id.isEmpty());
        QCOMPARE(EventId::parse(id)->epoch(), EventId::parse(ids[0])->epoch()); // nobody could tell
    }
    // From a kept id: exactly what follows. From a lost one: resync, never 6-8 as if whole.
    auto kept = open(*b, "/api/v1/events/stream", ids[0]);
    QTRY_COMPARE_WITH_TIMEOUT(numbers(*kept), (QList<int>{2, 6, 7, 8}), 10000);
    QVERIFY(!sawResync(*kept));
    for (int lost : {2, 4}) {
        auto client = open(*b, "/api/v1/events/stream", ids[lost]);
        QTRY_COMPARE_WITH_TIMEOUT(client->nonHeartbeatEvents().size(), 2, 10000);
        const QJsonObject resync = json(client->nonHeartbeatEvents()[1].data);
        QCOMPARE(resync.value(QStringLiteral("type")).toString(), QStringLiteral("resync_required"));
        QVERIFY2(client->nonHeartbeatEvents()[1].data.contains(QStringLiteral("unknown_event_id")),
                 qPrintable(client->nonHeartbeatEvents()[1].data));
        QTest::qWait(200);
        QVERIFY(numbers(*client).isEmpty());
    }
}

QTEST_MAIN(tst_RedisBroker)
#include "tst_redisbroker.moc"
