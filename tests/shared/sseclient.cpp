#include "sseclient.h"

#include "testutil.h"

namespace Hermes::Test {

SseClient::SseClient(QObject *parent) : QObject(parent)
{
    m_parser.setEventHandler([this](const SseParser::Event &event) {
        if (m_recording)
            m_events.append(event);
        Q_EMIT eventReceived();
        Q_EMIT eventDispatched(event);
    });
    m_parser.setRetryHandler([this](int ms) { m_retries.append(ms); });
    connect(&m_socket, &QTcpSocket::connected, this, [this] { m_socket.write(m_request); });
    connect(&m_socket, &QTcpSocket::readyRead, this, &SseClient::onReadyRead);
    connect(&m_socket, &QTcpSocket::disconnected, this, [this] {
        m_throttle.stop();
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

SseClient::~SseClient()
{
    m_socket.disconnect(this);
    m_throttle.stop();
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
    m_throttle.stop();
    m_socket.setReadBufferSize(1);
}

void SseClient::resumeReading()
{
    m_throttle.stop();
    disconnect(&m_socket, &QTcpSocket::readyRead, this, &SseClient::onReadyRead);
    connect(&m_socket, &QTcpSocket::readyRead, this, &SseClient::onReadyRead);
    m_socket.setReadBufferSize(0);
    onReadyRead();
}

void SseClient::throttle(qint64 bytesPerSecond)
{
    const qint64 perTick = qMax<qint64>(1, bytesPerSecond / 100);
    disconnect(&m_socket, &QTcpSocket::readyRead, this, &SseClient::onReadyRead);
    m_socket.setReadBufferSize(perTick);
    m_throttle.disconnect();
    connect(&m_throttle, &QTimer::timeout, this, [this, perTick] {
        if (m_socket.bytesAvailable() > 0)
            handleBytes(m_socket.read(perTick));
    });
    m_throttle.start(10);
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
    handleBytes(m_socket.readAll());
}

void SseClient::handleBytes(QByteArray bytes)
{
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
        if (m_recording)
            m_body += bytes;
        m_parser.feed(bytes);
        return;
    }
    // m_chunkLeft: -1 = expecting a size line, > 0 = data bytes left, 0 = expecting the CRLF
    // after a chunk's data. `pos` walks the buffer; it is compacted once at the end, not per
    // chunk (megabytes arrive at once after a pause).
    m_buffer += bytes;
    qsizetype pos = 0;
    for (;;) {
        if (m_chunkLeft < 0 && m_chunkLeft != -2) {
            const qsizetype eol = m_buffer.indexOf("\r\n", pos);
            if (eol < 0)
                break;
            bool ok = false;
            const qint64 size = m_buffer.mid(pos, eol - pos).split(';').value(0).trimmed().toLongLong(&ok, 16);
            pos = eol + 2;
            if (!ok || size == 0) { // the last chunk: the body is complete
                pos = m_buffer.size();
                m_chunkLeft = -2;
                break;
            }
            m_chunkLeft = size;
        } else if (m_chunkLeft > 0) {
            if (pos >= m_buffer.size())
                break;
            const qsizetype take = qMin<qsizetype>(m_buffer.size() - pos, m_chunkLeft);
            const QByteArray part = m_buffer.mid(pos, take);
            pos += take;
            m_chunkLeft -= take;
            if (m_recording)
                m_body += part;
            m_parser.feed(part);
        } else if (m_chunkLeft == 0) {
            if (m_buffer.size() - pos < 2)
                break;
            pos += 2;
            m_chunkLeft = -1;
        } else {
            pos = m_buffer.size(); // after the last chunk
            break;
        }
    }
    m_buffer.remove(0, pos);
}

} // namespace Hermes::Test
