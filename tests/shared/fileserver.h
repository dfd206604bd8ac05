#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QRandomGenerator>
#include <QHostAddress>
#include <QTcpServer>

namespace Hermes::Test {

/**
 * A real local HTTP/1.1 file server for download tests: generated content, controllable
 * bandwidth, Range support on or off, connections dropped mid-transfer, redirects, a lying
 * Content-Length, error statuses. It counts what it serves.
 *
 * For fault tests it also replaces a file by a new version at any time (a response already
 * under way goes on with the bytes it started with, as a server sending an unlinked file
 * does), drops a share of the transfers at random offsets, answers the next N requests with an
 * error (e.g. 503 or 429 with Retry-After), and logs every response with the version it served,
 * and every request's header fields (requestHeaders: what a client sent, Authorization too).
 * A change of `bytesPerSecond` applies to the transfers under way too (a trickle that ends).
 *
 * It lives on the thread that created it and must be used from that thread only.
 */
class FileServer final : public QObject
{
    Q_OBJECT
public:
    struct File
    {
        File(QByteArray bytes = {}) : content(std::move(bytes)) {}
        QByteArray content;
        bool ranges = true;           ///< honour Range with 206
        qint64 bytesPerSecond = 0;    ///< 0: as fast as possible
        int dropTimes = 0;            ///< the first N transfers close after `dropAfter` bytes
        qint64 dropAfter = 0;
        qint64 declaredLength = -1;   ///< a Content-Length other than the content's (then close)
        int status = 200;             ///< e.g. 404, 500
        QByteArray redirectTo;        ///< a path: answer 302 to it
        QByteArray contentDisposition;
        QByteArray setCookie;         ///< sent as Set-Cookie
        QByteArray etag;              ///< sent as ETag; an If-Range that differs gets the whole file
        QByteArray lastModified;      ///< sent as Last-Modified; compared like the ETag
        int version = 0;              ///< a label for the served log; replaceContent() bumps it
        int dropPercent = 0;          ///< this share of the transfers closes at a random offset
        int failNext = 0;             ///< the next N requests get `failStatus` …
        int failStatus = 503;
        int retryAfter = -1;          ///< … with `Retry-After: <s>` when >= 0
        QByteArray basicAuth;         ///< "user:password": a request without them gets 401 and a Basic challenge
    };
    /// One answer, as sent.
    struct Served
    {
        qint64 atMs = 0;     ///< when the request arrived (ms since the epoch)
        QByteArray path;
        int version = 0;
        int status = 0;
        qint64 start = 0;    ///< the first body byte's offset in the file
        qint64 length = 0;   ///< body bytes it meant to send (before a drop)
        qint64 dropAt = -1;  ///< the body was cut after this many bytes; -1: not cut on purpose
    };

    /// Listens on `address` (another loopback address, 127.0.0.2, is another host to a client),
    /// on `port` (0: any free one; another server's on another address: one URL, two origins).
    explicit FileServer(QObject *parent = nullptr, const QHostAddress &address = QHostAddress::LocalHost,
                        quint16 port = 0);
    /// Sockets still open are closed first: their disconnect handlers touch the counters.
    ~FileServer() override;

    void addFile(const QByteArray &path, const File &file) { m_files.insert(path, file); }
    File &file(const QByteArray &path) { return m_files[path]; }
    /// A new version of `path` from now on: new bytes and validators, `version` + 1. Transfers
    /// under way finish with the old bytes.
    void replaceContent(const QByteArray &path, const QByteArray &bytes, const QByteArray &etag,
                        const QByteArray &lastModified);
    /// Seeds the draws of dropPercent (the offsets and which transfers).
    void setSeed(quint32 seed) { m_rng.seed(seed); }
    /// Every answer so far, in order.
    const QList<Served> &served() const { return m_answers; }
    /// Paths with a body under way now.
    QList<QByteArray> activePaths() const;
    QString url(const QByteArray &path) const;
    quint16 port() const { return m_server.serverPort(); }

    int requests(const QByteArray &path) const { return m_requests.value(path); }
    /// Body bytes written for `path`, over all requests.
    qint64 bytesServed(const QByteArray &path) const { return m_served.value(path); }
    QList<QByteArray> rangeHeaders(const QByteArray &path) const { return m_ranges.value(path); }
    QList<QByteArray> ifRangeHeaders(const QByteArray &path) const { return m_ifRanges.value(path); }
    /// The header fields of each request for `path`, names in lower case (e.g. "authorization").
    QList<QHash<QByteArray, QByteArray>> requestHeaders(const QByteArray &path) const { return m_headers.value(path); }
    /// When each request for `path` arrived (ms since the epoch).
    QList<qint64> requestTimes(const QByteArray &path) const { return m_times.value(path); }
    /// Transfers of `path` running at once, at most, so far: 1 means never two copies.
    int maxActiveTransfers(const QByteArray &path) const { return m_maxActivePath.value(path); }
    int activeTransfers(const QByteArray &path) const { return m_activePath.value(path); }
    /// Requests currently being answered (bodies still flowing).
    int activeTransfers() const { return m_active; }
    int maxActiveTransfers() const { return m_maxActive; }

    /// Deterministic pseudo-random content.
    static QByteArray makeContent(qint64 size, quint32 seed = 1);

private:
    void onNewConnection();

    QTcpServer m_server;
    QHash<QByteArray, File> m_files;
    QHash<QByteArray, int> m_requests;
    QHash<QByteArray, qint64> m_served;
    QHash<QByteArray, QList<QByteArray>> m_ranges;
    QHash<QByteArray, QList<QByteArray>> m_ifRanges;
    QHash<QByteArray, QList<QHash<QByteArray, QByteArray>>> m_headers;
    QHash<QByteArray, QList<qint64>> m_times;
    QHash<QByteArray, int> m_activePath;
    QHash<QByteArray, int> m_maxActivePath;
    QList<Served> m_answers;
    QRandomGenerator m_rng{1};
    int m_active = 0;
    int m_maxActive = 0;
};

} // namespace Hermes::Test
