#include "metricswriter.h"

#include <algorithm>

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

QByteArray MetricsWriter::label(const char *name, QByteArrayView value)
{
    return QByteArray(name) + "=\"" + value.toByteArray() + '"';
}

void LatencyHistogram::observe(double seconds)
{
    seconds = std::max(seconds, 0.0); // clocks of two hosts (Redis ids) may disagree
    // One bucket per observation; render() makes them cumulative.
    const auto bucket = std::lower_bound(Bounds.begin(), Bounds.end(), seconds);
    if (bucket != Bounds.end())
        m_buckets[size_t(bucket - Bounds.begin())].fetch_add(1, std::memory_order_relaxed);
    m_sumNs.fetch_add(quint64(seconds * 1e9), std::memory_order_relaxed);
    m_count.fetch_add(1, std::memory_order_relaxed);
}

void LatencyHistogram::render(MetricsWriter &w, const char *name, const char *help) const
{
    w.family(name, "histogram", help);
    const QByteArray bucket = QByteArray(name) + "_bucket";
    quint64 cumulative = 0;
    for (size_t i = 0; i < Bounds.size(); ++i) {
        cumulative += m_buckets[i].load(std::memory_order_relaxed);
        w.sample(bucket.constData(), cumulative, "le=\"" + QByteArray::number(Bounds[i], 'g', 6) + '"');
    }
    // +Inf and _count agree, and are never below the last bucket.
    const quint64 count = std::max(cumulative, m_count.load(std::memory_order_relaxed));
    w.sample(bucket.constData(), count, "le=\"+Inf\"");
    w.sampleReal((QByteArray(name) + "_sum").constData(), double(m_sumNs.load(std::memory_order_relaxed)) / 1e9);
    w.sample((QByteArray(name) + "_count").constData(), count);
}

} // namespace Hermes
