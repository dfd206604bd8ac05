#pragma once

#include <QByteArray>

#include <deque>

class QIODevice;

namespace Hermes {

/**
 * The bytes of a connection's answers that have not been handed to its socket yet, as the
 * parts they were made of (a response head, a body): each part is shared with whoever made it,
 * not copied — the API document served to 500 clients is one buffer, not 500. HttpConnection
 * hands them to the socket a bounded amount at a time (writeTo()) as the socket drains, so a
 * client that does not read pins what it asked for, never a copy of it per request.
 */
class ResponseOutput final
{
public:
    /// Queues `bytes` behind what is pending (shared, not copied); empty parts are dropped.
    void append(const QByteArray &bytes);
    bool isEmpty() const { return m_parts.empty(); }
    /// Bytes not handed to a socket yet.
    qint64 pendingBytes() const { return m_pending; }
    /// Hands at most `room` pending bytes to `device`, in order: how many it took, or -1 when
    /// the device failed (it is then gone; what is pending stays).
    qint64 writeTo(QIODevice &device, qint64 room);
    void clear();

private:
    std::deque<QByteArray> m_parts;
    qsizetype m_offset = 0; ///< into the first part: bytes before it went out
    qint64 m_pending = 0;
};

} // namespace Hermes
