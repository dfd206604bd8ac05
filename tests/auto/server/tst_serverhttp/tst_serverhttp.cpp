// The HTTP surface of the real hermes-server binary: health, metrics, auth (keys and stream
// tokens), CORS, publishing validation, configuration errors.

#include "serverprocess.h"
#include "sseclient.h"
#include "eventid.h"
#include "http/streamtokens.h"
#include "testutil.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <memory>

using namespace Hermes;
using namespace Hermes::Test;

static const QByteArray AuthHeader = QByteArray("Bearer ") + ServerProcess::ApiKey;
static const char *TokenSecret = "test-token-secret";

static QJsonObject json(const QByteArray &body)
{
    return QJsonDocument::fromJson(body).object();
}

static QString errorCode(const HttpReply &reply)
{
    return json(reply.body).value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString();
}

class tst_ServerHttp : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void health();
    void metricsInPrometheusFormat();
    void unknownPathAndMethod();
    void streamAuth_data();
    void streamAuth();
    void tokenMinting_data();
    void tokenMinting();
    void tokenScopes_data();
    void tokenScopes();
    void expiredAndForeignTokens();
    void cors();
    void publishValidation_data();
    void publishValidation();
    void secretsNeverLogged();
    void generatedKeyFileIsPrivate();
    void invalidConfigurationIsAClearError_data();
    void invalidConfigurationIsAClearError();
    void sseDisabled();

private:
    HttpReply get(const QByteArray &path, const QList<QPair<QByteArray, QByteArray>> &headers = {})
    {
        return httpRequest(m_server.port(), "GET", path, headers);
    }
    HttpReply post(const QByteArray &path, const QByteArray &body, bool auth = true)
    {
        QList<QPair<QByteArray, QByteArray>> headers{{"Content-Type", "application/json"}};
        if (auth)
            headers.append({"Authorization", AuthHeader});
        return httpRequest(m_server.port(), "POST", path, headers, body);
    }
    QByteArray mint(const QByteArray &scope)
    {
        const HttpReply r = post("/api/v1/events/token", "{\"scope\":\"" + scope + "\"}");
        return json(r.body).value(QStringLiteral("token")).toString().toUtf8();
    }
    /// Opens a stream and returns its status (200 when it streams), closing it after.
    int streamStatus(const QByteArray &path, const QList<QPair<QByteArray, QByteArray>> &headers = {})
    {
        SseClient client;
        client.open(m_server.port(), path, headers);
        if (!QTest::qWaitFor([&] { return client.status() != 0 || client.isClosed(); }, 10000))
            return 0;
        return client.status();
    }

    ServerProcess m_server;
};

void tst_ServerHttp::initTestCase()
{
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_ALLOWED_ORIGINS"), QStringLiteral("https://app.example"));
    env.insert(QStringLiteral("HERMES_TOKEN_SECRET"), QString::fromLatin1(TokenSecret));
    env.insert(QStringLiteral("HERMES_SSE_HEARTBEAT_INTERVAL"), QStringLiteral("7"));
    QVERIFY2(m_server.start(env), qPrintable(m_server.errorString()));
}

void tst_ServerHttp::cleanupTestCase()
{
    QCOMPARE(m_server.terminate(), 0);
}

void tst_ServerHttp::health()
{
    const HttpReply r = get("/api/v1/events/health");
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("content-type"), QByteArray("application/json"));
    const QJsonObject h = json(r.body);
    QCOMPARE(h.value(QStringLiteral("enabled")).toBool(), true);
    QCOMPARE(h.value(QStringLiteral("active_connections")).toInt(-1), 0);
    QCOMPARE(h.value(QStringLiteral("max_connections")).toInt(), 1000);
    QCOMPARE(h.value(QStringLiteral("heartbeat_interval")).toInt(), 7);
    QCOMPARE(h.value(QStringLiteral("broker")).toObject().value(QStringLiteral("type")).toString(),
             QStringLiteral("memory"));
    QCOMPARE(h.value(QStringLiteral("broker")).toObject().value(QStringLiteral("status")).toString(),
             QStringLiteral("up"));
    QVERIFY(h.value(QStringLiteral("uptime_seconds")).isDouble());

    // Streams count while they are open.
    SseClient client;
    client.open(m_server.port(), "/api/v1/events/stream", {{"Authorization", AuthHeader}});
    QTRY_VERIFY_WITH_TIMEOUT(!client.events().isEmpty(), 10000);
    QCOMPARE(json(get("/api/v1/events/health").body).value(QStringLiteral("active_connections")).toInt(), 1);
    client.close();
    QTRY_COMPARE_WITH_TIMEOUT(json(get("/api/v1/events/health").body)
                                  .value(QStringLiteral("active_connections")).toInt(-1), 0, 10000);
}

void tst_ServerHttp::metricsInPrometheusFormat()
{
    QVERIFY(post("/api/v1/events/publish",
                 R"({"channel":"queue:updates","type":"queue_update","data":{"action":"added"}})")
                .status == 202);
    const HttpReply r = get("/metrics", {{"Authorization", AuthHeader}});
    QCOMPARE(r.status, 200);
    QVERIFY(r.header("content-type").startsWith("text/plain; version=0.0.4"));
    for (const char *line : {"# TYPE hermes_sse_active_connections gauge",
                             "hermes_events_published_total{channel=\"queue:updates\"} ",
                             "hermes_events_delivered_total{channel=\"download:updates\"} ",
                             "hermes_sse_connections_rejected_total{reason=\"max_connections\"} ",
                             "hermes_sse_connections_dropped_total{reason=\"slow_client\"} ",
                             "hermes_sse_sent_bytes_total ", "hermes_broker_up{broker=\"memory\"} 1"}) {
        QVERIFY2(r.body.contains(line), line);
    }
    // Every sample line is "name{labels} value" or "name value".
    for (const QByteArray &line : r.body.split('\n')) {
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        bool ok = false;
        const double value = line.mid(line.lastIndexOf(' ') + 1).toDouble(&ok); // sums and seconds are fractional
        QVERIFY2(ok && value >= 0, line.constData());
    }
}

void tst_ServerHttp::unknownPathAndMethod()
{
    const HttpReply missing = get("/api/v1/nothing");
    QCOMPARE(missing.status, 404);
    QCOMPARE(errorCode(missing), QStringLiteral("not_found"));
    const HttpReply wrongMethod = httpRequest(m_server.port(), "DELETE", "/api/v1/events/stream");
    QCOMPARE(wrongMethod.status, 405);
    QVERIFY(wrongMethod.header("allow").contains("GET"));
    QCOMPARE(errorCode(wrongMethod), QStringLiteral("method_not_allowed"));
}

void tst_ServerHttp::streamAuth_data()
{
    QTest::addColumn<QByteArray>("authorization");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::newRow("no header") << QByteArray() << 401 << "unauthorized";
    QTest::newRow("wrong key") << QByteArray("Bearer wrong") << 401 << "invalid_token";
    QTest::newRow("key prefix") << QByteArray("Bearer test-ke") << 401 << "invalid_token";
    QTest::newRow("basic scheme") << QByteArray("Basic dGVzdC1rZXk=") << 401 << "invalid_token";
    QTest::newRow("right key") << AuthHeader << 200 << "";
    QTest::newRow("lower-case scheme") << QByteArray("bearer test-key") << 200 << "";
}

void tst_ServerHttp::streamAuth()
{
    QFETCH(QByteArray, authorization);
    QFETCH(int, status);
    QFETCH(QString, code);
    QList<QPair<QByteArray, QByteArray>> headers;
    if (!authorization.isEmpty())
        headers.append({"Authorization", authorization});
    if (status == 200) {
        QCOMPARE(streamStatus("/api/v1/events/stream", headers), 200);
        return;
    }
    const HttpReply r = get("/api/v1/events/stream", headers);
    QCOMPARE(r.status, status);
    QVERIFY(r.header("www-authenticate").startsWith("Bearer"));
    QCOMPARE(errorCode(r), code);
    QVERIFY(!json(r.body).value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().isEmpty());
}

void tst_ServerHttp::tokenMinting_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("auth");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::newRow("stream default ttl") << QByteArray(R"({"scope":"stream"})") << true << 200 << "";
    QTest::newRow("download scope") << QByteArray(R"({"scope":"download:abc-1","ttl":60})") << true << 200 << "";
    QTest::newRow("max ttl") << QByteArray(R"({"scope":"queue","ttl":3600})") << true << 200 << "";
    QTest::newRow("ttl too small") << QByteArray(R"({"scope":"queue","ttl":59})") << true << 422 << "invalid_ttl";
    QTest::newRow("ttl too large") << QByteArray(R"({"scope":"queue","ttl":3601})") << true << 422 << "invalid_ttl";
    QTest::newRow("ttl not a number") << QByteArray(R"({"scope":"queue","ttl":"300"})") << true << 422 << "invalid_ttl";
    QTest::newRow("ttl fraction") << QByteArray(R"({"scope":"queue","ttl":100.5})") << true << 422 << "invalid_ttl";
    QTest::newRow("bad scope") << QByteArray(R"({"scope":"everything"})") << true << 400 << "invalid_scope";
    QTest::newRow("empty download id") << QByteArray(R"({"scope":"download:"})") << true << 400 << "invalid_scope";
    QTest::newRow("missing scope") << QByteArray(R"({"ttl":300})") << true << 400 << "invalid_scope";
    QTest::newRow("not json") << QByteArray("scope=stream") << true << 400 << "invalid_json";
    QTest::newRow("no key") << QByteArray(R"({"scope":"stream"})") << false << 401 << "unauthorized";
}

void tst_ServerHttp::tokenMinting()
{
    QFETCH(QByteArray, body);
    QFETCH(bool, auth);
    QFETCH(int, status);
    QFETCH(QString, code);
    const HttpReply r = post("/api/v1/events/token", body, auth);
    QCOMPARE(r.status, status);
    if (status != 200) {
        QCOMPARE(errorCode(r), code);
        return;
    }
    const QJsonObject t = json(r.body);
    QVERIFY(t.value(QStringLiteral("token")).toString().startsWith(u"sse_"));
    const int ttl = t.value(QStringLiteral("ttl")).toInt();
    const QJsonObject request = json(body);
    QCOMPARE(ttl, request.value(QStringLiteral("ttl")).toInt(300));
    QCOMPARE(t.value(QStringLiteral("scope")).toString(), request.value(QStringLiteral("scope")).toString());
    const QDateTime expires = QDateTime::fromString(t.value(QStringLiteral("expiresAt")).toString(), Qt::ISODate);
    QVERIFY(expires.isValid());
    const qint64 inSecs = QDateTime::currentDateTimeUtc().secsTo(expires);
    QVERIFY2(inSecs > ttl - 30 && inSecs <= ttl, qPrintable(QString::number(inSecs)));
}

void tst_ServerHttp::tokenScopes_data()
{
    QTest::addColumn<QByteArray>("scope");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<int>("status");
    QTest::newRow("stream on stream") << QByteArray("stream") << QByteArray("/api/v1/events/stream") << 200;
    QTest::newRow("stream on queue") << QByteArray("stream") << QByteArray("/api/v1/events/queue") << 200;
    QTest::newRow("stream on download") << QByteArray("stream") << QByteArray("/api/v1/events/downloads/x") << 200;
    QTest::newRow("queue on queue") << QByteArray("queue") << QByteArray("/api/v1/events/queue") << 200;
    QTest::newRow("queue on stream") << QByteArray("queue") << QByteArray("/api/v1/events/stream") << 403;
    QTest::newRow("queue on queue channel") << QByteArray("queue") << QByteArray("/api/v1/events/stream?channels=queue") << 200;
    QTest::newRow("system on system channel") << QByteArray("system") << QByteArray("/api/v1/events/stream?channels=system") << 200;
    QTest::newRow("system on all") << QByteArray("system") << QByteArray("/api/v1/events/stream?channels=system,queue") << 403;
    QTest::newRow("download on it") << QByteArray("download:x") << QByteArray("/api/v1/events/downloads/x") << 200;
    QTest::newRow("download on another") << QByteArray("download:x") << QByteArray("/api/v1/events/downloads/y") << 403;
    QTest::newRow("download on queue") << QByteArray("download:x") << QByteArray("/api/v1/events/queue") << 403;
}

void tst_ServerHttp::tokenScopes()
{
    QFETCH(QByteArray, scope);
    QFETCH(QByteArray, path);
    QFETCH(int, status);
    const QByteArray token = mint(scope);
    QVERIFY(!token.isEmpty());
    const QByteArray url = path + (path.contains('?') ? "&token=" : "?token=") + token;
    if (status == 200) {
        QCOMPARE(streamStatus(url), 200);
    } else {
        const HttpReply r = get(url);
        QCOMPARE(r.status, status);
        QCOMPARE(errorCode(r), QStringLiteral("insufficient_scope"));
    }
}

void tst_ServerHttp::expiredAndForeignTokens()
{
    // Signed with the server's secret but already expired.
    const StreamTokenService sameSecret(TokenSecret);
    const QByteArray expired = sameSecret.mint({TokenScope::Kind::Stream, {}}, -5).token;
    HttpReply r = get("/api/v1/events/stream?token=" + expired);
    QCOMPARE(r.status, 401);
    QVERIFY(json(r.body).value(QStringLiteral("error")).toObject().value(QStringLiteral("message"))
                .toString().contains(u"expired"));
    // The same secret mints tokens this server honours (the restart/multi-node property),
    // for a key it has configured.
    QCOMPARE(streamStatus("/api/v1/events/stream?token="
                          + sameSecret.mint({TokenScope::Kind::Stream, {}}, 60,
                                            sameSecret.ownerOfKey(ServerProcess::ApiKey)).token),
             200);
    // Not for a key it does not have, nor without a key (revocation: tst_revocation).
    for (const QByteArray &owner : {sameSecret.ownerOfKey("not-configured"), QByteArray()}) {
        r = get("/api/v1/events/stream?token=" + sameSecret.mint({TokenScope::Kind::Stream, {}}, 60, owner).token);
        QCOMPARE(r.status, 401);
        QCOMPARE(errorCode(r), QStringLiteral("invalid_token"));
    }
    // Another secret's token, a tampered one, and garbage.
    const StreamTokenService otherSecret("another secret");
    const QByteArray foreign = otherSecret.mint({TokenScope::Kind::Stream, {}}, 60).token;
    QByteArray tampered = mint("download:x");
    tampered[6] = tampered[6] == 'A' ? 'B' : 'A';
    for (const QByteArray &token : {foreign, tampered, QByteArray("sse_garbage"), QByteArray("x")}) {
        r = get("/api/v1/events/stream?token=" + token);
        QCOMPARE(r.status, 401);
        QCOMPARE(errorCode(r), QStringLiteral("invalid_token"));
    }
}

void tst_ServerHttp::cors()
{
    const QList<QPair<QByteArray, QByteArray>> allowed{{"Origin", "https://app.example"}};
    const QList<QPair<QByteArray, QByteArray>> other{{"Origin", "https://evil.example"}};

    HttpReply r = get("/api/v1/events/health", allowed);
    QCOMPARE(r.header("access-control-allow-origin"), QByteArray("https://app.example"));
    QVERIFY(r.header("vary").contains("Origin"));
    r = get("/api/v1/events/health", other);
    QVERIFY(r.header("access-control-allow-origin").isEmpty());

    auto preflight = [&](const QList<QPair<QByteArray, QByteArray>> &origin) {
        auto headers = origin;
        headers += {{"Access-Control-Request-Method", "GET"},
                    {"Access-Control-Request-Headers", "authorization,last-event-id"}};
        return httpRequest(m_server.port(), "OPTIONS", "/api/v1/events/stream", headers);
    };
    r = preflight(allowed);
    QCOMPARE(r.status, 204);
    QCOMPARE(r.header("access-control-allow-origin"), QByteArray("https://app.example"));
    QVERIFY(r.header("access-control-allow-methods").contains("GET"));
    QVERIFY(r.header("access-control-allow-headers").toLower().contains("authorization"));
    QVERIFY(r.header("access-control-allow-headers").toLower().contains("last-event-id"));
    r = preflight(other);
    QVERIFY(r.header("access-control-allow-origin").isEmpty());
    QVERIFY(r.header("access-control-allow-methods").isEmpty());

    // Errors carry CORS headers too, or the browser hides the JSON body from the app.
    r = get("/api/v1/events/stream", allowed);
    QCOMPARE(r.status, 401);
    QCOMPARE(r.header("access-control-allow-origin"), QByteArray("https://app.example"));
    // And so does the stream itself.
    SseClient client;
    client.open(m_server.port(), "/api/v1/events/stream",
                {{"Authorization", AuthHeader}, {"Origin", "https://app.example"}});
    QTRY_COMPARE_WITH_TIMEOUT(client.status(), 200, 10000);
    QCOMPARE(client.header("access-control-allow-origin"), QByteArray("https://app.example"));
}

void tst_ServerHttp::publishValidation_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::newRow("ok") << QByteArray(R"({"channel":"system:notifications","type":"system_notification","data":{"message":"hi"}})") << 202 << "";
    QTest::newRow("unknown channel") << QByteArray(R"({"channel":"other","type":"t","data":{}})") << 400 << "invalid_channel";
    QTest::newRow("missing channel") << QByteArray(R"({"type":"t","data":{}})") << 400 << "invalid_channel";
    QTest::newRow("missing type") << QByteArray(R"({"channel":"queue:updates","data":{}})") << 400 << "invalid_type";
    QTest::newRow("type with newline") << QByteArray(R"({"channel":"queue:updates","type":"a\nb","data":{}})") << 400 << "invalid_type";
    QTest::newRow("data not object") << QByteArray(R"({"channel":"queue:updates","type":"t","data":[1]})") << 400 << "invalid_data";
    QTest::newRow("bad json") << QByteArray(R"({"channel":)") << 400 << "invalid_json";
    QTest::newRow("array body") << QByteArray("[]") << 400 << "invalid_json";
    QByteArray big = R"({"channel":"queue:updates","type":"t","data":{"pad":")" + QByteArray(70000, 'x') + "\"}}";
    QTest::newRow("too large") << big << 413 << "payload_too_large";
}

void tst_ServerHttp::publishValidation()
{
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(QString, code);
    const HttpReply r = post("/api/v1/events/publish", body);
    QCOMPARE(r.status, status);
    if (status == 202) {
        QVERIFY(EventId::parse(json(r.body).value(QStringLiteral("id")).toString().toUtf8()).has_value());
        return;
    }
    QCOMPARE(r.header("content-type"), QByteArray("application/json"));
    QCOMPARE(errorCode(r), code);
    QVERIFY(!json(r.body).value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().isEmpty());
    // Refused without a key too (a body above the limit is refused before the key is checked).
    QCOMPARE(post("/api/v1/events/publish", body, false).status, status == 413 ? 413 : 401);
}

void tst_ServerHttp::secretsNeverLogged()
{
    const QByteArray token = mint("stream");
    QCOMPARE(streamStatus("/api/v1/events/stream?token=" + token), 200);
    get("/api/v1/events/stream", {{"Authorization", "Bearer some-wrong-key"}});
    QTest::qWait(200);
    QVERIFY(!m_server.output().contains(token));
    QVERIFY(!m_server.output().contains(ServerProcess::ApiKey));
    QVERIFY(!m_server.output().contains("some-wrong-key"));
    QVERIFY(!m_server.output().contains(TokenSecret));
}

void tst_ServerHttp::generatedKeyFileIsPrivate()
{
    // No key configured: the server generates one into its data dir, mode 0600, and uses it.
    ServerProcess fresh;
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_API_KEY_FILE"), QString()); // present but empty: none
    QVERIFY2(fresh.start(env), qPrintable(fresh.errorString()));
    QFile keyFile(fresh.dataDir() + QStringLiteral("/api-key"));
    QVERIFY(keyFile.exists());
    QCOMPARE(keyFile.permissions() & ~(QFile::ReadUser | QFile::WriteUser | QFile::ReadOwner | QFile::WriteOwner),
             QFile::Permissions());
    QVERIFY(keyFile.open(QIODevice::ReadOnly));
    const QByteArray key = keyFile.readAll().trimmed();
    QVERIFY(key.size() >= 32);
    QVERIFY(!fresh.output().contains(key));
    QCOMPARE(httpRequest(fresh.port(), "POST", "/api/v1/events/token",
                         {{"Authorization", "Bearer " + key}}, R"({"scope":"stream"})").status, 200);
    QCOMPARE(httpRequest(fresh.port(), "POST", "/api/v1/events/token",
                         {{"Authorization", AuthHeader}}, R"({"scope":"stream"})").status, 401);
    QCOMPARE(fresh.terminate(), 0);
}

void tst_ServerHttp::invalidConfigurationIsAClearError_data()
{
    QTest::addColumn<QString>("variable");
    QTest::addColumn<QString>("value");
    QTest::newRow("port") << "HERMES_PORT" << "eighty";
    QTest::newRow("port range") << "HERMES_PORT" << "70000";
    QTest::newRow("heartbeat") << "HERMES_SSE_HEARTBEAT_INTERVAL" << "0";
    QTest::newRow("max connections") << "HERMES_SSE_MAX_CONNECTIONS" << "-1";
    QTest::newRow("enable") << "HERMES_ENABLE_SSE" << "maybe";
    QTest::newRow("style") << "HERMES_SSE_EVENT_STYLE" << "fancy";
    QTest::newRow("host") << "HERMES_HOST" << "not a host";
    QTest::newRow("key file") << "HERMES_API_KEY_FILE" << "/nonexistent/keys";
}

void tst_ServerHttp::invalidConfigurationIsAClearError()
{
    QFETCH(QString, variable);
    QFETCH(QString, value);
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HERMES_DATA_DIR"), m_server.dataDir());
    env.insert(QStringLiteral("HERMES_PORT"), QString::number(freePort()));
    env.insert(variable, value);
    process.setProcessEnvironment(env);
    process.start(QStringLiteral(HERMES_SERVER_BINARY), {});
    QVERIFY(process.waitForFinished(20000));
    QVERIFY(process.exitCode() != 0);
    const QByteArray err = process.readAllStandardError();
    QVERIFY2(err.contains(variable.toUtf8()), err.constData());
}

void tst_ServerHttp::sseDisabled()
{
    ServerProcess off;
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_ENABLE_SSE"), QStringLiteral("false"));
    QVERIFY2(off.start(env), qPrintable(off.errorString()));
    QCOMPARE(json(httpRequest(off.port(), "GET", "/api/v1/events/health").body)
                 .value(QStringLiteral("enabled")).toBool(true), false);
    const HttpReply r = httpRequest(off.port(), "GET", "/api/v1/events/stream", {{"Authorization", AuthHeader}});
    QCOMPARE(r.status, 503);
    QCOMPARE(errorCode(r), QStringLiteral("sse_disabled"));
    QCOMPARE(off.terminate(), 0);
}

QTEST_MAIN(tst_ServerHttp)
#include "tst_serverhttp.moc"
