#include "downloads/transfer.h"

#include "downloads/fieldlimits.h"
#include "downloads/filenames.h"
#include "downloads/retrypolicy.h"
#include "logging.h"
#include "threadaffinity.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace Hermes {

// How much of the saved bytes' end a resume checks: enough to catch a file replaced, shifted
// (bytes inserted in front) or cut and regrown; cheap to hash at every progress save.
static constexpr qint64 CheckWindow = 64 * 1024;
// What Qt's HTTP thread may hold of one reply before it stops reading the socket (then TCP
// holds the origin back), and the size of the one buffer each readyRead drains it through:
// the largest pwrite. Unset (0), the reply buffered without bound: a 1 GiB download took the
// RSS to 1.46 GiB whenever the disk or this thread was slower than the loopback network.
static constexpr qint64 ReadBufferSize = 1024 * 1024;

// The buffer every transfer of this thread drains its reply through: a readyRead empties its
// reply before the next one runs, so one is enough (one each cost 1 MiB per transfer, which
// glibc kept after 200 small downloads: 136 MiB).
static QByteArray &readBuffer()
{
    static thread_local QByteArray buffer(ReadBufferSize, Qt::Uninitialized);
    return buffer;
}

// SHA-256 (hex) of bytes [n - CheckWindow, n) of `fd`; empty when they cannot all be read.
static QString tailCheck(int fd, qint64 n)
{
    Sha256 hash;
    return Sha256::addFile(hash, fd, qMax<qint64>(0, n - CheckWindow), n) ? hash.hex() : QString();
}

static bool sameCtime(const struct stat &a, const struct stat &b)
{
    return a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec
        && a.st_size == b.st_size && a.st_ino == b.st_ino;
}

Transfer::Transfer(const Download &download, const DownloadDir &dir, const Limits &limits,
                   QNetworkAccessManager *network, QObject *parent)
    : QObject(parent), m_download(download), m_dir(dir), m_limits(limits), m_network(network),
      m_clock([] { return QDateTime::currentMSecsSinceEpoch(); }),
      m_route(QUrl(download.url), limits.maxRedirects, limits.refusal)
{
}

Transfer::~Transfer()
{
    m_ended = true;
    if (m_hash)
        m_hash->cancel();
    abortReply();
    if (m_fd >= 0)
        ::close(m_fd);
}

double Transfer::speed()
{
    HERMES_ASSERT_THREAD(this);
    return m_rate.bytesPerSecond(m_clock());
}

QString Transfer::partName() const
{
    return DownloadDir::partName(m_download.id, m_download.leaseGeneration);
}

bool Transfer::openPart()
{
    if (const Result<void> opened = m_dir.open(); !opened) {
        end({TransferResult::Kind::Failed, opened.error().message, false});
        return false;
    }
    Result<int> fd = m_dir.createFile(partName());
    if (!fd && fd.error().kind == Error::Kind::Conflict && m_dir.isRegularFile(partName())) {
        // A regular file under this claim's own name was not written by this claim (each claim
        // has a new generation): a leftover of a store restored from a backup. Not ours to
        // trust; its name goes (never a link's target), and the file is made anew.
        m_dir.remove(partName());
        fd = m_dir.createFile(partName());
    }
    if (!fd) {
        // A link, FIFO, device or directory planted under the part file's name: nothing is
        // followed or opened; the download fails, naming the path.
        const bool full = fd.error().kind == Error::Kind::Unavailable;
        end({full ? TransferResult::Kind::DiskFull : TransferResult::Kind::Failed,
             fd.error().kind == Error::Kind::Conflict
                 ? QStringLiteral("%1 is in the way of the part file (something was put there); it is left alone")
                       .arg(m_dir.pathOf(partName()))
                 : fd.error().message,
             false});
        return false;
    }
    m_fd = *fd;
    return true;
}

void Transfer::restartFromZero(const QString &why)
{
    Download &d = m_download;
    if (m_hash)
        m_hash->restart(); // before the cut: a read that sees it is known to be of the old file
    if (m_fd >= 0 && ::ftruncate(m_fd, 0) != 0)
        qCWarning(lcHub).noquote() << "download" << d.id << ": cannot empty" << m_dir.pathOf(partName());
    m_offset = 0;
    d.downloadedBytes = 0;
    m_writeback.restart(0);
    d.percent = 0; // progress goes down, on purpose: the note says why
    d.etag.clear();
    d.lastModified.clear();
    d.note = why + QStringLiteral("; restarted from zero");
    qCInfo(lcHub).noquote() << "download" << d.id << ":" << d.note;
    vouch();
}

bool Transfer::resumeFromSaved()
{
    Download &d = m_download;
    const qint64 prefix = d.downloadedBytes;
    if (prefix <= 0)
        return false;
    const QString source = DownloadDir::partName(d.id, d.partGeneration);
    const Result<int> opened = m_dir.openRegular(source);
    if (!opened) {
        d.note = QStringLiteral("the part file %1 is not there or not a regular file on this node (is the "
                                "download dir shared between the nodes?)").arg(m_dir.pathOf(source));
        return false;
    }
    const int in = *opened;
    struct stat before{}, after{};
    bool ok = ::fstat(in, &before) == 0 && before.st_size >= prefix;
    if (!ok)
        d.note = QStringLiteral("the part file %1 is shorter than the %2 bytes saved").arg(m_dir.pathOf(source)).arg(prefix);
    if (ok && !d.partCheck.isEmpty() && tailCheck(in, prefix) != d.partCheck) {
        ok = false;
        d.note = QStringLiteral("the part file %1 does not hold the bytes saved (changed or damaged)").arg(m_dir.pathOf(source));
    }
    // The kernel copies (a reflink where the filesystem shares extents): the source is never
    // written to, so a writer still holding it cannot reach this generation's file.
    qint64 copied = 0;
    while (ok && copied < prefix) {
        loff_t inOff = copied, outOff = copied;
        const ssize_t n = ::copy_file_range(in, &inOff, m_fd, &outOff, size_t(prefix - copied), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const int error = n < 0 ? errno : EIO;
            ok = false;
            m_copyFull = error == ENOSPC || error == EDQUOT;
            d.note = QStringLiteral("cannot copy the saved bytes from %1: %2")
                         .arg(m_dir.pathOf(source), QString::fromLocal8Bit(std::strerror(error)));
            break;
        }
        copied += n;
    }
    // A writer that was still at it (paused past its lease, woken up) changed the source while
    // it was copied: what was copied cannot be vouched for.
    if (ok && (::fstat(in, &after) != 0 || !sameCtime(before, after))) {
        ok = false;
        d.note = QStringLiteral("the part file %1 changed while it was copied").arg(m_dir.pathOf(source));
    }
    if (ok && !d.partCheck.isEmpty() && tailCheck(m_fd, prefix) != d.partCheck) {
        ok = false;
        d.note = QStringLiteral("the copy of %1 does not hold the bytes saved").arg(m_dir.pathOf(source));
    }
    ::close(in);
    return ok;
}

void Transfer::vouch()
{
    Download &d = m_download;
    d.partGeneration = d.leaseGeneration;
    d.partCheck = d.downloadedBytes > 0 ? tailCheck(m_fd, d.downloadedBytes) : QString();
}

void Transfer::start()
{
    HERMES_ASSERT_THREAD(this);
    Download &d = m_download;
    if (!openPart())
        return;
    if (!d.sha256.isEmpty())
        m_hash = TrailingHash::create(m_fd); // none (then the finished file is read) if no descriptor is left
    const Download saved = d;
    if (d.downloadedBytes > 0 && d.partGeneration != d.leaseGeneration)
        m_supersedes = d.partGeneration;
    const bool resumed = resumeFromSaved();
    if (m_copyFull) {
        // No room for the copy: the saved bytes stay where they are, the row unchanged, and
        // this generation's empty file goes.
        const QString why = d.note;
        d = saved;
        removeOwnPart();
        end({TransferResult::Kind::DiskFull, why, false});
        return;
    }
    if (resumed) {
        m_offset = d.downloadedBytes;
        m_writeback.restart(m_offset); // the copied prefix is left to the final fdatasync
        vouch();
    } else {
        const QString why = d.note;
        m_offset = 0;
        if (d.downloadedBytes > 0)
            restartFromZero(why);
        else
            vouch();
    }
    qCInfo(lcHub).noquote() << "download" << d.id << ": running here from byte" << m_offset << "into"
                            << m_dir.pathOf(partName());
    emit started();
    if (m_ended)
        return; // stopped by whoever heard it
    if (d.totalBytes > 0 && m_offset == d.totalBytes) {
        // Everything had arrived before: only verifying was left (it reads the file; the
        // hash, cancelled by end(), would read it just the same).
        end({TransferResult::Kind::Finished, {}, false});
        return;
    }
    if (m_hash && m_offset > 0)
        m_hash->written(m_offset); // the saved prefix, hashed while the rest is asked for
    request();
}

void Transfer::finishWhenHashed()
{
    if (!m_hash)
        return end({TransferResult::Kind::Finished, {}, false});
    m_hash->whenHashed(this, m_download.downloadedBytes, [this](const QString &digest) {
        if (m_ended)
            return; // stopped meanwhile
        m_digest = digest;
        end({TransferResult::Kind::Finished, {}, false});
    });
}

QString Transfer::sha256() const
{
    return m_digest;
}

void Transfer::request()
{
    m_route.prepare([this](Result<QNetworkRequest> prepared) {
        if (m_ended)
            return;
        if (!prepared) { // a blocked address (for good), a host not resolved (retried)
            fail(prepared.error().message, prepared.error().kind == Error::Kind::Unavailable);
            return;
        }
        const Download &d = m_download;
        QNetworkRequest request = *prepared;
        request.setHeader(QNetworkRequest::UserAgentHeader,
                          QStringLiteral("hermes-server/") + QCoreApplication::applicationVersion());
        request.setTransferTimeout(30000); // no byte for 30 s: the connection is dead, retry
        request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
        if (m_offset > 0) {
            request.setRawHeader("Range", "bytes=" + QByteArray::number(m_offset) + '-');
            // Only a strong ETag may validate a range (RFC 9110 13.1.5); else the date.
            const QString validator = !d.etag.isEmpty() && !d.etag.startsWith(u"W/") ? d.etag : d.lastModified;
            if (!validator.isEmpty()) {
                request.setRawHeader("If-Range", validator.toLatin1());
                m_sentIfRange = true;
            }
        }
        m_reply = m_network->get(request);
        m_reply->setReadBufferSize(ReadBufferSize); // back-pressure on the socket
        connect(m_reply, &QNetworkReply::metaDataChanged, this, [this] {
            if (!m_ended)
                onMetaData();
        });
        connect(m_reply, &QNetworkReply::readyRead, this, [this] {
            if (!m_ended)
                onData();
        });
        connect(m_reply, &QNetworkReply::finished, this, [this] {
            if (!m_ended)
                onFinished();
        });
    });
}

bool Transfer::redirected(QNetworkReply *reply)
{
    if (!TransferRoute::isRedirect(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt()))
        return false;
    const Result<void> next = m_route.follow(reply);
    abortReply(); // its body is not needed
    if (!next)
        fail(next.error().message, false);
    else
        request();
    return true;
}

void Transfer::removeOwnPart()
{
    // Only if the name still holds the file this transfer wrote: on shared storage another
    // node may have removed it and a successor made one under the same name.
    struct stat mine{}, named{};
    if (m_fd >= 0 && ::fstat(m_fd, &mine) == 0 && m_dir.isRegularFile(partName())) {
        const Result<int> fd = m_dir.openRegular(partName());
        if (fd) {
            const bool same = ::fstat(*fd, &named) == 0 && named.st_ino == mine.st_ino && named.st_dev == mine.st_dev;
            ::close(*fd);
            if (same)
                m_dir.remove(partName());
        }
    }
}

void Transfer::removeSupersededPart()
{
    if (m_supersedes < 0)
        return;
    // Only the one file the row named at the start, never "every other generation": a newer
    // generation (should this node be paused from here on) resumes from this one's, not that.
    m_dir.remove(DownloadDir::partName(m_download.id, m_supersedes));
    m_supersedes = -1;
}

void Transfer::stop(bool deletePart)
{
    HERMES_ASSERT_THREAD(this);
    if (m_ended)
        return;
    m_ended = true;
    if (m_hash)
        m_hash->cancel();
    m_route.cancel();
    abortReply();
    if (deletePart)
        removeOwnPart();
    emit ended({TransferResult::Kind::Stopped, {}, false});
}

void Transfer::abortReply()
{
    if (!m_reply)
        return;
    m_reply->disconnect(this);
    m_reply->abort();
    m_reply->deleteLater();
    m_reply = nullptr;
}

void Transfer::end(const TransferResult &result)
{
    m_ended = true;
    if (m_hash)
        m_hash->cancel(); // its digest, if any, is taken: nothing more to read
    emit ended(result);
}

void Transfer::fail(const QString &message, bool retryable)
{
    m_ended = true;
    abortReply();
    end({TransferResult::Kind::Failed, message, retryable});
}

bool Transfer::write(const char *bytes, qint64 size)
{
    // pwrite, unbuffered: every byte is in the file before the save that counts it is issued,
    // and no buffer is left to flush after a lease is lost.
    qint64 done = 0;
    while (done < size) {
        const ssize_t n = ::pwrite(m_fd, bytes + done, size_t(size - done), m_download.downloadedBytes + done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            const int error = n < 0 ? errno : EIO;
            const QString message = QStringLiteral("cannot write %1: %2")
                                        .arg(m_dir.pathOf(partName()), QString::fromLocal8Bit(std::strerror(error)));
            m_ended = true;
            abortReply();
            ::ftruncate(m_fd, m_download.downloadedBytes); // nothing half-written stays counted
            vouch(); // the pause saves these bytes: the check must be theirs
            end({error == ENOSPC || error == EDQUOT ? TransferResult::Kind::DiskFull : TransferResult::Kind::Failed,
                 message, false});
            return false;
        }
        done += n;
    }
    if (!m_writebackBusy->load(std::memory_order_acquire)) { // else the next range covers these
        if (const auto range = m_writeback.written(m_download.downloadedBytes + size))
            WritebackPacer::startDetached(m_fd, *range, m_writebackBusy); // failures: the final fdatasync's
    }
    if (m_hash)
        m_hash->written(m_download.downloadedBytes + size);
    return true;
}

static qint64 contentRangeStart(const QByteArray &header, qint64 *total)
{
    // "bytes 100-999/1000"
    static const QRegularExpression re(QRegularExpression::anchoredPattern(QStringLiteral("bytes (\\d+)-(\\d+)/(\\d+|\\*)")));
    const auto m = re.match(QString::fromLatin1(header.trimmed()));
    if (!m.hasMatch())
        return -1;
    *total = m.captured(3) == u"*" ? -1 : m.captured(3).toLongLong();
    return m.captured(1).toLongLong();
}

void Transfer::onMetaData()
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    if (redirected(reply))
        return;
    emit responded();
    if (m_ended || !m_reply)
        return; // stopped by whoever heard it
    Download &d = m_download;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status < 200 || status >= 300)
        return; // an error (reported when finished)
    const qint64 length = reply->header(QNetworkRequest::ContentLengthHeader).toLongLong();
    const bool hasLength = reply->header(QNetworkRequest::ContentLengthHeader).isValid();
    // The origin chooses these, and every event about the download carries them: cut.
    const QString etag = FieldLimits::cut(QString::fromLatin1(reply->rawHeader("ETag")));
    const QString lastModified = FieldLimits::cut(QString::fromLatin1(reply->rawHeader("Last-Modified")));
    if (m_offset > 0) {
        qint64 total = -1;
        const qint64 start = status == 206 ? contentRangeStart(reply->rawHeader("Content-Range"), &total) : -1;
        if (start != m_offset) {
            // The server sent the whole file: it ignores Range, or (If-Range) the file changed.
            const bool changed = m_sentIfRange && (etag != d.etag || lastModified != d.lastModified);
            restartFromZero(changed ? QStringLiteral("the file changed on the server since the part was written (If-Range)")
                                    : QStringLiteral("the server does not support resuming (HTTP Range)"));
            if (status == 206) {
                fail(QStringLiteral("the server answered another range than asked"), true);
                return;
            }
        }
        if (status == 206)
            d.totalBytes = total >= 0 ? total : (hasLength ? m_offset + length : -1);
    }
    if (m_offset == 0)
        d.totalBytes = hasLength ? length : -1;
    d.etag = etag;
    d.lastModified = lastModified;
    if (m_limits.maxFileSize > 0 && d.totalBytes > m_limits.maxFileSize) {
        fail(QStringLiteral("the file is %1 bytes, more than the allowed %2")
                 .arg(d.totalBytes).arg(m_limits.maxFileSize), false);
        return;
    }
    if (!d.filenameFromRequest) {
        // A name the engine reserves (`<other id>.part`) is never taken from the origin.
        const auto usable = [](const QString &name) { return !name.isEmpty() && !DownloadDir::isReservedName(name); };
        QString name = FileNames::sanitize(FileNames::fromContentDisposition(reply->rawHeader("Content-Disposition")));
        if (!usable(name))
            name = FileNames::sanitize(FileNames::fromUrl(m_route.current())); // after redirects
        if (usable(name))
            d.filename = name;
    }
}

void Transfer::onData()
{
    if (!m_reply)
        return;
    Download &d = m_download;
    const int status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const bool body = status >= 200 && status < 300; // an error page is not the file
    // Drained through one reused buffer, a pwrite per buffer's worth: no QByteArray per read
    // (readAll), no copy beyond the one out of Qt's buffer. Bounded: the reply holds at most
    // about ReadBufferSize, and nothing is added to it while this runs.
    QByteArray &buffer = readBuffer();
    qint64 got = 0;
    for (;;) {
        const qint64 n = m_reply->read(buffer.data(), buffer.size());
        if (n <= 0)
            break;
        if (!body)
            continue;
        if (!write(buffer.constData(), n))
            return;
        d.downloadedBytes += n;
        got += n;
        if (m_limits.maxFileSize > 0 && d.downloadedBytes > m_limits.maxFileSize)
            break;
    }
    if (got == 0)
        return;
    emit received(got);
    const qint64 now = m_clock();
    m_rate.add(now, got);
    if (m_limits.maxFileSize > 0 && d.downloadedBytes > m_limits.maxFileSize) {
        fail(QStringLiteral("the file is larger than the allowed %1 bytes").arg(m_limits.maxFileSize), false);
        return;
    }
    d.updatePercent();
    const bool step = d.percent - m_lastPercent >= m_limits.progressStepPercent;
    const bool due = now - m_lastProgressMs >= m_limits.progressIntervalMs;
    const bool full = d.percent >= 100 && m_lastPercent < 100;
    if (!step && !due && !full)
        return;
    m_lastPercent = d.percent;
    m_lastProgressMs = now;
    vouch(); // what the save will say has arrived is in this generation's file
    emit progressed();
}

void Transfer::onFinished()
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    if (redirected(reply))
        return; // (when no meta data came first)
    Download &d = m_download;
    onData(); // anything left in the buffer
    if (m_ended)
        return; // onData failed it
    vouch();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const auto netError = reply->error();
    if (status >= 400) {
        if (status == 416) { // the range is past the end: the part file is not what we think
            restartFromZero(QStringLiteral("the server refused to resume (HTTP 416)"));
            fail(QStringLiteral("the server refused to resume (HTTP 416); starting over"), true);
            return;
        }
        const TransferResult result{TransferResult::Kind::Failed,
                                    QStringLiteral("HTTP %1 %2").arg(status).arg(
                                        reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString()),
                                    RetryPolicy::isTransientStatus(status),
                                    RetryPolicy::retryAfterMs(reply->rawHeader("Retry-After"), QDateTime::currentDateTimeUtc())};
        m_ended = true;
        abortReply();
        end(result);
        return;
    }
    const QString shortBy = d.totalBytes >= 0 && d.downloadedBytes != d.totalBytes
        ? QStringLiteral("the transfer ended after %1 of %2 bytes").arg(d.downloadedBytes).arg(d.totalBytes)
        : QString();
    if (netError != QNetworkReply::NoError) {
        // Transport trouble (a dropped connection, a timeout, a refused connect) is worth
        // another try; a redirect loop or an unsupported scheme is not.
        const bool retryable = RetryPolicy::isTransientNetworkError(netError);
        fail(shortBy.isEmpty() ? reply->errorString() : shortBy + QStringLiteral(": ") + reply->errorString(), retryable);
        return;
    }
    if (!shortBy.isEmpty()) {
        fail(shortBy, true);
        return;
    }
    if (d.totalBytes < 0)
        d.totalBytes = d.downloadedBytes;
    // Every byte is in the part file: its reply has been handled.
    m_reply->disconnect(this);
    m_reply->deleteLater();
    m_reply = nullptr;
    finishWhenHashed();
}

} // namespace Hermes
