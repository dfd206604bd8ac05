#pragma once

#include "stream/streamconnection.h"

#include <QObject>

#include <vector>

class QSocketNotifier;

namespace Hermes {

/**
 * The stream sockets of one StreamWorker: the connections in order of arrival (so their
 * deadlines ascend), watched by one epoll set, itself watched by one QSocketNotifier: nothing
 * per stream lives in Qt.
 *
 * Every socket is watched for its client going away; a socket whose pending bytes wait for the
 * kernel is also watched for writability (watchWritable()). When the set has something to say
 * it emits activity(), and poll() says what: which streams' clients left (end of file, a reset,
 * or a hang-up), which failed to send, and which sent all their pending bytes since (drained: the worker feeds them what they
 * are behind on). Everything runs in the set's thread.
 */
class StreamSocketSet final : public QObject
{
    Q_OBJECT
public:
    using List = StreamConnection::List;
    /// A stream socket's receive buffer (SO_RCVBUF; the kernel doubles it): nothing a client
    /// sends on a stream is read, so this is all its junk can occupy before TCP stops it.
    static constexpr int ReceiveBufferBytes = 4096;
    enum class Readiness { Closed, WriteFailed, Drained };
    struct Ready
    {
        StreamConnection *stream;
        Readiness what;
    };

    explicit StreamSocketSet(QObject *parent = nullptr);
    /// Closes every stream's descriptor, then the epoll set.
    ~StreamSocketSet() override;

    /// Starts watching, in the thread the set lives in.
    void start();

    /// Takes the stream socket `fd` over (closed with its StreamConnection), last in order.
    StreamConnection &add(int fd, const StreamParams &params, qint64 deadlineMs);
    /// Stops watching `c` and destroys it (its descriptor is closed).
    void remove(StreamConnection &c);
    /// Watches `c` for writability too (its pending bytes wait), or no longer.
    void watchWritable(StreamConnection &c, bool on);

    /// What the sockets reported since activity(), in their order (valid until the next call);
    /// `nowMs`: for the sends of drained streams (StreamConnection::flushPending()).
    const std::vector<Ready> &poll(qint64 nowMs);

    /// The streams, in order of arrival.
    List::const_iterator begin() const { return m_connections.begin(); }
    List::const_iterator end() const { return m_connections.end(); }
    bool empty() const { return m_connections.empty(); }
    StreamConnection &front() const { return *m_connections.front(); }

Q_SIGNALS:
    /// Some socket has something to report: call poll().
    void activity();

private:
    int m_epoll = -1;
    QSocketNotifier *m_notifier = nullptr;
    List m_connections;
    std::vector<Ready> m_ready; ///< poll()'s, reused
};

} // namespace Hermes
