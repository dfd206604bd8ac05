#pragma once

#include "downloads/download.h"
#include "downloads/downloadstore.h"
#include "settings/downloadsettings.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QObject>
#include <QTimer>

#include <functional>
#include <memory>
#include <optional>

namespace Hermes {

class Broker;

/**
 * Runs downloads over HTTP(S) with QNetworkAccessManager and reports every change as events;
 * the store (SQLite, or PostgreSQL shared by several nodes) is the truth.
 *
 * A node claims runnable downloads from the store under a lease (at most `maxConcurrent` at
 * once, and at most `clusterMaxConcurrent` over every node), renews its leases every
 * `renewMs`, and stops a transfer by itself before a lease it could not renew expires, so a
 * download never runs twice. A download whose node died is claimed by another once its lease
 * expired and resumes from the part file with Range + If-Range (the ETag or Last-Modified
 * seen before: a file that changed on the server restarts from zero instead of being spliced).
 *
 * Bytes go to `<download dir>/<id>.part`; a finished file is verified (SHA-256, off the event
 * loop) and renamed to its sanitized name, never over an existing file. Network errors and
 * 5xx answers are retried with backoff (on any node). Control actions (pause, resume, cancel,
 * retry, priority, delete) change the row wherever the download runs and notify the nodes;
 * the running node stops within a notification (or one renewal at worst). Every change is
 * saved first and then published once, by the node that made it.
 */
class DownloadEngine final : public QObject
{
    Q_OBJECT
public:
    /// The download settings group (see DownloadSettings).
    using Options = DownloadSettings;
    /// Totals since start, for /metrics.
    DownloadEngine(const Options &options, DownloadStore *store, Broker *broker,
                   QObject *parent = nullptr);
    /// Stops the transfers and hands their leases back, so another node resumes them at once.
    ~DownloadEngine() override;

    /// Starts claiming work (after a restart of a single node: what was running resumes).
    void start();

    struct Error
    {
        int status = 0; ///< HTTP status for the API: 400, 404, 409, 500, 503
        QString code;
        QString message;
    };
    using Result = std::optional<Error>;
    using RowCallback = std::function<void(Result, const Download &)>;

    enum class Action { Pause, Resume, Cancel, Retry };

    void add(const QString &url, const QString &filename, int priority, const QString &sha256,
             RowCallback done);
    void act(const QString &id, Action action, RowCallback done);
    void setPriority(const QString &id, int priority, RowCallback done);
    void remove(const QString &id, bool deleteFile, std::function<void(Result)> done);

    void get(const QString &id, RowCallback done);
    void list(std::optional<DownloadStatus> status, int limit, int offset,
              std::function<void(Result, const QList<Download> &, int total)> done);
    /// Unfinished downloads in queue order, and the queue figures over every node.
    void queue(std::function<void(Result, const QList<Download> &, const QJsonObject &summary)> done);

    /// The REST representation; live figures when this node runs it.
    QJsonObject toJson(const Download &d) const;
    /// The `progress` object of the events and of the REST representation.
    QJsonObject progressJson(const Download &d) const;
    QString downloadDir() const { return m_options.downloadDir; }
    QString nodeId() const { return m_nodeId; }
    int runningCount() const { return int(m_running.size()); }

    /// Counters since start (for metrics).
    struct Stats
    {
        quint64 completed = 0;
        quint64 failed = 0;
        quint64 retried = 0;
        quint64 bytes = 0;    ///< bytes received
        quint64 takeovers = 0; ///< downloads resumed after their node's lease expired
    };
    const Stats &stats() const { return m_stats; }

private:
    struct Running; // one download this node runs
    using RunningPtr = std::shared_ptr<Running>;

    template<typename T>
    void query(std::function<T(DownloadRepository &)> job,
               std::function<void(std::optional<T>, const QString &)> done);
    void claimSoon();
    void renew();
    void enforceLeases();
    void check(const QString &id);
    void onStoreChanged(const QString &id);
    void begin(const Download &row);
    void onMetaData(const RunningPtr &r);
    void onData(const RunningPtr &r);
    void onFinished(const RunningPtr &r);
    void finishFile(const RunningPtr &r);
    void fail(const RunningPtr &r, const QString &message, bool retryable);
    /// Stops the transfer here; `release` hands the lease back, `deletePart` removes the part
    /// file when it is still the one this node wrote.
    void drop(const QString &id, bool release, bool deletePart, const QString &why);
    void setStatus(const RunningPtr &r, DownloadStatus status, const QString &error = {},
                   qint64 retryInMs = -1, bool release = false);
    void save(const RunningPtr &r, bool statusChange, qint64 retryInMs, bool release);
    void controlled(DownloadStatus before, const Download &after, const QueueCounts &counts);
    void publishProgress(const Download &d);
    void publishQueue(const QString &action, const Download &d, const QueueCounts &counts);
    void notify(const QString &type, const QString &message, const Download *d = nullptr);
    void checkDiskSpace();
    void updatePercent(Download &d) const;
    QString partPath(const QString &id) const;
    double speedOf(const Download &d) const;
    qint64 etaOf(const Download &d) const;

    Options m_options;
    DownloadStore *m_store;
    Broker *m_broker;
    QString m_nodeId;
    QNetworkAccessManager m_network;
    QHash<QString, RunningPtr> m_running;
    QElapsedTimer m_clock;          ///< local and monotonic: lease validity on this side
    quint64 m_seq = 0;              ///< orders this node's store jobs
    bool m_claiming = false;
    bool m_claimAgain = false;
    bool m_renewing = false;
    QTimer m_renewTimer;
    QTimer m_leaseTimer;
    QTimer m_retryTimer;
    bool m_diskWarned = false;
    Stats m_stats;
};

} // namespace Hermes
