#pragma once

#include "stream/encodedevent.h"

#include <QByteArray>

#include <deque>
#include <vector>

namespace Hermes {

class EventHistory;
class StreamConnection;

/**
 * Feeds the streams of one StreamWorker that are behind — resumed with Last-Event-ID, or
 * whose socket was full when a round went out — from the history: a bounded chunk at a time,
 * a few chunks per turn, then the other streams waiting have their turn (the pump queue).
 *
 * A replay or a burst therefore never queues more than a chunk per stream, and the history's
 * lock is held only while events are picked (shared pointers): framing and sending happen
 * after it is released, so the hub is never kept from appending. The worker writes the chunks
 * and decides when a stream is behind; this class reads and keeps the turns. Not thread-safe:
 * it belongs to its worker's thread.
 */
class CatchUpPump final
{
public:
    /// A stream that is behind is given at most this much per chunk, scanning at most this
    /// many history events per chunk, and this many chunks per turn before other streams get
    /// theirs.
    static constexpr qsizetype ChunkBytes = 64 * 1024;
    static constexpr int ChunkEvents = 4096;
    static constexpr int ChunksPerTurn = 4;

    /// What read() picked for a stream.
    struct Chunk
    {
        QByteArray frames;                       ///< in the stream's style, not chunked
        quint64 perChannel[Channel::Count] = {}; ///< events in `frames`, by channel index
        EventId cursor;                          ///< where the stream is after `frames`
    };
    enum class Read {
        Chunk,         ///< `chunk` holds the next frames (possibly none: caught up)
        Exceeded,      ///< the history no longer reaches back to the stream: it must resync
        HistoryAhead,  ///< the history was replaced and the worker has not applied it yet
    };

    /// `maxClientBuffer`: StreamWorker::Options::maxClientBuffer (bounded to 1 KiB … ChunkBytes).
    CatchUpPump(const EventHistory *history, qsizetype maxClientBuffer);

    /// The next chunk for `c`, from its cursor up to `upTo` (what went out live), under the
    /// history's lock; `generation`: the history generation the worker's streams are in.
    Read read(const StreamConnection &c, EventId upTo, quint64 generation, Chunk *chunk);

    /// Queues `c` for the next turn, unless it is queued. True when no turn was due yet: the
    /// caller makes one run (takeTurn()) at its next event-loop iteration.
    bool schedule(StreamConnection &c);
    /// Takes `c` (being removed) out of the queue of the next turn.
    void cancel(StreamConnection &c);
    /// The streams of this turn, in the order they were queued; the queue starts afresh. The
    /// caller clears each one's `pumpScheduled` as it pumps it.
    std::deque<StreamConnection *> takeTurn();

private:
    const EventHistory *m_history;
    const qsizetype m_budget;
    std::vector<EncodedEventPtr> m_picked; ///< read()'s events, reused
    std::deque<StreamConnection *> m_queue;
    bool m_turnDue = false;
};

} // namespace Hermes
