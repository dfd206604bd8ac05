#pragma once

#include "protocol/channel.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QString>

#include <array>
#include <atomic>
#include <functional>

namespace Hermes {

/// Writes metric families in the Prometheus text exposition format (version 0.0.4).
class MetricsWriter final
{
public:
    void family(const char *name, const char *type, const char *help);
    void sample(const char *name, quint64 value, const QByteArray &labels = {});
    void sampleReal(const char *name, double value, const QByteArray &labels = {});
    QByteArray take() { return std::move(m_out); }

private:
    QByteArray m_out;
};

/// A Prometheus histogram with fixed buckets (seconds).
class LatencyHistogram final
{
public:
    void observe(double seconds);
    void render(MetricsWriter &w, const char *name, const char *help) const;

private:
    static constexpr std::array<double, 12> Bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05, 0.1, 0.25, 0.5, 1, 2.5};
    std::array<quint64, Bounds.size()> m_buckets{};
    quint64 m_count = 0;
    double m_sum = 0;
};

/// Counters for `/metrics`, rendered in the Prometheus text exposition format.
class Metrics final
{
public:
    Metrics() { m_uptime.start(); }

    enum class Rejection { MaxConnections, Unauthorized, Forbidden, Disabled, Count };
    enum class Drop { SlowClient, WriteError, Count };
    enum class StreamEnd { ClientClosed, Timeout, Shutdown, Revoked, Count };
    /// Why events were lost (see Broker::eventsLost()).
    enum class Loss { AdoptFailed, Count };

    void eventPublished(Channel channel) { ++m_published[size_t(channel.index())]; }
    void eventsDelivered(Channel channel, quint64 n) { m_delivered[size_t(channel.index())] += n; }
    void connectionOpened() { ++m_connectionsTotal; }
    void connectionRejected(Rejection why) { ++m_rejected[size_t(why)]; }
    void connectionDropped(Drop why) { ++m_dropped[size_t(why)]; }
    void streamEnded(StreamEnd why) { ++m_ended[size_t(why)]; }
    void bytesSent(quint64 n) { m_bytesSent += n; }
    void eventDiscarded() { ++m_discarded; }
    void eventsLost(Channel channel, Loss why, quint64 n)
    {
        m_lost[size_t(why)][size_t(channel.index())] += n;
    }
    /// A stream was told `resync_required` (its resume point cannot be served).
    void resyncSent() { ++m_resyncs; }

    qint64 uptimeSeconds() const { return m_uptime.elapsed() / 1000; }

    /// A running timer for observePublish(): start it before Broker::publish.
    static QElapsedTimer startTimer() { QElapsedTimer t; t.start(); return t; }
    /// The broker confirmed (or refused) a publish that started at `timer`.
    void observePublish(const QElapsedTimer &timer) { m_publishLatency.observe(double(timer.nsecsElapsed()) / 1e9); }

    /// More families appended to every scrape (downloads, the process): each collector writes
    /// whole families.
    using Collector = std::function<void(MetricsWriter &)>;
    void addCollector(Collector collector) { m_collectors.append(std::move(collector)); }

    struct Gauges
    {
        qint64 activeConnections = 0;
        qint64 maxConnections = 0;
        qint64 historyEvents = 0;
        QString brokerName;
        bool brokerUp = false;
    };
    QByteArray render(const Gauges &gauges) const;

private:
    QElapsedTimer m_uptime;
    // The stream counters are bumped by the I/O threads (see EventHub), the rest on the main
    // thread; all are atomic so a scrape reads whole values.
    using Counter = std::atomic<quint64>;
    std::array<Counter, Channel::Count> m_published{};
    std::array<Counter, Channel::Count> m_delivered{};
    Counter m_connectionsTotal{0};
    std::array<Counter, size_t(Rejection::Count)> m_rejected{};
    std::array<Counter, size_t(Drop::Count)> m_dropped{};
    std::array<Counter, size_t(StreamEnd::Count)> m_ended{};
    Counter m_bytesSent{0};
    Counter m_discarded{0};
    std::array<std::array<Counter, Channel::Count>, size_t(Loss::Count)> m_lost{};
    Counter m_resyncs{0};
    LatencyHistogram m_publishLatency;
    QList<Collector> m_collectors;
};

} // namespace Hermes
