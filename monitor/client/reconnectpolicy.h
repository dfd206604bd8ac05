#pragma once

#include <QByteArrayView>
#include <QDateTime>

#include <functional>
#include <optional>

namespace Hermes {

/**
 * When to try again after a stream connection failed: what the monitor and hermes-events
 * share.
 *
 * - The first fastAttempts() attempts back off exponentially from the base to the cap with
 *   *equal jitter* (a delay in [bound/2, bound]): spread out, so that the clients of a
 *   restarted server do not come back in one wave, yet never close to zero.
 * - After them it keeps trying at the cap interval (±20 %), forever unless maxAttempts() is
 *   set: an operator who leaves the monitor open over a long outage finds it connected again.
 * - A server's `retry:` replaces the base, clamped to [MinServerRetryMs, cap]: `retry: 0` must
 *   not burn the fast attempts in a second.
 * - A 503's `Retry-After` (seconds or an HTTP date) is honoured, at least 1 s and at most an
 *   hour, plus up to 50 % jitter: every client turned away at max connections must not return
 *   at the same instant.
 */
class ReconnectPolicy final
{
public:
    /// A source of uniform random numbers in [0, 1]; tests inject a fixed one.
    using Random = std::function<double()>;

    static constexpr int MinServerRetryMs = 500;
    static constexpr int MaxRetryAfterMs = 3600 * 1000;

    explicit ReconnectPolicy(Random random = {});

    void setBaseMs(int ms) { m_baseMs = ms > 0 ? ms : 1; }
    void setCapMs(int ms) { m_capMs = ms > 0 ? ms : 1; }
    void setFastAttempts(int n) { m_fastAttempts = n > 0 ? n : 1; }
    /// 0: never give up.
    void setMaxAttempts(int n) { m_maxAttempts = n > 0 ? n : 0; }
    /// A `retry:` field; clamped. -1 forgets it.
    void setServerRetryMs(int ms);

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
    /// The upper bound of the delay before attempt `attempt`.
    int boundMs(int attempt) const;
    /// The delay before attempt `attempt`.
    int delayMs(int attempt) const;
    /// The delay for a Retry-After of `seconds`, clamped and jittered.
    int retryAfterDelayMs(qint64 seconds) const;

    /// A Retry-After header in seconds from `now` (delta-seconds or an IMF-fixdate), or
    /// nothing when it is neither.
    static std::optional<qint64> parseRetryAfter(QByteArrayView value, const QDateTime &now);

private:
    double random() const;

    Random m_random;
    int m_baseMs = 1000;
    int m_capMs = 30000;
    int m_fastAttempts = 10;
    int m_maxAttempts = 0;
    int m_serverRetryMs = -1;
};

} // namespace Hermes
