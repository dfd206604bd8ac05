#pragma once

#include <QByteArray>
#include <QList>
#include <QTcpSocket>
#include <QVariant>

namespace Hermes::Test {

/**
 * A minimal blocking Redis client for tests: RESP2 commands with a bounded wait, so a test can
 * PUBLISH byte-exact payloads as an outside publisher would and read streams (XRANGE) without
 * parsing redis-cli's text output.
 *
 * Replies become QVariants: QByteArray (simple and bulk strings), qint64 (integers),
 * QVariantList (arrays), an invalid QVariant for nil, and RespClient::Error for errors.
 */
class RespClient final
{
public:
    struct Error
    {
        QByteArray message;
    };

    /// Connects (or reconnects) to 127.0.0.1:port; false when that fails within `timeoutMs`.
    bool connectTo(quint16 port, int timeoutMs = 2000);
    bool isConnected() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    void close() { m_socket.abort(); }

    /// Sends one command and waits for its reply. On a lost connection or a timeout it returns
    /// an Error and closes the connection (a later reply could not be matched to its command).
    QVariant command(const QList<QByteArray> &args, int timeoutMs = 2000);

    static bool isError(const QVariant &reply);

private:
    /// Parses one reply at `pos` of m_buffer; false when it is not complete yet.
    bool parse(qsizetype *pos, QVariant *out, int depth = 0);

    QTcpSocket m_socket;
    QByteArray m_buffer;
};

} // namespace Hermes::Test

Q_DECLARE_METATYPE(Hermes::Test::RespClient::Error)
