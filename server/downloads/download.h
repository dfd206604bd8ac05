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
    double percent = 0;           ///< the reported percentage: it never goes down

    bool isActive() const { return DownloadRules::isActive(status); }
    bool isFinished() const { return DownloadRules::isFinished(status); }

    /// Raises `percent` to what the bytes say, in 0.1 steps; it never goes down. A completed
    /// download of unknown size is at 100.
    void updatePercent()
    {
        const double raw = totalBytes > 0 ? qMin(100.0, double(downloadedBytes) * 100.0 / double(totalBytes))
                                          : (status == DownloadStatus::Completed ? 100.0 : 0.0);
        percent = qMax(percent, std::floor(raw * 10) / 10);
    }
};

} // namespace Hermes
