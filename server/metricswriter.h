#pragma once

#include "threadaffinity.h"

#include <QByteArray>

#include <array>
#include <atomic>

namespace Hermes {

/// Writes metric families in the Prometheus text exposition format (version 0.0.4).
class MetricsWriter final
{
public:
    void family(const char *name, const char *type, const char *help);
    void sample(const char *name, quint64 value, const QByteArray &labels = {});
    void sampleReal(const char *name, double value, const QByteArray &labels = {});
    QByteArray take() { return std::move(m_out); }

    /// `name="value"`, for `labels`.
    static QByteArray label(const char *name, QByteArrayView value);

private:
    QByteArray m_out;
};

/**
 * A Prometheus histogram with fixed buckets (seconds). Observed from any thread (the store's
 * answers, the hub, publishes): atomics only, so an observation costs a few relaxed adds and
 * a scrape reads whole values (a scrape during an observation may see the count one ahead of
 * a bucket, which Prometheus tolerates).
 */
class LatencyHistogram final
{
public:
    HERMES_ANY_THREAD void observe(double seconds);
    void render(MetricsWriter &w, const char *name, const char *help) const;

private:
    static constexpr std::array<double, 14> Bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    std::array<std::atomic<quint64>, Bounds.size()> m_buckets{}; // not cumulative; render sums
    std::atomic<quint64> m_count{0};
    std::atomic<quint64> m_sumNs{0};
};

} // namespace Hermes
