#pragma once

#include <QString>

namespace Hermes {

/**
 * The download engine's settings (HERMES_DOWNLOAD_*, HERMES_PROGRESS_*, the lease and cluster
 * limits): DownloadEngine takes this group as its Options.
 *
 * Every member but finishedFileMode is written by SettingsTable, which defines its variable,
 * default and unit (MiB converted to bytes there); tst_settingstable keeps the defaults below
 * equal to the table's.
 */
struct DownloadSettings
{
    QString downloadDir;           ///< the server's default: <data dir>/downloads
    int maxConcurrent = 3;
    /// Transfers to one origin (scheme, host, port) at once; the rest wait for a connection.
    int connectionsPerHost = 6;
    int stalledAfterMs = 10000;    ///< no byte for this long: the transfer is shown as stalled
    qint64 retryWindowMs = 3600000; ///< transient failures are retried this long (RetryPolicy)
    int maxAttempts = 0;           ///< within the window; 0: only the window limits
    int retryBaseMs = 1000;
    int maxRedirects = 10;
    bool blockPrivate = false;     ///< refuse loopback, private, link-local, … addresses (AddressPolicy)
    qint64 maxFileSize = 0;        ///< 0: unlimited
    double progressStepPercent = 1.0;
    int progressIntervalMs = 500;
    qint64 diskWarningBytes = 1LL << 30;
    qint64 minFreeBytes = 64LL << 20; ///< below it no transfer starts; a full disk pauses

    int leaseMs = 15000;           ///< how long a claim holds without renewal
    int renewMs = 5000;            ///< renewal (and polling for orphaned work) period
    int clusterMaxConcurrent = 0;  ///< over every node; 0: only the per-node limit
    /// chmod of a finished file (-1: as created). Not a setting: the server derives it from
    /// HERMES_DOWNLOAD_UMASK (StorageDirs::finishedFileMode).
    int finishedFileMode = -1;
};

} // namespace Hermes
