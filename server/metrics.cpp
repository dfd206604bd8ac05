#include "metrics.h"

#include "event.h"

namespace Hermes {

void MetricsWriter::family(const char *name, const char *type, const char *help)
{
    m_out += QByteArray("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n';
}

void MetricsWriter::sample(const char *name, quint64 value, const QByteArray &labels)
{
    m_out += name;
    if (!labels.isEmpty())
        m_out += '{' + labels + '}';
    m_out += ' ' + QByteArray::number(value) + '\n';
}

void MetricsWriter::sampleReal(const char *name, double value, const QByteArray &labels)
{
    m_out += name;
    if (!labels.isEmpty())
        m_out += '{' + labels + '}';
    m_out += ' ' + QByteArray::number(value, 'g', 15) + '\n';
}

void LatencyHistogram::observe(double seconds)
{
    for (size_t i = 0; i < Bounds.size(); ++i) {
        if (seconds <= Bounds[i])
            ++m_buckets[i];
    }
    ++m_count;
    m_sum += seconds;
}

void LatencyHistogram::render(MetricsWriter &w, const char *name, const char *help) const
{
    w.family(name, "histogram", help);
    const QByteArray bucket = QByteArray(name) + "_bucket";
    for (size_t i = 0; i < Bounds.size(); ++i)
        w.sample(bucket.constData(), m_buckets[i], "le=\"" + QByteArray::number(Bounds[i], 'g', 6) + '"');
    w.sample(bucket.constData(), m_count, "le=\"+Inf\"");
    w.sampleReal((QByteArray(name) + "_sum").constData(), m_sum);
    w.sample((QByteArray(name) + "_count").constData(), m_count);
}

namespace {
using Writer = MetricsWriter;

QByteArray label(const char *name, QLatin1StringView value)
{
    return QByteArray(name) + "=\"" + QByteArray(value.data(), value.size()) + '"';
}
} // namespace

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
    static const char *rejections[] = {"max_connections", "unauthorized", "forbidden", "disabled"};
    for (size_t i = 0; i < m_rejected.size(); ++i)
        w.sample("hermes_sse_connections_rejected_total", m_rejected[i],
                 label("reason", QLatin1StringView(rejections[i])));

    w.family("hermes_sse_connections_dropped_total", "counter",
             "Event streams closed by the server because of the client, by reason.");
    static const char *drops[] = {"slow_client", "write_error"};
    for (size_t i = 0; i < m_dropped.size(); ++i)
        w.sample("hermes_sse_connections_dropped_total", m_dropped[i],
                 label("reason", QLatin1StringView(drops[i])));

    w.family("hermes_sse_streams_ended_total", "counter", "Event streams that ended, by cause (revoked: a reload removed their API key).");
    static const char *ends[] = {"client_closed", "timeout", "shutdown", "revoked"};
    for (size_t i = 0; i < m_ended.size(); ++i)
        w.sample("hermes_sse_streams_ended_total", m_ended[i],
                 label("cause", QLatin1StringView(ends[i])));

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
             "Streams told resync_required: their Last-Event-ID could not be served.");
    w.sample("hermes_sse_resyncs_total", m_resyncs);

    w.family("hermes_sse_sent_bytes_total", "counter", "Bytes written to event streams.");
    w.sample("hermes_sse_sent_bytes_total", m_bytesSent);
    w.family("hermes_history_events", "gauge", "Events held for Last-Event-ID replay.");
    w.sample("hermes_history_events", quint64(g.historyEvents));
    w.family("hermes_broker_up", "gauge", "1 when the broker is connected.");
    w.sample("hermes_broker_up", g.brokerUp ? 1 : 0,
             "broker=\"" + g.brokerName.toUtf8() + '"');
    m_publishLatency.render(w, "hermes_broker_publish_duration_seconds",
                            "Time from a publish request to the broker's answer.");
    for (const Collector &collect : m_collectors)
        collect(w);
    return w.take();
}

} // namespace Hermes
