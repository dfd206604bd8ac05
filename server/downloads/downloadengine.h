#pragma once

#include "downloads/connectionslots.h"
#include "downloads/directorysync.h"
#include "downloads/diskspacewatch.h"
#include "downloads/download.h"
#include "downloads/downloaddir.h"
#include "downloads/downloadevents.h"
#include "downloads/downloadservice.h"
#include "downloads/finishedfile.h"
#include "downloads/leasekeeper.h"
#include "downloads/retrypolicy.h"
#include "downloads/runningdownloads.h"
#include "downloads/transfer.h"
#include "settings/downloadsettings.h"

#include <QElapsedTimer>
#include <QHash>
#include <QSet>
#include <QNetworkAccessManager>
#include <QObject>
#include <QTimer>

#include <memory>
#include <vector>

namespace Hermes {

class AbstractDownloadStore;
class Broker;

/**
 * Runs this node's downloads: composes the pieces and carries each download from its claim to
 * its end. The store (SQLite, or PostgreSQL shared by several nodes) is the truth.
 *
 * - LeaseKeeper says which downloads run here (claims, renewals, stopping before a lease that
 *   could not be renewed expires);
 * - a Transfer per running download moves its bytes into `<download dir>/<id>.part`, once it
 *   has one of its origin's connection slots (ConnectionSlots; until then it is downloading,
 *   phase waiting_for_connection);
 * - DownloadService is the API (service()); DownloadEvents publishes every change.
 *
 * What it does itself: the running node's fenced writes (saved first, published after, once),
 * retries with backoff (RetryPolicy; released with a retry time, so any node may take them),
 * the last step — SHA-256 verified off the event loop, the file moved into place under its
 * sanitized name, never over an existing file (FinishedFile) — and the disk-space warning
 * (DiskSpaceWatch). Control actions (pause, resume, cancel, retry, priority, delete) change the
 * row wherever the download runs and notify the nodes; the running node stops within a
 * notification (or one renewal at worst). Lives on the main thread.
 */
class DownloadEngine final : public QObject, private RunningDownloads
{
    Q_OBJECT
public:
    /// The download settings group (see DownloadSettings).
    using Options = DownloadSettings;
    DownloadEngine(const Options &options, AbstractDownloadStore *store, Broker *broker,
                   QObject *parent = nullptr);
    /// Stops the transfers and hands their leases back, so another node resumes them at once.
    ~DownloadEngine() override;

    /// Starts claiming work (after a restart of a single node: what was running resumes).
    void start();

    /// The API (the REST routes use it).
    DownloadService *service() { return &m_service; }
    QString downloadDir() const { return m_dir.path(); }
    QString nodeId() const { return m_leases.nodeId(); }
    int runningCount() const { return int(m_running.size()); }

    /// Counters since start (for metrics).
    struct Stats
    {
        quint64 completed = 0;
        quint64 failed = 0;
        quint64 retried = 0;
        quint64 bytes = 0;    ///< bytes received
        quint64 takeovers = 0; ///< downloads resumed after their node's lease expired (LeaseKeeper's)
        quint64 dirSyncs = 0;  ///< syncs of the download dir after renames (DirectorySync's)
    };
    Stats stats() const
    {
        Stats s = m_stats;
        s.takeovers = m_leases.takeovers();
        s.dirSyncs = m_dirSync.syncs();
        return s;
    }
    /// The sync of the download dir (a test makes it fail).
    DirectorySync &directorySync() { return m_dirSync; }
    /// What syncs a finished file before it is moved into place (a test holds one up).
    void setFileSyncer(FinishedFile::Syncer sync) { m_fileSync = std::move(sync); }

private:
    struct Running; // one download this node runs
    using RunningPtr = std::shared_ptr<Running>;

    // RunningDownloads: what the service and the events ask of the running downloads.
    const Download *runningHere(const QString &id) const override;
    std::optional<double> liveSpeed(const QString &id) const override;
    void stopHere(const QString &id, bool handBack, bool deletePart, const QString &why) override;
    void setPriorityHere(const QString &id, int priority) override;
    void claimSoon() override;
    std::optional<DownloadPhase> phaseHere(const QString &id) const override;
    QDateTime nextAttemptAt(const QString &id) const override;
    int maxAttempts() const override { return m_options.maxAttempts; }

    /// The network access manager of connection slot `slot` (ConnectionSlots::PerManager each).
    QNetworkAccessManager *network(int slot);
    /// The transfer got connection slot `slot`: it starts.
    void run(const RunningPtr &r, int slot);
    DownloadPhase phaseOf(const Running &r) const;
    /// Publishes the download's phase if it changed since its last event (a stall, say, has
    /// no bytes that would).
    void showPhase(const RunningPtr &r);
    void checkPhases();

    void begin(const Download &row);
    void onEnded(const RunningPtr &r, const TransferResult &result);
    void finish(const RunningPtr &r);
    /// Moves a completed download's part file into place under `d.filename` (saved first),
    /// then, once the dir is synced, hands `then` the row (its final name).
    void placeFinished(const QString &part, Download d, std::function<void(const Download &)> then);
    /// Syncs the dir, then announces the completion through `then`; a failed sync keeps the
    /// row's announce mark, so the claim after its lease expires tries again.
    void syncThenComplete(Download d, std::function<void(const Download &)> then);
    void fail(const RunningPtr &r, const QString &message, bool retryable, qint64 retryAfterMs);
    /// The disk is full: paused (held by the disk), resumed by itself when there is room.
    void holdForDisk(const RunningPtr &r, const QString &message);
    /// Whether a transfer may start: HERMES_DOWNLOAD_MIN_FREE is free (asked before claims).
    bool hasRoom();
    void resumeHeld();
    /// Publishes a saved change, then gives the lease up with the change marked as published.
    void publishThenRelease(Download d, const QueueSummary &summary);
    /// Gives the lease up with the change marked as published (or, when it was not, leaves
    /// the lease to expire so that a claim publishes it again).
    void releaseAnnounced(Download d, bool allPublished);
    /// A change saved by a node that stopped before publishing it (and before moving a
    /// completed file into place): finished here.
    void finishAnnouncement(Download d);
    /// No longer runs here (its lease goes with the write that follows, or was lost).
    void forget(const RunningPtr &r);
    void setStatus(const RunningPtr &r, DownloadStatus status, const QString &error = {},
                   qint64 retryInMs = -1, bool release = false);
    /// Runs once a write applied, before its events, which it sends on (its second argument).
    using Applied = std::function<void(Download &, std::function<void(const Download &)>)>;
    /// The running node's fenced write; `applied` runs once it applied, before the events.
    void save(const RunningPtr &r, bool statusChange, qint64 retryInMs, bool release, Applied applied = {});
    void checkDiskSpace();

    Options m_options;
    DownloadDir m_dir;
    AbstractDownloadStore *m_store;
    std::vector<std::unique_ptr<QNetworkAccessManager>> m_networks; ///< see network()
    ConnectionSlots m_slots;
    QTimer m_phaseCheck;               ///< notices stalls
    QHash<QString, QDateTime> m_retryAt; ///< downloads released here for a retry: when it is due
    QHash<QString, RunningPtr> m_running;
    LeaseKeeper m_leases;
    DownloadEvents m_events;
    DownloadService m_service;
    RetryPolicy m_retries;
    DiskSpaceWatch m_disk;
    DirectorySync m_dirSync; ///< the renames of finished files made durable
    FinishedFile::Syncer m_fileSync = &FinishedFile::fdatasync;
    bool m_hadRoom = true;
    QSet<QString> m_announcing;    ///< changes saved here, being published, then released
    QElapsedTimer m_heldChecked;
    Stats m_stats;
};

} // namespace Hermes
