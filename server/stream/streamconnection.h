#pragma once

#include "stream/encodedevent.h"

#include <QByteArray>

#include <list>
#include <memory>

namespace Hermes {

/**
 * One open event stream: a socket descriptor, what the client asked for, where it is in the
 * event order, and the bytes the kernel has not taken yet. It exists once per client,
 * thousands of times, so it stays small.
 *
 * The stream owns its descriptor outright (a dup of the one Qt accepted, whose QTcpSocket is
 * then released): a QTcpSocket with its buffers and notifiers costs ≈ 12 KB per stream, this
 * a few hundred bytes. Bytes go out with `::send()` straight from buffers shared by every
 * stream of a share group; what the kernel does not take stays in the shared buffer, which
 * the stream keeps a reference to (with an offset) instead of a copy.
 */
class StreamConnection final
{
public:
    StreamConnection(int fd, const StreamParams &params, qint64 deadlineMs);
    ~StreamConnection();
    StreamConnection(const StreamConnection &) = delete;
    StreamConnection &operator=(const StreamConnection &) = delete;

    int fd() const { return m_fd; }
    const StreamFilter &filter() const { return m_filter; }
    EventStyle style() const { return m_style; }
    /// HTTP/1.1 chunked framing (else the body is close-delimited, for HTTP/1.0).
    bool chunked() const { return m_chunked; }
    const QByteArray &owner() const { return m_owner; }
    /// Streams with equal filter, style and framing share a group (see StreamWorker): one
    /// buffer per group and flush.
    int shareGroup() const { return m_shareGroup; }
    void setShareGroup(int group) { m_shareGroup = group; }
    /// When the server ends the stream (monotonic ms), or 0 for never.
    qint64 deadline() const { return m_deadline; }

    /// Where the stream is: every event at or below this id was sent to it, or is one it does
    /// not want. A stream below the worker's flushed id catches up from the history.
    EventId cursor;
    /// Waiting to resume from `waitFor` (the history is loading, or the id is newer than
    /// anything seen here yet) until `waitDeadline` (monotonic ms; the largest value: until the
    /// history is there); 0: not waiting.
    qint64 waitDeadline = 0;
    QByteArray waitFor;

    /// Bytes waiting for the kernel to take them.
    qsizetype pendingBytes() const { return m_pending.size() - m_offset; }
    bool hasPending() const { return pendingBytes() > 0; }
    /// When the kernel last took bytes of this stream (monotonic ms), for send timeouts.
    qint64 lastProgressMs() const { return m_lastProgress; }

    enum class WriteResult { Ok, Blocked, Failed };
    /// Sends `bytes` behind anything pending; what the kernel does not take is kept (shared,
    /// not copied). Blocked: bytes wait (the caller watches for writability); Failed: the
    /// connection is gone.
    WriteResult write(const QByteArray &bytes, qint64 nowMs);
    /// Sends pending bytes once the socket is writable again: Ok when all are out.
    WriteResult flushPending(qint64 nowMs);

    /// For a batch of sends (BatchSender): makes `bytes` (shared) the pending bytes of a stream
    /// that has none, without sending; complete() then applies what the send did.
    void stage(const QByteArray &bytes, qint64 nowMs);
    const char *pendingData() const { return m_pending.constData() + m_offset; }
    /// Applies a send of the pending bytes that took `result` bytes (or failed with -errno).
    WriteResult complete(long result, qint64 nowMs);

    using List = std::list<std::unique_ptr<StreamConnection>>;
    /// Where the worker keeps it, so an epoll event finds its list entry at once.
    List::iterator position;
    /// Its place in its share group's list of live streams (see StreamWorker), or -1.
    int liveIndex = -1;
    bool isLive() const { return liveIndex >= 0; }
    bool watchingWritable = false;
    bool pumpScheduled = false;
    bool connected = false; ///< its `connected` event went out: it has a place in the order

private:
    WriteResult sendPending(qint64 nowMs);

    int m_fd;
    StreamFilter m_filter;
    EventStyle m_style;
    bool m_chunked;
    int m_shareGroup = -1;
    qint64 m_deadline;
    qint64 m_lastProgress = 0;
    QByteArray m_owner;
    QByteArray m_pending; ///< often a shared group buffer; bytes before m_offset are sent
    qsizetype m_offset = 0;
};

} // namespace Hermes
