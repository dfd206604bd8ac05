#pragma once

#include "event.h"

#include <QList>

namespace Hermes {

/**
 * Which of a channel's stored events a start-up load keeps: the newest that fit the in-memory
 * history's bounds (HERMES_SSE_HISTORY_SIZE, HERMES_SSE_HISTORY_BYTES), so a store that keeps
 * more than fits (a journal of large events) is never read whole into memory. Fed newest
 * first, one run of events at a time; once an event does not fit, no older one does.
 *
 * The rule is EventHistory's (and EventHub's at a load): an event is kept while fewer than
 * `count` are and the ones kept weigh less than `bytes`, so the newest is always kept. The
 * weight is an estimate of EncodedEvent::heldBytes() from the event itself (both frames
 * carry the payload); the hub still applies the exact bound to what it is handed.
 */
class HistoryBudget final
{
public:
    HistoryBudget(int count, qint64 bytes) : m_count(count), m_bytes(bytes) {}

    /// `events` (in id order) are older than every event offered before: returns the index of
    /// the oldest of them that is kept (events.size(): none is).
    qsizetype keepNewest(const QList<Event> &events);
    /// What an event is estimated to hold once encoded.
    static qint64 weight(const Event &event);
    /// How many more events may be kept, and how many more bytes (either may be 0 or less:
    /// full; the next event offered is then left out).
    int countRoom() const { return m_count - m_kept; }
    qint64 byteRoom() const { return m_bytes - m_held; }

private:
    int m_count;
    qint64 m_bytes;
    int m_kept = 0;
    qint64 m_held = 0;
    bool m_full = false;
};

} // namespace Hermes
