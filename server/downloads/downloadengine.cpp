#include "downloads/downloadengine.h"

#include "broker/broker.h"
#include "downloads/filenames.h"
#include "downloads/transferrate.h"
#include "logging.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostInfo>
#include <QNetworkReply>
#include <QPointer>
#include <QRegularExpression>
#include <QStorageInfo>
#include <QThreadPool>
#include <QUuid>

#include <cmath>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/stat.h>

namespace Hermes {

struct DownloadEngine::Running
{
    Download d;                     ///< this node's copy while it runs it
    DownloadStatus stored;          ///< the status last written: fenced writes expect it
    QPointer<QNetworkReply> reply;
    QFile file;
    TransferRate rate;
    qint64 offset = 0;              ///< bytes already in the part file when the request started
    qint64 lastProgressMs = 0;
    double lastPercent = -1;
    bool aborting = false;          ///< stopped on purpose: its finished() is not an error
    bool sentIfRange = false;
    quint64 settledSeq = 0;         ///< store answers to jobs posted before this are about an older state
    qint64 validUntil = 0;          ///< m_clock ms: the lease surely holds until then
};

static qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

static DownloadEngine::Error error(int status, const char *code, const QString &message)
{
    return {status, QString::fromLatin1(code), message};
}

static DownloadEngine::Error storeError(const QString &message)
{
    return error(503, "store_unavailable", QStringLiteral("the download store is unavailable: ") + message);
}

// The lease is treated as lost this long before it expires in the database, so a transfer
// has stopped here before another node may start it.
static qint64 safetyMargin(int leaseMs)
{
    return qMin<qint64>(leaseMs / 4, 2000);
}

DownloadEngine::DownloadEngine(const Options &options, DownloadStore *store, Broker *broker,
                               QObject *parent)
    : QObject(parent), m_options(options), m_store(store), m_broker(broker)
{
    // Readable in the database and the logs: which host, which process, which start.
    m_nodeId = QStringLiteral("%1:%2:%3").arg(QHostInfo::localHostName()).arg(::getpid())
                   .arg(QUuid::createUuid().toString(QUuid::WithoutBraces).left(8));
    m_clock.start();
    m_network.setRedirectPolicy(QNetworkRequest::NoLessSafeRedirectPolicy);
    m_renewTimer.setInterval(m_options.renewMs);
    connect(&m_renewTimer, &QTimer::timeout, this, [this] {
        renew();
        claimSoon(); // also finds work whose node stopped renewing
    });
    m_leaseTimer.setInterval(qMax(50, m_options.renewMs / 4));
    connect(&m_leaseTimer, &QTimer::timeout, this, &DownloadEngine::enforceLeases);
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &DownloadEngine::claimSoon);
    connect(m_store, &DownloadStore::changed, this, &DownloadEngine::onStoreChanged);
}

DownloadEngine::~DownloadEngine()
{
    for (const RunningPtr &r : std::as_const(m_running)) {
        r->aborting = true;
        if (r->reply)
            r->reply->abort();
        r->file.close();
    }
    if (!m_running.isEmpty()) {
        const QString node = m_nodeId;
        m_store->runBlocking([node](DownloadRepository &repo) { repo.releaseAll(node); }, 2000);
    }
}

template<typename T>
void DownloadEngine::query(std::function<T(DownloadRepository &)> job,
                           std::function<void(std::optional<T>, const QString &)> done)
{
    ++m_seq;
    m_store->run<T>(this, std::move(job), std::move(done));
}

void DownloadEngine::start()
{
    QDir().mkpath(m_options.downloadDir);
    if (!m_store->isShared()) {
        // One node (the data dir is locked): leases of a previous run are void, and what was
        // running resumes now rather than after a lease period.
        m_store->runBlocking([](DownloadRepository &repo) { repo.resetOwners(); }, 5000);
    }
    qCInfo(lcHub).noquote() << "downloads: node" << m_nodeId << "using" << m_store->description();
    m_renewTimer.start();
    m_leaseTimer.start();
    claimSoon();
}

QString DownloadEngine::partPath(const QString &id) const
{
    return QDir(m_options.downloadDir).filePath(id + QStringLiteral(".part"));
}

// --- the API -------------------------------------------------------------------------------

void DownloadEngine::add(const QString &url, const QString &filename, int priority,
                         const QString &sha256, RowCallback done)
{
    const QUrl parsed(url, QUrl::StrictMode);
    if (!parsed.isValid() || (parsed.scheme() != u"http" && parsed.scheme() != u"https")
        || parsed.host().isEmpty())
        return done(error(400, "invalid_url", QStringLiteral("url must be an http:// or https:// URL")), {});
    static const QRegularExpression hex(QStringLiteral("^[0-9a-fA-F]{64}$"));
    if (!sha256.isEmpty() && !hex.match(sha256).hasMatch())
        return done(error(400, "invalid_sha256", QStringLiteral("sha256 must be 64 hexadecimal digits")), {});
    Download d;
    if (!filename.isNull()) {
        d.filename = FileNames::sanitize(filename);
        if (d.filename.isEmpty())
            return done(error(400, "invalid_filename", QStringLiteral("the filename has nothing usable in it")), {});
        d.filenameFromRequest = true;
    } else {
        d.filename = FileNames::sanitize(FileNames::fromUrl(parsed));
        if (d.filename.isEmpty())
            d.filename = QStringLiteral("download");
    }
    d.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    d.url = parsed.toString(QUrl::FullyEncoded);
    d.priority = priority;
    d.sha256 = sha256.toLower();
    d.createdAt = d.updatedAt = QDateTime::currentDateTimeUtc();
    struct Added { Download d; QueueCounts counts; };
    query<Added>([d](DownloadRepository &repo) mutable {
        repo.insert(d);
        return Added{d, repo.counts()};
    }, [this, done](std::optional<Added> added, const QString &message) {
        if (!added)
            return done(error(503, "store_unavailable", QStringLiteral("the download could not be saved: ") + message), {});
        publishQueue(QStringLiteral("added"), added->d, added->counts);
        publishProgress(added->d);
        done(std::nullopt, added->d);
        claimSoon();
    });
}

static DownloadEngine::Error conflict(const Download &d, const QString &action)
{
    return error(409, "invalid_state", QStringLiteral("cannot %1 a download that is %2").arg(action, QString(wireName(d.status))));
}

void DownloadEngine::act(const QString &id, Action action, RowCallback done)
{
    static const char *const names[] = {"pause", "resume", "cancel", "retry"};
    const QString name = QString::fromLatin1(names[int(action)]);
    // The rules, applied to the locked row (on the store's thread: a pure function).
    auto change = [action](Download &d) {
        const DownloadStatus s = d.status;
        switch (action) {
        case Action::Pause:
            if (s != DownloadStatus::Pending && s != DownloadStatus::Downloading)
                return false;
            d.status = DownloadStatus::Paused;
            d.errorMessage.clear();
            break;
        case Action::Resume:
            if (s != DownloadStatus::Paused)
                return false;
            d.status = DownloadStatus::Pending;
            break;
        case Action::Cancel:
            if (s == DownloadStatus::Completed || s == DownloadStatus::Cancelled || s == DownloadStatus::Processing)
                return false;
            d.status = DownloadStatus::Cancelled;
            d.downloadedBytes = 0;
            d.errorMessage.clear();
            break;
        case Action::Retry:
            if (s != DownloadStatus::Failed && s != DownloadStatus::Cancelled)
                return false;
            d.status = DownloadStatus::Pending;
            d.attempts = 0;
            d.errorMessage.clear();
            break;
        }
        d.speed = 0;
        d.updatedAt = QDateTime::currentDateTimeUtc();
        return true;
    };
    struct Changed { DownloadStatus before = DownloadStatus::Pending; std::optional<Download> after; bool refused = false; QueueCounts counts; };
    query<Changed>([id, change](DownloadRepository &repo) {
        Changed c;
        c.after = repo.control(id, [&c, &change](Download &d) {
            c.before = d.status;
            return change(d);
        }, false, &c.refused);
        if (c.after && !c.refused)
            c.counts = repo.counts();
        return c;
    }, [this, id, name, action, done](std::optional<Changed> c, const QString &message) {
        if (!c)
            return done(storeError(message), {});
        if (!c->after)
            return done(error(404, "not_found", QStringLiteral("no download %1").arg(id)), {});
        if (c->refused)
            return done(conflict(*c->after, name), *c->after);
        if (action == Action::Cancel)
            QFile::remove(partPath(id)); // here; the node that ran it removes its own copy
        controlled(c->before, *c->after, c->counts);
        done(std::nullopt, *c->after);
    });
}

void DownloadEngine::setPriority(const QString &id, int priority, RowCallback done)
{
    struct Changed { std::optional<Download> after; bool refused = false; QueueCounts counts; };
    query<Changed>([id, priority](DownloadRepository &repo) {
        Changed c;
        c.after = repo.control(id, [priority](Download &d) {
            if (d.isFinished())
                return false;
            d.priority = priority;
            return true;
        }, false, &c.refused);
        if (c.after && !c.refused)
            c.counts = repo.counts();
        return c;
    }, [this, id, done](std::optional<Changed> c, const QString &message) {
        if (!c)
            return done(storeError(message), {});
        if (!c->after)
            return done(error(404, "not_found", QStringLiteral("no download %1").arg(id)), {});
        if (c->refused)
            return done(conflict(*c->after, QStringLiteral("reorder")), *c->after);
        if (auto r = m_running.value(id))
            r->d.priority = c->after->priority;
        publishQueue(QStringLiteral("reordered"), *c->after, c->counts);
        done(std::nullopt, *c->after);
    });
}

void DownloadEngine::remove(const QString &id, bool deleteFile, std::function<void(Result)> done)
{
    struct Removed { std::optional<Download> row; QueueCounts counts; };
    query<Removed>([id](DownloadRepository &repo) {
        Removed r;
        bool refused = false;
        r.row = repo.control(id, [](Download &) { return true; }, true, &refused);
        if (r.row)
            r.counts = repo.counts();
        return r;
    }, [this, id, deleteFile, done](std::optional<Removed> r, const QString &message) {
        if (!r)
            return done(storeError(message));
        if (!r->row)
            return done(error(404, "not_found", QStringLiteral("no download %1").arg(id)));
        drop(id, false, true, QStringLiteral("deleted"));
        QFile::remove(partPath(id));
        if (deleteFile && r->row->status == DownloadStatus::Completed)
            QFile::remove(QDir(m_options.downloadDir).filePath(r->row->filename));
        publishQueue(QStringLiteral("removed"), *r->row, r->counts);
        done(std::nullopt);
        claimSoon();
    });
}

void DownloadEngine::controlled(DownloadStatus before, const Download &after, const QueueCounts &counts)
{
    // Published here, once: the node running it only stops.
    publishProgress(after);
    if (before != after.status)
        publishQueue(QStringLiteral("status_changed"), after, counts);
    if (m_running.contains(after.id)) {
        const bool cancelled = after.status == DownloadStatus::Cancelled;
        drop(after.id, true, cancelled, QStringLiteral("%1 through this node").arg(QString(wireName(after.status))));
    }
    claimSoon();
}

void DownloadEngine::get(const QString &id, RowCallback done)
{
    query<std::optional<Download>>([id](DownloadRepository &repo) { return repo.get(id); },
                                   [id, done](std::optional<std::optional<Download>> row, const QString &message) {
        if (!row)
            return done(storeError(message), {});
        if (!*row)
            return done(error(404, "not_found", QStringLiteral("no download %1").arg(id)), {});
        done(std::nullopt, **row);
    });
}

void DownloadEngine::list(std::optional<DownloadStatus> status, int limit, int offset,
                          std::function<void(Result, const QList<Download> &, int)> done)
{
    struct Page { QList<Download> items; int total = 0; };
    query<Page>([status, limit, offset](DownloadRepository &repo) {
        Page p;
        p.items = repo.list(status, limit, offset, &p.total);
        return p;
    }, [done](std::optional<Page> p, const QString &message) {
        if (!p)
            return done(storeError(message), {}, 0);
        done(std::nullopt, p->items, p->total);
    });
}

void DownloadEngine::queue(std::function<void(Result, const QList<Download> &, const QJsonObject &)> done)
{
    struct Queue { QList<Download> items; QueueCounts counts; };
    query<Queue>([](DownloadRepository &repo) { return Queue{repo.unfinished(), repo.counts()}; },
                 [this, done](std::optional<Queue> q, const QString &message) {
        if (!q)
            return done(storeError(message), {}, {});
        const double speed = q->counts.totalSpeed; // as the running nodes last saved it
        done(std::nullopt, q->items, {{QStringLiteral("active"), q->counts.active},
                                      {QStringLiteral("queued"), q->counts.queued},
                                      {QStringLiteral("paused"), q->counts.paused},
                                      {QStringLiteral("total_speed"), qMax(0.0, speed)}});
    });
}

// --- claims and leases ---------------------------------------------------------------------

void DownloadEngine::claimSoon()
{
    const int free = m_options.maxConcurrent - int(m_running.size());
    if (free <= 0)
        return;
    if (m_claiming) {
        m_claimAgain = true;
        return;
    }
    m_claiming = true;
    m_claimAgain = false;
    const QString node = m_nodeId;
    const int lease = m_options.leaseMs;
    const int cluster = m_options.clusterMaxConcurrent;
    const qint64 sentAt = m_clock.elapsed();
    struct Claimed { QList<Download> rows; qint64 nextRetryInMs = -1; };
    query<Claimed>([node, lease, free, cluster](DownloadRepository &repo) {
        Claimed c;
        c.rows = repo.claim(node, lease, free, cluster, &c.nextRetryInMs);
        return c;
    }, [this, sentAt](std::optional<Claimed> c, const QString &message) {
        m_claiming = false;
        if (!c) {
            qCWarning(lcHub).noquote() << "downloads: cannot claim work:" << message;
            return;
        }
        for (const Download &row : std::as_const(c->rows)) {
            if (!row.owner.isEmpty() && row.owner != m_nodeId) {
                ++m_stats.takeovers;
                qCInfo(lcHub).noquote() << "download" << row.id << ": taking over from" << row.owner
                                        << "(its lease expired)";
            }
            begin(row);
            if (auto r = m_running.value(row.id))
                r->validUntil = sentAt + m_options.leaseMs - safetyMargin(m_options.leaseMs);
        }
        if (c->nextRetryInMs >= 0)
            m_retryTimer.start(int(qBound(qint64(1), c->nextRetryInMs, qint64(60000))));
        if (m_claimAgain || (!c->rows.isEmpty() && int(m_running.size()) < m_options.maxConcurrent))
            claimSoon();
    });
}

void DownloadEngine::renew()
{
    if (m_renewing)
        return; // the last one has not answered: the lease check covers it
    m_renewing = true;
    const QString node = m_nodeId;
    const int lease = m_options.leaseMs;
    const qint64 sentAt = m_clock.elapsed();
    const QStringList runs = m_running.keys();
    query<QHash<QString, DownloadStatus>>([node, lease, runs](DownloadRepository &repo) { return repo.renew(node, lease, runs); },
                                          [this, sentAt, seq = m_seq + 1](std::optional<QHash<QString, DownloadStatus>> owned,
                                                                          const QString &message) {
        m_renewing = false;
        if (!owned) {
            if (!m_running.isEmpty())
                qCWarning(lcHub).noquote() << "downloads: cannot renew leases:" << message;
            return;
        }
        const QStringList ids = m_running.keys();
        for (const QString &id : ids) {
            const RunningPtr r = m_running.value(id);
            if (!r || r->settledSeq >= seq)
                continue; // claimed or changed after this renewal was sent
            const auto it = owned->constFind(id);
            if (it == owned->cend()) {
                drop(id, false, false, QStringLiteral("its lease is gone (taken over or deleted)"));
                continue;
            }
            r->validUntil = sentAt + m_options.leaseMs - safetyMargin(m_options.leaseMs);
            if (*it != DownloadStatus::Downloading && *it != DownloadStatus::Processing)
                drop(id, true, *it == DownloadStatus::Cancelled, QStringLiteral("%1 elsewhere").arg(QString(wireName(*it))));
        }
    });
}

void DownloadEngine::enforceLeases()
{
    // The database may be out of reach: stop before another node may take the download over.
    const qint64 now = m_clock.elapsed();
    const QStringList ids = m_running.keys();
    for (const QString &id : ids) {
        const RunningPtr r = m_running.value(id);
        if (r && r->validUntil > 0 && now > r->validUntil)
            drop(id, false, false, QStringLiteral("its lease could not be renewed in time"));
    }
}

void DownloadEngine::onStoreChanged(const QString &id)
{
    if (id == u"*") {
        renew();
        claimSoon();
    } else if (m_running.contains(id)) {
        check(id);
    } else {
        claimSoon();
    }
}

void DownloadEngine::check(const QString &id)
{
    const quint64 seq = m_seq + 1;
    query<std::optional<Download>>([id](DownloadRepository &repo) { return repo.get(id); },
                                   [this, id, seq](std::optional<std::optional<Download>> row, const QString &) {
        const RunningPtr r = m_running.value(id);
        if (!row || !r || r->settledSeq >= seq)
            return;
        if (!*row)
            drop(id, false, true, QStringLiteral("deleted elsewhere"));
        else if ((*row)->owner != m_nodeId)
            drop(id, false, false, QStringLiteral("taken over by %1").arg((*row)->owner));
        else if (!(*row)->isActive())
            drop(id, true, (*row)->status == DownloadStatus::Cancelled,
                 QStringLiteral("%1 elsewhere").arg(QString(wireName((*row)->status))));
    });
}

// Whether `file` (open) is still the file at `path`: another node may have removed it and
// started a new one under the same name on shared storage.
static bool sameFile(const QFile &file, const QString &path)
{
    struct stat a{}, b{};
    return file.handle() >= 0 && ::fstat(file.handle(), &a) == 0
        && ::stat(QFile::encodeName(path).constData(), &b) == 0 && a.st_ino == b.st_ino
        && a.st_dev == b.st_dev;
}

void DownloadEngine::drop(const QString &id, bool release, bool deletePart, const QString &why)
{
    const RunningPtr r = m_running.take(id);
    if (!r)
        return;
    qCInfo(lcHub).noquote() << "download" << id << ": stopped here:" << why;
    r->aborting = true;
    if (r->reply) {
        r->reply->abort();
        r->reply->deleteLater();
    }
    if (deletePart && sameFile(r->file, partPath(id)))
        QFile::remove(partPath(id));
    r->file.close();
    if (release) {
        const QString node = m_nodeId;
        query<bool>([id, node](DownloadRepository &repo) { repo.release(id, node); return true; },
                    [](std::optional<bool>, const QString &) {});
    }
    claimSoon();
}

// --- transfers -----------------------------------------------------------------------------

void DownloadEngine::begin(const Download &row)
{
    const QString id = row.id;
    auto r = std::make_shared<Running>();
    r->d = row;
    r->d.owner = m_nodeId;
    r->stored = row.status;
    r->validUntil = 0;
    Download &d = r->d;
    r->file.setFileName(partPath(id));
    m_running.insert(id, r);
    if (!QDir().mkpath(m_options.downloadDir) || !r->file.open(QIODevice::ReadWrite)) {
        fail(r, QStringLiteral("cannot write %1: %2").arg(r->file.fileName(), r->file.errorString()), false);
        return;
    }
    r->offset = r->file.size();
    r->file.seek(r->offset);
    if (r->offset == 0 && d.downloadedBytes > 0) {
        d.note = QStringLiteral("the part file was not found in %1 on this node (is the download dir "
                                "shared between the nodes?); restarted from zero").arg(m_options.downloadDir);
        qCInfo(lcHub).noquote() << "download" << id << ":" << d.note;
        d.etag.clear();
        d.lastModified.clear();
    }
    d.downloadedBytes = r->offset;
    d.errorMessage.clear();
    qCInfo(lcHub).noquote() << "download" << id << ": running here from byte" << r->offset;
    checkDiskSpace();
    if (d.totalBytes > 0 && r->offset == d.totalBytes) {
        // Everything had arrived before: only verifying was left.
        setStatus(r, DownloadStatus::Downloading);
        finishFile(r);
        return;
    }

    QNetworkRequest request{QUrl(d.url)};
    request.setMaximumRedirectsAllowed(m_options.maxRedirects);
    request.setHeader(QNetworkRequest::UserAgentHeader,
                      QStringLiteral("hermes-server/") + QCoreApplication::applicationVersion());
    request.setTransferTimeout(30000); // no byte for 30 s: the connection is dead, retry
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    if (r->offset > 0) {
        request.setRawHeader("Range", "bytes=" + QByteArray::number(r->offset) + '-');
        // Only a strong ETag may validate a range (RFC 9110 13.1.5); else the date.
        const QString validator = !d.etag.isEmpty() && !d.etag.startsWith(u"W/") ? d.etag : d.lastModified;
        if (!validator.isEmpty()) {
            request.setRawHeader("If-Range", validator.toLatin1());
            r->sentIfRange = true;
        }
    }
    r->reply = m_network.get(request);
    QNetworkReply *reply = r->reply;
    const std::weak_ptr<Running> weak = r;
    connect(reply, &QNetworkReply::metaDataChanged, this, [this, weak] {
        if (const RunningPtr r = weak.lock(); r && !r->aborting)
            onMetaData(r);
    });
    connect(reply, &QNetworkReply::readyRead, this, [this, weak] {
        if (const RunningPtr r = weak.lock(); r && !r->aborting)
            onData(r);
    });
    connect(reply, &QNetworkReply::finished, this, [this, weak] {
        if (const RunningPtr r = weak.lock(); r && !r->aborting)
            onFinished(r);
    });
    setStatus(r, DownloadStatus::Downloading);
}

static qint64 contentRangeStart(const QByteArray &header, qint64 *total)
{
    // "bytes 100-999/1000"
    static const QRegularExpression re(QStringLiteral("^bytes (\\d+)-(\\d+)/(\\d+|\\*)$"));
    const auto m = re.match(QString::fromLatin1(header.trimmed()));
    if (!m.hasMatch())
        return -1;
    *total = m.captured(3) == u"*" ? -1 : m.captured(3).toLongLong();
    return m.captured(1).toLongLong();
}

void DownloadEngine::onMetaData(const RunningPtr &r)
{
    QNetworkReply *reply = r->reply;
    if (!reply)
        return;
    Download &d = r->d;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status < 200 || status >= 300)
        return; // a redirect (followed) or an error (reported when finished)
    const qint64 length = reply->header(QNetworkRequest::ContentLengthHeader).toLongLong();
    const bool hasLength = reply->header(QNetworkRequest::ContentLengthHeader).isValid();
    const QString etag = QString::fromLatin1(reply->rawHeader("ETag"));
    const QString lastModified = QString::fromLatin1(reply->rawHeader("Last-Modified"));
    if (r->offset > 0) {
        qint64 total = -1;
        const qint64 start = status == 206 ? contentRangeStart(reply->rawHeader("Content-Range"), &total) : -1;
        if (start != r->offset) {
            // The server sent the whole file: it ignores Range, or (If-Range) the file changed.
            const bool changed = r->sentIfRange && (etag != d.etag || lastModified != d.lastModified);
            r->file.resize(0);
            r->file.seek(0);
            r->offset = 0;
            d.downloadedBytes = 0;
            d.note = changed
                ? QStringLiteral("the file changed on the server since the part was written (If-Range); restarted from zero")
                : QStringLiteral("the server does not support resuming (HTTP Range); restarted from zero");
            qCInfo(lcHub).noquote() << "download" << d.id << ":" << d.note;
            if (status == 206) {
                fail(r, QStringLiteral("the server answered another range than asked"), true);
                return;
            }
        }
        if (status == 206)
            d.totalBytes = total >= 0 ? total : (hasLength ? r->offset + length : -1);
    }
    if (r->offset == 0)
        d.totalBytes = hasLength ? length : -1;
    d.etag = etag;
    d.lastModified = lastModified;
    if (m_options.maxFileSize > 0 && d.totalBytes > m_options.maxFileSize) {
        fail(r, QStringLiteral("the file is %1 bytes, more than the allowed %2")
                    .arg(d.totalBytes).arg(m_options.maxFileSize), false);
        return;
    }
    if (!d.filenameFromRequest) {
        QString name = FileNames::sanitize(FileNames::fromContentDisposition(reply->rawHeader("Content-Disposition")));
        if (name.isEmpty())
            name = FileNames::sanitize(FileNames::fromUrl(reply->url())); // after redirects
        if (!name.isEmpty())
            d.filename = name;
    }
}

void DownloadEngine::onData(const RunningPtr &r)
{
    if (!r->reply)
        return;
    Download &d = r->d;
    const QByteArray bytes = r->reply->readAll();
    const int status = r->reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status < 200 || status >= 300 || bytes.isEmpty())
        return; // an error page is not the file
    if (r->file.write(bytes) != bytes.size()) {
        fail(r, QStringLiteral("cannot write %1: %2").arg(r->file.fileName(), r->file.errorString()), false);
        return;
    }
    d.downloadedBytes += bytes.size();
    m_stats.bytes += quint64(bytes.size());
    r->rate.add(nowMs(), bytes.size());
    if (m_options.maxFileSize > 0 && d.downloadedBytes > m_options.maxFileSize) {
        fail(r, QStringLiteral("the file is larger than the allowed %1 bytes").arg(m_options.maxFileSize), false);
        return;
    }
    updatePercent(d);
    const qint64 now = nowMs();
    const bool step = d.percent - r->lastPercent >= m_options.progressStepPercent;
    const bool due = now - r->lastProgressMs >= m_options.progressIntervalMs;
    const bool full = d.percent >= 100 && r->lastPercent < 100;
    if (!step && !due && !full)
        return;
    r->lastPercent = d.percent;
    r->lastProgressMs = now;
    r->file.flush(); // what the database says has arrived is in the file, for a takeover
    save(r, false, -1, false); // the bytes so far, at the pace of the events
}

void DownloadEngine::onFinished(const RunningPtr &r)
{
    QNetworkReply *reply = r->reply;
    if (!reply)
        return;
    Download &d = r->d;
    onData(r); // anything left in the buffer
    if (m_running.value(d.id) != r)
        return; // onData failed it
    r->file.flush();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const auto netError = reply->error();
    if (status >= 400) {
        if (status == 416) { // the range is past the end: the part file is not what we think
            r->file.resize(0);
            fail(r, QStringLiteral("the server refused to resume (HTTP 416); starting over"), true);
            return;
        }
        fail(r, QStringLiteral("HTTP %1 %2").arg(status).arg(
                    reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString()),
             status >= 500 || status == 429 || status == 408);
        return;
    }
    const QString shortBy = d.totalBytes >= 0 && d.downloadedBytes != d.totalBytes
        ? QStringLiteral("the transfer ended after %1 of %2 bytes").arg(d.downloadedBytes).arg(d.totalBytes)
        : QString();
    if (netError != QNetworkReply::NoError) {
        // Transport trouble (a dropped connection, a timeout, a refused connect) is worth
        // another try; a redirect loop or an unsupported scheme is not.
        const bool retryable = netError != QNetworkReply::TooManyRedirectsError
            && netError != QNetworkReply::InsecureRedirectError
            && netError != QNetworkReply::ProtocolUnknownError
            && netError != QNetworkReply::HostNotFoundError;
        fail(r, shortBy.isEmpty() ? reply->errorString() : shortBy + QStringLiteral(": ") + reply->errorString(), retryable);
        return;
    }
    if (!shortBy.isEmpty()) {
        fail(r, shortBy, true);
        return;
    }
    if (d.totalBytes < 0)
        d.totalBytes = d.downloadedBytes;
    finishFile(r);
}

void DownloadEngine::finishFile(const RunningPtr &r)
{
    r->file.close();
    if (r->reply) {
        r->aborting = true; // its finished() has been handled
        r->reply->deleteLater();
        r->reply = nullptr;
    }
    setStatus(r, DownloadStatus::Processing);
    const QString id = r->d.id;
    const QString path = partPath(id);
    const QString expected = r->d.sha256;
    // Hashing a large file would stall every stream: it runs on the thread pool.
    QPointer<DownloadEngine> self(this);
    const std::weak_ptr<Running> weak = r;
    QThreadPool::globalInstance()->start([self, weak, path, expected] {
        QString actual;
        if (!expected.isEmpty()) {
            QFile file(path);
            QCryptographicHash hash(QCryptographicHash::Sha256);
            if (file.open(QIODevice::ReadOnly) && hash.addData(&file))
                actual = QString::fromLatin1(hash.result().toHex());
        }
        QMetaObject::invokeMethod(qApp, [self, weak, path, expected, actual] {
            const RunningPtr r = weak.lock();
            if (!self || !r || self->m_running.value(r->d.id) != r)
                return; // stopped meanwhile (paused, deleted, lease lost)
            Download &d = r->d;
            if (!expected.isEmpty() && actual != expected) {
                QFile::remove(path); // a corrupt file is not resumed
                d.downloadedBytes = 0;
                self->m_running.remove(d.id);
                ++self->m_stats.failed;
                self->setStatus(r, DownloadStatus::Failed,
                                QStringLiteral("SHA-256 mismatch: expected %1, got %2").arg(expected, actual), -1, true);
                self->notify(QStringLiteral("error"), QStringLiteral("Download failed: %1 (checksum mismatch)").arg(d.filename), &d);
                self->claimSoon();
                return;
            }
            // Never over an existing file, even one another node just moved into place.
            QString target;
            for (int tries = 0; tries < 5 && target.isEmpty(); ++tries) {
                const QString candidate = FileNames::uniquePath(self->m_options.downloadDir, d.filename);
                if (!candidate.isEmpty() && QFile::rename(path, candidate))
                    target = candidate;
            }
            self->m_running.remove(d.id);
            if (target.isEmpty()) {
                ++self->m_stats.failed;
                self->setStatus(r, DownloadStatus::Failed, QStringLiteral("cannot move the file into place"), -1, true);
                self->claimSoon();
                return;
            }
            if (self->m_options.finishedFileMode >= 0) // readable by the download group, say
                ::chmod(QFile::encodeName(target).constData(), mode_t(self->m_options.finishedFileMode));
            d.filename = QFileInfo(target).fileName();
            d.completedAt = QDateTime::currentDateTimeUtc();
            d.percent = 100;
            d.speed = 0;
            ++self->m_stats.completed;
            self->setStatus(r, DownloadStatus::Completed, {}, -1, true);
            self->notify(QStringLiteral("info"), QStringLiteral("Download completed: %1").arg(d.filename), &d);
            self->checkDiskSpace();
            self->claimSoon();
        }, Qt::QueuedConnection);
    });
}

void DownloadEngine::fail(const RunningPtr &r, const QString &message, bool retryable)
{
    Download &d = r->d;
    r->aborting = true;
    if (r->reply) {
        r->reply->abort();
        r->reply->deleteLater();
        r->reply = nullptr;
    }
    r->file.close();
    m_running.remove(d.id);
    d.speed = 0;
    if (retryable && ++d.attempts < m_options.maxAttempts) {
        // Released with a retry time: whichever node is free then takes it.
        const qint64 delay = qMin<qint64>(60000, qint64(m_options.retryBaseMs) << qMin(d.attempts - 1, 16));
        ++m_stats.retried;
        setStatus(r, DownloadStatus::Pending,
                  QStringLiteral("%1; retrying in %2 s (attempt %3 of %4)")
                      .arg(message).arg(delay / 1000.0).arg(d.attempts + 1).arg(m_options.maxAttempts),
                  delay, true);
        qCInfo(lcHub).noquote() << "download" << d.id << ":" << d.errorMessage;
    } else {
        ++m_stats.failed;
        setStatus(r, DownloadStatus::Failed, message, -1, true);
        notify(QStringLiteral("error"), QStringLiteral("Download failed: %1: %2").arg(d.filename, message), &d);
    }
    claimSoon();
}

// --- state and events ----------------------------------------------------------------------

void DownloadEngine::setStatus(const RunningPtr &r, DownloadStatus status, const QString &error,
                               qint64 retryInMs, bool release)
{
    r->d.status = status;
    r->d.errorMessage = error;
    r->d.updatedAt = QDateTime::currentDateTimeUtc();
    save(r, true, retryInMs, release);
}

void DownloadEngine::save(const RunningPtr &r, bool statusChange, qint64 retryInMs, bool release)
{
    Download snapshot = r->d;
    if (!release)
        snapshot.speed = r->rate.bytesPerSecond(nowMs());
    updatePercent(snapshot);
    const DownloadStatus expected = r->stored;
    const bool changed = expected != snapshot.status;
    r->stored = snapshot.status;
    const QString node = m_nodeId;
    query<std::optional<QueueCounts>>([snapshot, node, expected, retryInMs, release, statusChange](DownloadRepository &repo) {
        std::optional<QueueCounts> counts;
        if (repo.update(snapshot, node, expected, retryInMs, release))
            counts = statusChange ? repo.counts() : QueueCounts{};
        return counts;
    }, [this, snapshot, changed, statusChange](
           std::optional<std::optional<QueueCounts>> counts, const QString &message) {
        if (!counts) {
            // Saved first, published after: an unsaved change is not announced. The lease
            // check stops the transfer if the database stays away.
            qCWarning(lcHub).noquote() << "cannot save download" << snapshot.id << ":" << message;
            return;
        }
        if (!*counts) {
            // Not ours any more: paused, cancelled or deleted elsewhere, or taken over. The
            // node that changed it has published the change.
            if (snapshot.status == DownloadStatus::Completed) // moved into place too late: undo
                QFile::rename(QDir(m_options.downloadDir).filePath(snapshot.filename), partPath(snapshot.id));
            drop(snapshot.id, false, false, QStringLiteral("changed elsewhere"));
            return;
        }
        publishProgress(snapshot);
        if (statusChange && changed)
            publishQueue(QStringLiteral("status_changed"), snapshot, **counts);
    });
    r->settledSeq = m_seq;
}

void DownloadEngine::updatePercent(Download &d) const
{
    const double raw = d.totalBytes > 0 ? qMin(100.0, double(d.downloadedBytes) * 100.0 / double(d.totalBytes))
                                        : (d.status == DownloadStatus::Completed ? 100.0 : 0.0);
    d.percent = qMax(d.percent, std::floor(raw * 10) / 10); // never decreasing, 0.1 steps
}

double DownloadEngine::speedOf(const Download &d) const
{
    if (const RunningPtr r = m_running.value(d.id))
        return r->rate.bytesPerSecond(nowMs());
    return d.status == DownloadStatus::Downloading ? d.speed : 0.0;
}

qint64 DownloadEngine::etaOf(const Download &d) const
{
    const double speed = speedOf(d);
    if (speed <= 0 || d.totalBytes < 0)
        return -1;
    return qint64(std::ceil(double(d.totalBytes - d.downloadedBytes) / speed));
}

static QJsonValue nullable(const QString &s)
{
    return s.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s);
}

static QJsonValue nullable(qint64 v)
{
    return v < 0 ? QJsonValue(QJsonValue::Null) : QJsonValue(v);
}

QJsonObject DownloadEngine::progressJson(const Download &d) const
{
    return {{QStringLiteral("percentage"), d.percent},
            {QStringLiteral("status"), QString(wireName(d.status))},
            {QStringLiteral("downloaded_bytes"), d.downloadedBytes},
            {QStringLiteral("total_bytes"), nullable(d.totalBytes)},
            {QStringLiteral("speed"), speedOf(d)},
            {QStringLiteral("eta"), nullable(etaOf(d))}};
}

QJsonObject DownloadEngine::toJson(const Download &stored) const
{
    Download d = stored;
    if (const RunningPtr r = m_running.value(d.id); r && r->d.status == d.status) {
        // Running here: the live figures rather than the last saved ones.
        d.downloadedBytes = r->d.downloadedBytes;
        d.totalBytes = r->d.totalBytes;
        d.percent = qMax(d.percent, r->d.percent);
    }
    const QJsonObject progress = progressJson(d);
    return {{QStringLiteral("id"), d.id},
            {QStringLiteral("url"), d.url},
            {QStringLiteral("filename"), d.filename},
            {QStringLiteral("status"), QString(wireName(d.status))},
            {QStringLiteral("priority"), d.priority},
            {QStringLiteral("position"), d.position},
            {QStringLiteral("progress"), progress},
            {QStringLiteral("downloaded_bytes"), d.downloadedBytes},
            {QStringLiteral("total_bytes"), nullable(d.totalBytes)},
            {QStringLiteral("speed"), progress.value(QStringLiteral("speed"))},
            {QStringLiteral("eta"), progress.value(QStringLiteral("eta"))},
            {QStringLiteral("sha256"), nullable(d.sha256)},
            {QStringLiteral("error_message"), nullable(d.errorMessage)},
            {QStringLiteral("note"), nullable(d.note)},
            {QStringLiteral("attempts"), d.attempts},
            {QStringLiteral("created_at"), d.createdAt.toString(Qt::ISODateWithMs)},
            {QStringLiteral("updated_at"), d.updatedAt.toString(Qt::ISODateWithMs)},
            {QStringLiteral("completed_at"), d.completedAt.isValid()
                 ? QJsonValue(d.completedAt.toString(Qt::ISODateWithMs)) : QJsonValue()}};
}

void DownloadEngine::publishProgress(const Download &d)
{
    QJsonObject event{{QStringLiteral("download_id"), d.id},
                      {QStringLiteral("status"), QString(wireName(d.status))},
                      {QStringLiteral("progress"), progressJson(d)},
                      {QStringLiteral("error_message"), nullable(d.errorMessage)},
                      {QStringLiteral("filename"), d.filename},
                      {QStringLiteral("url"), d.url},
                      // Additive to the Python payload: a client's Attempts stays right
                      // through automatic retries without fetching the download again.
                      {QStringLiteral("attempts"), d.attempts}};
    if (d.status == DownloadStatus::Completed) {
        event.insert(QStringLiteral("result"), QJsonObject{{QStringLiteral("url"), d.url},
                                                           {QStringLiteral("title"), d.filename},
                                                           {QStringLiteral("file_size"), d.totalBytes}});
    }
    Event e;
    e.channel = Channel::Downloads;
    e.type = QStringLiteral("download_progress");
    e.data = event;
    e.timestamp = Event::currentTimestamp();
    m_broker->publish(e, [](Hermes::Result<EventId> id) {
        if (!id)
            qCWarning(lcHub).noquote() << "a download event was not published:" << id.error().message;
    });
}

void DownloadEngine::publishQueue(const QString &action, const Download &d, const QueueCounts &counts)
{
    Event e;
    e.channel = Channel::Queue;
    e.type = QStringLiteral("queue_update");
    e.data = {{QStringLiteral("action"), action},
              {QStringLiteral("download_id"), d.id},
              {QStringLiteral("status"), QString(wireName(d.status))},
              {QStringLiteral("queue_length"), counts.queued},
              {QStringLiteral("active"), counts.active},
              // Additive to the Python payload: a client keeps its queue order from the
              // event, without fetching the download again.
              {QStringLiteral("priority"), d.priority},
              {QStringLiteral("position"), d.position},
              {QStringLiteral("created_at"), d.createdAt.toString(Qt::ISODateWithMs)}};
    e.timestamp = Event::currentTimestamp();
    m_broker->publish(e, {});
}

void DownloadEngine::notify(const QString &type, const QString &message, const Download *d)
{
    Event e;
    e.channel = Channel::System;
    e.type = QStringLiteral("system_notification");
    e.data = {{QStringLiteral("notification_type"), type}, {QStringLiteral("message"), message}};
    if (d)
        e.data.insert(QStringLiteral("download_id"), d->id);
    e.timestamp = Event::currentTimestamp();
    m_broker->publish(e, {});
}

void DownloadEngine::checkDiskSpace()
{
    const QStorageInfo storage(m_options.downloadDir);
    const qint64 free = storage.bytesAvailable();
    if (free < 0)
        return;
    if (free < m_options.diskWarningBytes && !m_diskWarned) {
        m_diskWarned = true;
        notify(QStringLiteral("warning"), QStringLiteral("Disk almost full: %1 MB free for downloads in %2")
                                              .arg(free >> 20).arg(m_options.downloadDir));
    } else if (free >= m_options.diskWarningBytes) {
        m_diskWarned = false;
    }
}

} // namespace Hermes
