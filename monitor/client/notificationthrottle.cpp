#include "notificationthrottle.h"

namespace Hermes {

bool NotificationThrottle::allow(qint64 nowMs)
{
    if (m_windowStart < 0 || nowMs - m_windowStart >= 60000) {
        m_windowStart = nowMs;
        m_shown = 0;
    }
    if (m_shown < m_perMinute) {
        ++m_shown;
        return true;
    }
    ++m_suppressed;
    return false;
}

int NotificationThrottle::takeSuppressed()
{
    const int n = m_suppressed;
    m_suppressed = 0;
    return n;
}

} // namespace Hermes
