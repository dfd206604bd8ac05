#pragma once

#include <QDateTime>
#include <QElapsedTimer>

namespace Hermes {

/**
 * Milliseconds since the epoch that a step of the wall clock does not move: the wall time when
 * the process first asked, plus the monotonic time since. For times this process both sets and
 * compares — a single node's leases and retry times in SQLite, the start of a retry window — an
 * NTP step or an operator's `date -s` must not delay a retry by the step or expire every lease
 * at once. (PostgreSQL's times are the database server's clock, shared by every node.)
 */
namespace SteadyClock {

inline qint64 nowMs()
{
    static const qint64 start = QDateTime::currentMSecsSinceEpoch();
    static const QElapsedTimer elapsed = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return start + elapsed.elapsed();
}

} // namespace SteadyClock

} // namespace Hermes
