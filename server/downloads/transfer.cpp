#include "downloads/transfer.h"

#include "downloads/filenames.h"
#include "logging.h"
#include "threadaffinity.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>

#include <sys/stat.h>

namespace Hermes {

Transfer::Transfer(const Download &download, const DownloadDir &dir, const Limits &limits,
                   QNetworkAccessManager *network, QObject *parent)
    : QObject(parent), m_download(download), m_dir(dir), m_limits(limits), m_network(network),
      m_clock([] { return QDateTime::currentMSecsSinceEpoch(); })
{
    m_file.setFileName(m_dir.partPath(m_download.id));
}

Transfer::~Transfer()
{
    m_ended = true;
    abortReply();
    m_file.close();
}

double Transfer::speed()
{
    HERMES_ASSERT_THREAD(this);
    return m_rate.bytesPerSecond(m_clock());
}

QString Transfer::writeError() const
{
    return QStringLiteral("cannot write %1: %2").arg(m_file.fileName(), m_file.errorString());
}

void Transfer::start()
{
    HERMES_ASSERT_THREAD(this);
    Download &d = m_download;
    if (!QDir().mkpath(m_dir.path()) || !m_file.open(QIODevice::ReadWrite)) {
        end({TransferResult::Kind::Failed, writeError(), false});
        return;
    }
    m_offset = m_file.size();
    m_file.seek(m_offset);
    if (m_offset == 0 && d.downloadedBytes > 0) {
        d.note = QStringLiteral("the part file was not found in %1 on this node (is the download dir "
                                "shared between the nodes?); restarted from zero").arg(m_dir.path());
        qCInfo(lcHub).noquote() << "download" << d.id << ":" << d.note;
        d.etag.clear();
        d.lastModified.clear();
    }
    d.downloadedBytes = m_offset;
    qCInfo(lcHub).noquote() << "download" << d.id << ": running here from byte" << m_offset;
    emit started();
    if (m_ended)
        return; // stopped by whoever heard it
    if (d.totalBytes > 0 && m_offset == d.totalBytes) {
        // Everything had arrived before: only verifying was left.
        m_file.close();
        end({TransferResult::Kind::Finished, {}, false});
        return;
    }

    QNetworkRequest request{QUrl(d.url)};
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
    request.setMaximumRedirectsAllowed(m_limits.maxRedirects);
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

void Transfer::stop(bool deletePart)
{
    HERMES_ASSERT_THREAD(this);
    if (m_ended)
        return;
    m_ended = true;
    abortReply();
    if (deletePart && sameFile(m_file, m_file.fileName()))
        QFile::remove(m_file.fileName());
    m_file.close();
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
    emit ended(result);
}

void Transfer::fail(const QString &message, bool retryable)
{
    m_ended = true;
    abortReply();
    m_file.close();
    end({TransferResult::Kind::Failed, message, retryable});
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

void Transfer::onMetaData()
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    Download &d = m_download;
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status < 200 || status >= 300)
        return; // a redirect (followed) or an error (reported when finished)
    const qint64 length = reply->header(QNetworkRequest::ContentLengthHeader).toLongLong();
    const bool hasLength = reply->header(QNetworkRequest::ContentLengthHeader).isValid();
    const QString etag = QString::fromLatin1(reply->rawHeader("ETag"));
    const QString lastModified = QString::fromLatin1(reply->rawHeader("Last-Modified"));
    if (m_offset > 0) {
        qint64 total = -1;
        const qint64 start = status == 206 ? contentRangeStart(reply->rawHeader("Content-Range"), &total) : -1;
        if (start != m_offset) {
            // The server sent the whole file: it ignores Range, or (If-Range) the file changed.
            const bool changed = m_sentIfRange && (etag != d.etag || lastModified != d.lastModified);
            m_file.resize(0);
            m_file.seek(0);
            m_offset = 0;
            d.downloadedBytes = 0;
            d.note = changed
                ? QStringLiteral("the file changed on the server since the part was written (If-Range); restarted from zero")
                : QStringLiteral("the server does not support resuming (HTTP Range); restarted from zero");
            qCInfo(lcHub).noquote() << "download" << d.id << ":" << d.note;
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
        QString name = FileNames::sanitize(FileNames::fromContentDisposition(reply->rawHeader("Content-Disposition")));
        if (name.isEmpty())
            name = FileNames::sanitize(FileNames::fromUrl(reply->url())); // after redirects
        if (!name.isEmpty())
            d.filename = name;
    }
}

void Transfer::onData()
{
    if (!m_reply)
        return;
    Download &d = m_download;
    const QByteArray bytes = m_reply->readAll();
    const int status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status < 200 || status >= 300 || bytes.isEmpty())
        return; // an error page is not the file
    if (m_file.write(bytes) != bytes.size()) {
        fail(writeError(), false);
        return;
    }
    d.downloadedBytes += bytes.size();
    emit received(bytes.size());
    const qint64 now = m_clock();
    m_rate.add(now, bytes.size());
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
    m_file.flush(); // what the database says has arrived is in the file, for a takeover
    emit progressed();
}

void Transfer::onFinished()
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    Download &d = m_download;
    onData(); // anything left in the buffer
    if (m_ended)
        return; // onData failed it
    m_file.flush();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const auto netError = reply->error();
    if (status >= 400) {
        if (status == 416) { // the range is past the end: the part file is not what we think
            m_file.resize(0);
            fail(QStringLiteral("the server refused to resume (HTTP 416); starting over"), true);
            return;
        }
        fail(QStringLiteral("HTTP %1 %2").arg(status).arg(
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
    m_file.close();
    m_ended = true;
    m_reply->disconnect(this);
    m_reply->deleteLater();
    m_reply = nullptr;
    end({TransferResult::Kind::Finished, {}, false});
}

} // namespace Hermes
