#pragma once

#include "encodedevent.h"

#include <QMetaObject>

class QTcpSocket;

namespace Hermes {

/**
 * One open event stream: the socket, what the client asked for, and nothing else.
 *
 * Kept deliberately small (it exists once per client, thousands of times). Bytes go out with
 * `::send()` straight from the shared buffer while Qt's own write buffer is empty, so an idle
 * or keeping-up client never gets a per-connection copy of the data; only what the kernel
 * does not take is queued in the QTcpSocket.
 */
class StreamConnection final
{
public:
    StreamConnection(QTcpSocket *socket, StreamFilter filter, EventStyle style,
                     EventId skipUpTo, qint64 deadlineMs);

    QTcpSocket *socket() const { return m_socket; }
    const StreamFilter &filter() const { return m_filter; }
    EventStyle style() const { return m_style; }
    /// Events at or below this id were already sent (replay) or seen by the client elsewhere.
    EventId skipUpTo() const { return m_skipUpTo; }
    /// When the server ends the stream (ms since the epoch), or 0 for never.
    qint64 deadline() const { return m_deadline; }

    enum class WriteResult { Ok, Overflow, Failed };
    /// Writes `bytes`; Overflow when more than `maxBuffered` bytes are now waiting for a client
    /// that does not read, Failed when the socket is gone.
    WriteResult write(const QByteArray &bytes, qint64 maxBuffered);

    QMetaObject::Connection disconnectWatch;

private:
    QTcpSocket *m_socket;
    StreamFilter m_filter;
    EventStyle m_style;
    EventId m_skipUpTo;
    qint64 m_deadline;
};

} // namespace Hermes
