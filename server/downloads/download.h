#pragma once

#include "protocol/downloadstatus.h"

#include <QDateTime>
#include <QJsonObject>
#include <QString>

#include <cmath>
#include <optional>

namespace Hermes {

/// One download, as stored and as the REST API shows it.
struct Download
{
    QString id;
    QString url;
    QString filename;             ///< the file name in the download dir (sanitized)
    bool filenameFromRequest = false; ///< chosen by the client: Content-Disposition does not override it
    int priority = 0;             ///< higher first
    qint64 position = 0;          ///< order of arrival, within a priority
    QString sha256;               ///< expected, lower-case hex, or empty
    DownloadStatus status = DownloadStatus::Pending;
    qint64 downloadedBytes = 0;
    qint64 totalBytes = -1;       ///< -1: unknown
    QString errorMessage;
    QString note;                 ///< e.g. that the server had no Range support
    int attempts = 0;
    QDateTime createdAt;
    QDateTime updatedAt;
    QDateTime completedAt;
    QString owner;                ///< the node running it (its lease), or empty
    QString etag;                 ///< validators of the bytes in the part file, for If-Range
    QString lastModified;
    double speed = 0;             ///< B/s, as the running node last reported it
    double percent = 0;           ///< the reported percentage: only a restart from zero lowers it

    // Not shown by the API: the engine's own bookkeeping, stored with the row.
    qint64 leaseGeneration = 0;   ///< bumped by every claim: the running node's fencing token
    qint64 partGeneration = 0;    ///< whose part file holds the saved `downloadedBytes` (0: `<id>.part`)
    QString partCheck;            ///< SHA-256 of the saved bytes' last 64 KiB, to vouch for a resume
    qint64 retryingSinceMs = 0;   ///< when the current run of transient failures began (0: none)
    QString heldBy;               ///< why the server paused it (e.g. "disk"); empty: a person did
    /// A status change saved but not yet published (its wire name): the node holds the lease
    /// until it is, and any node finishes the job if it dies first. Empty: nothing pending.
    QString announce;
    /// What it does within `downloading` as its running node last saved it (each phase change
    /// is a save). Read back only while that node's lease holds: a node that died leaves none.
    std::optional<DownloadPhase> phase;
    /// Read only: how long until the next attempt of a waiting retry is due, in the store's
    /// clock (any node's answer shows the retry, not only the one that scheduled it); 0: none.
    qint64 retryDueInMs = 0;

    bool isActive() const { return DownloadRules::isActive(status); }
    bool isFinished() const { return DownloadRules::isFinished(status); }

    /// Raises `percent` to what the bytes say, in 0.1 steps; it never goes down here (a
    /// restart from zero sets it to 0 on purpose, with a note). A completed
    /// download of unknown size is at 100.
    void updatePercent()
    {
        const double raw = totalBytes > 0 ? qMin(100.0, double(downloadedBytes) * 100.0 / double(totalBytes))
                                          : (status == DownloadStatus::Completed ? 100.0 : 0.0);
        percent = qMax(percent, std::floor(raw * 10) / 10);
    }
};

} // namespace Hermes
