#include "reconnectbackoff.h"

#include <QLocale>
#include <QRandomGenerator>
#include <QTimeZone>

#include <algorithm>
#include <cmath>

namespace Hermes {

ReconnectBackoff::ReconnectBackoff(Random random) : m_random(std::move(random))
{
    if (!m_random)
        m_random = [] { return QRandomGenerator::global()->generateDouble(); };
}

ReconnectBackoff ReconnectBackoff::fullJitter(Random random)
{
    ReconnectBackoff backoff(std::move(random));
    backoff.m_jitter = Jitter::Full;
    backoff.m_fastAttempts = std::numeric_limits<int>::max();
    return backoff;
}

double ReconnectBackoff::random() const
{
    return std::clamp(m_random(), 0.0, 1.0);
}

void ReconnectBackoff::setServerRetryMs(int ms)
{
    m_serverRetryMs = ms < 0 ? -1 : std::clamp(ms, MinServerRetryMs, std::max(MinServerRetryMs, m_capMs));
}

int ReconnectBackoff::boundMs(int attempt) const
{
    if (isSlow(attempt))
        return m_capMs;
    // 2^(n-1) overflows nothing here: the exponent stops growing long before a double could.
    const double bound = double(baseMs()) * std::pow(2.0, std::clamp(attempt - 1, 0, 30));
    return int(std::min<double>(std::max(m_capMs, baseMs()), bound));
}

int ReconnectBackoff::delayMs(int attempt) const
{
    const double bound = boundMs(attempt);
    if (isSlow(attempt))
        return int(std::lround(bound * (0.8 + 0.4 * random())));
    if (m_jitter == Jitter::Full)
        return int(std::lround(random() * bound));
    return int(std::lround(bound / 2 + random() * bound / 2));
}

int ReconnectBackoff::retryAfterDelayMs(qint64 seconds) const
{
    const double ms = double(std::clamp<qint64>(seconds, 1, MaxRetryAfterMs / 1000)) * 1000;
    return int(std::lround(std::min<double>(MaxRetryAfterMs, ms * (1.0 + 0.5 * random()))));
}

std::optional<qint64> ReconnectBackoff::parseRetryAfter(QByteArrayView value, const QDateTime &now)
{
    const QByteArray text = value.toByteArray().trimmed();
    if (text.isEmpty())
        return std::nullopt;
    if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        bool ok = false;
        const qint64 s = text.size() > 10 ? MaxRetryAfterMs / 1000 : text.toLongLong(&ok);
        return ok || text.size() > 10 ? std::optional<qint64>(s) : std::nullopt;
    }
    // HTTP-date, IMF-fixdate form: "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7).
    QDateTime when = QLocale::c().toDateTime(QString::fromLatin1(text),
                                             QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'"));
    if (!when.isValid())
        return std::nullopt;
    when.setTimeSpec(Qt::UTC);
    return std::max<qint64>(0, now.secsTo(when));
}

} // namespace Hermes
