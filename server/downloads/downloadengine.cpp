#include "downloads/downloadengine.h"

#include "downloads/abstractdownloadstore.h"
#include "downloads/finishedfile.h"
#include "logging.h"
#include "threadaffinity.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

namespace Hermes {

struct DownloadEngine::Running
{
    /// The transfer, and with it this node's copy of the download while it runs it. It stays
    /// (ended) while the file is verified and moved into place.
    std::unique_ptr<Transfer, void (*)(Transfer *)> transfer{nullptr, [](Transfer *t) { t->deleteLater(); }};
    DownloadStatus stored = DownloadStatus::Pending; ///< the status last written: fenced writes expect it

    Download &d() { return transfer->download(); }
};

DownloadEngine::DownloadEngine(const Options &options, AbstractDownloadStore *store, Broker *broker,
                               QObject *parent)
    : QObject(parent), m_options(options), m_dir(options.downloadDir), m_store(store),
      m_leases({options.leaseMs, options.renewMs, options.maxConcurrent, options.clusterMaxConcurrent},
               store, LeaseKeeper::makeNodeId()),
      m_events(broker, this),
      m_service(store, &m_events, this, m_dir),
      m_retries{options.maxAttempts, options.retryBaseMs},
      m_disk(options.downloadDir, options.diskWarningBytes)
{
    connect(&m_leases, &LeaseKeeper::claimed, this, &DownloadEngine::begin);
    connect(&m_leases, &LeaseKeeper::lost, this, &DownloadEngine::stopHere);
}

DownloadEngine::~DownloadEngine()
{
    // The transfers abort here, quietly: nothing is saved or published any more.
    for (const RunningPtr &r : std::as_const(m_running)) {
        r->transfer->disconnect(this);
        r->transfer->stop(false);
    }
    m_running.clear();
    m_leases.releaseAll();
}

void DownloadEngine::start()
{
    HERMES_ASSERT_THREAD(this);
    QDir().mkpath(m_options.downloadDir);
    m_leases.start();
}

// --- what the service and the events ask ---------------------------------------------------

const Download *DownloadEngine::runningHere(const QString &id) const
{
    HERMES_ASSERT_THREAD(this);
    const RunningPtr r = m_running.value(id);
    return r ? &r->d() : nullptr;
}

std::optional<double> DownloadEngine::liveSpeed(const QString &id) const
{
    HERMES_ASSERT_THREAD(this);
    if (const RunningPtr r = m_running.value(id))
        return r->transfer->speed();
    return std::nullopt;
}

void DownloadEngine::setPriorityHere(const QString &id, int priority)
{
    HERMES_ASSERT_THREAD(this);
    if (const RunningPtr r = m_running.value(id))
        r->d().priority = priority;
}

void DownloadEngine::claimSoon()
{
    m_leases.claimSoon();
}

void DownloadEngine::stopHere(const QString &id, bool handBack, bool deletePart, const QString &why)
{
    HERMES_ASSERT_THREAD(this);
    const RunningPtr r = m_running.take(id);
    if (!r)
        return;
    qCInfo(lcHub).noquote() << "download" << id << ": stopped here:" << why;
    r->transfer->stop(deletePart);
    m_leases.release(id, handBack);
    m_leases.claimSoon();
}

void DownloadEngine::forget(const RunningPtr &r)
{
    const QString id = r->d().id;
    if (m_running.value(id) == r)
        m_running.remove(id);
    m_leases.release(id, false);
}

// --- a download's way through this node ----------------------------------------------------

void DownloadEngine::begin(const Download &row)
{
    auto r = std::make_shared<Running>();
    const Transfer::Limits limits{m_options.maxRedirects, m_options.maxFileSize,
                                  m_options.progressStepPercent, m_options.progressIntervalMs};
    r->transfer.reset(new Transfer(row, m_dir, limits, &m_network, this));
    r->d().owner = m_leases.nodeId();
    r->stored = row.status;
    m_running.insert(row.id, r);
    Transfer *transfer = r->transfer.get();
    const std::weak_ptr<Running> weak = r;
    connect(transfer, &Transfer::started, this, [this, weak] {
        if (const RunningPtr r = weak.lock()) {
            checkDiskSpace();
            setStatus(r, DownloadStatus::Downloading);
        }
    });
    connect(transfer, &Transfer::received, this, [this](qint64 bytes) { m_stats.bytes += quint64(bytes); });
    connect(transfer, &Transfer::progressed, this, [this, weak] {
        if (const RunningPtr r = weak.lock())
            save(r, false, -1, false); // the bytes so far, at the pace of the events
    });
    connect(transfer, &Transfer::ended, this, [this, weak](const TransferResult &result) {
        if (const RunningPtr r = weak.lock())
            onEnded(r, result);
    });
    transfer->start();
}

void DownloadEngine::onEnded(const RunningPtr &r, const TransferResult &result)
{
    if (m_running.value(r->d().id) != r)
        return; // stopped here on purpose
    switch (result.kind) {
    case TransferResult::Kind::Finished:
        finish(r);
        break;
    case TransferResult::Kind::Failed:
        fail(r, result.message, result.retryable);
        break;
    case TransferResult::Kind::Stopped:
        break;
    }
}

void DownloadEngine::finish(const RunningPtr &r)
{
    setStatus(r, DownloadStatus::Processing);
    const QString path = m_dir.partPath(r->d().id);
    const std::weak_ptr<Running> weak = r;
    FinishedFile::verify(this, path, r->d().sha256, [this, weak, path](Result<void> verified) {
        const RunningPtr r = weak.lock();
        if (!r || m_running.value(r->d().id) != r)
            return; // stopped meanwhile (paused, deleted, lease lost)
        Download &d = r->d();
        if (!verified) {
            QFile::remove(path); // a corrupt file is not resumed
            d.downloadedBytes = 0;
            forget(r);
            ++m_stats.failed;
            setStatus(r, DownloadStatus::Failed, verified.error().message, -1, true);
            m_events.notify(NotificationType::Error,
                            QStringLiteral("Download failed: %1 (checksum mismatch)").arg(d.filename), &d);
            m_leases.claimSoon();
            return;
        }
        const Result<QString> placed = FinishedFile::moveIntoPlace(path, m_dir.path(), d.filename,
                                                                   m_options.finishedFileMode);
        forget(r);
        if (!placed) {
            ++m_stats.failed;
            setStatus(r, DownloadStatus::Failed, placed.error().message, -1, true);
            m_leases.claimSoon();
            return;
        }
        d.filename = QFileInfo(*placed).fileName();
        d.completedAt = QDateTime::currentDateTimeUtc();
        d.percent = 100;
        d.speed = 0;
        ++m_stats.completed;
        setStatus(r, DownloadStatus::Completed, {}, -1, true);
        m_events.notify(NotificationType::Info, QStringLiteral("Download completed: %1").arg(d.filename), &d);
        checkDiskSpace();
        m_leases.claimSoon();
    });
}

void DownloadEngine::fail(const RunningPtr &r, const QString &message, bool retryable)
{
    Download &d = r->d();
    forget(r);
    d.speed = 0;
    if (retryable && m_retries.allowsAnother(++d.attempts)) {
        // Released with a retry time: whichever node is free then takes it.
        ++m_stats.retried;
        setStatus(r, DownloadStatus::Pending, m_retries.retryMessage(message, d.attempts),
                  m_retries.delayAfter(d.attempts), true);
        qCInfo(lcHub).noquote() << "download" << d.id << ":" << d.errorMessage;
    } else {
        ++m_stats.failed;
        setStatus(r, DownloadStatus::Failed, message, -1, true);
        m_events.notify(NotificationType::Error, QStringLiteral("Download failed: %1: %2").arg(d.filename, message), &d);
    }
    m_leases.claimSoon();
}

// --- the running node's writes -------------------------------------------------------------

void DownloadEngine::setStatus(const RunningPtr &r, DownloadStatus status, const QString &error,
                               qint64 retryInMs, bool release)
{
    r->d().status = status;
    r->d().errorMessage = error;
    r->d().updatedAt = QDateTime::currentDateTimeUtc();
    save(r, true, retryInMs, release);
}

void DownloadEngine::save(const RunningPtr &r, bool statusChange, qint64 retryInMs, bool release)
{
    Download snapshot = r->d();
    if (!release)
        snapshot.speed = r->transfer->speed();
    snapshot.updatePercent();
    const DownloadStatus expected = r->stored;
    const bool changed = expected != snapshot.status;
    r->stored = snapshot.status;
    m_store->update(this, snapshot, m_leases.nodeId(), expected, retryInMs, release, statusChange,
                    [this, snapshot, changed, statusChange](Result<std::optional<QueueSummary>> summary) {
        if (!summary) {
            // Saved first, published after: an unsaved change is not announced. The lease
            // check stops the transfer if the database stays away.
            qCWarning(lcHub).noquote() << "cannot save download" << snapshot.id << ":" << summary.error().message;
            return;
        }
        if (!*summary) {
            // Not ours any more: paused, cancelled or deleted elsewhere, or taken over. The
            // node that changed it has published the change.
            if (snapshot.status == DownloadStatus::Completed) // moved into place too late: undo
                QFile::rename(m_dir.filePath(snapshot.filename), m_dir.partPath(snapshot.id));
            stopHere(snapshot.id, false, false, QStringLiteral("changed elsewhere"));
            return;
        }
        m_events.publishProgress(snapshot);
        if (statusChange && changed)
            m_events.publishQueue(QueueAction::StatusChanged, snapshot, **summary);
    });
    m_leases.written(snapshot.id);
}

void DownloadEngine::checkDiskSpace()
{
    if (const QString warning = m_disk.check(); !warning.isEmpty())
        m_events.notify(NotificationType::Warning, warning);
}

} // namespace Hermes
