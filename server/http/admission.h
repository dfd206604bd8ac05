#pragma once

#include "http/httplimits.h"
#include "threadaffinity.h"

#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>

#include <deque>
#include <functional>

namespace Hermes {

/**
 * Which accepted connections the front door opens, and when: the caps on connections that are
 * not streams, in all and per client address (HttpLimits::maxConnections,
 * maxConnectionsPerAddress).
 *
 * At the total cap the listeners pause: new clients wait in the kernel's backlog instead of
 * being refused. A client address at its own cap gets its next connections parked — accepted
 * but not read, so each costs a descriptor and nothing else — until one of that address's
 * connections ends (the longest-waiting parked one then gets its slot) or its header timeout
 * passes (it is closed). Beyond as many parked as the address may have open, or as the server
 * may have open in all, a connection is closed at once.
 *
 * It deals in descriptors and addresses only: the server opens the connections (Opener) and
 * says when one ended (release()). Runs on the front door's thread.
 */
class Admission final
{
public:
    /// Opens a connection on an admitted descriptor, which it owns from now on; false when it
    /// could not (it closed the descriptor then, and nothing is counted).
    using Opener = std::function<bool(int fd, const QHostAddress &peer, qint64 acceptedAtMs)>;
    /// Called after every change of the counts (to pause or resume the listeners, to run or
    /// stop the sweep).
    using Changed = std::function<void()>;

    /// `limits` must outlive this.
    Admission(const HttpLimits &limits, Opener open, Changed changed = {});
    /// Closes the parked descriptors.
    ~Admission();
    Q_DISABLE_COPY_MOVE(Admission)

    /// A connection was accepted at `nowMs` (HttpConnection::now()): opened, parked or closed.
    void admit(int fd, const QHostAddress &peer, qint64 nowMs);
    /// A connection that was opened has ended: its slot is free.
    void release(const QHostAddress &peer);
    /// Closes the parked connections that waited their whole header timeout for a slot. The
    /// server's sweep calls it first, then checks its connections' deadlines, then tidy().
    void expireParked(qint64 nowMs);
    /// Gives memory back after a burst of connections, and reports the counts (Changed).
    void tidy();

    /// The server holds its maximum of open connections: accept nothing.
    bool isFull() const { return m_open >= m_limits.maxConnections; }
    /// Nothing open, nothing parked: nothing to sweep.
    bool isIdle() const { return m_open == 0 && m_parked.empty(); }
    int openCount() const { return m_open; }
    int parkedCount() const { return int(m_parked.size()); }
    /// Connections closed unread since the start: refused at once (the address's parking is
    /// full too), or parked for a whole header timeout without a slot (for the metrics).
    quint64 refusedCount() const { return m_refused; }
    quint64 expiredCount() const { return m_expired; }
    int openFrom(const QHostAddress &peer) const { return m_perAddress.value(peer); }

private:
    struct Parked
    {
        int fd;
        QHostAddress peer;
        qint64 acceptedAt;
    };
    void open(int fd, const QHostAddress &peer, qint64 acceptedAt);
    void trimAfterBurst();
    void changed();

    const HttpLimits &m_limits;
    Opener m_opener;
    Changed m_changed;
    int m_open = 0;
    QHash<QHostAddress, int> m_perAddress;
    std::deque<Parked> m_parked;
    QElapsedTimer m_lastFullWarning;
    quint64 m_refused = 0;
    quint64 m_expired = 0;
    int m_burst = 0; ///< most connections open since the heap was last trimmed
    ThreadAffinity m_thread;
};

} // namespace Hermes
