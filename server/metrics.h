#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QString>

#include <array>

namespace Hermes {

/// Counters for `/metrics`, rendered in the Prometheus text exposition format.
class Metrics final
{
public:
    Metrics() { m_uptime.start(); }

    enum class Rejection { MaxConnections, Unauthorized, Forbidden, Disabled, Count };
    enum class Drop { SlowClient, WriteError, Count };
    enum class StreamEnd { ClientClosed, Timeout, Shutdown, Count };

    /// `channel` is a ChannelBit.
    void eventPublished(quint8 channel) { ++m_published[index(channel)]; }
    void eventsDelivered(quint8 channel, quint64 n) { m_delivered[index(channel)] += n; }
    void connectionOpened() { ++m_connectionsTotal; }
    void connectionRejected(Rejection why) { ++m_rejected[size_t(why)]; }
    void connectionDropped(Drop why) { ++m_dropped[size_t(why)]; }
    void streamEnded(StreamEnd why) { ++m_ended[size_t(why)]; }
    void bytesSent(quint64 n) { m_bytesSent += n; }
    void eventDiscarded() { ++m_discarded; }
    /// A stream was told `resync_required` (its resume point cannot be served).
    void resyncSent() { ++m_resyncs; }

    qint64 uptimeSeconds() const { return m_uptime.elapsed() / 1000; }

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
    static size_t index(quint8 channelBit) { return channelBit == 1 ? 0 : channelBit == 2 ? 1 : 2; }

    QElapsedTimer m_uptime;
    std::array<quint64, 3> m_published{};
    std::array<quint64, 3> m_delivered{};
    quint64 m_connectionsTotal = 0;
    std::array<quint64, size_t(Rejection::Count)> m_rejected{};
    std::array<quint64, size_t(Drop::Count)> m_dropped{};
    std::array<quint64, size_t(StreamEnd::Count)> m_ended{};
    quint64 m_bytesSent = 0;
    quint64 m_discarded = 0;
    quint64 m_resyncs = 0;
};

} // namespace Hermes
