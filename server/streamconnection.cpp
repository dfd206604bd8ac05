#include "streamconnection.h"

#include <QTcpSocket>

#include <cerrno>
#include <sys/socket.h>

namespace Hermes {

StreamConnection::StreamConnection(QTcpSocket *socket, StreamFilter filter, EventStyle style,
                                   EventId skipUpTo, qint64 deadlineMs)
    : m_socket(socket), m_filter(std::move(filter)), m_style(style), m_skipUpTo(skipUpTo),
      m_deadline(deadlineMs)
{
}

StreamConnection::WriteResult StreamConnection::write(const QByteArray &bytes,
                                                      qint64 maxBuffered)
{
    if (m_socket->state() != QAbstractSocket::ConnectedState)
        return WriteResult::Failed;
    qsizetype sent = 0;
    // Only while Qt holds nothing for this socket: otherwise our bytes would overtake its own.
    if (m_socket->bytesToWrite() == 0) {
        const int fd = int(m_socket->socketDescriptor());
        for (;;) {
            const ssize_t n = ::send(fd, bytes.constData(), size_t(bytes.size()),
                                     MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n >= 0) {
                sent = n;
                break;
            }
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return WriteResult::Failed;
        }
        if (sent == bytes.size())
            return WriteResult::Ok;
    }
    m_socket->write(bytes.constData() + sent, bytes.size() - sent);
    return m_socket->bytesToWrite() > maxBuffered ? WriteResult::Overflow : WriteResult::Ok;
}

} // namespace Hermes
