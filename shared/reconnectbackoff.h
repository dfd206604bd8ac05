#pragma once

#include <functional>

namespace Hermes {

/**
 * Exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS architecture
 * blog): the delay before attempt n is uniform in [0, min(cap, base × 2^(n−1))].
 *
 * Full jitter spreads the reconnects of many clients after a server restart, so they do not
 * arrive in waves. A server's `retry:` value replaces the base.
 */
class ReconnectBackoff final
{
public:
    /// A source of uniform random numbers in [0, 1]; tests inject a fixed one.
    using Random = std::function<double()>;

    explicit ReconnectBackoff(Random random = {});

    void setBaseMs(int ms) { m_baseMs = ms > 0 ? ms : 1; }
    void setCapMs(int ms) { m_capMs = ms > 0 ? ms : 1; }
    void setMaxAttempts(int n) { m_maxAttempts = n > 0 ? n : 1; }
    int baseMs() const { return m_baseMs; }
    int capMs() const { return m_capMs; }
    int maxAttempts() const { return m_maxAttempts; }

    /// The upper bound of the delay before attempt `attempt` (1-based).
    int boundMs(int attempt) const;
    /// A random delay in [0, boundMs(attempt)].
    int delayMs(int attempt) const;

private:
    Random m_random;
    int m_baseMs = 1000;
    int m_capMs = 30000;
    int m_maxAttempts = 10;
};

} // namespace Hermes
