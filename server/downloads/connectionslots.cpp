#include "downloads/connectionslots.h"

#include <QUrl>

namespace Hermes {

QString ConnectionSlots::originOf(const QUrl &url)
{
    const QString scheme = url.scheme().toLower();
    const int port = url.port(scheme == u"https" ? 443 : scheme == u"http" ? 80 : -1);
    return scheme + QStringLiteral("://") + url.host().toLower() + u':' + QString::number(port);
}

int ConnectionSlots::freeSlot(const QString &origin) const
{
    const QList<int> used = m_used.value(origin);
    for (int slot = 0; slot < m_perHost; ++slot) {
        if (!used.contains(slot))
            return slot;
    }
    return -1;
}

quint64 ConnectionSlots::join(const QString &origin, Granted granted)
{
    const quint64 ticket = m_next++;
    Ticket t{origin, -1, std::move(granted)};
    if (waiting(origin) == 0) // no jumping the queue
        t.slot = freeSlot(origin);
    if (t.slot >= 0)
        m_used[origin].append(t.slot);
    m_tickets.emplace(ticket, std::move(t));
    return ticket;
}

int ConnectionSlots::slotOf(quint64 ticket) const
{
    const auto it = m_tickets.find(ticket);
    return it == m_tickets.end() ? -1 : it->second.slot;
}

void ConnectionSlots::leave(quint64 ticket)
{
    const auto it = m_tickets.find(ticket);
    if (it == m_tickets.end())
        return;
    const QString origin = it->second.origin;
    const int slot = it->second.slot;
    m_tickets.erase(it);
    if (slot < 0)
        return; // it only waited
    QList<int> &used = m_used[origin];
    used.removeOne(slot);
    if (used.isEmpty())
        m_used.remove(origin);
    for (auto &[id, waiter] : m_tickets) {
        if (waiter.origin != origin || waiter.slot >= 0)
            continue;
        waiter.slot = slot;
        m_used[origin].append(slot);
        const Granted granted = waiter.granted; // a copy: the callback may leave() this ticket
        if (granted)
            granted(slot);
        return;
    }
}

int ConnectionSlots::inUse(const QString &origin) const
{
    return int(m_used.value(origin).size());
}

int ConnectionSlots::waiting(const QString &origin) const
{
    int n = 0;
    for (const auto &[id, t] : m_tickets)
        n += t.origin == origin && t.slot < 0 ? 1 : 0;
    return n;
}

} // namespace Hermes
