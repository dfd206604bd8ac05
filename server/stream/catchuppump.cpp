#include "stream/catchuppump.h"

#include "stream/eventhistory.h"
#include "stream/streamconnection.h"

#include <algorithm>
#include <shared_mutex>

namespace Hermes {

CatchUpPump::CatchUpPump(const EventHistory *history, qsizetype maxClientBuffer)
    : m_history(history), m_budget(qBound<qsizetype>(1024, maxClientBuffer, ChunkBytes))
{
}

CatchUpPump::Read CatchUpPump::read(const StreamConnection &c, EventId upTo, quint64 generation,
                                    Chunk *chunk)
{
    // Under the history's lock only the events are picked (shared pointers); framing happens
    // after it is released, so the hub is never kept from appending.
    bool full = false;
    int visited = 0;
    EventId last;
    {
        const std::shared_lock lock(m_history->lock());
        // The history was replaced and the change is still on its way in the worker's inbox:
        // until it is applied, nothing is read from the history.
        if (m_history->generation() != generation)
            return Read::HistoryAhead;
        // It fell behind further than the history reaches: what it missed is gone.
        if (!m_history->covers(c.cursor, c.filter().channels))
            return Read::Exceeded;
        qsizetype bytes = 0;
        last = m_history->read(c.cursor, upTo, c.filter().channels, ChunkEvents,
                               [&](const EncodedEventPtr &e) {
            ++visited;
            if (c.filter().matches(*e)) {
                m_picked.push_back(e);
                bytes += e->frame(c.style()).size();
            }
            full = bytes >= m_budget;
            return !full;
        });
    }
    // Nothing more on its channels up to what went out: it has caught up.
    chunk->cursor = (!full && visited < ChunkEvents) ? upTo : last;
    for (const EncodedEventPtr &e : m_picked) {
        chunk->frames += e->frame(c.style());
        ++chunk->perChannel[e->channel.index()];
    }
    m_picked.clear();
    return Read::Chunk;
}

bool CatchUpPump::schedule(StreamConnection &c)
{
    if (c.pumpScheduled)
        return false;
    c.pumpScheduled = true;
    m_queue.push_back(&c);
    if (m_turnDue)
        return false;
    m_turnDue = true;
    return true;
}

void CatchUpPump::cancel(StreamConnection &c)
{
    if (!c.pumpScheduled)
        return;
    // Only in the queue of the next turn: the caller of takeTurn() clears the flag of the
    // streams of its own turn as it pumps them.
    const auto it = std::find(m_queue.begin(), m_queue.end(), &c);
    if (it != m_queue.end())
        m_queue.erase(it);
}

std::deque<StreamConnection *> CatchUpPump::takeTurn()
{
    m_turnDue = false;
    std::deque<StreamConnection *> queue;
    queue.swap(m_queue);
    return queue;
}

} // namespace Hermes
