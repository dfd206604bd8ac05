#pragma once

#include <QString>
#include <QtGlobal>

namespace Hermes {

/**
 * When a failed transfer is tried again: network errors and retryable answers (5xx, 408, 429,
 * 416) get up to `maxAttempts` attempts per start or retry, the wait doubling from `baseMs`
 * up to a minute. The download is released with its retry time, so whichever node is free
 * then takes it.
 */
struct RetryPolicy
{
    int maxAttempts = 0; ///< from DownloadEngine::Options
    int baseMs = 0;

    /// Whether a download that has now failed `attempts` times gets another attempt.
    bool allowsAnother(int attempts) const { return attempts < maxAttempts; }
    /// The wait before the attempt after the `attempts`-th failure.
    qint64 delayAfter(int attempts) const
    {
        return qMin<qint64>(60000, qint64(baseMs) << qMin(attempts - 1, 16));
    }
    /// The download's error message meanwhile.
    QString retryMessage(const QString &error, int attempts) const
    {
        return QStringLiteral("%1; retrying in %2 s (attempt %3 of %4)")
            .arg(error).arg(delayAfter(attempts) / 1000.0).arg(attempts + 1).arg(maxAttempts);
    }
};

} // namespace Hermes
