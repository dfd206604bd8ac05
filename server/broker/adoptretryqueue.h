#pragma once

#include "eventid.h"
#include "protocol/channel.h"
#include "reconnectbackoff.h"

#include <QByteArray>

#include <deque>
#include <optional>
#include <vector>

namespace Hermes {

/**
 * Outside publishers' messages whose adoption failed (Redis out of memory, a script error, the
 * connection lost before the answer), waiting to be tried again with backoff — and the one
 * place that decides when one is given up.
 *
 * A message is given up when it could not be adopted within `giveUpAfterMs` of its first
 * attempt, or when the queue is full: it is bounded by count and by payload bytes, and a
 * message that does not fit pushes the oldest out (a flood during an outage must not grow
 * memory without bound; the oldest is the one closest to its limit anyway). The caller reports
 * what is given up (Broker::eventsLost()).
 *
 * Messages keep their order of arrival: the due ones are handed out oldest first, and a
 * message that arrives while others wait joins them rather than overtaking them. (Sent in
 * that order on one connection, they are adopted in it, unless Redis recovers in the middle
 * of a round: then a later one may get in before an earlier one's next attempt.)
 *
 * Pure bookkeeping on a clock the caller passes in (ms, monotonic): RedisBroker drives it with
 * a timer and sends the adoptions.
 */
class AdoptRetryQueue final
{
public:
    struct Limits
    {
        int maxEntries = 10000;
        qint64 maxBytes = 16 << 20;
        qint64 giveUpAfterMs = 30000; ///< HERMES_REDIS_ADOPT_RETRY_LIMIT
        int baseDelayMs = 200;        ///< the first retry's bound; it doubles up to maxDelayMs
        int maxDelayMs = 5000;
    };

    struct Entry
    {
        quint64 ticket = 0;  ///< names it in succeeded() / failed()
        Channel channel;
        QByteArray payload;
        EventId after;       ///< what the node had delivered when the message arrived
        qint64 firstMs = 0;  ///< its first attempt
        qint64 dueMs = 0;    ///< its next attempt
        int attempts = 0;    ///< attempts made so far
        bool inFlight = false;
    };

    explicit AdoptRetryQueue(Limits limits, ReconnectBackoff::Random random = {});

    /// A message whose first attempt failed at `nowMs` (or that is queued behind others
    /// without one: `attempted` false). Entries pushed out to make room go to `givenUp`.
    quint64 add(Channel channel, const QByteArray &payload, EventId after, qint64 nowMs,
                bool attempted, std::vector<Entry> *givenUp);
    /// Marks the entries due at `nowMs` in flight and returns copies of them, oldest first.
    std::vector<Entry> startDue(qint64 nowMs);
    /// Its adoption was answered: it is done (unknown tickets, given up meanwhile, are ignored).
    void succeeded(quint64 ticket);
    /// Its attempt failed at `nowMs`: it waits for the next, or goes to `givenUp` when its time
    /// is over.
    void failed(quint64 ticket, qint64 nowMs, std::vector<Entry> *givenUp);
    /// Entries not in flight whose time is over at `nowMs` go to `givenUp`.
    void expire(qint64 nowMs, std::vector<Entry> *givenUp);
    /// When something is due next (an attempt, or an entry's limit); nothing when empty or all
    /// entries are in flight.
    std::optional<qint64> nextWakeMs() const;

    bool isEmpty() const { return m_entries.empty(); }
    int size() const { return int(m_entries.size()); }
    qint64 bytes() const { return m_bytes; }
    const Limits &limits() const { return m_limits; }

private:
    std::deque<Entry>::iterator find(quint64 ticket);
    void remove(std::deque<Entry>::iterator it);
    qint64 deadline(const Entry &e) const { return e.firstMs + m_limits.giveUpAfterMs; }
    /// The time of the attempt after `e.attempts` attempts, never past its deadline.
    qint64 nextAttempt(const Entry &e, qint64 nowMs) const;

    Limits m_limits;
    ReconnectBackoff m_backoff;
    std::deque<Entry> m_entries; ///< in order of arrival (ascending tickets)
    qint64 m_bytes = 0;
    quint64 m_nextTicket = 1;
};

} // namespace Hermes
