// Metrics and LatencyHistogram on their own: what the live scrape (tst_metricsexposition)
// cannot provoke cheaply — broker reconnects, histograms observed from several threads at
// once — and the label sets they render.

#include "metrics.h"
#include "metricswriter.h"

#include <QTest>

#include <thread>
#include <vector>

using namespace Hermes;

// The value of one exposed series (name with labels exactly as written), or -1.
static double valueOf(const QByteArray &text, const QByteArray &series)
{
    for (const QByteArray &line : text.split('\n')) {
        if (line.startsWith(series + ' '))
            return line.sliced(series.size() + 1).toDouble();
    }
    return -1;
}

class tst_Metrics : public QObject
{
    Q_OBJECT

private slots:
    void histogramIsCumulativeAcrossThreads();
    void histogramCountsWhatNoBucketHolds();
    void brokerReconnectsCountReturnsAfterALoss();
    void answersByPatternStatusClassAndReason();
    void everyResyncReasonAndOutcomeIsExposed();
};

void tst_Metrics::histogramIsCumulativeAcrossThreads()
{
    LatencyHistogram h;
    constexpr int Threads = 4;
    constexpr int Each = 50000;
    std::vector<std::thread> threads;
    for (int t = 0; t < Threads; ++t) {
        threads.emplace_back([&h] {
            for (int i = 0; i < Each; ++i)
                h.observe(i % 2 ? 0.002 : 0.2); // half in le=0.0025, half in le=0.25
        });
    }
    for (std::thread &t : threads)
        t.join();
    MetricsWriter w;
    h.render(w, "x_seconds", "test");
    const QByteArray text = w.take();
    QCOMPARE(valueOf(text, "x_seconds_count"), double(Threads * Each));
    QCOMPARE(valueOf(text, "x_seconds_bucket{le=\"+Inf\"}"), double(Threads * Each));
    QCOMPARE(valueOf(text, "x_seconds_bucket{le=\"0.001\"}"), 0.0);
    QCOMPARE(valueOf(text, "x_seconds_bucket{le=\"0.0025\"}"), double(Threads * Each / 2));
    QCOMPARE(valueOf(text, "x_seconds_bucket{le=\"0.25\"}"), double(Threads * Each));
    QVERIFY(qAbs(valueOf(text, "x_seconds_sum") - Threads * Each / 2 * 0.202) < 0.01);
    QVERIFY(text.contains("# TYPE x_seconds histogram\n"));
}

void tst_Metrics::histogramCountsWhatNoBucketHolds()
{
    LatencyHistogram h;
    h.observe(60);    // over the largest bound: +Inf only
    h.observe(-0.5);  // another host's clock ahead: counted as 0
    MetricsWriter w;
    h.render(w, "y_seconds", "test");
    const QByteArray text = w.take();
    QCOMPARE(valueOf(text, "y_seconds_bucket{le=\"10\"}"), 1.0);
    QCOMPARE(valueOf(text, "y_seconds_bucket{le=\"+Inf\"}"), 2.0);
    QCOMPARE(valueOf(text, "y_seconds_count"), 2.0);
}

void tst_Metrics::brokerReconnectsCountReturnsAfterALoss()
{
    Metrics m;
    const auto reconnects = [&] { return valueOf(m.render({}), "hermes_broker_reconnects_total"); };
    QCOMPARE(reconnects(), 0.0);
    m.brokerStatus(false); // still connecting at start: not a loss
    m.brokerStatus(true);  // first connection
    QCOMPARE(reconnects(), 0.0);
    m.brokerStatus(true);  // a repeated "up" is no reconnect
    QCOMPARE(reconnects(), 0.0);
    m.brokerStatus(false);
    m.brokerStatus(true);
    QCOMPARE(reconnects(), 1.0);
    m.brokerStatus(false);
    m.brokerStatus(false);
    m.brokerStatus(true);
    QCOMPARE(reconnects(), 2.0);
}

void tst_Metrics::answersByPatternStatusClassAndReason()
{
    Metrics m;
    m.answered("/api/v1/downloads/{}", "GET", 404, "not_found");
    m.answered("/api/v1/downloads/{}", "GET", 404, "not_found");
    m.answered("/api/v1/downloads/{}", "GET", 200, {});
    m.answered("/api/v1/events/stream", "GET", 429, "too_many_streams");
    m.answered("none", "none", 408, "request_timeout");
    m.answered("/readyz", "GET", 503, {}); // an error answer without an error code
    const QByteArray text = m.render({});
    QCOMPARE(valueOf(text, R"(hermes_http_requests_total{route="/api/v1/downloads/{}",method="GET",status_class="4xx"})"), 2.0);
    QCOMPARE(valueOf(text, R"(hermes_http_requests_total{route="/api/v1/downloads/{}",method="GET",status_class="2xx"})"), 1.0);
    QCOMPARE(valueOf(text, R"(hermes_http_rejected_requests_total{route="/api/v1/downloads/{}",status="404",reason="not_found"})"), 2.0);
    QCOMPARE(valueOf(text, R"(hermes_http_rejected_requests_total{route="/api/v1/events/stream",status="429",reason="too_many_streams"})"), 1.0);
    QCOMPARE(valueOf(text, R"(hermes_http_rejected_requests_total{route="none",status="408",reason="request_timeout"})"), 1.0);
    QCOMPARE(valueOf(text, R"(hermes_http_rejected_requests_total{route="/readyz",status="503",reason="unspecified"})"), 1.0);
    // A 2xx is a request, never a rejection.
    QVERIFY(!text.contains(R"(hermes_http_rejected_requests_total{route="/api/v1/downloads/{}",status="200")"));
}

void tst_Metrics::everyResyncReasonAndOutcomeIsExposed()
{
    Metrics m;
    m.resyncSent(ResyncReason::HistoryExceeded);
    m.resyncSent(ResyncReason::EventsLost);
    m.resumed(Metrics::Resume::Replayed);
    m.eventsReplayed(5);
    m.connectionRejected(Metrics::Rejection::TooManyStreams);
    m.streamEnded(Metrics::StreamEnd::Revoked);
    const QByteArray text = m.render({});
    QCOMPARE(valueOf(text, R"(hermes_sse_resyncs_total{reason="history_exceeded"})"), 1.0);
    QCOMPARE(valueOf(text, R"(hermes_sse_resyncs_total{reason="events_lost"})"), 1.0);
    // Series exist before their first event, so that rate() sees the first one.
    for (const char *reason : {"unknown_history", "unknown_event_id", "invalid_last_event_id", "history_reset"})
        QCOMPARE(valueOf(text, "hermes_sse_resyncs_total{reason=\"" + QByteArray(reason) + "\"}"), 0.0);
    QCOMPARE(valueOf(text, R"(hermes_sse_resumes_total{outcome="replayed"})"), 1.0);
    for (const char *outcome : {"caught_up", "resync", "not_ready"})
        QCOMPARE(valueOf(text, "hermes_sse_resumes_total{outcome=\"" + QByteArray(outcome) + "\"}"), 0.0);
    QCOMPARE(valueOf(text, "hermes_sse_replayed_events_total"), 5.0);
    QCOMPARE(valueOf(text, R"(hermes_sse_connections_rejected_total{reason="too_many_streams"})"), 1.0);
    QCOMPARE(valueOf(text, R"(hermes_sse_streams_ended_total{reason="revoked"})"), 1.0);
    QVERIFY(!text.contains("cause="));
}

QTEST_GUILESS_MAIN(tst_Metrics)
#include "tst_metrics.moc"
