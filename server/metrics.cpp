#include "metrics.h"

#include "event.h"

#include <QDateTime>

#include <algorithm>

namespace Hermes {

namespace {
using Writer = MetricsWriter;

QByteArray label(const char *name, QLatin1StringView value)
{
    return MetricsWriter::label(name, QByteArrayView(value.data(), value.size()));
}

// A family whose series are keyed by their label string, in a stable order.
void sampleKeyed(Writer &w, const char *name, const QHash<QByteArray, quint64> &series)
{
    QList<QByteArray> keys = series.keys();
    std::sort(keys.begin(), keys.end());
    for (const QByteArray &labels : keys)
        w.sample(name, series.value(labels), labels);
}
} // namespace

void Metrics::brokerStatus(bool up)
{
    // A return after a loss; not the first connection, nor a repeated "up".
    if (up && !m_brokerUp && m_brokerWasUp)
        ++m_brokerReconnects;
    m_brokerWasUp = m_brokerWasUp || up;
    m_brokerUp = up;
}

void Metrics::observeDeliveryLag(quint64 publishedMs)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    m_deliveryLag.observe(double(now - qint64(publishedMs)) / 1000);
}

void Metrics::answered(QByteArrayView route, QByteArrayView method, int status, QByteArrayView reason)
{
    static const char *classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    const int cls = std::clamp(status / 100, 1, 5) - 1;
    ++m_requests[MetricsWriter::label("route", route) + ',' + MetricsWriter::label("method", method)
                 + ",status_class=\"" + classes[cls] + '"'];
    if (status >= 400)
        ++m_rejectedRequests[MetricsWriter::label("route", route) + ",status=\""
                             + QByteArray::number(status) + "\","
                             + MetricsWriter::label("reason", reason.isEmpty() ? QByteArrayView("unspecified") : reason)];
}

QByteArray Metrics::render(const Gauges &g) const
{
    Writer w;
    w.family("hermes_sse_active_connections", "gauge", "Open event streams.");
    w.sample("hermes_sse_active_connections", quint64(g.activeConnections));
    w.family("hermes_sse_max_connections", "gauge", "Configured limit of open event streams.");
    w.sample("hermes_sse_max_connections", quint64(g.maxConnections));
    w.family("hermes_sse_connections_total", "counter", "Event streams accepted.");
    w.sample("hermes_sse_connections_total", m_connectionsTotal);

    w.family("hermes_sse_connections_rejected_total", "counter",
             "Event stream requests refused, by reason.");
    static const char *rejections[] = {"max_connections", "unauthorized", "forbidden", "disabled",
                                       "too_many_streams", "busy"};
    for (size_t i = 0; i < m_rejected.size(); ++i)
        w.sample("hermes_sse_connections_rejected_total", m_rejected[i],
                 label("reason", QLatin1StringView(rejections[i])));

    w.family("hermes_sse_connections_dropped_total", "counter",
             "Event streams closed by the server because of the client, by reason.");
    static const char *drops[] = {"slow_client", "write_error"};
    for (size_t i = 0; i < m_dropped.size(); ++i)
        w.sample("hermes_sse_connections_dropped_total", m_dropped[i],
                 label("reason", QLatin1StringView(drops[i])));

    w.family("hermes_sse_streams_ended_total", "counter", "Event streams that ended, by reason (revoked: a reload removed their API key).");
    static const char *ends[] = {"client_closed", "timeout", "shutdown", "revoked"};
    for (size_t i = 0; i < m_ended.size(); ++i)
        w.sample("hermes_sse_streams_ended_total", m_ended[i],
                 label("reason", QLatin1StringView(ends[i])));

    w.family("hermes_events_published_total", "counter", "Events received from the broker.");
    for (Channel c : Channel::all())
        w.sample("hermes_events_published_total", m_published[size_t(c.index())], label("channel", c.name()));
    w.family("hermes_events_delivered_total", "counter",
             "Events written to streams (one per event per stream).");
    for (Channel c : Channel::all())
        w.sample("hermes_events_delivered_total", m_delivered[size_t(c.index())], label("channel", c.name()));
    w.family("hermes_events_discarded_total", "counter",
             "Events received from the broker that were invalid and dropped.");
    w.sample("hermes_events_discarded_total", m_discarded);
    w.family("hermes_events_lost_total", "counter",
             "Events that may have been lost, by channel and reason (adopt_failed: an outside "
             "publisher's message Redis accepted but no node could adopt in time); the "
             "channel's streams were told resync_required.");
    static const char *losses[] = {"adopt_failed"};
    for (size_t why = 0; why < m_lost.size(); ++why) {
        for (Channel c : Channel::all())
            w.sample("hermes_events_lost_total", m_lost[why][size_t(c.index())],
                     label("channel", c.name()) + ',' + label("reason", QLatin1StringView(losses[why])));
    }
    w.family("hermes_sse_resyncs_total", "counter",
             "Streams told resync_required, by reason (the protocol's resync reasons).");
    for (size_t i = 0; i < m_resyncs.size(); ++i)
        w.sample("hermes_sse_resyncs_total", m_resyncs[i], label("reason", wireName(ResyncReason(i))));
    w.family("hermes_sse_resumes_total", "counter",
             "Streams opened with a Last-Event-ID, by outcome (caught_up: nothing missed; "
             "replayed: the missed events followed; resync: told resync_required; not_ready: "
             "no history yet, ended to come back).");
    static const char *resumes[] = {"caught_up", "replayed", "resync", "not_ready"};
    for (size_t i = 0; i < m_resumes.size(); ++i)
        w.sample("hermes_sse_resumes_total", m_resumes[i], label("outcome", QLatin1StringView(resumes[i])));
    w.family("hermes_sse_replayed_events_total", "counter",
             "Events streams got from the replay history (resumes, and streams catching up "
             "after their socket was full).");
    w.sample("hermes_sse_replayed_events_total", m_replayed);

    w.family("hermes_sse_sent_bytes_total", "counter", "Bytes written to event streams.");
    w.sample("hermes_sse_sent_bytes_total", m_bytesSent);
    w.family("hermes_history_events", "gauge", "Events held for Last-Event-ID replay.");
    w.sample("hermes_history_events", quint64(g.historyEvents));
    w.family("hermes_broker_up", "gauge", "1 when the broker is connected.");
    w.sample("hermes_broker_up", g.brokerUp ? 1 : 0,
             "broker=\"" + g.brokerName.toUtf8() + '"');
    w.family("hermes_broker_reconnects_total", "counter",
             "Times the broker came back after it was lost.");
    w.sample("hermes_broker_reconnects_total", m_brokerReconnects);
    m_publishLatency.render(w, "hermes_broker_publish_duration_seconds",
                            "Time from a publish request to the broker's answer.");
    m_deliveryLag.render(w, "hermes_broker_delivery_lag_seconds",
                         "Time from an event's publication (its id's clock: the broker's) to "
                         "its arrival at this node's hub, which hands it to the streams.");
    w.family("hermes_http_requests_total", "counter",
             "HTTP requests answered, by route pattern, method and status class.");
    sampleKeyed(w, "hermes_http_requests_total", m_requests);
    w.family("hermes_http_rejected_requests_total", "counter",
             "HTTP requests answered with 4xx or 5xx, by route pattern, status and reason (the "
             "error code of the JSON body).");
    sampleKeyed(w, "hermes_http_rejected_requests_total", m_rejectedRequests);
    for (const Collector &collect : m_collectors)
        collect(w);
    return w.take();
}

} // namespace Hermes
