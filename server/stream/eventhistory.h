#pragma once

#include "stream/encodedevent.h"

#include <deque>

namespace Hermes {

/**
 * The last N events of each channel, for Last-Event-ID replay.
 *
 * It also remembers, per channel, the newest id it has evicted: a client whose last id is
 * older than that has missed events nobody can give it any more and must resync.
 */
class EventHistory final
{
public:
    explicit EventHistory(int capacityPerChannel) : m_capacity(qMax(1, capacityPerChannel)) {}

    void append(const EncodedEventPtr &event);

    /// Events after `after` on the channels in `channelMask`, in id order, into `out`.
    /// Returns false when some of them were already evicted (the caller must resync).
    bool eventsAfter(EventId after, quint8 channelMask, std::vector<EncodedEventPtr> *out) const;

    /// Declares the events of a channel up to `id` unavailable (a history loaded from a
    /// capped store that had already dropped them).
    void setFloor(quint8 channelBit, EventId id);

    EventId newest() const { return m_newest; }
    qsizetype size() const;

private:
    struct Channel
    {
        std::deque<EncodedEventPtr> events;
        EventId evictedUpTo;
    };
    Channel &channel(quint8 bit);
    const Channel &channel(quint8 bit) const;

    int m_capacity;
    Channel m_channels[3];
    EventId m_newest;
};

} // namespace Hermes
