#pragma once

#include "metricswriter.h"
#include "protocol/channel.h"
#include "protocol/vocabulary.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QString>

#include <array>
#include <atomic>
#include <functional>

namespace Hermes {

/// Counters for `/metrics`, rendered in the Prometheus text exposition format.
class Metrics final
{
public:
    Metrics() { m_uptime.start(); }

    enum class Rejection { MaxConnections, Unauthorized, Forbidden, Disabled, TooManyStreams, Busy, Count };
    enum class Drop { SlowClient, WriteError, Count };
    enum class StreamEnd { ClientClosed, Timeout, Shutdown, Revoked, Count };
    /// Why events were lost (see Broker::eventsLost()).
    enum class Loss { AdoptFailed, Count };
    /// How a stream that came with a Last-Event-ID went on (its first plan that is not a wait).
    enum class Resume { CaughtUp, Replayed, Resync, NotReady, Count };
    static constexpr size_t ResyncReasons = size_t(ResyncReason::EventsLost) + 1;

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
    void resyncSent(ResyncReason why) { m_resyncs[size_t(why)].fetch_add(1, std::memory_order_relaxed); }
    void resumed(Resume how) { m_resumes[size_t(how)].fetch_add(1, std::memory_order_relaxed); }
    /// Events a stream got from the history (a resume, or catching up after a full socket).
    void eventsReplayed(quint64 n) { m_replayed.fetch_add(n, std::memory_order_relaxed); }

    /// The broker's connection state changed (main thread); a return after a loss is a reconnect.
    void brokerStatus(bool up);
    /// The hub received an event published at `publishedMs` (Unix ms: its id's time).
    void observeDeliveryLag(quint64 publishedMs);

    /// Every answer of the front door (its thread: the main thread). `route` is the route's
    /// pattern, `unrouted` (404, 405, OPTIONS) or `none` (refused before it was routed), never a
    /// raw path; `reason` is the error code of a 4xx/5xx answer.
    void answered(QByteArrayView route, QByteArrayView method, int status, QByteArrayView reason);

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
    std::array<Counter, ResyncReasons> m_resyncs{};
    std::array<Counter, size_t(Resume::Count)> m_resumes{};
    Counter m_replayed{0};
    Counter m_brokerReconnects{0};
    bool m_brokerUp = false;    // main thread, as the last statusChanged said
    bool m_brokerWasUp = false; // main thread: it has been up once
    LatencyHistogram m_publishLatency;
    LatencyHistogram m_deliveryLag;
    // The front door's answers, by their labels (main thread only: no atomics needed).
    QHash<QByteArray, quint64> m_requests;
    QHash<QByteArray, quint64> m_rejectedRequests;
    QList<Collector> m_collectors;
};

} // namespace Hermes
