#pragma once

#include <QHash>
#include <QList>
#include <QString>

#include <functional>
#include <map>

class QUrl;

namespace Hermes {

/**
 * The engine's connections per origin (HERMES_DOWNLOAD_CONNECTIONS_PER_HOST): at most `perHost`
 * transfers to one scheme://host:port at once, the others waiting in the order they asked.
 *
 * Why the engine counts them itself: Qt's network access manager queues a request beyond its
 * own 6 connections per host without a word, so a transfer waiting there looked like one
 * running at 0 B/s. Counted here, a waiting transfer is known to wait (phase
 * waiting_for_connection) and starts only when it gets a slot.
 *
 * A slot has a number, the lowest free one of its origin: slots 0–5 go to the first network
 * access manager, 6–11 to the second, and so on (managersFor), so no manager ever queues. Main
 * thread only.
 */
class ConnectionSlots final
{
public:
    /// Qt 6.4's QHttpNetworkConnection opens this many connections per host and manager.
    static constexpr int PerManager = 6;
    /// `slot` is the slot's number.
    using Granted = std::function<void(int slot)>;

    explicit ConnectionSlots(int perHost) : m_perHost(qMax(1, perHost)) {}

    /// The origin of `url`, e.g. "https://example.org:443".
    static QString originOf(const QUrl &url);
    /// Network access managers needed for `perHost` connections to one origin.
    static int managersFor(int perHost) { return (qMax(1, perHost) + PerManager - 1) / PerManager; }

    /// Asks for a slot of `origin`: returns a ticket. slotOf(ticket) says at once whether it has
    /// one; if not, `granted` runs when one frees (from inside leave()).
    quint64 join(const QString &origin, Granted granted);
    /// The ticket's slot, or -1 while it waits (or once it left).
    int slotOf(quint64 ticket) const;
    /// Gives the ticket's slot back (the next waiter of its origin gets it), or stops waiting.
    /// An unknown ticket (0, or one that left) is ignored.
    void leave(quint64 ticket);

    int inUse(const QString &origin) const;
    int waiting(const QString &origin) const;

private:
    struct Ticket
    {
        QString origin;
        int slot = -1;
        Granted granted;
    };
    int freeSlot(const QString &origin) const;

    int m_perHost;
    quint64 m_next = 1;
    std::map<quint64, Ticket> m_tickets;    ///< ordered: the oldest waiter comes first
    QHash<QString, QList<int>> m_used;      ///< slot numbers in use per origin
};

} // namespace Hermes
