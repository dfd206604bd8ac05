#pragma once

#include "downloads/download.h"

#include <QString>

#include <optional>

namespace Hermes {

/**
 * The downloads this node runs, as the API and the events need them: their live figures, and
 * stopping one when a request changed it. DownloadEngine is the one implementation; the unit
 * suites hand in a fake. Main thread only.
 */
class RunningDownloads
{
public:
    virtual ~RunningDownloads() = default;

    /// The download as it runs here (live bytes, total and percent), or null.
    virtual const Download *runningHere(const QString &id) const = 0;
    /// Its speed now (B/s), or nothing when it does not run here.
    virtual std::optional<double> liveSpeed(const QString &id) const = 0;
    /// Stops it if it runs here: `handBack` gives its lease back, `deletePart` removes its part
    /// file when it is still the one this node wrote; `why` is for the log.
    virtual void stopHere(const QString &id, bool handBack, bool deletePart, const QString &why) = 0;
    /// Its priority changed (the running copy keeps it for the events it publishes).
    virtual void setPriorityHere(const QString &id, int priority) = 0;
    /// Something changed that may let this node run more: claim work soon.
    virtual void claimSoon() = 0;
    /// What a download that runs here is doing within `downloading` (waiting for a connection,
    /// connecting, transferring, stalled), or nothing.
    virtual std::optional<DownloadPhase> phaseHere(const QString &id) const { Q_UNUSED(id) return std::nullopt; }
    /// When the next attempt of a download this node released for a retry is due (invalid:
    /// none known here).
    virtual QDateTime nextAttemptAt(const QString &id) const { Q_UNUSED(id) return {}; }
    /// HERMES_DOWNLOAD_MAX_ATTEMPTS (0: only the retry window limits).
    virtual int maxAttempts() const { return 0; }
};

} // namespace Hermes
