#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QNetworkReply>
#include <QString>
#include <QtGlobal>

namespace Hermes {

/**
 * Which failures are retried, and when: the one table (README "Downloads: what is retried").
 *
 * Transient — the resolver failing or timing out, refused or reset connections, timeouts (TLS
 * handshakes included), a proxy's trouble, 5xx, 408, 429, a body shorter than announced — are
 * retried with capped exponential backoff and jitter, honouring the origin's
 * `Retry-After`, for as long as the *retry window* lasts since the first failure of the run
 * (an hour by default: a resolver down for five minutes fails nothing), and at most
 * `maxAttempts` times when that is set. Anything else (other 4xx, a checksum mismatch, too many
 * redirects, an unsupported scheme, a file too large) fails at once with its reason. A full disk
 * is neither: the download is paused until there is room (DownloadEngine).
 */
struct RetryPolicy
{
    qint64 windowMs = 3600000; ///< HERMES_DOWNLOAD_RETRY_WINDOW
    int maxAttempts = 0;       ///< HERMES_DOWNLOAD_MAX_ATTEMPTS; 0: only the window limits
    int baseMs = 1000;         ///< HERMES_DOWNLOAD_RETRY_DELAY
    qint64 capMs = 60000;      ///< the longest wait between two attempts

    /// HTTP statuses worth another attempt.
    static bool isTransientStatus(int status)
    {
        return status >= 500 || status == 408 || status == 429;
    }
    /// Transport errors worth another attempt: everything but a redirect loop, an insecure
    /// redirect, an unknown scheme and the origin's own refusals (answered as statuses).
    static bool isTransientNetworkError(QNetworkReply::NetworkError error)
    {
        switch (error) {
        case QNetworkReply::TooManyRedirectsError:
        case QNetworkReply::InsecureRedirectError:
        case QNetworkReply::ProtocolUnknownError:
        case QNetworkReply::ProtocolInvalidOperationError:
        case QNetworkReply::OperationCanceledError: // aborted on purpose (stop)
            return false;
        default:
            return true; // HostNotFound (a resolver outage too), refused, reset, timeouts, TLS, proxies
        }
    }
    /// The wait a `Retry-After` asks for (delta-seconds or an HTTP date), -1 without one.
    static qint64 retryAfterMs(const QByteArray &header, const QDateTime &now)
    {
        const QByteArray v = header.trimmed();
        if (v.isEmpty())
            return -1;
        bool ok = false;
        const qint64 seconds = v.toLongLong(&ok);
        if (ok)
            return seconds >= 0 ? qMin<qint64>(seconds, 86400) * 1000 : -1;
        // An HTTP date (IMF-fixdate, RFC 9110 5.6.7) is RFC 2822 with "GMT" for the zone, which
        // Qt's parser wants as an offset.
        QString date = QString::fromLatin1(v);
        if (date.endsWith(QLatin1StringView(" GMT")))
            date = date.chopped(4) + QStringLiteral(" +0000");
        const QDateTime at = QDateTime::fromString(date, Qt::RFC2822Date);
        return at.isValid() ? qBound(qint64(0), now.msecsTo(at), qint64(86400000)) : -1;
    }

    /// Whether a run of transient failures that began at `sinceMs` (now `nowMs`) and has
    /// failed `attempts` times gets another attempt.
    bool allowsAnother(qint64 sinceMs, qint64 nowMs, int attempts) const
    {
        return nowMs - sinceMs < windowMs && (maxAttempts <= 0 || attempts < maxAttempts);
    }
    /// The wait before the attempt after the `attempts`-th failure: equal jitter over a capped
    /// exponential (so a fleet that failed together does not come back together), at least
    /// the origin's `Retry-After`. `random01` is in [0, 1).
    qint64 delayAfter(int attempts, qint64 retryAfterMs, double random01) const
    {
        const qint64 ceiling = qMin<qint64>(capMs, qint64(baseMs) << qBound(0, attempts - 1, 16));
        const qint64 jittered = qint64(double(ceiling) * (0.5 + random01 / 2)); // [ceiling/2, ceiling)
        return qMax(jittered, retryAfterMs);
    }
    /// The download's error message meanwhile.
    static QString retryMessage(const QString &error, qint64 delayMs, int attempts)
    {
        return QStringLiteral("%1; retrying in %2 s (attempt %3)").arg(error).arg(delayMs / 1000.0).arg(attempts + 1);
    }
};

} // namespace Hermes
