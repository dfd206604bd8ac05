#include "downloads/downloadengine.h"

#include "downloads/abstractdownloadstore.h"
#include "downloads/addresspolicy.h"
#include "downloads/fieldlimits.h"
#include "downloads/steadyclock.h"
#include "logging.h"
#include "threadaffinity.h"

#include <QPointer>
#include <QUrl>
#include <QRandomGenerator>

#include <cstring>
#include <utility>

namespace Hermes {

// Download::heldBy of a download the engine paused because the disk was full.
static const QString HeldByDisk = QStringLiteral("disk");

struct DownloadEngine::Running
{
    /// The transfer, and with it this node's copy of the download while it runs it. It stays
    /// (ended) while the file is verified and moved into place.
    std::unique_ptr<Transfer, void (*)(Transfer *)> transfer{nullptr, [](Transfer *t) { t->deleteLater(); }};
    DownloadStatus stored = DownloadStatus::Pending; ///< the status last written: fenced writes expect it
    /// A write that named this generation's part file applied: another generation may now copy
    /// from it, so it is not deleted when the download is taken away from this node.
    bool partSaved = false;
    /// Taken over while it ran elsewhere: whether its node published that it ran is unknown
    /// (it may have died between saving and publishing), so this node's first status change
    /// is published even where the status stays the same — at least once, not at most.
    bool republish = false;
    bool requested = false;  ///< it got a connection slot and its transfer started
    bool responded = false;  ///< the origin's response headers arrived
    qint64 lastByteMs = 0;   ///< when the last byte (or the headers) arrived (SteadyClock)
    std::optional<DownloadPhase> shownPhase; ///< the phase its last event showed

    Download &d() { return transfer->download(); }
    const Download &d() const { return transfer->download(); }
};

DownloadEngine::DownloadEngine(const Options &options, AbstractDownloadStore *store, Broker *broker,
                               QObject *parent)
    : QObject(parent), m_options(options), m_dir(options.downloadDir), m_store(store),
      m_slots(options.connectionsPerHost),
      m_leases({options.leaseMs, options.renewMs, options.maxConcurrent, options.clusterMaxConcurrent},
               store, LeaseKeeper::makeNodeId()),
      m_events(broker, this),
      m_service(store, &m_events, this, m_dir),
      m_retries{options.retryWindowMs, options.maxAttempts, options.retryBaseMs},
      m_disk(options.downloadDir, options.diskWarningBytes),
      m_dirSync(m_dir)
{
    connect(&m_leases, &LeaseKeeper::claimed, this, &DownloadEngine::begin);
    connect(&m_leases, &LeaseKeeper::lost, this, &DownloadEngine::stopHere);
    m_leases.setClaimGate([this] { return hasRoom(); });
    m_leases.setBusy([this] { return QStringList(m_running.keys()) + QStringList(m_announcing.values()); });
    m_networks.push_back(std::make_unique<QNetworkAccessManager>());
    m_phaseCheck.setInterval(qBound(100, options.stalledAfterMs / 4, 1000));
    connect(&m_phaseCheck, &QTimer::timeout, this, &DownloadEngine::checkPhases);
}

DownloadEngine::~DownloadEngine()
{
    // The transfers abort here, quietly: nothing is saved or published any more.
    for (const RunningPtr &r : std::as_const(m_running)) {
        r->transfer->disconnect(this);
        r->transfer->stop(false);
        // Deleted now, not later: at exit no event loop runs a deleteLater. (A store answer
        // still holding the Running is never delivered once this engine is gone.)
        delete r->transfer.release();
    }
    m_running.clear();
    m_leases.releaseAll();
}

void DownloadEngine::start()
{
    HERMES_ASSERT_THREAD(this);
    if (const Result<void> opened = m_dir.open(); !opened)
        qCWarning(lcHub).noquote() << "downloads:" << opened.error().message;
    m_leases.start();
    m_phaseCheck.start();
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

std::optional<DownloadPhase> DownloadEngine::phaseHere(const QString &id) const
{
    HERMES_ASSERT_THREAD(this);
    const RunningPtr r = m_running.value(id);
    if (!r || r->transfer->hasEnded() || r->d().status != DownloadStatus::Downloading)
        return std::nullopt;
    return phaseOf(*r);
}

QDateTime DownloadEngine::nextAttemptAt(const QString &id) const
{
    return m_retryAt.value(id);
}

DownloadPhase DownloadEngine::phaseOf(const Running &r) const
{
    if (!r.requested)
        return DownloadPhase::WaitingForConnection;
    if (!r.responded)
        return DownloadPhase::Connecting;
    return SteadyClock::nowMs() - r.lastByteMs >= m_options.stalledAfterMs ? DownloadPhase::Stalled
                                                                          : DownloadPhase::Transferring;
}

void DownloadEngine::showPhase(const RunningPtr &r)
{
    if (m_running.value(r->d().id) == r && !r->transfer->hasEnded()
        && r->d().status == DownloadStatus::Downloading && r->shownPhase != phaseOf(*r))
        save(r, false, -1, false);
}

void DownloadEngine::checkPhases()
{
    for (const RunningPtr &r : QList<RunningPtr>(m_running.values()))
        showPhase(r);
}

QNetworkAccessManager *DownloadEngine::network(int slot)
{
    // Qt 6.4 has no way to raise a manager's 6 connections per host (QHttp1Configuration came
    // with 6.5): more than 6 to one origin go through more managers, each with its own pool.
    const std::size_t index = std::size_t(qMax(0, slot) / ConnectionSlots::PerManager);
    while (m_networks.size() <= index)
        m_networks.push_back(std::make_unique<QNetworkAccessManager>());
    return m_networks[index].get();
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
    if (!row.announce.isEmpty())
        return finishAnnouncement(row);
    auto r = std::make_shared<Running>();
    const Transfer::Limits limits{m_options.maxRedirects, m_options.maxFileSize,
                                  m_options.progressStepPercent, m_options.progressIntervalMs,
                                  m_options.blockPrivate ? TransferRoute::Refusal(&AddressPolicy::refusal)
                                                         : TransferRoute::Refusal()};
    // No parent: the Running owns it, and may outlive the engine inside a store answer.
    r->transfer.reset(new Transfer(row, m_dir, limits, network(0)));
    m_retryAt.remove(row.id);
    r->d().owner = m_leases.nodeId();
    r->stored = row.status;
    r->republish = DownloadRules::isActive(row.status);
    m_running.insert(row.id, r);
    Transfer *transfer = r->transfer.get();
    const std::weak_ptr<Running> weak = r;
    connect(transfer, &Transfer::started, this, [this, weak] {
        if (const RunningPtr r = weak.lock()) {
            checkDiskSpace();
            setStatus(r, DownloadStatus::Downloading);
        }
    });
    connect(transfer, &Transfer::responded, this, [this, weak] {
        if (const RunningPtr r = weak.lock()) {
            r->responded = true;
            r->lastByteMs = SteadyClock::nowMs();
            showPhase(r); // connecting → transferring, before the first progress step
        }
    });
    connect(transfer, &Transfer::received, this, [this, weak](qint64 bytes) {
        m_stats.bytes += quint64(bytes);
        if (const RunningPtr r = weak.lock())
            r->lastByteMs = SteadyClock::nowMs();
    });
    connect(transfer, &Transfer::progressed, this, [this, weak] {
        if (const RunningPtr r = weak.lock()) {
            r->d().retryingSinceMs = 0; // bytes arrived: a run of transient failures is over
            save(r, false, -1, false); // the bytes so far, at the pace of the events
        }
    });
    // A slot granted later is granted inside another transfer's end: it starts from the loop.
    const quint64 ticket = m_slots.join(ConnectionSlots::originOf(QUrl(row.url)), [this, weak](int slot) {
        QMetaObject::invokeMethod(this, [this, weak, slot] {
            if (const RunningPtr r = weak.lock())
                run(r, slot);
        }, Qt::QueuedConnection);
    });
    connect(transfer, &Transfer::ended, this, [this, weak, ticket](const TransferResult &result) {
        m_slots.leave(ticket); // the next transfer to the origin may start
        if (const RunningPtr r = weak.lock())
            onEnded(r, result);
    });
    if (const int slot = m_slots.slotOf(ticket); slot >= 0)
        return run(r, slot);
    // Downloading, but waiting behind HERMES_DOWNLOAD_CONNECTIONS_PER_HOST transfers to its
    // origin: shown as such rather than as a transfer at 0 B/s.
    checkDiskSpace();
    setStatus(r, DownloadStatus::Downloading);
}

void DownloadEngine::run(const RunningPtr &r, int slot)
{
    if (m_running.value(r->d().id) != r || r->transfer->hasEnded() || r->requested)
        return; // stopped while it waited (its slot went on to the next)
    r->requested = true;
    r->transfer->setNetwork(network(slot));
    r->transfer->start();
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
        fail(r, result.message, result.retryable, result.retryAfterMs);
        break;
    case TransferResult::Kind::DiskFull:
        holdForDisk(r, result.message);
        break;
    case TransferResult::Kind::Stopped:
        break;
    }
}

void DownloadEngine::finish(const RunningPtr &r)
{
    setStatus(r, DownloadStatus::Processing);
    m_leases.finishing(r->d().id); // the next download is claimed now, not after this one's sync
    const QString part = r->transfer->partName();
    const std::weak_ptr<Running> weak = r;
    FinishedFile::verify(this, m_dir.pathOf(part), r->d().sha256, r->transfer->sha256(), [this, weak, part](Result<void> verified) {
        const RunningPtr r = weak.lock();
        if (!r || m_running.value(r->d().id) != r)
            return; // stopped meanwhile (paused, deleted, lease lost)
        Download &d = r->d();
        if (!verified && verified.error().code == "sync_failed") {
            // The disk failed to keep some bytes: the part file cannot be trusted, but the
            // download is not at fault. Retried (from zero), as a transient failure.
            r->transfer->removeOwnPart();
            d.downloadedBytes = 0;
            d.percent = 0;
            fail(r, verified.error().message, true, 0);
            return;
        }
        if (!verified) {
            r->transfer->removeOwnPart(); // a corrupt file is not resumed
            d.downloadedBytes = 0;
            d.percent = 0;
            forget(r);
            ++m_stats.failed;
            setStatus(r, DownloadStatus::Failed, verified.error().message, -1, true);
            m_events.notify(NotificationType::Error,
                            QStringLiteral("Download failed: %1 (checksum mismatch)").arg(d.filename), &d);
            m_leases.claimSoon();
            return;
        }
        // Saved first (fenced: only this claim's write applies), moved into place after: a
        // node that lost its lease never gets here, so only the holder's file is ever placed.
        const QString name = m_dir.freeName(d.filename);
        if (name.isEmpty()) {
            forget(r);
            ++m_stats.failed;
            setStatus(r, DownloadStatus::Failed, QStringLiteral("no free name like %1 in the download dir").arg(d.filename), -1, true);
            m_leases.claimSoon();
            return;
        }
        d.filename = name;
        d.completedAt = QDateTime::currentDateTimeUtc();
        d.percent = 100;
        d.speed = 0;
        forget(r);
        d.status = DownloadStatus::Completed;
        d.errorMessage.clear();
        d.updatedAt = QDateTime::currentDateTimeUtc();
        save(r, true, -1, true, [this, part](Download &saved, std::function<void(const Download &)> then) {
            placeFinished(part, saved, std::move(then));
        });
    }, m_fileSync);
}

void DownloadEngine::placeFinished(const QString &part, Download d, std::function<void(const Download &)> then)
{
    // Only a regular file is moved into place: were a link swapped in under the part file's
    // name, the link itself would become the finished file.
    Result<void> moved = m_dir.isRegularFile(part)
        ? m_dir.renameNoReplace(part, d.filename)
        : Result<void>(Error::failed("not_a_file", QStringLiteral("%1 is not a regular file").arg(m_dir.pathOf(part))));
    if (!moved && moved.error().kind == Error::Kind::Conflict) {
        // Another node took the name between the look and the rename: the next free one, and
        // the row follows it.
        const Result<QString> placed = m_dir.place(part, d.filename);
        if (placed) {
            d.filename = *placed;
            const QString name = *placed;
            m_store->control(this, d.id, [name](Download &row) { row.filename = name; return true; }, false,
                             [](Result<AbstractDownloadStore::Controlled>) {});
            moved = Result<void>::success();
        } else {
            moved = placed.error();
        }
    }
    if (!moved) {
        // Saved as completed, its bytes still in the part file (a read-only or failing dir):
        // the log says where, and why.
        qCWarning(lcHub).noquote() << "download" << d.id << ": completed, but" << moved.error().message;
        return then(d);
    }
    if (m_options.finishedFileMode >= 0) // readable by the download group, say
        m_dir.setMode(d.filename, m_options.finishedFileMode);
    // What earlier generations (a node paused past its lease, a crash) left: nothing resumes
    // a completed download, so their part files go.
    for (const QString &stale : m_dir.partsOf(d.id))
        m_dir.remove(stale);
    m_leases.claimSoon(); // the next download need not wait for the sync
    syncThenComplete(std::move(d), std::move(then));
}

void DownloadEngine::syncThenComplete(Download d, std::function<void(const Download &)> then)
{
    // The rename durable before the completion is announced (and its mark cleared), or a power
    // loss may bring back the part file. Unsynced: the mark stays, the next claim retries.
    m_dirSync.after([this, d, then = std::move(then)](int error) {
        if (error != 0) {
            qCWarning(lcHub).noquote() << "download" << d.id << ": unannounced, dir not synced:" << std::strerror(error);
            m_announcing.remove(d.id);
            m_leases.release(d.id, false);
            return;
        }
        ++m_stats.completed;
        m_events.notify(NotificationType::Info, QStringLiteral("Download completed: %1").arg(d.filename), &d);
        checkDiskSpace();
        then(d);
    });
}

void DownloadEngine::fail(const RunningPtr &r, const QString &message, bool retryable, qint64 retryAfterMs)
{
    Download &d = r->d();
    forget(r);
    d.speed = 0;
    const qint64 now = SteadyClock::nowMs(); // a step of the wall clock neither widens nor eats the window
    if (retryable && d.retryingSinceMs <= 0)
        d.retryingSinceMs = now;
    if (retryable && m_retries.allowsAnother(d.retryingSinceMs, now, ++d.attempts)) {
        // Released with a retry time: whichever node is free then takes it.
        ++m_stats.retried;
        const qint64 delay = m_retries.delayAfter(d.attempts, retryAfterMs, QRandomGenerator::global()->generateDouble());
        // Known here only (the store keeps the time in its own clock): a client of this node
        // sees when (phase retrying); bounded by dropping the times that have passed.
        m_retryAt.removeIf([now = QDateTime::currentDateTimeUtc()](QHash<QString, QDateTime>::iterator it) { return it.value() < now; });
        m_retryAt.insert(d.id, QDateTime::currentDateTimeUtc().addMSecs(delay));
        setStatus(r, DownloadStatus::Pending, RetryPolicy::retryMessage(message, delay, d.attempts), delay, true);
        qCInfo(lcHub).noquote() << "download" << d.id << ":" << d.errorMessage;
    } else {
        ++m_stats.failed;
        const QString why = retryable
            ? QStringLiteral("%1 (retried for %2 s, %3 attempts)").arg(message).arg((now - d.retryingSinceMs) / 1000).arg(d.attempts)
            : message;
        setStatus(r, DownloadStatus::Failed, why, -1, true);
        m_events.notify(NotificationType::Error, QStringLiteral("Download failed: %1: %2").arg(d.filename, why), &d);
    }
    m_leases.claimSoon();
}

void DownloadEngine::holdForDisk(const RunningPtr &r, const QString &message)
{
    // Nothing is lost: the bytes so far stay in this generation's part file (saved with the
    // pause), and the download waits, paused, until there is room (resumeHeld).
    Download &d = r->d();
    forget(r);
    d.speed = 0;
    d.heldBy = HeldByDisk;
    const QString why = QStringLiteral("%1; paused until %2 MB are free in the download dir")
                            .arg(message).arg(m_options.minFreeBytes >> 20);
    setStatus(r, DownloadStatus::Paused, why, -1, true);
    m_events.notify(NotificationType::Warning, QStringLiteral("Download paused, the disk is full: %1").arg(d.filename), &d);
}

bool DownloadEngine::hasRoom()
{
    const qint64 free = DiskSpaceWatch::freeBytes(m_dir.path());
    const bool room = free < 0 || free >= m_options.minFreeBytes;
    if (room != m_hadRoom)
        qCInfo(lcHub).noquote() << "downloads:" << (room ? "room again in" : "no transfer starts: less than")
                                << (room ? m_dir.path() : QString::number(m_options.minFreeBytes >> 20) + QStringLiteral(" MB free in ") + m_dir.path());
    m_hadRoom = room;
    if (room && (!m_heldChecked.isValid() || m_heldChecked.hasExpired(m_options.renewMs)))
        resumeHeld();
    return room;
}

void DownloadEngine::resumeHeld()
{
    m_heldChecked.start();
    m_store->list(this, DownloadStatus::Paused, 1000, 0, [this](Result<AbstractDownloadStore::Page> page) {
        if (!page)
            return;
        for (const Download &d : std::as_const(page->items)) {
            if (d.heldBy == HeldByDisk)
                m_service.act(d.id, DownloadAction::Resume, [](Result<Download>) {});
        }
    });
}

// --- the running node's writes -------------------------------------------------------------

void DownloadEngine::setStatus(const RunningPtr &r, DownloadStatus status, const QString &error,
                               qint64 retryInMs, bool release)
{
    r->d().status = status;
    // May quote the origin (its reason phrase): cut, as every event about the download carries it.
    r->d().errorMessage = FieldLimits::cut(error);
    r->d().updatedAt = QDateTime::currentDateTimeUtc();
    save(r, true, retryInMs, release);
}

void DownloadEngine::save(const RunningPtr &r, bool statusChange, qint64 retryInMs, bool release, Applied applied)
{
    Download snapshot = r->d();
    if (!release)
        snapshot.speed = r->transfer->speed();
    // As of this save (its event shows it even if it moved on), saved so every node answers it.
    if (snapshot.status == DownloadStatus::Downloading)
        r->shownPhase = snapshot.phase = phaseOf(*r);
    snapshot.updatePercent();
    const DownloadStatus expected = r->stored;
    const bool changed = expected != snapshot.status || (statusChange && std::exchange(r->republish, false));
    r->stored = snapshot.status;
    // A change that ends this node's part in the download is announced before the lease goes:
    // saved holding the lease, marked as not yet published; published; then released with the
    // mark cleared (publishThenRelease). A node that dies in between leaves the row to the
    // next claim, which finishes the job (finishAnnouncement). A retry (pending) needs no
    // mark: whoever runs it next publishes what follows.
    const bool announce = release && statusChange && changed && snapshot.status != DownloadStatus::Pending;
    if (announce) {
        snapshot.announce = QString(wireName(snapshot.status));
        m_announcing.insert(snapshot.id); // until released: never claimed by this node meanwhile
    }
    // `r` is kept until the store answers: a refused write still has its part file to settle.
    m_store->update(this, snapshot, m_leases.nodeId(), expected, retryInMs, release && !announce, statusChange,
                    [this, r, snapshot, changed, statusChange, applied, announce, phase = snapshot.phase](Result<std::optional<QueueSummary>> summary) mutable {
        if (announce && (!summary || !*summary))
            m_announcing.remove(snapshot.id);
        if (!summary) {
            // Saved first, published after: an unsaved change is not announced. The lease
            // check stops the transfer if the database stays away.
            qCWarning(lcHub).noquote() << "cannot save download" << snapshot.id << ":" << summary.error().message;
            return;
        }
        if (!*summary) {
            // Not this claim's any more: paused, cancelled or deleted elsewhere, or taken over.
            // The node that changed it has published the change. This generation's part file
            // goes unless a save named it (then a successor may resume from it).
            if (!r->partSaved)
                r->transfer->removeOwnPart();
            stopHere(snapshot.id, false, false, QStringLiteral("changed elsewhere"));
            return;
        }
        if (snapshot.partGeneration == snapshot.leaseGeneration && !r->partSaved) {
            r->partSaved = true;
            r->transfer->removeSupersededPart();
        }
        const auto publish = [this, changed, statusChange, announce, phase](const Download &d, const QueueSummary &s) {
            if (announce)
                return publishThenRelease(d, s);
            m_events.publishProgress(d, {}, phase);
            if (statusChange && changed)
                m_events.publishQueue(QueueAction::StatusChanged, d, s);
        };
        if (!applied)
            return publish(snapshot, **summary);
        // e.g. the finished file moved into place (durably), under its final name: published after
        applied(snapshot, [publish, s = **summary](const Download &d) { publish(d, s); });
    });
    m_leases.written(snapshot.id);
}

void DownloadEngine::publishThenRelease(Download d, const QueueSummary &summary)
{
    m_announcing.insert(d.id);
    auto waiting = std::make_shared<int>(2);
    auto allPublished = std::make_shared<bool>(true);
    // The broker may answer while the server stops, after this engine is gone.
    const auto one = [self = QPointer<DownloadEngine>(this), d, waiting, allPublished](bool published) mutable {
        *allPublished = *allPublished && published;
        if (--*waiting > 0 || !self)
            return;
        DownloadEngine *const engine = self;
        engine->releaseAnnounced(d, *allPublished);
    };
    m_events.publishProgress(d, one);
    m_events.publishQueue(QueueAction::StatusChanged, d, summary, one);
}

void DownloadEngine::releaseAnnounced(Download d, bool allPublished)
{
    if (!allPublished) {
        // Not renewed from here on: once the lease expires, a claim (this node's too)
        // publishes it again, when the broker is back.
        qCWarning(lcHub).noquote() << "download" << d.id << ":" << d.announce
                                   << "not published yet; it will be once the broker answers";
        m_announcing.remove(d.id);
        return;
    }
    d.announce.clear();
    m_store->update(this, d, m_leases.nodeId(), d.status, -1, true, false,
                    [this, id = d.id](Result<std::optional<QueueSummary>>) { m_announcing.remove(id); });
}

void DownloadEngine::finishAnnouncement(Download d)
{
    // Its node saved this change and stopped before publishing it (and, for a completion,
    // perhaps before moving the file into place): done here as that node would have, under
    // this claim's generation.
    qCInfo(lcHub).noquote() << "download" << d.id << ": publishing its" << d.announce << "change for"
                            << (d.owner.isEmpty() ? QStringLiteral("a node that stopped") : d.owner);
    if (d.announce != QString(wireName(d.status))) {
        // Changed since (a control action supersedes a pending announcement): nothing of it
        // is to be published any more; the row is released.
        d.announce.clear();
        m_store->update(this, d, m_leases.nodeId(), d.status, -1, true, false,
                        [this, id = d.id](Result<std::optional<QueueSummary>>) { m_leases.release(id, false); });
        return;
    }
    const auto announceAgain = [this](const Download &d) {
        m_store->update(this, d, m_leases.nodeId(), d.status, -1, false, true,
                        [this, d](Result<std::optional<QueueSummary>> summary) {
            m_leases.release(d.id, false);
            if (summary && *summary)
                publishThenRelease(d, **summary);
            m_leases.claimSoon();
        });
    };
    const QString part = DownloadDir::partName(d.id, d.partGeneration);
    if (d.status == DownloadStatus::Completed && !m_dir.exists(d.filename) && m_dir.isRegularFile(part))
        return placeFinished(part, d, announceAgain);
    if (d.status == DownloadStatus::Completed) // its rename perhaps never synced (the sync failed)
        return syncThenComplete(d, announceAgain);
    announceAgain(d);
}

void DownloadEngine::checkDiskSpace()
{
    if (const QString warning = m_disk.check(); !warning.isEmpty())
        m_events.notify(NotificationType::Warning, warning);
}

} // namespace Hermes
