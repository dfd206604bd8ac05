#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QTcpServer>

namespace Hermes::Test {

/**
 * A real local HTTP/1.1 file server for download tests: generated content, controllable
 * bandwidth, Range support on or off, connections dropped mid-transfer, redirects, a lying
 * Content-Length, error statuses. It counts what it serves.
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
        QByteArray etag;              ///< sent as ETag; an If-Range that differs gets the whole file
        QByteArray lastModified;      ///< sent as Last-Modified; compared like the ETag
    };

    explicit FileServer(QObject *parent = nullptr);
    /// Sockets still open are closed first: their disconnect handlers touch the counters.
    ~FileServer() override;

    void addFile(const QByteArray &path, const File &file) { m_files.insert(path, file); }
    File &file(const QByteArray &path) { return m_files[path]; }
    QString url(const QByteArray &path) const;
    quint16 port() const { return m_server.serverPort(); }

    int requests(const QByteArray &path) const { return m_requests.value(path); }
    /// Body bytes written for `path`, over all requests.
    qint64 bytesServed(const QByteArray &path) const { return m_served.value(path); }
    QList<QByteArray> rangeHeaders(const QByteArray &path) const { return m_ranges.value(path); }
    QList<QByteArray> ifRangeHeaders(const QByteArray &path) const { return m_ifRanges.value(path); }
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
    QHash<QByteArray, QList<qint64>> m_times;
    QHash<QByteArray, int> m_activePath;
    QHash<QByteArray, int> m_maxActivePath;
    int m_active = 0;
    int m_maxActive = 0;
};

} // namespace Hermes::Test
