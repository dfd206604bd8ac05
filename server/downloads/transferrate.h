#pragma once

#include <QtGlobal>

#include <deque>

namespace Hermes {

/// Speed over a sliding window (default 5 s) of byte counts, not since the start: a stall or a
/// burst shows within seconds, and a resumed download does not look fast.
class TransferRate final
{
public:
    explicit TransferRate(qint64 windowMs = 5000) : m_windowMs(windowMs) {}

    void add(qint64 nowMs, qint64 bytes);
    /// Bytes per second over the window; 0 before two samples span any time.
    double bytesPerSecond(qint64 nowMs);
    void reset() { m_samples.clear(); }

private:
    struct Sample
    {
        qint64 ms;
        qint64 bytes;
    };
    void expire(qint64 nowMs);

    qint64 m_windowMs;
    std::deque<Sample> m_samples;
    qint64 m_total = 0; ///< bytes in m_samples
};

} // namespace Hermes
