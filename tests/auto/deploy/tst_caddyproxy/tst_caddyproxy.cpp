// The repository's Caddyfile with real Caddy in front of the real hermes-server: no buffering
// (each event arrives before the next is published), heartbeats, and a server restart survived
// by a reconnecting client with Last-Event-ID. Also what Caddy 2.6 does without
// flush_interval -1 (and with a long flush_interval): it flushes text/event-stream at once.
//
// Caddy is required: scripts/test.sh installs it, and a missing caddy fails the suite.

#include "eventstreamclient.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace Hermes;
using namespace Hermes::Test;

static const QByteArray Auth = QByteArray("Bearer ") + ServerProcess::ApiKey;

class tst_CaddyProxy : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();
    void caddyValidatesTheCaddyfile_data();
    void caddyValidatesTheCaddyfile();
    void eventsPassOneByOne_data();
    void eventsPassOneByOne();
    void heartbeatsPass();
    void serverRestartIsSurvivedWithLastEventId();
    void onlyTheApiIsProxied_data();
    void onlyTheApiIsProxied();

private:
    // The repository's Caddyfile, or a copy whose "flush_interval -1" became `flushDirective`.
    bool startCaddy(const QByteArray &flushDirective = "flush_interval -1");
    QProcessEnvironment caddyEnvironment() const;
    QString caddyfile(const QByteArray &flushDirective);

    std::unique_ptr<ServerProcess> m_server;
    QProcess m_caddy;
    QTemporaryDir m_home;
    quint16 m_proxyPort = 0;
};

void tst_CaddyProxy::initTestCase()
{
    QVERIFY(m_home.isValid());
    QProcess version;
    version.setProcessEnvironment(caddyEnvironment());
    version.start(QStringLiteral("caddy"), {QStringLiteral("version")});
    if (!version.waitForStarted(5000) || !version.waitForFinished(20000) || version.exitCode() != 0)
        QFAIL("caddy is not installed or does not run: apt-get install caddy (scripts/test.sh "
              "installs it). This suite needs the real Caddy and does not skip without it.");
    qInfo("caddy %s", version.readAllStandardOutput().trimmed().constData());
}

void tst_CaddyProxy::init()
{
    m_server = std::make_unique<ServerProcess>();
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_SSE_HEARTBEAT_INTERVAL"), QStringLiteral("1"));
    QVERIFY2(m_server->start(env), qPrintable(m_server->errorString()));
}

void tst_CaddyProxy::cleanup()
{
    if (m_caddy.state() != QProcess::NotRunning) {
        m_caddy.terminate();
        if (!m_caddy.waitForFinished(5000)) {
            m_caddy.kill();
            m_caddy.waitForFinished(5000);
        }
    }
    m_server.reset();
}

QProcessEnvironment tst_CaddyProxy::caddyEnvironment() const
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    // Caddy keeps state under HOME/XDG dirs: a private one, never the host's.
    env.insert(QStringLiteral("HOME"), m_home.path());
    env.insert(QStringLiteral("XDG_DATA_HOME"), m_home.path() + QStringLiteral("/data"));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_home.path() + QStringLiteral("/config"));
    env.insert(QStringLiteral("HERMES_CADDY_ADMIN"), QStringLiteral("off"));
    env.insert(QStringLiteral("HERMES_PROXY_ADDRESS"), QStringLiteral("http://127.0.0.1:%1").arg(m_proxyPort));
    if (m_server)
        env.insert(QStringLiteral("HERMES_UPSTREAMS"), QStringLiteral("127.0.0.1:%1").arg(m_server->port()));
    return env;
}

QString tst_CaddyProxy::caddyfile(const QByteArray &flushDirective)
{
    const QString original = QStringLiteral(HERMES_SOURCE_DIR "/Caddyfile");
    if (flushDirective == "flush_interval -1")
        return original;
    QFile in(original);
    if (!in.open(QIODevice::ReadOnly))
        return {};
    QByteArray text = in.readAll();
    // Only the directive line, not the comments that mention it.
    const qsizetype at = text.indexOf("\t\t\tflush_interval -1\n");
    if (at < 0)
        return {};
    text.replace(at, qstrlen("\t\t\tflush_interval -1\n"), "\t\t\t" + flushDirective + '\n');
    const QString path = m_home.filePath(QStringLiteral("Caddyfile.variant"));
    QFile out(path);
    if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate) || out.write(text) != text.size())
        return {};
    return path;
}

bool tst_CaddyProxy::startCaddy(const QByteArray &flushDirective)
{
    const QString config = caddyfile(flushDirective);
    if (config.isEmpty()) {
        qWarning("the Caddyfile has no \"flush_interval -1\" line to replace");
        return false;
    }
    m_proxyPort = freePort();
    m_caddy.setProcessEnvironment(caddyEnvironment());
    m_caddy.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_caddy.start(QStringLiteral("caddy"), {QStringLiteral("run"), QStringLiteral("--config"),
                                            config, QStringLiteral("--adapter"),
                                            QStringLiteral("caddyfile")});
    if (!m_caddy.waitForStarted(5000)) {
        qWarning() << "cannot start caddy (scripts/test.sh installs it):" << m_caddy.errorString();
        return false;
    }
    return QTest::qWaitFor([&] {
        return httpRequest(m_proxyPort, "GET", "/api/v1/events/health", {}, {}, 1000).status == 200;
    }, 20000);
}

void tst_CaddyProxy::caddyValidatesTheCaddyfile_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<QString>("upstreams");
    QTest::newRow("defaults") << QString() << QString();
    // validate binds nothing: any ports do.
    QTest::newRow("loopback, as the tests run it") << QStringLiteral("http://127.0.0.1:18080")
                                                   << QStringLiteral("127.0.0.1:18000");
    // What the README documents for production: TLS on a domain, two nodes. validate adapts
    // and provisions without starting anything, so no certificate is requested.
    QTest::newRow("domain, two nodes") << QStringLiteral("hermes.example.org")
                                       << QStringLiteral("127.0.0.1:8001 127.0.0.1:8002");
}

void tst_CaddyProxy::caddyValidatesTheCaddyfile()
{
    QFETCH(QString, address);
    QFETCH(QString, upstreams);
    QProcessEnvironment env = caddyEnvironment();
    env.remove(QStringLiteral("HERMES_PROXY_ADDRESS"));
    env.remove(QStringLiteral("HERMES_UPSTREAMS"));
    env.remove(QStringLiteral("HERMES_CADDY_ADMIN"));
    if (!address.isEmpty())
        env.insert(QStringLiteral("HERMES_PROXY_ADDRESS"), address);
    if (!upstreams.isEmpty())
        env.insert(QStringLiteral("HERMES_UPSTREAMS"), upstreams);
    QProcess validate;
    validate.setProcessEnvironment(env);
    validate.setProcessChannelMode(QProcess::MergedChannels);
    validate.start(QStringLiteral("caddy"), {QStringLiteral("validate"), QStringLiteral("--config"),
                                             caddyfile("flush_interval -1"), QStringLiteral("--adapter"),
                                             QStringLiteral("caddyfile")});
    QVERIFY2(validate.waitForStarted(5000), "caddy is not installed (scripts/test.sh installs it)");
    QVERIFY(validate.waitForFinished(30000));
    const QByteArray output = validate.readAll();
    QVERIFY2(validate.exitStatus() == QProcess::NormalExit && validate.exitCode() == 0, output.constData());
    QVERIFY2(output.contains("Valid configuration"), output.constData());
}

void tst_CaddyProxy::eventsPassOneByOne_data()
{
    QTest::addColumn<QByteArray>("flushDirective");
    QTest::newRow("flush_interval -1") << QByteArray("flush_interval -1");
    // What Caddy 2.6 does without the directive: it flushes text/event-stream responses (and
    // bodies of unknown length) at once anyway, so events still pass one by one. Even a long
    // explicit interval is overridden for that media type. The Caddyfile keeps the directive
    // to say what it needs instead of relying on that rule; these rows record the rule.
    QTest::newRow("without flush_interval") << QByteArray();
    QTest::newRow("flush_interval 30s") << QByteArray("flush_interval 30s");
}

void tst_CaddyProxy::eventsPassOneByOne()
{
    QFETCH(QByteArray, flushDirective);
    QVERIFY(startCaddy(flushDirective));
    SseClient client;
    client.open(m_proxyPort, "/api/v1/events/stream?channels=system", {{"Authorization", Auth}});
    QTRY_COMPARE_WITH_TIMEOUT(client.status(), 200, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(!client.events().isEmpty(), 10000);
    for (int k = 0; k < 5; ++k) {
        const QByteArray body = "{\"channel\":\"system:notifications\",\"type\":\"system_notification\","
                                "\"data\":{\"n\":" + QByteArray::number(k) + "}}";
        QCOMPARE(httpRequest(m_proxyPort, "POST", "/api/v1/events/publish",
                             {{"Authorization", Auth}, {"Content-Type", "application/json"}}, body).status, 202);
        // Event k must arrive before event k+1 is even published: nothing waits in a buffer.
        QTRY_COMPARE_WITH_TIMEOUT(client.nonHeartbeatEvents().size(), k + 2, 5000);
        const QJsonObject envelope = QJsonDocument::fromJson(client.nonHeartbeatEvents().last().data.toUtf8()).object();
        QCOMPARE(envelope.value(QStringLiteral("data")).toObject().value(QStringLiteral("n")).toInt(), k);
    }
}

void tst_CaddyProxy::heartbeatsPass()
{
    QVERIFY(startCaddy());
    SseClient client;
    client.open(m_proxyPort, "/api/v1/events/stream", {{"Authorization", Auth}});
    QTRY_VERIFY_WITH_TIMEOUT(client.events().size() > client.nonHeartbeatEvents().size(), 10000);
    QCOMPARE(client.header("x-accel-buffering"), QByteArray("no"));
}

void tst_CaddyProxy::serverRestartIsSurvivedWithLastEventId()
{
    QVERIFY(startCaddy());
    EventStreamClient client;
    client.setUrl(QUrl(QStringLiteral("http://127.0.0.1:%1/api/v1/events/stream").arg(m_proxyPort)));
    client.setApiKey(ServerProcess::ApiKey);
    client.backoff().setBaseMs(100);
    client.backoff().setCapMs(500);
    client.backoff().setMaxAttempts(50);
    QList<SseParser::Event> events;
    connect(&client, &EventStreamClient::eventReceived, this, [&](const SseParser::Event &e) {
        if (e.type != u"heartbeat")
            events.append(e);
    });
    client.open();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), EventStreamClient::State::Connected, 10000);
    QCOMPARE(httpRequest(m_server->port(), "POST", "/api/v1/events/publish",
                         {{"Authorization", Auth}},
                         "{\"channel\":\"queue:updates\",\"type\":\"queue_update\",\"data\":{}}").status, 202);
    QTRY_COMPARE_WITH_TIMEOUT(events.size(), 2, 10000);
    const QString lastId = client.lastEventId();
    QVERIFY(!lastId.isEmpty());

    const quint16 port = m_server->port();
    QCOMPARE(m_server->terminate(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), EventStreamClient::State::Reconnecting, 10000);
    // Caddy answers 502 while nobody listens; the client keeps trying.
    m_server = std::make_unique<ServerProcess>();
    m_server->setPort(port);
    QVERIFY2(m_server->start(), qPrintable(m_server->errorString()));
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), EventStreamClient::State::Connected, 20000);
    // The new process has no history before its start: it says so instead of guessing.
    QTRY_VERIFY_WITH_TIMEOUT([&] {
        for (const auto &e : events) {
            if (QJsonDocument::fromJson(e.data.toUtf8()).object().value(QStringLiteral("type")).toString()
                == u"resync_required")
                return true;
        }
        return false;
    }(), 10000);
    client.close();

    // The same by hand: a reconnect through Caddy with that Last-Event-ID is a 200 stream that
    // starts with connected, then resync_required (this process never had that id).
    SseClient raw;
    raw.open(m_proxyPort, "/api/v1/events/stream",
             {{"Authorization", Auth}, {"Last-Event-ID", lastId.toUtf8()}});
    QTRY_COMPARE_WITH_TIMEOUT(raw.status(), 200, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(raw.nonHeartbeatEvents().size() >= 2, 10000);
    const auto typeOf = [](const SseParser::Event &e) {
        return QJsonDocument::fromJson(e.data.toUtf8()).object().value(QStringLiteral("type")).toString();
    };
    QCOMPARE(typeOf(raw.nonHeartbeatEvents().at(0)), QStringLiteral("connected"));
    QCOMPARE(typeOf(raw.nonHeartbeatEvents().at(1)), QStringLiteral("resync_required"));
}

// /metrics (and anything outside /api/v1/) is not reachable through the proxy, however the
// path is spelled; the API is, and the server still knows its own /metrics.
void tst_CaddyProxy::onlyTheApiIsProxied_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<int>("status");
    QTest::newRow("metrics") << QByteArray("/metrics") << 404;
    QTest::newRow("metrics, slashes") << QByteArray("//metrics") << 404;
    QTest::newRow("metrics, case") << QByteArray("/Metrics") << 404;
    QTest::newRow("metrics, dot segments") << QByteArray("/api/v1/../../metrics") << 404;
    QTest::newRow("metrics, encoded dots") << QByteArray("/api/v1/%2e%2e/%2e%2e/metrics") << 404;
    QTest::newRow("health") << QByteArray("/api/v1/events/health") << 200;
    QTest::newRow("downloads API") << QByteArray("/api/v1/queue") << 200;
}

void tst_CaddyProxy::onlyTheApiIsProxied()
{
    QFETCH(QByteArray, path);
    QFETCH(int, status);
    QVERIFY(startCaddy());
    const HttpReply r = httpRequest(m_proxyPort, "GET", path, {{"Authorization", Auth}});
    QCOMPARE(r.status, status);
    if (status == 404)
        QVERIFY2(!r.body.contains("hermes_"), r.body.constData());
    QCOMPARE(httpRequest(m_server->port(), "GET", "/metrics", {{"Authorization", Auth}}).status, 200);
}

QTEST_MAIN(tst_CaddyProxy)
#include "tst_caddyproxy.moc"
