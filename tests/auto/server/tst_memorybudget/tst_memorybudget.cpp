// The memory budget of item 1 of issue 24, against the real hermes-server binary: a key holder
// who sends large payloads cannot make the server hold more than its settings say. The event
// history is bounded in bytes (HERMES_SSE_HISTORY_BYTES), so 1,000 downloads with long URLs
// and 1,500 publishes of 60 KB grow the server by at most what the budget allows (README,
// "Memory budget"); and every stored field has a cap with its own 400, a body over its limit
// 413, each with the JSON error body. Counts and memory are asserted, never durations (every
// wait is bounded). Each flood prints a line with its figures.

#include "asynchttp.h"
#include "processstats.h"
#include "serverprocess.h"
#include "testutil.h"

#include "downloads/fieldlimits.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <functional>

using namespace Hermes;
using namespace Hermes::Test;

namespace {

const QList<QPair<QByteArray, QByteArray>> Headers{
    {"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey},
    {"Content-Type", "application/json"}};

// The budget under test: small, so the floods below are many times over it.
constexpr qint64 HistoryBytes = 2 << 20;
constexpr int Channels = 3;
// What an I/O thread's queue may pin beyond the history (StreamSettings::maxQueuedBytes).
constexpr qint64 InboxBytes = 8 << 20;
// Everything else the floods may cost: request buffers in flight, the store, retries' churn and
// what malloc's per-thread arenas keep. In a release build the downloads flood grows the server
// by about 33 MB in all with this history bound (about 10 MB with 100-byte URLs), the publishes
// by about 4 MB.
constexpr qint64 SlackBytes = 48 << 20;

QByteArray errorCode(const HttpReply &reply)
{
    return QJsonDocument::fromJson(reply.body).object().value(QStringLiteral("error")).toObject()
        .value(QStringLiteral("code")).toString().toUtf8();
}

QString errorMessage(const HttpReply &reply)
{
    return QJsonDocument::fromJson(reply.body).object().value(QStringLiteral("error")).toObject()
        .value(QStringLiteral("message")).toString();
}

} // namespace

class tst_MemoryBudget : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void fieldCaps_data();
    void fieldCaps();
    void bodiesOverTheirLimit();
    void theDocumentStatesTheCaps();
    void longUrlsStayWithinTheBudget();
    void largePublishesStayWithinTheBudget();
    void cleanupTestCase();

private:
    qint64 rss() { return rssKb(m_server.process().processId()); }
    HttpReply post(const QByteArray &path, const QByteArray &body)
    {
        return httpRequest(m_server.port(), "POST", path, Headers, body, 10000);
    }
    /// Sends `total` requests, `window` at a time, sampling the server's memory; returns how
    /// many were answered `expected`.
    int flood(int total, const QByteArray &path, const std::function<QByteArray(int)> &body,
              int expected, qint64 *peakKb);
    void checkWithinBudget(const char *what, qint64 beforeKb, qint64 peakKb);

    ServerProcess m_server;
    bool m_sanitized = false;
};

void tst_MemoryBudget::initTestCase()
{
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_SSE_HISTORY_BYTES"), QString::number(HistoryBytes));
    env.insert(QStringLiteral("HERMES_IO_THREADS"), QStringLiteral("1"));
    env.insert(QStringLiteral("HERMES_DOWNLOAD_RETRY_DELAY"), QStringLiteral("50"));
    env.insert(QStringLiteral("HERMES_DISK_WARNING_MB"), QStringLiteral("0"));
    measureOwnMemory(env);
    QVERIFY2(m_server.start(env), qPrintable(m_server.errorString()));
    m_sanitized = memoryFactor(m_server.process().processId()) > 1;
}

void tst_MemoryBudget::cleanupTestCase()
{
    m_server.terminate();
}

void tst_MemoryBudget::fieldCaps_data()
{
    QTest::addColumn<QJsonObject>("body");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("field");
    const QString base = QStringLiteral("http://127.0.0.1:9/");
    auto urlOf = [&](qsizetype bytes) { return base + QString(bytes - base.size(), u'a'); };
    QTest::newRow("url at the cap") << QJsonObject{{"url", urlOf(FieldLimits::UrlBytes)}} << 201 << QString() << QString();
    QTest::newRow("url over the cap") << QJsonObject{{"url", urlOf(FieldLimits::UrlBytes + 1)}} << 400
                                      << QStringLiteral("field_too_long") << QStringLiteral("url");
    QTest::newRow("url over the cap once percent-encoded")
        << QJsonObject{{"url", base + QString(1400, QChar(0xe9))}} << 400 << QStringLiteral("field_too_long") << QStringLiteral("url");
    QTest::newRow("30 KiB url") << QJsonObject{{"url", urlOf(30 * 1024)}} << 400 << QStringLiteral("field_too_long") << QStringLiteral("url");
    QTest::newRow("filename at the cap")
        << QJsonObject{{"url", base}, {"filename", QString(FieldLimits::FileNameBytes, u'f')}} << 201 << QString() << QString();
    QTest::newRow("filename over the cap")
        << QJsonObject{{"url", base}, {"filename", QString(FieldLimits::FileNameBytes + 1, u'f')}} << 400
        << QStringLiteral("field_too_long") << QStringLiteral("filename");
    // 128 characters, 256 bytes of UTF-8: bytes are what is counted.
    QTest::newRow("filename over the cap in bytes")
        << QJsonObject{{"url", base}, {"filename", QString(128, QChar(0xe9))}} << 400 << QStringLiteral("field_too_long") << QStringLiteral("filename");
    QTest::newRow("sha256 one digit too many")
        << QJsonObject{{"url", base}, {"sha256", QString(FieldLimits::Sha256HexDigits + 1, u'a')}} << 400
        << QStringLiteral("invalid_sha256") << QStringLiteral("sha256");
    QTest::newRow("sha256 one digit short")
        << QJsonObject{{"url", base}, {"sha256", QString(FieldLimits::Sha256HexDigits - 1, u'a')}} << 400
        << QStringLiteral("invalid_sha256") << QStringLiteral("sha256");
}

void tst_MemoryBudget::fieldCaps()
{
    QFETCH(QJsonObject, body);
    QFETCH(int, status);
    QFETCH(QString, code);
    QFETCH(QString, field);
    const HttpReply reply = post("/api/v1/downloads", QJsonDocument(body).toJson(QJsonDocument::Compact));
    QCOMPARE(reply.status, status);
    if (status == 201) {
        // Kept whole: what was accepted is what is stored.
        const QJsonObject d = QJsonDocument::fromJson(reply.body).object();
        QCOMPARE(d.value(QStringLiteral("url")).toString(), body.value(QStringLiteral("url")).toString());
        const HttpReply removed = httpRequest(m_server.port(), "DELETE",
                                              "/api/v1/downloads/" + d.value(QStringLiteral("id")).toString().toUtf8(),
                                              Headers);
        QCOMPARE(removed.status, 204);
        return;
    }
    QCOMPARE(errorCode(reply), code.toUtf8());
    QVERIFY2(errorMessage(reply).startsWith(field), qPrintable(errorMessage(reply)));
}

void tst_MemoryBudget::bodiesOverTheirLimit()
{
    // The publish limit (HERMES_MAX_PUBLISH_BYTES, 64 KiB) and every other route's
    // (HERMES_HTTP_MAX_BODY_SIZE, 64 KiB): 413 with the JSON error body.
    const QByteArray publish = "{\"channel\":\"system:notifications\",\"type\":\"big\",\"data\":{\"b\":\""
        + QByteArray(65 * 1024, 'x') + "\"}}";
    HttpReply reply = post("/api/v1/events/publish", publish);
    QCOMPARE(reply.status, 413);
    QCOMPARE(errorCode(reply), QByteArray("payload_too_large"));
    reply = post("/api/v1/downloads", "{\"url\":\"http://127.0.0.1:9/" + QByteArray(65 * 1024, 'a') + "\"}");
    QCOMPARE(reply.status, 413);
    QCOMPARE(errorCode(reply), QByteArray("payload_too_large"));
}

void tst_MemoryBudget::theDocumentStatesTheCaps()
{
    const HttpReply reply = httpRequest(m_server.port(), "GET", "/api/v1/openapi.json");
    QCOMPARE(reply.status, 200);
    const QJsonObject request = QJsonDocument::fromJson(reply.body).object()
        .value(QStringLiteral("components")).toObject().value(QStringLiteral("schemas")).toObject()
        .value(QStringLiteral("DownloadRequest")).toObject().value(QStringLiteral("properties")).toObject();
    QCOMPARE(request.value(QStringLiteral("url")).toObject().value(QStringLiteral("maxLength")).toInteger(),
             FieldLimits::UrlBytes);
    QCOMPARE(request.value(QStringLiteral("filename")).toObject().value(QStringLiteral("maxLength")).toInteger(),
             FieldLimits::FileNameBytes);
}

int tst_MemoryBudget::flood(int total, const QByteArray &path, const std::function<QByteArray(int)> &body,
                            int expected, qint64 *peakKb)
{
    constexpr int Window = 16;
    int sent = 0, answered = 0, good = 0;
    QElapsedTimer t;
    t.start();
    while (answered < total && t.elapsed() < 300000) {
        while (sent < total && sent - answered < Window) {
            httpRequestAsync(this, m_server.port(), "POST", path, Headers, body(sent++), 60000,
                             [&](const HttpReply &reply) {
                ++answered;
                good += reply.status == expected;
            });
        }
        QTest::qWait(5);
        *peakKb = qMax(*peakKb, rss());
    }
    // Events keep coming a while (downloads fail and are retried): the peak is watched on.
    for (int i = 0; i < 100; ++i) {
        QTest::qWait(20);
        *peakKb = qMax(*peakKb, rss());
    }
    return good;
}

void tst_MemoryBudget::checkWithinBudget(const char *what, qint64 beforeKb, qint64 peakKb)
{
    // README, "Memory budget": the history (every channel) and one I/O thread's queue, plus
    // the slack. AddressSanitizer's redzones and quarantine: twice it.
    qint64 boundKb = (Channels * HistoryBytes + InboxBytes + SlackBytes) / 1024;
    if (m_sanitized)
        boundKb *= 2;
    qInfo("%s: server RSS %lld KB before, %+lld KB at the peak (bound %lld KB)", what, beforeKb,
          peakKb - beforeKb, boundKb);
    QVERIFY2(peakKb - beforeKb < boundKb,
             qPrintable(QStringLiteral("%1: the server grew by %2 KB (bound %3 KB)")
                            .arg(QLatin1String(what)).arg(peakKb - beforeKb).arg(boundKb)));
    QCOMPARE(m_server.process().state(), QProcess::Running);
}

void tst_MemoryBudget::longUrlsStayWithinTheBudget()
{
    // 1,000 downloads whose URLs are just under the cap, from a port nobody listens on: each
    // fails and is retried, and every update event carries the URL.
    const QByteArray url = "http://127.0.0.1:" + QByteArray::number(freePort()) + "/";
    const QByteArray path(FieldLimits::UrlBytes - 1024 - url.size(), 'p');
    const qint64 before = rss();
    qint64 peak = before;
    const int created = flood(1000, "/api/v1/downloads", [&](int n) {
        return "{\"url\":\"" + url + path + QByteArray::number(n) + "\"}";
    }, 201, &peak);
    QCOMPARE(created, 1000);
    checkWithinBudget("1,000 downloads with 7 KiB URLs", before, peak);
}

void tst_MemoryBudget::largePublishesStayWithinTheBudget()
{
    // 1,500 publishes of 60 KB each on one channel: 90 MB of payload, 180 MB of frames.
    const QByteArray blob(60 * 1024, 'x');
    const qint64 before = rss();
    qint64 peak = before;
    const int accepted = flood(1500, "/api/v1/events/publish", [&](int n) {
        return "{\"channel\":\"system:notifications\",\"type\":\"big\",\"data\":{\"n\":"
            + QByteArray::number(n) + ",\"b\":\"" + blob + "\"}}";
    }, 202, &peak);
    QCOMPARE(accepted, 1500);
    checkWithinBudget("1,500 publishes of 60 KB", before, peak);
}

QTEST_MAIN(tst_MemoryBudget)
#include "tst_memorybudget.moc"
