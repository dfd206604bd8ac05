#include "downloads/transferrate.h"

namespace Hermes {

void TransferRate::add(qint64 nowMs, qint64 bytes)
{
    if (!m_samples.empty() && m_samples.back().ms == nowMs) {
        m_samples.back().bytes += bytes;
    } else {
        m_samples.push_back({nowMs, bytes});
    }
    m_total += bytes;
    expire(nowMs);
}

void TransferRate::expire(qint64 nowMs)
{
    while (!m_samples.empty() && nowMs - m_samples.front().ms > m_windowMs) {
        m_total -= m_samples.front().bytes;
        m_samples.pop_front();
    }
}

double TransferRate::bytesPerSecond(qint64 nowMs)
{
    expire(nowMs);
    if (m_samples.empty())
        return 0;
    // Over the span the samples cover, at least one second, so one early sample does not
    // read as a huge rate.
    const qint64 span = qMax<qint64>(1000, nowMs - m_samples.front().ms);
    return double(m_total) * 1000.0 / double(span);
}

} // namespace Hermes
