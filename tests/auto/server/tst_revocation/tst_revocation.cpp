// Revocation revokes (issue 24): the real hermes-server with a key file; a key removed from it
// and a SIGHUP end, at once, the streams opened with that key and with the stream tokens it
// minted, and refuse the key and its tokens from then on — while another key's stream goes on
// delivering. The metrics token follows a reload the same way.
//
// Measured before: after the reload REST answered 401, but the removed key's token (TTL
// 3,600 s) still opened new streams and its open streams kept delivering.

#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace Hermes::Test;

namespace {

QByteArray bearer(const QByteArray &key)
{
    return "Bearer " + key;
}

bool writeFile(const QString &path, const QByteArray &contents)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(contents) == contents.size();
}

QByteArray errorCode(const HttpReply &reply)
{
    return QJsonDocument::fromJson(reply.body).object().value(QStringLiteral("error")).toObject()
        .value(QStringLiteral("code")).toString().toUtf8();
}

} // namespace

class tst_Revocation : public QObject
{
    Q_OBJECT
private slots:
    void removedKeyEndsItsStreamsAndTokens();
    void metricsTokenFileIsReadAgainOnReload();
    void removingTheMetricsTokenDoesNotOpenItsListener();

private:
    HttpReply request(const QByteArray &method, const QByteArray &path, const QByteArray &key,
                      const QByteArray &body = {})
    {
        QList<QPair<QByteArray, QByteArray>> headers{{"Authorization", bearer(key)}};
        if (!body.isEmpty())
            headers.append(qMakePair(QByteArray("Content-Type"), QByteArray("application/json")));
        return httpRequest(m_port, method, path, headers, body);
    }
    QByteArray mint(const QByteArray &key)
    {
        const HttpReply r = request("POST", "/api/v1/events/token", key, R"({"scope":"stream","ttl":3600})");
        return QJsonDocument::fromJson(r.body).object().value(QStringLiteral("token")).toString().toUtf8();
    }
    quint16 m_port = 0;
};

void tst_Revocation::removedKeyEndsItsStreamsAndTokens()
{
    QTemporaryDir dir;
    const QString keyFile = dir.filePath(QStringLiteral("keys"));
    const QString configFile = dir.filePath(QStringLiteral("hermes.env"));
    // key-b is in the file only as its SHA-256: its owner must be found all the same.
    const QByteArray keyB = "key-b-5678";
    const QByteArray keyBLine = "sha256:" + QCryptographicHash::hash(keyB, QCryptographicHash::Sha256).toHex() + '\n';
    QVERIFY(writeFile(keyFile, "key-a-1234\n" + keyBLine));
    QVERIFY(writeFile(configFile, "HERMES_METRICS_TOKEN=metrics-old-token\n"));
    ServerProcess server;
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_API_KEY_FILE"), keyFile);
    QVERIFY2(server.start(env, {QStringLiteral("--config"), configFile}), qPrintable(server.errorString()));
    m_port = server.port();

    const QByteArray tokenA = mint("key-a-1234");
    const QByteArray tokenB = mint(keyB);
    QVERIFY(tokenA.startsWith("sse_") && tokenB.startsWith("sse_"));
    QCOMPARE(request("GET", "/metrics", "metrics-old-token").status, 200);

    SseClient byToken, byKey, otherKey, otherToken;
    byToken.open(m_port, "/api/v1/events/stream?token=" + tokenA);
    byKey.open(m_port, "/api/v1/events/stream", {{"Authorization", bearer("key-a-1234")}});
    otherKey.open(m_port, "/api/v1/events/stream", {{"Authorization", bearer(keyB)}});
    otherToken.open(m_port, "/api/v1/events/stream?token=" + tokenB);
    for (SseClient *c : {&byToken, &byKey, &otherKey, &otherToken})
        QTRY_VERIFY_WITH_TIMEOUT(!c->events().isEmpty(), 10000); // connected
    QCOMPARE(byToken.status(), 200);

    // key-a leaves the file; the metrics token changes.
    QVERIFY(writeFile(keyFile, keyBLine));
    QVERIFY(writeFile(configFile, "HERMES_METRICS_TOKEN=metrics-new-token\n"));
    QElapsedTimer sinceSighup;
    sinceSighup.start();
    ::kill(pid_t(server.process().processId()), SIGHUP);
    QTRY_VERIFY_WITH_TIMEOUT(byToken.isClosed() && byKey.isClosed(), 1500);
    const qint64 endedMs = sinceSighup.elapsed();
    qInfo() << "the removed key's two streams ended" << endedMs << "ms after SIGHUP";
    QVERIFY2(endedMs < 1500, qPrintable(QString::number(endedMs)));
    // A clean end: the retry hint, so an EventSource comes back (and meets the 401 below).
    QVERIFY(!byToken.retries().isEmpty());
    QVERIFY(!byKey.retries().isEmpty());

    // Nothing of key-a opens anything any more.
    HttpReply r = httpRequest(m_port, "GET", "/api/v1/events/stream?token=" + tokenA);
    QCOMPARE(r.status, 401);
    QCOMPARE(errorCode(r), QByteArray("invalid_token"));
    QCOMPARE(request("GET", "/api/v1/events/stream", "key-a-1234").status, 401);
    QCOMPARE(request("POST", "/api/v1/events/token", "key-a-1234", R"({"scope":"stream"})").status, 401);
    QCOMPARE(request("GET", "/api/v1/downloads", "key-a-1234").status, 401);
    // The old metrics token neither; the new one does.
    QCOMPARE(request("GET", "/metrics", "metrics-old-token").status, 401);
    r = request("GET", "/metrics", "metrics-new-token");
    QCOMPARE(r.status, 200);
    QVERIFY2(r.body.contains("hermes_sse_streams_ended_total{reason=\"revoked\"} 2"), r.body.constData());

    // key-b's streams (key and token) are untouched and deliver.
    QVERIFY(!otherKey.isClosed() && !otherToken.isClosed());
    QCOMPARE(request("POST", "/api/v1/events/publish", keyB,
                     R"({"channel":"system:notifications","type":"system_notification","data":{"message":"after revocation"}})")
                 .status,
             202);
    QTRY_VERIFY_WITH_TIMEOUT(otherKey.rawBody().contains("after revocation"), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(otherToken.rawBody().contains("after revocation"), 10000);
    QVERIFY(!byToken.rawBody().contains("after revocation"));

    // The key comes back: a token it minted before is good again until it expires (the
    // token names its key; nothing about it was stored).
    QVERIFY(writeFile(keyFile, "key-a-1234\n" + keyBLine));
    ::kill(pid_t(server.process().processId()), SIGHUP);
    QTRY_COMPARE_WITH_TIMEOUT(request("GET", "/api/v1/downloads", "key-a-1234").status, 200, 10000);
    SseClient again;
    again.open(m_port, "/api/v1/events/stream?token=" + tokenA);
    QTRY_VERIFY_WITH_TIMEOUT(!again.events().isEmpty(), 10000);
    QCOMPARE(again.status(), 200);
    QVERIFY(server.output().contains("ending the streams of 1 removed API key(s)"));
    QCOMPARE(server.terminate(), 0);
}

// HERMES_METRICS_TOKEN_FILE: the token from a file (not the environment); a SIGHUP reads the
// file again, and a new path in the config file is applied too, not logged as needing a restart.
void tst_Revocation::metricsTokenFileIsReadAgainOnReload()
{
    QTemporaryDir dir;
    const QString tokenFile = dir.filePath(QStringLiteral("metrics-token"));
    const QString otherFile = dir.filePath(QStringLiteral("metrics-token-2"));
    const QString configFile = dir.filePath(QStringLiteral("hermes.env"));
    QVERIFY(writeFile(tokenFile, "file-token-1\n"));
    QVERIFY(writeFile(configFile, "HERMES_METRICS_TOKEN_FILE=" + tokenFile.toUtf8() + '\n'));
    ServerProcess server;
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_API_KEYS"), QStringLiteral("key-a-1234"));
    QVERIFY2(server.start(env, {QStringLiteral("--config"), configFile}), qPrintable(server.errorString()));
    m_port = server.port();
    QCOMPARE(request("GET", "/metrics", "file-token-1").status, 200);
    QCOMPARE(request("GET", "/metrics", "file-token-2").status, 401);

    QVERIFY(writeFile(tokenFile, "file-token-2\n"));
    ::kill(pid_t(server.process().processId()), SIGHUP);
    QTRY_COMPARE_WITH_TIMEOUT(request("GET", "/metrics", "file-token-2").status, 200, 10000);
    QCOMPARE(request("GET", "/metrics", "file-token-1").status, 401);

    QVERIFY(writeFile(otherFile, "file-token-3\n"));
    QVERIFY(writeFile(configFile, "HERMES_METRICS_TOKEN_FILE=" + otherFile.toUtf8() + '\n'));
    ::kill(pid_t(server.process().processId()), SIGHUP);
    QTRY_COMPARE_WITH_TIMEOUT(request("GET", "/metrics", "file-token-3").status, 200, 10000);
    QCOMPARE(request("GET", "/metrics", "file-token-2").status, 401);
    QTRY_VERIFY_WITH_TIMEOUT(server.output().count("reloaded the settings") == 2, 5000);
    QVERIFY2(!server.output().contains("only after a restart"), server.output().constData());
    // The token is a secret: never in the log.
    QVERIFY(!server.output().contains("file-token-"));
    QCOMPARE(server.terminate(), 0);
}

// A separate metrics listener started with a token: a reload that removes the token revokes
// it, and the listener keeps asking for a credential (an API key) instead of opening to all.
void tst_Revocation::removingTheMetricsTokenDoesNotOpenItsListener()
{
    QTemporaryDir dir;
    const QString configFile = dir.filePath(QStringLiteral("hermes.env"));
    QVERIFY(writeFile(configFile, "HERMES_METRICS_TOKEN=metrics-only-token\n"));
    const quint16 metricsPort = freePort();
    ServerProcess server;
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_API_KEYS"), QStringLiteral("key-a-1234"));
    env.insert(QStringLiteral("HERMES_METRICS_ADDRESS"), QStringLiteral("127.0.0.1:%1").arg(metricsPort));
    QVERIFY2(server.start(env, {QStringLiteral("--config"), configFile}), qPrintable(server.errorString()));
    m_port = metricsPort;
    QTRY_COMPARE_WITH_TIMEOUT(request("GET", "/metrics", "metrics-only-token").status, 200, 10000);
    QCOMPARE(httpRequest(metricsPort, "GET", "/metrics").status, 401);

    QVERIFY(writeFile(configFile, "\n"));
    ::kill(pid_t(server.process().processId()), SIGHUP);
    QTRY_VERIFY_WITH_TIMEOUT(server.output().count("reloaded the settings") == 1, 10000);
    QCOMPARE(request("GET", "/metrics", "metrics-only-token").status, 401);
    QCOMPARE(httpRequest(metricsPort, "GET", "/metrics").status, 401);
    QCOMPARE(request("GET", "/metrics", "key-a-1234").status, 200);
    QCOMPARE(server.terminate(), 0);
}

QTEST_MAIN(tst_Revocation)
#include "tst_revocation.moc"
