#pragma once

#include "stream/encodedevent.h"

#include <QByteArray>

#include <list>
#include <memory>

namespace Hermes {

/**
 * One open event stream: a socket descriptor, what the client asked for, and the bytes the
 * kernel has not taken yet. Nothing else: it exists once per client, thousands of times.
 *
 * The stream owns its descriptor outright (a dup of the one Qt accepted, whose QTcpSocket is
 * then released): a QTcpSocket with its read and write buffers and notifiers costs ≈ 12 KB per
 * stream, this ≈ 200 bytes. Bytes go out with `::send()` straight from the buffer shared by
 * every stream; only what the kernel does not take is copied, into `pending`.
 */
class StreamConnection final
{
public:
    StreamConnection(int fd, StreamFilter filter, EventStyle style, EventId skipUpTo,
                     qint64 deadlineMs);
    ~StreamConnection();
    StreamConnection(const StreamConnection &) = delete;
    StreamConnection &operator=(const StreamConnection &) = delete;

    int fd() const { return m_fd; }
    const StreamFilter &filter() const { return m_filter; }
    /// Streams with equal filter and style share a group (see StreamWorker): one buffer per
    /// group and flush.
    int shareGroup() const { return m_shareGroup; }
    void setShareGroup(int group) { m_shareGroup = group; }
    EventStyle style() const { return m_style; }
    /// Events at or below this id were already sent (replay) or seen by the client elsewhere.
    EventId skipUpTo() const { return m_skipUpTo; }
    /// When the server ends the stream (ms since the epoch), or 0 for never.
    qint64 deadline() const { return m_deadline; }
    /// Bytes waiting for the kernel to take them.
    qsizetype pendingBytes() const { return m_pending.size(); }

    enum class WriteResult { Ok, Blocked, Overflow, Failed };
    /// Queues `bytes` behind anything pending and sends what the kernel takes. Blocked: some
    /// bytes wait (the caller watches for writability); Overflow: more than `maxPending` wait
    /// for a client that does not read; Failed: the connection is gone.
    WriteResult write(const QByteArray &bytes, qint64 maxPending);
    /// Sends pending bytes once the socket is writable again: Ok when all are out.
    WriteResult flushPending();

    using List = std::list<std::unique_ptr<StreamConnection>>;
    /// Where the worker keeps it, so an epoll event finds its list entry at once.
    List::iterator position;
    bool watchingWritable = false;
    QByteArray owner; ///< see StreamParams::owner

private:
    int m_fd;
    StreamFilter m_filter;
    int m_shareGroup = -1;
    EventStyle m_style;
    EventId m_skipUpTo;
    qint64 m_deadline;
    QByteArray m_pending;
};

} // namespace Hermes
