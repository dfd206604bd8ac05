#include "respclient.h"

#include <QDeadlineTimer>

namespace Hermes::Test {

bool RespClient::isError(const QVariant &reply)
{
    return reply.userType() == qMetaTypeId<Error>();
}

bool RespClient::connectTo(quint16 port, int timeoutMs)
{
    m_socket.abort();
    m_buffer.clear();
    m_socket.connectToHost(QHostAddress::LocalHost, port);
    return m_socket.waitForConnected(timeoutMs);
}

QVariant RespClient::command(const QList<QByteArray> &args, int timeoutMs)
{
    if (!isConnected())
        return QVariant::fromValue(Error{"not connected"});
    QByteArray request = '*' + QByteArray::number(args.size()) + "\r\n";
    for (const QByteArray &a : args)
        request += '$' + QByteArray::number(a.size()) + "\r\n" + a + "\r\n";
    m_socket.write(request);
    QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        qsizetype pos = 0;
        QVariant reply;
        if (parse(&pos, &reply)) {
            m_buffer.remove(0, pos);
            return reply;
        }
        if (deadline.hasExpired() || m_socket.state() != QAbstractSocket::ConnectedState
            || !m_socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())))) {
            m_socket.abort();
            m_buffer.clear();
            return QVariant::fromValue(Error{"no reply (connection lost or timeout)"});
        }
        m_buffer += m_socket.readAll();
    }
}

bool RespClient::parse(qsizetype *pos, QVariant *out, int depth)
{
    if (depth > 16)
        return false;
    const qsizetype eol = m_buffer.indexOf("\r\n", *pos);
    if (eol < 0 || eol == *pos)
        return false;
    const char kind = m_buffer[*pos];
    const QByteArray line = m_buffer.mid(*pos + 1, eol - *pos - 1);
    qsizetype next = eol + 2;
    switch (kind) {
    case '+':
        *out = line;
        break;
    case '-':
        *out = QVariant::fromValue(Error{line});
        break;
    case ':':
        *out = line.toLongLong();
        break;
    case '$': {
        const qint64 n = line.toLongLong();
        if (n < 0) {
            *out = QVariant();
            break;
        }
        if (m_buffer.size() < next + n + 2)
            return false;
        *out = m_buffer.mid(next, n);
        next += n + 2;
        break;
    }
    case '*': {
        const qint64 n = line.toLongLong();
        if (n < 0) {
            *out = QVariant();
            break;
        }
        QVariantList items;
        for (qint64 i = 0; i < n; ++i) {
            QVariant item;
            if (!parse(&next, &item, depth + 1))
                return false;
            items.append(item);
        }
        *out = items;
        break;
    }
    default:
        *out = QVariant::fromValue(Error{"unparsable reply"});
        break;
    }
    *pos = next;
    return true;
}

} // namespace Hermes::Test
