#pragma once

#include "testutil.h"

#include <QByteArray>
#include <QHostAddress>
#include <QTcpSocket>

namespace Hermes::Test {

/**
 * One raw TCP connection for front-door tests: sends exactly the bytes given (malformed ones
 * too), reads responses one at a time, tells when the server closed. Every wait is bounded.
 */
class RawClient
{
public:
    /// Connects to 127.0.0.1:`port`, from `from` (another loopback address) when given.
    bool connect(quint16 port, const QHostAddress &from = {}, int timeoutMs = 5000);
    /// False when the server already closed the connection.
    bool send(const QByteArray &bytes);
    /// The next response: its head, and its body by Content-Length, else (no length: a stream
    /// or a close-delimited body) whatever arrives until `timeoutMs` or the close. Status 0 when
    /// no complete head arrived in time. `head`: the answer to a HEAD request (no body).
    HttpReply readResponse(int timeoutMs = 5000, bool head = false);
    /// Bytes received and not yet consumed by readResponse().
    QByteArray &buffer() { return m_buffer; }
    /// Reads (and keeps) until the server closes; true when it did within `timeoutMs`.
    bool waitClosed(int timeoutMs);
    bool isOpen() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    QTcpSocket &socket() { return m_socket; }

private:
    QTcpSocket m_socket;
    QByteArray m_buffer;
};

} // namespace Hermes::Test
