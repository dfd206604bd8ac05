#pragma once

#include "stream/encodedevent.h"

#include <deque>
#include <functional>
#include <shared_mutex>
#include <vector>

namespace Hermes {

/**
 * The last N events of each channel of one epoch, for Last-Event-ID replay and for streams
 * that fell behind (they are fed from here as their socket drains, see StreamWorker).
 *
 * Events arrive in the deployment's total order (ascending ids across channels). The history
 * also remembers, per channel, the newest id it no longer holds: a client whose last id is
 * older than that has missed events nobody can give it any more and must resync.
 */
class EventHistory final
{
public:
    explicit EventHistory(int capacityPerChannel) : m_capacity(qMax(1, capacityPerChannel)) {}

    /// Appends `event`, whose id is above every id appended before.
    void append(const EncodedEventPtr &event);
    /// Declares the events of a channel up to `id` unavailable (a history loaded from a
    /// capped store that had already dropped them).
    void setFloor(quint8 channelBit, EventId id);
    /// Forgets everything (a new epoch begins).
    void clear();

    /// True when every event after `after` on the channels of `channelMask` is still here.
    bool covers(EventId after, quint8 channelMask) const;

    /// Visits the events after `after` and at or below `upTo` on the channels of
    /// `channelMask`, in id order, until `visit` returns false or `maxEvents` were visited.
    /// Returns the id of the last event visited (`after` when none).
    using Visitor = std::function<bool(const EncodedEventPtr &)>;
    EventId read(EventId after, EventId upTo, quint8 channelMask, int maxEvents,
                 const Visitor &visit) const;

    /// Every event after `after` on `channelMask`, in id order, into `out`; false when some
    /// were already evicted (the caller must resync).
    bool eventsAfter(EventId after, quint8 channelMask, std::vector<EncodedEventPtr> *out) const;

    EventId newest() const { return m_newest; }
    qsizetype size() const;
    int capacityPerChannel() const { return m_capacity; }
    /// Counts clear()s: a reader that saw one generation knows when the history was replaced.
    quint64 generation() const { return m_generation; }

    /// The history is written by one thread (the hub's) and read by the stream I/O threads:
    /// the writer holds this exclusively while it changes the history, readers hold it shared
    /// across everything they read that must be consistent (a coverage check and its read).
    /// The class itself does no locking.
    std::shared_mutex &lock() const { return m_lock; }

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
    quint64 m_generation = 0;
    mutable std::shared_mutex m_lock;
};

} // namespace Hermes
