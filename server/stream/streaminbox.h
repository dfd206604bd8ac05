#pragma once

#include "stream/encodedevent.h"
#include "threadaffinity.h"

#include <QElapsedTimer>
#include <mutex>
#include <QObject>
#include <QTimer>

#include <limits>
#include <vector>

namespace Hermes {

/**
 * What other threads hand to one StreamWorker, in order: events (deliver()), history
 * changes (setHistory()) and losses (eventsLost()). The only locked part of a worker: the hub's thread adds, and the
 * worker's thread takes everything at once (take()) when flushDue() says there is something.
 *
 * Two rules live here. A worker that is too far behind the hub (maxQueuedEvents events
 * waiting, or maxQueuedBytes of them by EncodedEvent::heldBytes(): events the history
 * already evicted are pinned only by this queue) stops queueing them: one Skip entry stands for everything that follows, and the
 * worker's streams catch up from the history, where those events already are. And rounds that
 * take events start at least roundIntervalMs apart: the events that arrive meanwhile, and
 * history changes queued behind them, are taken together at the end of the interval; after a
 * quiet spell a round starts at once, and a history change alone never waits.
 */
class StreamInbox final : public QObject
{
    Q_OBJECT
public:
    /// One thing handed over.
    struct Entry
    {
        /// Event: `event`. History: see setHistory(). Skip: the worker fell too far behind;
        /// the events up to `newest` are read from the history (StreamWorker::skipTo()).
        /// Lost: events on `channels` may have been lost (StreamWorker::eventsLost()).
        enum Kind { Event, History, Skip, Lost };
        EncodedEventPtr event;
        Kind kind = Event;
        quint32 epoch = 0;
        EventId newest;
        bool reset = false;
        quint64 generation = 0;
        Channel::Mask channels = 0;
    };

    /// `maxQueuedEvents`, `roundIntervalMs`, `maxQueuedBytes`: see StreamWorker::Options.
    StreamInbox(int maxQueuedEvents, int roundIntervalMs,
                qint64 maxQueuedBytes = std::numeric_limits<qint64>::max(), QObject *parent = nullptr);

    /// Queues `event` (already in the history).
    HERMES_ANY_THREAD void deliver(const EncodedEventPtr &event);
    /// Queues a history change (see StreamWorker::setHistory()), ordered with deliver().
    HERMES_ANY_THREAD void setHistory(quint32 epoch, EventId newest, bool reset,
                                      quint64 generation);

    /// Queues a loss on `channels` (see StreamWorker::eventsLost()), ordered with deliver().
    HERMES_ANY_THREAD void eventsLost(Channel::Mask channels);

    /// In the inbox's thread, on flushDue(): moves everything handed over, in order, into
    /// `out` (empty before) and returns true; or, when a round of events must wait for its
    /// interval, takes nothing and returns false (flushDue() comes again when it is over).
    bool take(std::vector<Entry> *out);

Q_SIGNALS:
    /// Something waits to be taken. Emitted in the inbox's thread, once per take().
    void flushDue();

private:
    /// Queues flushDue() unless it is queued (m_lock held).
    void scheduleFlushLocked();

    const int m_maxQueuedEvents;
    const qint64 m_maxQueuedBytes;
    const int m_roundIntervalMs;
    std::mutex m_lock; // pthread: ThreadSanitizer sees it even when contended (QMutex it does not)
    std::vector<Entry> m_entries;  ///< guarded by m_lock
    int m_events = 0;              ///< events in m_entries, guarded by m_lock
    qint64 m_bytes = 0;            ///< their heldBytes(), guarded by m_lock
    bool m_flushScheduled = false; ///< guarded by m_lock
    QTimer m_roundTimer;           ///< holds a take back to roundIntervalMs after the last
    QElapsedTimer m_lastRound;     ///< when take() last took events
};

} // namespace Hermes
