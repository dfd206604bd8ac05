#include "http/admission.h"

#include "logging.h"

#include <malloc.h>
#include <unistd.h>

namespace Hermes {

Admission::Admission(const HttpLimits &limits, Opener open, Changed changed)
    : m_limits(limits), m_opener(std::move(open)), m_changed(std::move(changed))
{
}

Admission::~Admission()
{
    for (const Parked &p : m_parked)
        ::close(p.fd);
}

void Admission::admit(int fd, const QHostAddress &peer, qint64 nowMs)
{
    m_thread.check(Q_FUNC_INFO);
    const int cap = m_limits.maxConnectionsPerAddress;
    if (cap > 0 && m_perAddress.value(peer) >= cap) {
        // Parked: not read, so it costs a descriptor and nothing else. At most as many as the
        // address may have open, and as the server may have open in all.
        const auto sameAddress = std::count_if(m_parked.begin(), m_parked.end(),
                                               [&](const Parked &p) { return p.peer == peer; });
        if (sameAddress >= cap || int(m_parked.size()) >= m_limits.maxConnections) {
            qCDebug(lcHttp).noquote() << "refused a connection from" << peer.toString()
                                      << "(HERMES_HTTP_MAX_CONNECTIONS_PER_IP)";
            ::close(fd);
            ++m_refused;
        } else {
            m_parked.push_back({fd, peer, nowMs});
        }
        changed();
        return;
    }
    open(fd, peer, nowMs);
}

void Admission::open(int fd, const QHostAddress &peer, qint64 acceptedAt)
{
    if (!m_opener(fd, peer, acceptedAt))
        return;
    ++m_open;
    ++m_perAddress[peer];
    changed();
}

void Admission::release(const QHostAddress &peer)
{
    m_thread.check(Q_FUNC_INFO);
    Q_ASSERT(m_open > 0);
    --m_open;
    auto it = m_perAddress.find(peer);
    if (it != m_perAddress.end() && --*it <= 0)
        m_perAddress.erase(it);
    // A slot of this address is free: its longest-waiting parked connection gets it.
    for (auto p = m_parked.begin(); p != m_parked.end(); ++p) {
        if (p->peer == peer) {
            const Parked parked = *p;
            m_parked.erase(p);
            open(parked.fd, parked.peer, parked.acceptedAt);
            break;
        }
    }
    trimAfterBurst();
    changed();
}

void Admission::expireParked(qint64 nowMs)
{
    m_thread.check(Q_FUNC_INFO);
    while (!m_parked.empty() && nowMs >= m_parked.front().acceptedAt + m_limits.headerTimeoutMs) {
        ::close(m_parked.front().fd); // waited its whole header timeout for a slot
        m_parked.pop_front();
        ++m_expired;
    }
}

void Admission::tidy()
{
    m_thread.check(Q_FUNC_INFO);
    trimAfterBurst();
    changed();
}

// After a burst of connections (a flood, a reconnect storm) has gone, give the freed heap back
// to the system: glibc would otherwise keep it for the life of the process.
void Admission::trimAfterBurst()
{
    m_burst = qMax(m_burst, m_open);
    if (m_burst >= 64 && m_open < 8 && m_parked.empty()) {
        ::malloc_trim(0);
        m_burst = m_open;
    }
}

void Admission::changed()
{
    if (isFull() && (!m_lastFullWarning.isValid() || m_lastFullWarning.hasExpired(10'000))) {
        m_lastFullWarning.start();
        qCWarning(lcHttp) << "the server holds its maximum of" << m_limits.maxConnections
                          << "connections (HERMES_HTTP_MAX_CONNECTIONS); new ones wait";
    }
    if (m_changed)
        m_changed();
}

} // namespace Hermes
