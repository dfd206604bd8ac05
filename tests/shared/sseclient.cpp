#include "sseclient.h"

#include "testutil.h"

namespace Hermes::Test {

SseClient::SseClient(QObject *parent) : QObject(parent)
{
    m_parser.setEventHandler([this](const SseParser::Event &event) {
        m_events.append(event);
        Q_EMIT eventReceived();
    });
    m_parser.setRetryHandler([this](int ms) { m_retries.append(ms); });
    connect(&m_socket, &QTcpSocket::connected, this, [this] { m_socket.write(m_request); });
    connect(&m_socket, &QTcpSocket::readyRead, this, &SseClient::onReadyRead);
    connect(&m_socket, &QTcpSocket::disconnected, this, [this] {
        if (m_socket.bytesAvailable() > 0)
            onReadyRead();
        m_parser.finish();
        markClosed();
    });
    connect(&m_socket, &QTcpSocket::errorOccurred, this, [this] {
        if (m_socket.state() != QAbstractSocket::ConnectedState)
            markClosed();
    });
}

void SseClient::open(quint16 port, const QByteArray &path,
                     const QList<QPair<QByteArray, QByteArray>> &headers)
{
    m_request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
    for (const auto &h : headers)
        m_request += h.first + ": " + h.second + "\r\n";
    m_request += "\r\n";
    m_socket.connectToHost(QHostAddress::LocalHost, port);
}

void SseClient::close()
{
    m_socket.abort();
    markClosed();
}

void SseClient::markClosed()
{
    if (m_closed)
        return;
    m_closed = true;
    Q_EMIT closed();
}

void SseClient::stopReading()
{
    // A tiny read buffer and no reads: Qt stops draining the kernel, the window fills up.
    disconnect(&m_socket, &QTcpSocket::readyRead, this, &SseClient::onReadyRead);
    m_socket.setReadBufferSize(1);
}

QByteArray SseClient::header(QByteArrayView name) const
{
    const QByteArray lower = name.toByteArray().toLower();
    for (const auto &h : m_headers) {
        if (h.first == lower)
            return h.second;
    }
    return {};
}

QList<SseParser::Event> SseClient::nonHeartbeatEvents() const
{
    QList<SseParser::Event> out;
    for (const auto &e : m_events) {
        if (e.type != QLatin1StringView("heartbeat"))
            out.append(e);
    }
    return out;
}

void SseClient::onReadyRead()
{
    QByteArray bytes = m_socket.readAll();
    if (!m_headersDone) {
        m_buffer += bytes;
        const qsizetype end = m_buffer.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        m_status = parseResponseHead(QByteArrayView(m_buffer).first(end), &m_headers);
        m_chunked = header("transfer-encoding").toLower().contains("chunked");
        m_headersDone = true;
        bytes = m_buffer.mid(end + 4);
        m_buffer.clear();
        Q_EMIT headersReceived();
        if (m_closed)
            return; // closed by a slot
    }
    consumeBody(bytes);
}

void SseClient::consumeBody(QByteArray bytes)
{
    if (!m_chunked) {
        m_body += bytes;
        m_parser.feed(bytes);
        return;
    }
    // m_chunkLeft: -1 = expecting a size line, > 0 = data bytes left, 0 = expecting the CRLF
    // after a chunk's data.
    m_buffer += bytes;
    for (;;) {
        if (m_chunkLeft < 0) {
            const qsizetype eol = m_buffer.indexOf("\r\n");
            if (eol < 0)
                return;
            bool ok = false;
            const qint64 size = m_buffer.left(eol).split(';').value(0).trimmed().toLongLong(&ok, 16);
            m_buffer.remove(0, eol + 2);
            if (!ok || size == 0) { // the last chunk: the body is complete
                m_buffer.clear();
                m_chunkLeft = -2;
                return;
            }
            m_chunkLeft = size;
        } else if (m_chunkLeft > 0) {
            if (m_buffer.isEmpty())
                return;
            const qsizetype take = qMin<qsizetype>(m_buffer.size(), m_chunkLeft);
            const QByteArray part = m_buffer.left(take);
            m_buffer.remove(0, take);
            m_chunkLeft -= take;
            m_body += part;
            m_parser.feed(part);
        } else if (m_chunkLeft == 0) {
            if (m_buffer.size() < 2)
                return;
            m_buffer.remove(0, 2);
            m_chunkLeft = -1;
        } else {
            return; // after the last chunk
        }
    }
}

} // namespace Hermes::Test
