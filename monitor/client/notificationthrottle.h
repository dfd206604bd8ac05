#pragma once

#include <QtGlobal>

namespace Hermes {

/**
 * At most N desktop notifications per minute: a burst (a hundred downloads finishing at once,
 * a reconnect that applies many changes) must not bury the desktop. What is held back is
 * counted, so the next one allowed can say "and 12 more".
 */
class NotificationThrottle final
{
public:
    /// 0: no notifications at all.
    void setPerMinute(int n) { m_perMinute = qMax(0, n); }
    int perMinute() const { return m_perMinute; }

    /// Whether one may be shown at `nowMs` (a monotonic clock); counts it either way.
    bool allow(qint64 nowMs);
    /// How many were held back since the last one shown; reading resets it.
    int takeSuppressed();

private:
    int m_perMinute = 6;
    qint64 m_windowStart = -1;
    int m_shown = 0;
    int m_suppressed = 0;
};

} // namespace Hermes
