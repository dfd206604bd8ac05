#include "rawclient.h"

#include <QDeadlineTimer>

namespace Hermes::Test {

bool RawClient::connect(quint16 port, const QHostAddress &from, int timeoutMs)
{
    if (!from.isNull() && !m_socket.bind(from, 0))
        return false;
    m_socket.connectToHost(QHostAddress::LocalHost, port);
    return m_socket.waitForConnected(timeoutMs);
}

bool RawClient::send(const QByteArray &bytes)
{
    if (!isOpen())
        return false;
    m_socket.write(bytes);
    QDeadlineTimer deadline(5000);
    while (m_socket.bytesToWrite() > 0 && isOpen() && !deadline.hasExpired())
        m_socket.waitForBytesWritten(int(qMax<qint64>(1, deadline.remainingTime())));
    return isOpen();
}

HttpReply RawClient::readResponse(int timeoutMs, bool head)
{
    HttpReply reply;
    QDeadlineTimer deadline(timeoutMs);
    qsizetype headerEnd = -1;
    qint64 length = -1;
    while (true) {
        if (headerEnd < 0) {
            const qsizetype pos = m_buffer.indexOf("\r\n\r\n");
            if (pos >= 0) {
                headerEnd = pos + 4;
                reply.headers.clear();
                reply.status = parseResponseHead(QByteArrayView(m_buffer).first(pos), &reply.headers);
                const QByteArray cl = reply.header("content-length");
                length = head || reply.status == 204 || reply.status == 304 || reply.status < 200 ? 0
                    : cl.isEmpty() ? -1 : cl.toLongLong();
            }
        }
        if (headerEnd >= 0 && length >= 0 && m_buffer.size() - headerEnd >= length) {
            reply.body = m_buffer.mid(headerEnd, length);
            m_buffer.remove(0, headerEnd + length);
            return reply;
        }
        if (deadline.hasExpired() || m_socket.state() != QAbstractSocket::ConnectedState) {
            m_buffer += m_socket.readAll();
            break;
        }
        m_socket.waitForReadyRead(int(qMax<qint64>(1, qMin<qint64>(100, deadline.remainingTime()))));
        m_buffer += m_socket.readAll();
    }
    if (headerEnd < 0) {
        reply.status = 0;
        return reply;
    }
    // No length: the body runs to the close (or to the deadline, for a stream).
    reply.body = m_buffer.mid(headerEnd);
    m_buffer.clear();
    return reply;
}

bool RawClient::waitClosed(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (m_socket.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
        m_socket.waitForReadyRead(int(qMax<qint64>(1, qMin<qint64>(100, deadline.remainingTime()))));
        m_buffer += m_socket.readAll();
    }
    m_buffer += m_socket.readAll();
    return m_socket.state() != QAbstractSocket::ConnectedState;
}

} // namespace Hermes::Test
