#pragma once

#include "stream/encodedevent.h"
#include "threadaffinity.h"

#include <deque>
#include <functional>
#include <limits>
#include <pthread.h>
#include <vector>

namespace Hermes {

/**
 * The last N events of each channel of one epoch, for Last-Event-ID replay and for streams
 * that fell behind (they are fed from here as their socket drains, see StreamWorker).
 *
 * Each channel is bounded twice: by count (HERMES_SSE_HISTORY_SIZE) and by the bytes its
 * events pin (HERMES_SSE_HISTORY_BYTES, EncodedEvent::heldBytes()), so large payloads cannot
 * make a count-bounded history weigh gigabytes. Whichever bound is reached first evicts the
 * oldest events, the same way: the channel's floor rises and a resume from before it is
 * answered resync_required (history_exceeded). A channel keeps its newest event even when
 * that one alone is over the byte bound, so a stream that fell behind can still be fed it.
 *
 * Events arrive in the deployment's total order (ascending ids across channels). The history
 * also remembers, per channel, the newest id it no longer holds: a client whose last id is
 * older than that has missed events nobody can give it any more and must resync.
 */
/**
 * A reader-writer lock (for std::unique_lock and std::shared_lock) that lets a waiting writer
 * in before new readers. glibc's default prefers readers: I/O threads that replay to many
 * streams could keep the hub from appending for as long as they overlap. Not recursive: a
 * thread takes it once.
 */
class HistoryLock final
{
public:
    HistoryLock()
    {
        pthread_rwlockattr_t attr;
        pthread_rwlockattr_init(&attr);
        pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        pthread_rwlock_init(&m_lock, &attr);
        pthread_rwlockattr_destroy(&attr);
    }
    ~HistoryLock() { pthread_rwlock_destroy(&m_lock); }
    HistoryLock(const HistoryLock &) = delete;
    HistoryLock &operator=(const HistoryLock &) = delete;

    void lock() { pthread_rwlock_wrlock(&m_lock); }
    void unlock() { pthread_rwlock_unlock(&m_lock); }
    void lock_shared() { pthread_rwlock_rdlock(&m_lock); }
    void unlock_shared() { pthread_rwlock_unlock(&m_lock); }

private:
    pthread_rwlock_t m_lock;
};

class EventHistory final
{
public:
    /// No byte bound: `bytesPerChannel` Unbounded.
    static constexpr qint64 Unbounded = std::numeric_limits<qint64>::max();
    explicit EventHistory(int capacityPerChannel, qint64 bytesPerChannel = Unbounded)
        : m_capacity(qMax(1, capacityPerChannel)), m_byteBudget(qMax<qint64>(1, bytesPerChannel))
    {
    }

    /// Appends `event`, whose id is above every id appended before. The writer's side
    /// (append(), setFloor(), clear()) runs in one thread, the first that writes (asserted).
    void append(const EncodedEventPtr &event);
    /// Declares the events of a channel up to `id` unavailable (a history loaded from a
    /// capped store that had already dropped them).
    void setFloor(Channel channel, EventId id);
    /// Declares that events of a channel may have been lost at or before `through` (an outside
    /// message that could not be adopted, Broker::eventsLost()): a resume from `through` or
    /// before on that channel is not covered. Inclusive, unlike setFloor(): the lost events have
    /// no id, and a client that saw `through` itself missed them too.
    void markLost(Channel channel, EventId through);
    /// Forgets everything (a new epoch begins).
    void clear();

    /// True when every event after `after` on the channels of `channelMask` is still here.
    bool covers(EventId after, Channel::Mask channelMask) const;
    /// Whether `after` is not covered because events were lost on one of the channels of
    /// `channelMask` (markLost()), rather than evicted.
    bool lostAfter(EventId after, Channel::Mask channelMask) const;
    /// False when `id` is no event of this history although every channel still holds all
    /// its events around it: an id from a timeline that was lost (a Redis restored from an
    /// older snapshot while no node ran) or made up. True when an event has it, when it is
    /// the epoch's start, or when it is at or below a channel's floor (it may have been
    /// evicted there; nobody can tell).
    bool mayHold(EventId id) const;

    /// Visits the events after `after` and at or below `upTo` on the channels of
    /// `channelMask`, in id order, until `visit` returns false or `maxEvents` were visited.
    /// Returns the id of the last event visited (`after` when none).
    using Visitor = std::function<bool(const EncodedEventPtr &)>;
    EventId read(EventId after, EventId upTo, Channel::Mask channelMask, int maxEvents,
                 const Visitor &visit) const;

    /// Every event after `after` on `channelMask`, in id order, into `out`; false when some
    /// were already evicted (the caller must resync).
    bool eventsAfter(EventId after, Channel::Mask channelMask, std::vector<EncodedEventPtr> *out) const;

    EventId newest() const { return m_newest; }
    qsizetype size() const;
    int capacityPerChannel() const { return m_capacity; }
    qint64 bytesPerChannel() const { return m_byteBudget; }
    /// What the events held pin (EncodedEvent::heldBytes()), over every channel.
    qint64 heldBytes() const;
    /// Counts clear()s: a reader that saw one generation knows when the history was replaced.
    quint64 generation() const { return m_generation; }

    /// The history is written by one thread (the hub's) and read by the stream I/O threads:
    /// the writer holds this exclusively while it changes the history, readers hold it shared
    /// across everything they read that must be consistent (a coverage check and its read),
    /// and no longer. The writer's own thread may read without it (nothing else writes). The
    /// class itself does no locking: every reading function expects its caller to hold it
    /// shared (or to be the writer's thread).
    HistoryLock &lock() const { return m_lock; }

private:
    /// One channel's events.
    struct Lane
    {
        std::deque<EncodedEventPtr> events;
        EventId evictedUpTo;
        EventId lostThrough; ///< markLost(): events may be missing at or before it
        qint64 bytes = 0;    ///< the events' heldBytes()
    };
    Lane &lane(Channel channel);
    const Lane &lane(Channel channel) const;

    int m_capacity;
    qint64 m_byteBudget;
    Lane m_lanes[Channel::Count];
    EventId m_newest;
    quint64 m_generation = 0;
    mutable HistoryLock m_lock;
    ThreadAffinity m_writer; ///< the one thread that writes
};

} // namespace Hermes
