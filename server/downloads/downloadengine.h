#pragma once

#include "downloads/download.h"
#include "downloads/downloadstore.h"
#include "downloads/transferrate.h"

#include <QFile>
#include <QHash>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <memory>

class QNetworkReply;

namespace Hermes {

class Broker;

/**
 * Downloads files over HTTP(S) with QNetworkAccessManager and reports every change as events.
 *
 * A queue ordered by priority then arrival, at most `maxConcurrent` transfers at once. Bytes go
 * to `<download dir>/<id>.part`; a finished file is verified (SHA-256, off the event loop),
 * then renamed to its sanitized name, never over an existing file. Pause keeps the part file and
 * resumes with an HTTP Range request (from zero, with a note, when the server ignores Range).
 * Network errors and 5xx answers are retried with backoff a bounded number of times. Every
 * state change is saved in the store first, then published; downloads that were running when
 * the server stopped (or died) resume on the next start from what their part file holds.
 */
class DownloadEngine final : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        QString downloadDir;
        int maxConcurrent = 3;
        int maxAttempts = 5;           ///< per start or retry, network errors included
        int retryBaseMs = 1000;
        int maxRedirects = 10;
        qint64 maxFileSize = 0;        ///< 0: unlimited
        double progressStepPercent = 1.0;
        int progressIntervalMs = 500;
        qint64 diskWarningBytes = 1LL << 30;
        int finishedFileMode = -1;     ///< chmod of a finished file (-1: as created)
    };
    /// Totals since start, for /metrics.
    struct Stats
    {
        quint64 completed = 0, failed = 0, retried = 0, bytes = 0; ///< bytes: received
    };
    const Stats &stats() const { return m_stats; }

    DownloadEngine(const Options &options, DownloadStore *store, Broker *broker,
                   QObject *parent = nullptr);
    ~DownloadEngine() override;

    /// Loads the stored downloads and resumes those that were running.
    void start();

    struct Error
    {
        int status = 0; ///< HTTP status for the API: 400, 404, 409, 500
        QString code;
        QString message;
    };
    using Result = std::optional<Error>;

    Result add(const QString &url, const QString &filename, int priority, const QString &sha256,
               Download *created);
    Result pause(const QString &id);
    Result resume(const QString &id);
    Result cancel(const QString &id);
    Result retry(const QString &id);
    Result remove(const QString &id, bool deleteFile);
    Result setPriority(const QString &id, int priority);

    const Download *find(const QString &id) const;
    /// Every download, in queue order (priority, then arrival).
    QList<const Download *> ordered() const;
    QJsonObject toJson(const Download &d) const;
    /// The `progress` object of the events and of the REST representation.
    QJsonObject progressJson(const Download &d) const;
    /// Queue summary: active, queued, paused, total speed.
    QJsonObject summary() const;
    QString downloadDir() const { return m_options.downloadDir; }

private:
    struct Transfer; // one running transfer

    void schedule();
    void begin(Download &d);
    void onMetaData(Download &d);
    void onData(Download &d);
    void onFinished(Download &d);
    void finishFile(Download &d);
    void fail(Download &d, const QString &message, bool retryable);
    void stopTransfer(Download &d);
    void setStatus(Download &d, DownloadStatus status, const QString &error = {});
    void persist(Download &d);
    void publishProgress(Download &d, bool force);
    void publishQueue(const QString &action, const Download &d);
    void notify(const QString &type, const QString &message, const Download *d = nullptr);
    void checkDiskSpace();
    QString partPath(const Download &d) const;
    int activeCount() const;
    double speedOf(const QString &id) const;
    qint64 etaOf(const Download &d) const;

    Options m_options;
    DownloadStore *m_store;
    Broker *m_broker;
    QNetworkAccessManager m_network;
    QHash<QString, Download> m_downloads;
    QHash<QString, std::shared_ptr<Transfer>> m_transfers;
    QHash<QString, qint64> m_notBefore;   ///< retry backoff: not before this time (ms)
    QHash<QString, double> m_reportedPercent; ///< never decreasing, as clients expect
    QTimer m_scheduleTimer;
    bool m_diskWarned = false;
    Stats m_stats;
};

} // namespace Hermes
