// The start-up load of the history is bounded by bytes (issue 24), against the real
// hermes-server binary, for both brokers: a journal of large events, or a Redis stream of them
// on a real redis-server, many times HERMES_SSE_HISTORY_BYTES, is read back keeping only the
// newest events that fit, and never whole. A restart's peak
// memory grows by about the budget, not by the journal's size; the newest events replay, and a
// resume from before them is answered resync_required (history_exceeded), as after an eviction
// at run time. Memory and counts are asserted, never durations (every wait is bounded).

#include "asynchttp.h"
#include "processstats.h"
#include "redisprocess.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include <QDeadlineTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Hermes;
using namespace Hermes::Test;

namespace {

const QList<QPair<QByteArray, QByteArray>> Headers{
    {"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey},
    {"Content-Type", "application/json"}};

// The budget under test (the smallest the setting takes) and a journal 40 times over it.
constexpr qint64 HistoryBytes = 1 << 20;
constexpr int Events = 700;
constexpr int PayloadBytes = 60 * 1024;
// What a start-up may cost beyond the kept history: the segment being read (a quarter of the
// budget) or the Redis page (half the budget at most), the kept events once more while the hub
// encodes them, the first start's own variance. Without the byte bound on the load, the restart
// below reads the whole journal or stream tail (about 43 MB) and the events in it: its peak
// grows by over 80 MB.
constexpr qint64 SlackBytes = 16 << 20;

QJsonObject json(const QString &data)
{
    return QJsonDocument::fromJson(data.toUtf8()).object();
}

} // namespace

class tst_HistoryLoad : public QObject
{
    Q_OBJECT

private slots:
    void aLargeJournalLoadsWithinTheBudget();
    void aLargeRedisTailLoadsWithinTheBudget();

private:
    QProcessEnvironment environment() const;
    std::unique_ptr<SseClient> resumeFrom(const QByteArray &id);
    /// Starts the server, waits for its broker (a Redis node loads its history after the
    /// start), and gives its peak and current RSS.
    bool start(const QProcessEnvironment &env, qint64 *peakKb, qint64 *residentKb);
    /// Publishes Events large events on system:notifications; their ids.
    QList<QByteArray> publishLargeEvents();
    /// The restart's figures against the first start's, and what a resume gets.
    void checkRestart(const QList<QByteArray> &ids, qint64 emptyPeakKb, qint64 emptyRssKb,
                      qint64 peakKb, qint64 rssAfterKb, const char *what);

    ServerProcess m_server;
};

QProcessEnvironment tst_HistoryLoad::environment() const
{
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_SSE_HISTORY_BYTES"), QString::number(HistoryBytes));
    env.insert(QStringLiteral("HERMES_IO_THREADS"), QStringLiteral("1"));
    env.insert(QStringLiteral("HERMES_DISK_WARNING_MB"), QStringLiteral("0"));
    measureOwnMemory(env);
    return env;
}

std::unique_ptr<SseClient> tst_HistoryLoad::resumeFrom(const QByteArray &id)
{
    auto client = std::make_unique<SseClient>();
    client->open(m_server.port(), "/api/v1/events/stream",
                 {{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey}, {"Last-Event-ID", id}});
    return client;
}

bool tst_HistoryLoad::start(const QProcessEnvironment &env, qint64 *peakKb, qint64 *residentKb)
{
    if (!m_server.start(env))
        return false;
    QDeadlineTimer deadline(30000);
    while (!deadline.hasExpired()) {
        const HttpReply health = httpRequest(m_server.port(), "GET", "/api/v1/events/health", {}, {}, 2000);
        if (health.status == 200 && json(QString::fromUtf8(health.body)).value(QStringLiteral("status")) == QStringLiteral("ok"))
            break;
        QTest::qWait(50);
    }
    const qint64 pid = m_server.process().processId();
    *peakKb = peakRssKb(pid);
    *residentKb = rssKb(pid);
    return !deadline.hasExpired() && *peakKb > 0 && *residentKb > 0;
}

QList<QByteArray> tst_HistoryLoad::publishLargeEvents()
{
    const QByteArray blob(PayloadBytes, 'x');
    QList<QByteArray> ids;
    for (int n = 0; n < Events; ++n) {
        const HttpReply reply = httpRequest(
            m_server.port(), "POST", "/api/v1/events/publish", Headers,
            "{\"channel\":\"system:notifications\",\"type\":\"big\",\"data\":{\"n\":"
                + QByteArray::number(n) + ",\"b\":\"" + blob + "\"}}", 10000);
        if (reply.status != 202)
            return {};
        ids.append(QJsonDocument::fromJson(reply.body).object().value(QStringLiteral("id")).toString().toUtf8());
    }
    return ids;
}

void tst_HistoryLoad::checkRestart(const QList<QByteArray> &ids, qint64 emptyPeakKb, qint64 emptyRssKb,
                                   qint64 peakKb, qint64 rssAfterKb, const char *what)
{
    const qint64 allowedKb = (HistoryBytes + SlackBytes) / 1024;
    qInfo("%s of %d events of %d KiB, history bytes %lld KiB: start-up peak %+lld KiB, "
          "resident after start-up %+lld KiB (allowed %lld KiB)",
          what, Events, PayloadBytes / 1024, HistoryBytes / 1024, peakKb - emptyPeakKb,
          rssAfterKb - emptyRssKb, allowedKb);
    QVERIFY2(peakKb - emptyPeakKb <= allowedKb, "the load held more than the budget allows");
    QVERIFY2(rssAfterKb - emptyRssKb <= allowedKb, "the history holds more than the budget allows");

    // The newest events that fit replay: a 60 KiB event weighs about 120 KiB held (both
    // frames), so a 1 MiB budget keeps 8; the newest 6 are certainly among them.
    auto recent = resumeFrom(ids[Events - 7]);
    QTRY_COMPARE_WITH_TIMEOUT(recent->nonHeartbeatEvents().size(), 1 + 6, 20000);
    for (int i = 0; i < 6; ++i)
        QCOMPARE(recent->nonHeartbeatEvents()[1 + i].lastEventId.toUtf8(), ids[Events - 6 + i]);

    // A resume from before the kept window: resync_required, for the same reason as an
    // eviction by bytes at run time, never a silent gap. The first event and one just below
    // the window (100 events of 120 KiB are far over the budget) alike.
    for (const QByteArray &id : {ids[0], ids[Events - 100]}) {
        auto old = resumeFrom(id);
        QTRY_COMPARE_WITH_TIMEOUT(old->nonHeartbeatEvents().size(), 2, 20000);
        const QJsonObject resync = json(old->nonHeartbeatEvents()[1].data);
        QCOMPARE(resync.value(QStringLiteral("type")).toString(), QStringLiteral("resync_required"));
        QCOMPARE(resync.value(QStringLiteral("data")).toObject().value(QStringLiteral("reason")).toString(),
                 QStringLiteral("history_exceeded"));
        QCOMPARE(old->nonHeartbeatEvents()[1].lastEventId.toUtf8(), ids.last());
    }
}

void tst_HistoryLoad::aLargeJournalLoadsWithinTheBudget()
{
    // A start on an empty journal: what the load adds is measured against its peak.
    qint64 emptyPeakKb = 0, emptyRssKb = 0;
    QVERIFY2(start(environment(), &emptyPeakKb, &emptyRssKb), qPrintable(m_server.errorString()));
    const QList<QByteArray> ids = publishLargeEvents();
    QCOMPARE(ids.size(), Events);
    QCOMPARE(m_server.terminate(), 0);

    m_server.setPort(m_server.port());
    qint64 peakKb = 0, rssAfterKb = 0;
    QVERIFY2(start(environment(), &peakKb, &rssAfterKb), qPrintable(m_server.errorString()));
    checkRestart(ids, emptyPeakKb, emptyRssKb, peakKb, rssAfterKb, "a journal");
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(m_server.terminate(), 0);
}

void tst_HistoryLoad::aLargeRedisTailLoadsWithinTheBudget()
{
    // The same with the Redis broker: the stream's tail (HERMES_REDIS_STREAM_LENGTH, 10,000,
    // keeps all 700) is read in pages, newest first, until the budget is full.
    RedisProcess redis;
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    QProcessEnvironment env = environment();
    env.insert(QStringLiteral("HERMES_REDIS_URL"), redis.url());
    qint64 emptyPeakKb = 0, emptyRssKb = 0;
    QVERIFY2(start(env, &emptyPeakKb, &emptyRssKb), qPrintable(m_server.errorString()));
    const QList<QByteArray> ids = publishLargeEvents();
    QCOMPARE(ids.size(), Events);
    QCOMPARE(m_server.terminate(), 0);

    m_server.setPort(m_server.port());
    qint64 peakKb = 0, rssAfterKb = 0;
    QVERIFY2(start(env, &peakKb, &rssAfterKb), qPrintable(m_server.errorString()));
    checkRestart(ids, emptyPeakKb, emptyRssKb, peakKb, rssAfterKb, "a Redis stream");
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(m_server.terminate(), 0);
}

QTEST_MAIN(tst_HistoryLoad)
#include "tst_historyload.moc"
