#include "broker/adoptretryqueue.h"

#include <algorithm>

namespace Hermes {

AdoptRetryQueue::AdoptRetryQueue(Limits limits, ReconnectBackoff::Random random)
    : m_limits(limits), m_backoff(std::move(random))
{
    m_limits.maxEntries = std::max(1, m_limits.maxEntries);
    m_backoff.setBaseMs(m_limits.baseDelayMs);
    m_backoff.setCapMs(m_limits.maxDelayMs);
}

quint64 AdoptRetryQueue::add(Channel channel, const QByteArray &payload, EventId after,
                             qint64 nowMs, bool attempted, std::vector<Entry> *givenUp)
{
    Entry e;
    e.ticket = m_nextTicket++;
    e.channel = channel;
    e.payload = payload;
    e.after = after;
    e.firstMs = nowMs;
    e.attempts = attempted ? 1 : 0;
    // Behind others that wait, it goes with them (not before them); alone, after the backoff.
    e.dueMs = attempted ? nextAttempt(e, nowMs) : nowMs;
    for (const Entry &waiting : m_entries) {
        if (!waiting.inFlight)
            e.dueMs = std::max(e.dueMs, waiting.dueMs);
    }
    e.dueMs = std::min(e.dueMs, deadline(e));
    m_bytes += payload.size();
    m_entries.push_back(std::move(e));
    // The oldest give up to make room; the one just added stays even when it alone is over
    // the byte bound (it was accepted by Redis' PUBLISH, so it is not absurdly large).
    while (m_entries.size() > 1
           && (int(m_entries.size()) > m_limits.maxEntries || m_bytes > m_limits.maxBytes)) {
        givenUp->push_back(m_entries.front());
        remove(m_entries.begin());
    }
    return m_entries.back().ticket;
}

std::vector<AdoptRetryQueue::Entry> AdoptRetryQueue::startDue(qint64 nowMs)
{
    std::vector<Entry> due;
    for (Entry &e : m_entries) {
        if (!e.inFlight && e.dueMs <= nowMs && nowMs <= deadline(e)) {
            e.inFlight = true;
            ++e.attempts;
            due.push_back(e);
        }
    }
    return due;
}

void AdoptRetryQueue::succeeded(quint64 ticket)
{
    const auto it = find(ticket);
    if (it != m_entries.end())
        remove(it);
}

void AdoptRetryQueue::failed(quint64 ticket, qint64 nowMs, std::vector<Entry> *givenUp)
{
    const auto it = find(ticket);
    if (it == m_entries.end())
        return;
    if (nowMs >= deadline(*it)) {
        givenUp->push_back(*it);
        remove(it);
        return;
    }
    it->inFlight = false;
    it->dueMs = nextAttempt(*it, nowMs);
}

void AdoptRetryQueue::expire(qint64 nowMs, std::vector<Entry> *givenUp)
{
    for (auto it = m_entries.begin(); it != m_entries.end();) {
        if (!it->inFlight && nowMs > deadline(*it)) {
            givenUp->push_back(*it);
            m_bytes -= it->payload.size();
            it = m_entries.erase(it);
        } else {
            ++it;
        }
    }
}

std::optional<qint64> AdoptRetryQueue::nextWakeMs() const
{
    std::optional<qint64> wake;
    for (const Entry &e : m_entries) {
        if (e.inFlight)
            continue;
        // Due (then tried at once), or over its deadline (then given up just after it).
        const qint64 at = std::min(e.dueMs, deadline(e) + 1);
        wake = wake ? std::min(*wake, at) : at;
    }
    return wake;
}

std::deque<AdoptRetryQueue::Entry>::iterator AdoptRetryQueue::find(quint64 ticket)
{
    const auto it = std::lower_bound(m_entries.begin(), m_entries.end(), ticket,
                                     [](const Entry &e, quint64 t) { return e.ticket < t; });
    return it != m_entries.end() && it->ticket == ticket ? it : m_entries.end();
}

void AdoptRetryQueue::remove(std::deque<Entry>::iterator it)
{
    m_bytes -= it->payload.size();
    m_entries.erase(it);
}

qint64 AdoptRetryQueue::nextAttempt(const Entry &e, qint64 nowMs) const
{
    // The last attempt is at the deadline itself: a Redis that recovers just before it still
    // gets the message.
    return std::min(nowMs + m_backoff.delayMs(std::max(1, e.attempts)), deadline(e));
}

} // namespace Hermes
