// The start-up load of the embedded broker's history is bounded by bytes (issue 24), against
// the real hermes-server binary: a journal of large events, many times HERMES_SSE_HISTORY_BYTES,
// is read back keeping only the newest events that fit, and never whole. A restart's peak
// memory grows by about the budget, not by the journal's size; the newest events replay, and a
// resume from before them is answered resync_required (history_exceeded), as after an eviction
// at run time. Memory and counts are asserted, never durations (every wait is bounded).

#include "asynchttp.h"
#include "processstats.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

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
// budget), the kept events once more while the hub encodes them, the first start's own
// variance. Without the byte bound on the load, the restart below reads the whole journal
// (about 43 MB) and the events in it: its peak grows by over 80 MB.
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

private:
    QProcessEnvironment environment() const;
    std::unique_ptr<SseClient> resumeFrom(const QByteArray &id);

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

void tst_HistoryLoad::aLargeJournalLoadsWithinTheBudget()
{
    QVERIFY2(m_server.start(environment()), qPrintable(m_server.errorString()));
    // A start on an empty journal: what the load adds is measured against its peak.
    const qint64 pid = m_server.process().processId();
    const qint64 emptyPeakKb = peakRssKb(pid);
    const qint64 emptyRssKb = rssKb(pid);
    QVERIFY(emptyPeakKb > 0 && emptyRssKb > 0);

    const QByteArray blob(PayloadBytes, 'x');
    QList<QByteArray> ids;
    for (int n = 0; n < Events; ++n) {
        const HttpReply reply = httpRequest(
            m_server.port(), "POST", "/api/v1/events/publish", Headers,
            "{\"channel\":\"system:notifications\",\"type\":\"big\",\"data\":{\"n\":"
                + QByteArray::number(n) + ",\"b\":\"" + blob + "\"}}", 10000);
        QCOMPARE(reply.status, 202);
        ids.append(QJsonDocument::fromJson(reply.body).object().value(QStringLiteral("id")).toString().toUtf8());
    }
    QCOMPARE(m_server.terminate(), 0);

    m_server.setPort(m_server.port());
    QVERIFY2(m_server.start(environment()), qPrintable(m_server.errorString()));
    const qint64 restarted = m_server.process().processId();
    const qint64 peakKb = peakRssKb(restarted);
    const qint64 rssAfterKb = rssKb(restarted);
    const qint64 allowedKb = (HistoryBytes + SlackBytes) / 1024;
    qInfo("a journal of %d events of %d KiB, history bytes %lld KiB: start-up peak %+lld KiB, "
          "resident after start-up %+lld KiB (allowed %lld KiB)",
          Events, PayloadBytes / 1024, HistoryBytes / 1024, peakKb - emptyPeakKb,
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
    QCOMPARE(m_server.terminate(), 0);
}

QTEST_MAIN(tst_HistoryLoad)
#include "tst_historyload.moc"
