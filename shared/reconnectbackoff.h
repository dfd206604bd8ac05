#pragma once

#include <QByteArrayView>
#include <QDateTime>

#include <functional>
#include <limits>
#include <optional>

namespace Hermes {

/**
 * When to try again after a connection failed: the one backoff of Hermes, used by the stream
 * clients (the monitor and hermes-events, and the monitor's snapshot retries) and by
 * RedisBroker.
 *
 * - Attempts back off exponentially: the bound before attempt n is min(cap, base × 2^(n−1))
 *   (the base wins over a smaller cap: a server's `retry:` floor may be above a low cap).
 * - The jitter spreads the clients of a restarted server, so they do not come back in one
 *   wave ("Exponential Backoff And Jitter", AWS architecture blog):
 *   - *equal jitter* (the default): a delay in [bound/2, bound], spread out yet never close
 *     to zero, so that no fast attempt is burnt at once;
 *   - *full jitter* (fullJitter(), what RedisBroker uses): a delay in [0, bound].
 * - After fastAttempts() attempts it keeps trying at the cap interval (±20 %), forever unless
 *   maxAttempts() is set: an operator who leaves the monitor open over a long outage finds it
 *   connected again. fullJitter() has no such slow phase: every attempt backs off.
 * - A server's `retry:` (setServerRetryMs()) replaces the base, clamped to
 *   [MinServerRetryMs, cap]: `retry: 0` must not burn the fast attempts in a second.
 * - A 503's `Retry-After` (seconds or an HTTP date, parseRetryAfter()) is honoured, at least
 *   1 s and at most an hour, plus up to 50 % jitter (retryAfterDelayMs()): every client turned
 *   away at max connections must not return at the same instant.
 */
class ReconnectBackoff final
{
public:
    /// A source of uniform random numbers in [0, 1]; tests inject a fixed one.
    using Random = std::function<double()>;
    enum class Jitter { Equal, Full };

    static constexpr int MinServerRetryMs = 500;
    static constexpr int MaxRetryAfterMs = 3600 * 1000;

    /// Equal jitter, 10 fast attempts, then the cap interval.
    explicit ReconnectBackoff(Random random = {});
    /// Full jitter on every attempt, without a slow phase.
    static ReconnectBackoff fullJitter(Random random = {});

    void setBaseMs(int ms) { m_baseMs = ms > 0 ? ms : 1; }
    void setCapMs(int ms) { m_capMs = ms > 0 ? ms : 1; }
    void setFastAttempts(int n) { m_fastAttempts = n > 0 ? n : 1; }
    /// 0: never give up.
    void setMaxAttempts(int n) { m_maxAttempts = n > 0 ? n : 0; }
    /// A `retry:` field; clamped. -1 forgets it.
    void setServerRetryMs(int ms);

    Jitter jitter() const { return m_jitter; }
    int baseMs() const { return m_serverRetryMs >= 0 ? m_serverRetryMs : m_baseMs; }
    int configuredBaseMs() const { return m_baseMs; }
    int capMs() const { return m_capMs; }
    int fastAttempts() const { return m_fastAttempts; }
    int maxAttempts() const { return m_maxAttempts; }
    int serverRetryMs() const { return m_serverRetryMs; }

    /// Whether attempt `attempt` (1-based) is past the limit.
    bool givesUpBefore(int attempt) const { return m_maxAttempts > 0 && attempt > m_maxAttempts; }
    /// Whether attempt `attempt` is one of the slow ones, at the cap interval.
    bool isSlow(int attempt) const { return attempt > m_fastAttempts; }
    /// The upper bound of the delay before attempt `attempt` (1-based).
    int boundMs(int attempt) const;
    /// The delay before attempt `attempt`, jittered.
    int delayMs(int attempt) const;
    /// The delay for a Retry-After of `seconds`, clamped and jittered.
    int retryAfterDelayMs(qint64 seconds) const;

    /// A Retry-After header in seconds from `now` (delta-seconds or an IMF-fixdate), or
    /// nothing when it is neither.
    static std::optional<qint64> parseRetryAfter(QByteArrayView value, const QDateTime &now);

private:
    double random() const;

    Random m_random;
    Jitter m_jitter = Jitter::Equal;
    int m_baseMs = 1000;
    int m_capMs = 30000;
    int m_fastAttempts = 10;
    int m_maxAttempts = 0;
    int m_serverRetryMs = -1;
};

} // namespace Hermes
