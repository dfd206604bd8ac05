#include "stream/streamconnection.h"

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

namespace Hermes {

StreamConnection::StreamConnection(int fd, const StreamParams &params, qint64 deadlineMs)
    : m_fd(fd), m_filter(params.filter), m_style(params.style), m_chunked(params.chunked),
      m_deadline(deadlineMs), m_owner(params.owner)
{
}

StreamConnection::~StreamConnection()
{
    // Nothing the client sent on the stream was read (StreamSocketSet): drop it without
    // copying (MSG_TRUNC), so that the close is a FIN, not a reset that could destroy the
    // stream's last bytes on their way to the client.
    ::recv(m_fd, nullptr, 1 << 20, MSG_DONTWAIT | MSG_TRUNC);
    ::close(m_fd);
}

// Sends as much of `data` as the kernel takes now: the count, or -errno.
static long sendSome(int fd, const char *data, qsizetype size)
{
    for (;;) {
        const ssize_t n = ::send(fd, data, size_t(size), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0)
            return long(n);
        if (errno != EINTR)
            return -long(errno);
    }
}

StreamConnection::WriteResult StreamConnection::write(const QByteArray &bytes, qint64 nowMs)
{
    if (bytes.isEmpty())
        return hasPending() ? WriteResult::Blocked : WriteResult::Ok;
    if (hasPending()) {
        // Behind bytes the kernel has not taken (rare: control frames such as the end of a
        // stream). Keep the order; this copy is owned by the stream.
        m_pending = m_pending.sliced(m_offset) + bytes;
        m_offset = 0;
        return sendPending(nowMs);
    }
    m_pending = bytes; // shared, not copied
    m_offset = 0;
    m_lastProgress = nowMs; // the send timeout counts from the first byte that has to wait

    return sendPending(nowMs);
}

StreamConnection::WriteResult StreamConnection::flushPending(qint64 nowMs)
{
    if (!hasPending())
        return WriteResult::Ok;
    return sendPending(nowMs);
}

void StreamConnection::stage(const QByteArray &bytes, qint64 nowMs)
{
    Q_ASSERT(!hasPending());
    m_pending = bytes; // shared, not copied
    m_offset = 0;
    m_lastProgress = nowMs;
}

StreamConnection::WriteResult StreamConnection::sendPending(qint64 nowMs)
{
    return complete(sendSome(m_fd, m_pending.constData() + m_offset, pendingBytes()), nowMs);
}

StreamConnection::WriteResult StreamConnection::complete(long result, qint64 nowMs)
{
    if (result < 0) {
        // A full socket (or an interrupted send) took nothing; anything else: it is gone.
        return result == -EAGAIN || result == -EWOULDBLOCK || result == -EINTR
            ? WriteResult::Blocked
            : WriteResult::Failed;
    }
    if (result > 0)
        m_lastProgress = nowMs;
    m_offset += qsizetype(result);
    if (m_offset < m_pending.size())
        return WriteResult::Blocked;
    m_pending = QByteArray(); // drop the reference to the shared buffer
    m_offset = 0;
    return WriteResult::Ok;
}

} // namespace Hermes
