// /livez and /readyz of the real server: no credential, never cached; readiness follows the
// broker (a real Redis killed and restarted) while liveness does not; the seed's
// /api/v1/events/health keeps its shape and its 200.

#include "broker/memorybroker.h"
#include "downloads/databaseurl.h"
#include "downloads/downloadstore.h"
#include "http/healthroutes.h"
#include "http/httpserver.h"
#include "redisprocess.h"
#include "serverprocess.h"
#include "testutil.h"

#include <QTemporaryDir>
#include <QThread>

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Hermes::Test;

static QJsonObject json(const HttpReply &r)
{
    return QJsonDocument::fromJson(r.body).object();
}

class tst_HealthRoutes : public QObject
{
    Q_OBJECT

private slots:
    void probesWithTheEmbeddedBroker_data();
    void probesWithTheEmbeddedBroker();
    void readinessFollowsRedis();
    void readinessFollowsTheStore();
};

void tst_HealthRoutes::probesWithTheEmbeddedBroker_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QString>("status");
    QTest::newRow("live") << QByteArray("/livez") << "alive";
    QTest::newRow("ready") << QByteArray("/readyz") << "ready";
}

void tst_HealthRoutes::probesWithTheEmbeddedBroker()
{
    QFETCH(QByteArray, path);
    QFETCH(QString, status);
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    const HttpReply r = httpRequest(server.port(), "GET", path); // no Authorization
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("cache-control"), QByteArray("no-store"));
    QVERIFY(r.header("content-type").startsWith("application/json"));
    QCOMPARE(json(r).value(QStringLiteral("status")).toString(), status);
    if (path == "/readyz") {
        const QJsonObject checks = json(r).value(QStringLiteral("checks")).toObject();
        QCOMPARE(checks.value(QStringLiteral("broker")).toString(), QStringLiteral("up"));
        QCOMPARE(checks.value(QStringLiteral("database")).toString(), QStringLiteral("up"));
        QCOMPARE(checks.value(QStringLiteral("shutting_down")).toBool(true), false);
    }
    QCOMPARE(httpRequest(server.port(), "HEAD", path).status, 200);
    QCOMPARE(httpRequest(server.port(), "POST", path).status, 405);
}

void tst_HealthRoutes::readinessFollowsRedis()
{
    RedisProcess redis;
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    ServerProcess server;
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_REDIS_URL"), redis.url());
    QVERIFY2(server.start(env), qPrintable(server.errorString()));
    QTRY_COMPARE_WITH_TIMEOUT(httpRequest(server.port(), "GET", "/readyz").status, 200, 10000);

    redis.kill();
    QTRY_COMPARE_WITH_TIMEOUT(httpRequest(server.port(), "GET", "/readyz").status, 503, 10000);
    const HttpReply down = httpRequest(server.port(), "GET", "/readyz");
    QCOMPARE(json(down).value(QStringLiteral("checks")).toObject().value(QStringLiteral("broker")).toString(), QStringLiteral("down"));
    QCOMPARE(json(down).value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString(), QStringLiteral("not_ready"));
    QVERIFY2(json(down).value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(u"redis"), down.body.constData());
    QVERIFY(!down.header("retry-after").isEmpty());
    // Alive all the same: a supervisor must not restart a node because Redis is away.
    QCOMPARE(httpRequest(server.port(), "GET", "/livez").status, 200);
    // The seed's endpoint keeps answering 200 and says "degraded".
    const HttpReply seed = httpRequest(server.port(), "GET", "/api/v1/events/health");
    QCOMPARE(seed.status, 200);
    QCOMPARE(json(seed).value(QStringLiteral("status")).toString(), QStringLiteral("degraded"));
    for (const char *key : {"enabled", "active_connections", "max_connections", "heartbeat_interval", "broker", "uptime_seconds"})
        QVERIFY2(json(seed).contains(QLatin1StringView(key)), key);

    QVERIFY2(redis.start(), qPrintable(redis.errorString())); // same port
    QTRY_COMPARE_WITH_TIMEOUT(httpRequest(server.port(), "GET", "/readyz").status, 200, 20000);
    QCOMPARE(server.terminate(), 0);
}

// In-process (the SQLite store of the binary cannot be made to stop answering from outside):
// HealthRoutes over a store that is not open answers 503 "database down", and 200 once the
// store answers. The routes run on their own thread, as the test's HTTP client blocks.
void tst_HealthRoutes::readinessFollowsTheStore()
{
    struct Node
    {
        Hermes::MemoryBroker broker;
        Hermes::DownloadStore store;
        Hermes::HttpServer http;
        Hermes::HealthRoutes routes{&broker, &store};
    };
    QThread thread;
    QObject context;
    context.moveToThread(&thread);
    thread.start();
    Node *node = nullptr;
    quint16 port = 0;
    QMetaObject::invokeMethod(&context, [&] {
        node = new Node;
        node->routes.registerOn(&node->http);
        if (node->http.listenOn(QHostAddress(QHostAddress::LocalHost), 0))
            port = node->http.serverPort();
    }, Qt::BlockingQueuedConnection);
    QVERIFY(port != 0);

    const HttpReply down = httpRequest(port, "GET", "/readyz");
    QCOMPARE(down.status, 503);
    QCOMPARE(json(down).value(QStringLiteral("checks")).toObject().value(QStringLiteral("database")).toString(), QStringLiteral("down"));
    QCOMPARE(json(down).value(QStringLiteral("checks")).toObject().value(QStringLiteral("broker")).toString(), QStringLiteral("up"));
    QVERIFY2(json(down).value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(u"store"), down.body.constData());
    QCOMPARE(httpRequest(port, "GET", "/livez").status, 200);

    QTemporaryDir dir;
    bool opened = false;
    QMetaObject::invokeMethod(&context, [&] {
        const Hermes::Result<Hermes::DatabaseUrl> url =
            Hermes::DatabaseUrl::parse(QStringLiteral("sqlite://") + dir.filePath(QStringLiteral("hermes.db")), {});
        opened = url && node->store.open(*url);
    }, Qt::BlockingQueuedConnection);
    QVERIFY(opened);
    QCOMPARE(httpRequest(port, "GET", "/readyz").status, 200);

    QMetaObject::invokeMethod(&context, [&] { node->routes.setShuttingDown(); }, Qt::BlockingQueuedConnection);
    QCOMPARE(httpRequest(port, "GET", "/readyz").status, 503);

    QMetaObject::invokeMethod(&context, [&] { delete node; }, Qt::BlockingQueuedConnection);
    thread.quit();
    QVERIFY(thread.wait(10000));
}

QTEST_GUILESS_MAIN(tst_HealthRoutes)
#include "tst_healthroutes.moc"
