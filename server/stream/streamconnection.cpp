#include "stream/streamconnection.h"

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

namespace Hermes {

StreamConnection::StreamConnection(int fd, StreamFilter filter, EventStyle style,
                                   EventId skipUpTo, qint64 deadlineMs)
    : m_fd(fd), m_filter(std::move(filter)), m_style(style), m_skipUpTo(skipUpTo),
      m_deadline(deadlineMs)
{
}

StreamConnection::~StreamConnection()
{
    ::close(m_fd);
}

// Sends as much of `data` as the kernel takes now; -1 when the connection is gone.
static qsizetype sendSome(int fd, const char *data, qsizetype size)
{
    for (;;) {
        const ssize_t n = ::send(fd, data, size_t(size), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0)
            return qsizetype(n);
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
}

StreamConnection::WriteResult StreamConnection::write(const QByteArray &bytes, qint64 maxPending)
{
    if (!m_pending.isEmpty()) {
        // Behind bytes the kernel has not taken: keep the order, send when writable.
        m_pending += bytes;
        return m_pending.size() > maxPending ? WriteResult::Overflow : WriteResult::Blocked;
    }
    const qsizetype sent = sendSome(m_fd, bytes.constData(), bytes.size());
    if (sent < 0)
        return WriteResult::Failed;
    if (sent == bytes.size())
        return WriteResult::Ok;
    m_pending = bytes.sliced(sent);
    return m_pending.size() > maxPending ? WriteResult::Overflow : WriteResult::Blocked;
}

StreamConnection::WriteResult StreamConnection::flushPending()
{
    const qsizetype sent = sendSome(m_fd, m_pending.constData(), m_pending.size());
    if (sent < 0)
        return WriteResult::Failed;
    m_pending.remove(0, sent);
    if (m_pending.isEmpty()) {
        m_pending = QByteArray(); // give the memory back, not just the size
        return WriteResult::Ok;
    }
    return WriteResult::Blocked;
}

} // namespace Hermes
