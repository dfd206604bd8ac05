#include "downloads/downloadengine.h"

#include "broker/broker.h"
#include "downloads/filenames.h"
#include "logging.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QStorageInfo>
#include <QThreadPool>
#include <QUuid>

#include <algorithm>
#include <cmath>

#include <sys/stat.h>

namespace Hermes {

struct DownloadEngine::Transfer
{
    QPointer<QNetworkReply> reply;
    QFile file;
    TransferRate rate;
    qint64 offset = 0;          ///< bytes already in the part file when the request started
    qint64 lastProgressMs = 0;
    double lastPercent = -1;
    bool aborting = false;      ///< stopped on purpose: its finished() is not an error
};

static qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

DownloadEngine::DownloadEngine(const Options &options, DownloadStore *store, Broker *broker,
                               QObject *parent)
    : QObject(parent), m_options(options), m_store(store), m_broker(broker)
{
    m_scheduleTimer.setSingleShot(true);
    connect(&m_scheduleTimer, &QTimer::timeout, this, &DownloadEngine::schedule);
    m_network.setRedirectPolicy(QNetworkRequest::NoLessSafeRedirectPolicy);
}

DownloadEngine::~DownloadEngine()
{
    for (const auto &t : std::as_const(m_transfers)) {
        t->aborting = true;
        if (t->reply)
            t->reply->abort();
    }
}

void DownloadEngine::start()
{
    QDir().mkpath(m_options.downloadDir);
    for (Download d : m_store->all()) {
        // Whatever was running when the server stopped resumes; the part file says how far
        // it got (the database only knows the last saved progress).
        if (d.isActive()) {
            d.status = DownloadStatus::Pending;
            m_store->save(d);
        }
        if (!d.isFinished())
            d.downloadedBytes = QFileInfo(partPath(d)).size();
        m_downloads.insert(d.id, d);
    }
    qCInfo(lcHub) << "downloads: loaded" << m_downloads.size() << "from the store";
    schedule();
}

QString DownloadEngine::partPath(const Download &d) const
{
    return QDir(m_options.downloadDir).filePath(d.id + QStringLiteral(".part"));
}

int DownloadEngine::activeCount() const
{
    return int(m_transfers.size());
}

const Download *DownloadEngine::find(const QString &id) const
{
    const auto it = m_downloads.constFind(id);
    return it == m_downloads.cend() ? nullptr : &*it;
}

QList<const Download *> DownloadEngine::ordered() const
{
    QList<const Download *> out;
    for (const Download &d : m_downloads)
        out.append(&d);
    std::sort(out.begin(), out.end(), [](const Download *a, const Download *b) {
        if (a->isFinished() != b->isFinished())
            return !a->isFinished();
        if (a->priority != b->priority)
            return a->priority > b->priority;
        return a->position < b->position;
    });
    return out;
}

// --- the API -------------------------------------------------------------------------------

static DownloadEngine::Error error(int status, const char *code, const QString &message)
{
    return {status, QString::fromLatin1(code), message};
}

DownloadEngine::Result DownloadEngine::add(const QString &url, const QString &filename,
                                           int priority, const QString &sha256, Download *created)
{
    const QUrl parsed(url, QUrl::StrictMode);
    if (!parsed.isValid() || (parsed.scheme() != u"http" && parsed.scheme() != u"https")
        || parsed.host().isEmpty())
        return error(400, "invalid_url", QStringLiteral("url must be an http:// or https:// URL"));
    static const QRegularExpression hex(QStringLiteral("^[0-9a-fA-F]{64}$"));
    if (!sha256.isEmpty() && !hex.match(sha256).hasMatch())
        return error(400, "invalid_sha256", QStringLiteral("sha256 must be 64 hexadecimal digits"));
    Download d;
    if (!filename.isNull()) {
        d.filename = FileNames::sanitize(filename);
        if (d.filename.isEmpty())
            return error(400, "invalid_filename", QStringLiteral("the filename has nothing usable in it"));
        d.filenameFromRequest = true;
    } else {
        d.filename = FileNames::sanitize(FileNames::fromUrl(parsed));
        if (d.filename.isEmpty())
            d.filename = QStringLiteral("download");
    }
    d.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    d.url = parsed.toString(QUrl::FullyEncoded);
    d.priority = priority;
    d.position = m_store->nextPosition();
    d.sha256 = sha256.toLower();
    d.createdAt = d.updatedAt = QDateTime::currentDateTimeUtc();
    QString storeError;
    if (!m_store->save(d, &storeError))
        return error(500, "store_error", QStringLiteral("the download could not be saved: ") + storeError);
    m_downloads.insert(d.id, d);
    publishQueue(QStringLiteral("added"), d);
    publishProgress(m_downloads[d.id], true);
    schedule();
    *created = m_downloads[d.id];
    return std::nullopt;
}

static DownloadEngine::Error conflict(const Download &d, const char *action)
{
    return error(409, "invalid_state", QStringLiteral("cannot %1 a download that is %2")
                                           .arg(QString::fromLatin1(action), toString(d.status)));
}

DownloadEngine::Result DownloadEngine::pause(const QString &id)
{
    auto it = m_downloads.find(id);
    if (it == m_downloads.end())
        return error(404, "not_found", QStringLiteral("no download %1").arg(id));
    if (it->status != DownloadStatus::Pending && it->status != DownloadStatus::Downloading)
        return conflict(*it, "pause");
    stopTransfer(*it);
    setStatus(*it, DownloadStatus::Paused);
    schedule();
    return std::nullopt;
}

DownloadEngine::Result DownloadEngine::resume(const QString &id)
{
    auto it = m_downloads.find(id);
    if (it == m_downloads.end())
        return error(404, "not_found", QStringLiteral("no download %1").arg(id));
    if (it->status != DownloadStatus::Paused)
        return conflict(*it, "resume");
    m_notBefore.remove(id);
    setStatus(*it, DownloadStatus::Pending);
    schedule();
    return std::nullopt;
}

DownloadEngine::Result DownloadEngine::cancel(const QString &id)
{
    auto it = m_downloads.find(id);
    if (it == m_downloads.end())
        return error(404, "not_found", QStringLiteral("no download %1").arg(id));
    if (it->status == DownloadStatus::Completed || it->status == DownloadStatus::Cancelled
        || it->status == DownloadStatus::Processing)
        return conflict(*it, "cancel");
    stopTransfer(*it);
    QFile::remove(partPath(*it));
    it->downloadedBytes = 0;
    setStatus(*it, DownloadStatus::Cancelled);
    schedule();
    return std::nullopt;
}

DownloadEngine::Result DownloadEngine::retry(const QString &id)
{
    auto it = m_downloads.find(id);
    if (it == m_downloads.end())
        return error(404, "not_found", QStringLiteral("no download %1").arg(id));
    if (it->status != DownloadStatus::Failed && it->status != DownloadStatus::Cancelled)
        return conflict(*it, "retry");
    it->attempts = 0;
    m_notBefore.remove(id);
    setStatus(*it, DownloadStatus::Pending);
    schedule();
    return std::nullopt;
}

DownloadEngine::Result DownloadEngine::remove(const QString &id, bool deleteFile)
{
    auto it = m_downloads.find(id);
    if (it == m_downloads.end())
        return error(404, "not_found", QStringLiteral("no download %1").arg(id));
    stopTransfer(*it);
    QFile::remove(partPath(*it));
    if (deleteFile && it->status == DownloadStatus::Completed)
        QFile::remove(QDir(m_options.downloadDir).filePath(it->filename));
    const Download removed = *it;
    m_store->remove(id);
    m_downloads.erase(it);
    m_notBefore.remove(id);
    m_reportedPercent.remove(id);
    publishQueue(QStringLiteral("removed"), removed);
    schedule();
    return std::nullopt;
}

DownloadEngine::Result DownloadEngine::setPriority(const QString &id, int priority)
{
    auto it = m_downloads.find(id);
    if (it == m_downloads.end())
        return error(404, "not_found", QStringLiteral("no download %1").arg(id));
    if (it->isFinished())
        return conflict(*it, "reorder");
    it->priority = priority;
    persist(*it);
    publishQueue(QStringLiteral("reordered"), *it);
    schedule();
    return std::nullopt;
}

// --- transfers -----------------------------------------------------------------------------

void DownloadEngine::schedule()
{
    const qint64 now = nowMs();
    qint64 nextWake = -1;
    int active = activeCount();
    for (const Download *d : ordered()) {
        if (d->status != DownloadStatus::Pending || m_transfers.contains(d->id))
            continue;
        const qint64 notBefore = m_notBefore.value(d->id, 0);
        if (notBefore > now) {
            nextWake = nextWake < 0 ? notBefore : qMin(nextWake, notBefore);
            continue;
        }
        if (active >= m_options.maxConcurrent)
            break;
        begin(m_downloads[d->id]);
        ++active;
    }
    if (nextWake > 0)
        m_scheduleTimer.start(int(qMax<qint64>(1, nextWake - now)));
}

void DownloadEngine::begin(Download &d)
{
    const QString id = d.id;
    auto t = std::make_shared<Transfer>();
    t->file.setFileName(partPath(d));
    if (!QDir().mkpath(m_options.downloadDir) || !t->file.open(QIODevice::ReadWrite)) {
        fail(d, QStringLiteral("cannot write %1: %2").arg(t->file.fileName(), t->file.errorString()), false);
        return;
    }
    t->offset = t->file.size();
    t->file.seek(t->offset);
    d.downloadedBytes = t->offset;
    m_notBefore.remove(id);
    m_transfers.insert(id, t);
    checkDiskSpace();
    if (d.totalBytes > 0 && t->offset == d.totalBytes) {
        // Everything had arrived before the server stopped: only verifying was left.
        setStatus(d, DownloadStatus::Downloading);
        finishFile(d);
        return;
    }

    QNetworkRequest request{QUrl(d.url)};
    request.setMaximumRedirectsAllowed(m_options.maxRedirects);
    request.setHeader(QNetworkRequest::UserAgentHeader,
                      QStringLiteral("hermes-server/") + QCoreApplication::applicationVersion());
    request.setTransferTimeout(30000); // no byte for 30 s: the connection is dead, retry
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    if (t->offset > 0)
        request.setRawHeader("Range", "bytes=" + QByteArray::number(t->offset) + '-');
    t->reply = m_network.get(request);
    connect(t->reply, &QNetworkReply::metaDataChanged, this, [this, id] {
        if (auto it = m_downloads.find(id); it != m_downloads.end())
            onMetaData(*it);
    });
    connect(t->reply, &QNetworkReply::readyRead, this, [this, id] {
        if (auto it = m_downloads.find(id); it != m_downloads.end())
            onData(*it);
    });
    connect(t->reply, &QNetworkReply::finished, this, [this, id, t] {
        if (t->aborting)
            return;
        if (auto it = m_downloads.find(id); it != m_downloads.end())
            onFinished(*it);
    });
    d.errorMessage.clear();
    setStatus(d, DownloadStatus::Downloading);
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

void DownloadEngine::onMetaData(Download &d)
{
    const auto t = m_transfers.value(d.id);
    if (!t || !t->reply)
        return;
    QNetworkReply *reply = t->reply;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status < 200 || status >= 300)
        return; // a redirect (followed) or an error (reported when finished)
    const qint64 length = reply->header(QNetworkRequest::ContentLengthHeader).toLongLong();
    const bool hasLength = reply->header(QNetworkRequest::ContentLengthHeader).isValid();
    if (t->offset > 0) {
        qint64 total = -1;
        const qint64 start = status == 206 ? contentRangeStart(reply->rawHeader("Content-Range"), &total) : -1;
        if (start != t->offset) {
            // The server ignored the Range (or answered another one): start over.
            t->file.resize(0);
            t->file.seek(0);
            t->offset = 0;
            d.downloadedBytes = 0;
            d.note = QStringLiteral("the server does not support resuming (HTTP Range); restarted from zero");
            qCInfo(lcHub).noquote() << "download" << d.id << ":" << d.note;
            if (status == 206) {
                fail(d, QStringLiteral("the server answered another range than asked"), true);
                return;
            }
        }
        if (status == 206)
            d.totalBytes = total >= 0 ? total : (hasLength ? t->offset + length : -1);
    }
    if (t->offset == 0)
        d.totalBytes = hasLength ? length : -1;
    if (m_options.maxFileSize > 0 && d.totalBytes > m_options.maxFileSize) {
        fail(d, QStringLiteral("the file is %1 bytes, more than the allowed %2")
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

void DownloadEngine::onData(Download &d)
{
    const auto t = m_transfers.value(d.id);
    if (!t || !t->reply)
        return;
    const QByteArray bytes = t->reply->readAll();
    const int status = t->reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status < 200 || status >= 300 || bytes.isEmpty())
        return; // an error page is not the file
    if (t->file.write(bytes) != bytes.size()) {
        fail(d, QStringLiteral("cannot write %1: %2").arg(t->file.fileName(), t->file.errorString()), false);
        return;
    }
    d.downloadedBytes += bytes.size();
    m_stats.bytes += quint64(bytes.size());
    t->rate.add(nowMs(), bytes.size());
    if (m_options.maxFileSize > 0 && d.downloadedBytes > m_options.maxFileSize) {
        fail(d, QStringLiteral("the file is larger than the allowed %1 bytes").arg(m_options.maxFileSize), false);
        return;
    }
    publishProgress(d, false);
}

void DownloadEngine::onFinished(Download &d)
{
    const auto t = m_transfers.value(d.id);
    if (!t || !t->reply)
        return;
    QNetworkReply *reply = t->reply;
    onData(d); // anything left in the buffer
    if (!m_transfers.contains(d.id))
        return; // onData failed it
    t->file.flush();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const auto error = reply->error();
    if (status >= 400) {
        if (status == 416) { // the range is past the end: the part file is not what we think
            t->file.resize(0);
            fail(d, QStringLiteral("the server refused to resume (HTTP 416); starting over"), true);
            return;
        }
        fail(d, QStringLiteral("HTTP %1 %2").arg(status).arg(
                    reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString()),
             status >= 500 || status == 429 || status == 408);
        return;
    }
    const QString shortBy = d.totalBytes >= 0 && d.downloadedBytes != d.totalBytes
        ? QStringLiteral("the transfer ended after %1 of %2 bytes").arg(d.downloadedBytes).arg(d.totalBytes)
        : QString();
    if (error != QNetworkReply::NoError) {
        // Transport trouble (a dropped connection, a timeout, a refused connect) is worth
        // another try; a redirect loop or an unsupported scheme is not.
        const bool retryable = error != QNetworkReply::TooManyRedirectsError
            && error != QNetworkReply::InsecureRedirectError
            && error != QNetworkReply::ProtocolUnknownError
            && error != QNetworkReply::HostNotFoundError;
        fail(d, shortBy.isEmpty() ? reply->errorString() : shortBy + QStringLiteral(": ") + reply->errorString(), retryable);
        return;
    }
    if (!shortBy.isEmpty()) {
        fail(d, shortBy, true);
        return;
    }
    if (d.totalBytes < 0)
        d.totalBytes = d.downloadedBytes;
    finishFile(d);
}

void DownloadEngine::finishFile(Download &d)
{
    const auto t = m_transfers.value(d.id);
    if (t) {
        t->file.close();
        if (t->reply) {
            t->aborting = true;
            t->reply->deleteLater();
        }
    }
    setStatus(d, DownloadStatus::Processing);
    const QString id = d.id;
    const QString path = partPath(d);
    const QString expected = d.sha256;
    // Hashing a large file would stall every stream: it runs on the thread pool.
    QPointer<DownloadEngine> self(this);
    QThreadPool::globalInstance()->start([self, id, path, expected] {
        QString actual;
        if (!expected.isEmpty()) {
            QFile file(path);
            QCryptographicHash hash(QCryptographicHash::Sha256);
            if (file.open(QIODevice::ReadOnly) && hash.addData(&file))
                actual = QString::fromLatin1(hash.result().toHex());
        }
        QMetaObject::invokeMethod(qApp, [self, id, path, expected, actual] {
            if (!self)
                return;
            auto it = self->m_downloads.find(id);
            if (it == self->m_downloads.end() || it->status != DownloadStatus::Processing)
                return; // removed meanwhile
            Download &d = *it;
            if (!expected.isEmpty() && actual != expected) {
                QFile::remove(path); // a corrupt file is not resumed
                d.downloadedBytes = 0;
                self->m_transfers.remove(id);
                self->setStatus(d, DownloadStatus::Failed,
                                QStringLiteral("SHA-256 mismatch: expected %1, got %2").arg(expected, actual));
                self->notify(QStringLiteral("error"), QStringLiteral("Download failed: %1 (checksum mismatch)").arg(d.filename), &d);
                self->schedule();
                return;
            }
            const QString target = FileNames::uniquePath(self->m_options.downloadDir, d.filename);
            if (target.isEmpty() || !QFile::rename(path, target)) {
                self->m_transfers.remove(id);
                self->setStatus(d, DownloadStatus::Failed, QStringLiteral("cannot move the file into place"));
                self->schedule();
                return;
            }
            if (self->m_options.finishedFileMode >= 0) // readable by the download group, say
                ::chmod(QFile::encodeName(target).constData(), mode_t(self->m_options.finishedFileMode));
            d.filename = QFileInfo(target).fileName();
            d.completedAt = QDateTime::currentDateTimeUtc();
            self->m_transfers.remove(id);
            self->m_reportedPercent[id] = 100;
            self->setStatus(d, DownloadStatus::Completed);
            self->notify(QStringLiteral("info"), QStringLiteral("Download completed: %1").arg(d.filename), &d);
            self->checkDiskSpace();
            self->schedule();
        }, Qt::QueuedConnection);
    });
}

void DownloadEngine::stopTransfer(Download &d)
{
    const auto t = m_transfers.take(d.id);
    if (!t)
        return;
    t->aborting = true;
    if (t->reply) {
        t->reply->abort();
        t->reply->deleteLater();
    }
    t->file.close();
}

void DownloadEngine::fail(Download &d, const QString &message, bool retryable)
{
    stopTransfer(d);
    if (retryable && ++d.attempts < m_options.maxAttempts) {
        const qint64 delay = qMin<qint64>(60000, qint64(m_options.retryBaseMs) << qMin(d.attempts - 1, 16));
        m_notBefore.insert(d.id, nowMs() + delay);
        ++m_stats.retried;
        setStatus(d, DownloadStatus::Pending,
                  QStringLiteral("%1; retrying in %2 s (attempt %3 of %4)")
                      .arg(message).arg(delay / 1000.0).arg(d.attempts + 1).arg(m_options.maxAttempts));
        qCInfo(lcHub).noquote() << "download" << d.id << ":" << d.errorMessage;
    } else {
        setStatus(d, DownloadStatus::Failed, message);
        notify(QStringLiteral("error"), QStringLiteral("Download failed: %1: %2").arg(d.filename, message), &d);
    }
    schedule();
}

// --- state and events ----------------------------------------------------------------------

void DownloadEngine::setStatus(Download &d, DownloadStatus status, const QString &error)
{
    const bool changed = d.status != status;
    m_stats.completed += changed && status == DownloadStatus::Completed;
    m_stats.failed += changed && status == DownloadStatus::Failed;
    d.status = status;
    d.errorMessage = error;
    d.updatedAt = QDateTime::currentDateTimeUtc();
    persist(d);
    publishProgress(d, true);
    if (changed)
        publishQueue(QStringLiteral("status_changed"), d);
}

void DownloadEngine::persist(Download &d)
{
    QString error;
    if (!m_store->save(d, &error))
        qCWarning(lcHub).noquote() << "cannot save download" << d.id << ":" << error;
}

double DownloadEngine::speedOf(const QString &id) const
{
    const auto t = m_transfers.value(id);
    return t ? t->rate.bytesPerSecond(nowMs()) : 0.0;
}

qint64 DownloadEngine::etaOf(const Download &d) const
{
    const double speed = speedOf(d.id);
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
    return {{QStringLiteral("percentage"), m_reportedPercent.value(d.id, 0)},
            {QStringLiteral("status"), toString(d.status)},
            {QStringLiteral("downloaded_bytes"), d.downloadedBytes},
            {QStringLiteral("total_bytes"), nullable(d.totalBytes)},
            {QStringLiteral("speed"), speedOf(d.id)},
            {QStringLiteral("eta"), nullable(etaOf(d))}};
}

QJsonObject DownloadEngine::toJson(const Download &d) const
{
    const QJsonObject progress = progressJson(d);
    QJsonObject o{{QStringLiteral("id"), d.id},
                  {QStringLiteral("url"), d.url},
                  {QStringLiteral("filename"), d.filename},
                  {QStringLiteral("status"), toString(d.status)},
                  {QStringLiteral("priority"), d.priority},
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
    return o;
}

QJsonObject DownloadEngine::summary() const
{
    int queued = 0, paused = 0;
    double speed = 0;
    for (const Download &d : m_downloads) {
        queued += d.status == DownloadStatus::Pending;
        paused += d.status == DownloadStatus::Paused;
    }
    for (auto it = m_transfers.cbegin(); it != m_transfers.cend(); ++it)
        speed += it.value()->rate.bytesPerSecond(nowMs());
    return {{QStringLiteral("active"), activeCount()},
            {QStringLiteral("queued"), queued},
            {QStringLiteral("paused"), paused},
            {QStringLiteral("total_speed"), speed}};
}

void DownloadEngine::publishProgress(Download &d, bool force)
{
    const double raw = d.totalBytes > 0 ? qMin(100.0, double(d.downloadedBytes) * 100.0 / double(d.totalBytes))
                                        : (d.status == DownloadStatus::Completed ? 100.0 : 0.0);
    double &reported = m_reportedPercent[d.id];
    reported = qMax(reported, std::floor(raw * 10) / 10); // never decreasing, 0.1 steps
    const auto t = m_transfers.value(d.id);
    const qint64 now = nowMs();
    if (!force && t) {
        const bool step = reported - t->lastPercent >= m_options.progressStepPercent;
        const bool due = now - t->lastProgressMs >= m_options.progressIntervalMs;
        const bool full = reported >= 100 && t->lastPercent < 100;
        if (!step && !due && !full)
            return;
        persist(d); // the bytes so far, at the pace of the events
    }
    if (t) {
        t->lastPercent = reported;
        t->lastProgressMs = now;
    }
    QJsonObject event{{QStringLiteral("download_id"), d.id},
                      {QStringLiteral("status"), toString(d.status)},
                      {QStringLiteral("progress"), progressJson(d)},
                      {QStringLiteral("error_message"), nullable(d.errorMessage)},
                      {QStringLiteral("filename"), d.filename},
                      {QStringLiteral("url"), d.url}};
    if (d.status == DownloadStatus::Completed) {
        event.insert(QStringLiteral("result"), QJsonObject{{QStringLiteral("url"), d.url},
                                                           {QStringLiteral("title"), d.filename},
                                                           {QStringLiteral("file_size"), d.totalBytes}});
    }
    Event e;
    e.channel = QString(Channels::Downloads);
    e.type = QStringLiteral("download_progress");
    e.data = event;
    e.timestamp = Event::currentTimestamp();
    m_broker->publish(e, [](std::optional<EventId> id, const QString &error) {
        if (!id)
            qCWarning(lcHub).noquote() << "a download event was not published:" << error;
    });
}

void DownloadEngine::publishQueue(const QString &action, const Download &d)
{
    int queued = 0;
    for (const Download &x : m_downloads)
        queued += x.status == DownloadStatus::Pending;
    Event e;
    e.channel = QString(Channels::Queue);
    e.type = QStringLiteral("queue_update");
    e.data = {{QStringLiteral("action"), action},
              {QStringLiteral("download_id"), d.id},
              {QStringLiteral("status"), toString(d.status)},
              {QStringLiteral("queue_length"), queued},
              {QStringLiteral("active"), activeCount()}};
    e.timestamp = Event::currentTimestamp();
    m_broker->publish(e, {});
}

void DownloadEngine::notify(const QString &type, const QString &message, const Download *d)
{
    Event e;
    e.channel = QString(Channels::System);
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
