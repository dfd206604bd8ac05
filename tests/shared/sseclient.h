#pragma once

#include "sseparser.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QTcpSocket>
#include <QTimer>

namespace Hermes::Test {

/**
 * A bare SSE client on a raw QTcpSocket for tests: sends one GET, records the status line,
 * headers and every event the hermes-core parser dispatches. Chunked bodies are de-chunked.
 * It never reconnects: reconnect behaviour belongs to the client under test, not the fixture.
 */
class SseClient : public QObject
{
    Q_OBJECT
public:
    explicit SseClient(QObject *parent = nullptr);
    /// Quiet: the socket, destroyed after the parser and the buffers, aborts a live connection
    /// and emits disconnected, whose handler would use them (and emit closed()) half-destroyed.
    ~SseClient() override;

    void open(quint16 port, const QByteArray &path,
              const QList<QPair<QByteArray, QByteArray>> &headers = {});
    void close();
    /// Stops reading from the socket (a slow client): the kernel buffers fill up.
    void stopReading();
    /// Reads again at full speed after stopReading() or throttle().
    void resumeReading();
    /// Reads at most `bytesPerSecond` (in 10 ms steps): a steady but slow reader.
    void throttle(qint64 bytesPerSecond);
    /// Seeds the parser's last event ID buffer before open(): as in WHATWG's EventSource it
    /// outlives a reconnection, so events without an `id:` field report the resumed id.
    void setLastEventId(const QString &id) { m_parser.setLastEventId(id); }
    /// Off: events() and rawBody() stay empty (a long-lived client that handles each event
    /// from eventDispatched() needs no copy of everything).
    void setRecording(bool on) { m_recording = on; }

    int status() const { return m_status; }
    QByteArray header(QByteArrayView name) const;
    const QList<SseParser::Event> &events() const { return m_events; }
    QList<int> retries() const { return m_retries; }
    QByteArray rawBody() const { return m_body; }
    bool isClosed() const { return m_closed; }
    /// Events whose type is not "heartbeat".
    QList<SseParser::Event> nonHeartbeatEvents() const;

Q_SIGNALS:
    void eventReceived();
    /// The same moment, with the event.
    void eventDispatched(const Hermes::SseParser::Event &event);
    /// The response head is in (status() is set).
    void headersReceived();
    /// The connection ended (or could not be made); emitted once.
    void closed();

private:
    void onReadyRead();
    void handleBytes(QByteArray bytes);
    void consumeBody(QByteArray bytes);
    void markClosed();

    QTimer m_throttle; // before the socket: it is still used while the socket is destroyed
    QTcpSocket m_socket;
    SseParser m_parser;
    QByteArray m_request;
    QByteArray m_buffer;
    QByteArray m_body;
    bool m_recording = true;
    int m_status = 0;
    bool m_headersDone = false;
    bool m_chunked = false;
    qint64 m_chunkLeft = -1;
    bool m_closed = false;
    QList<QPair<QByteArray, QByteArray>> m_headers;
    QList<SseParser::Event> m_events;
    QList<int> m_retries;
};

} // namespace Hermes::Test
