#pragma once

#include "http/requestparser.h"
#include "http/responseoutput.h"

#include <QHostAddress>
#include <QObject>

#include <memory>

class QTcpSocket;

namespace Hermes {

class HttpConnection;

/**
 * What a connection asks of the server it belongs to: HttpServer, or a stand-in in a test.
 * Called on the connection's thread.
 */
class HttpConnectionOwner
{
public:
    virtual ~HttpConnectionOwner() = default;
    /// What the connection allows its client (sizes, timeouts).
    virtual const HttpLimits &limits() const = 0;
    /// The largest body `request` may have; its head just arrived.
    virtual qint64 bodyLimit(const HttpRequest &request) const = 0;
    /// The server is shutting down: every connection closes after its current answer.
    virtual bool isClosing() const = 0;
    /// A complete request, number `seq` on `connection`: answer it with an HttpExchange.
    virtual void dispatch(HttpConnection *connection, quint64 seq,
                          const std::shared_ptr<const HttpRequest> &request) = 0;
    /// The connection refused a request before it was routed (malformed, too large, too slow).
    virtual void refused(int status, const QByteArray &code) { Q_UNUSED(status); Q_UNUSED(code); }
};

/**
 * One client connection of the front door, from accept until it closes or becomes a stream.
 *
 * Its socket is unbuffered: Qt reads nothing by itself, so unread bytes wait in the kernel and
 * TCP flow control slows a client that sends faster than it is read. It reads a stack buffer's
 * worth at a time, feeds it to an HttpRequestParser, and hands each complete request to the
 * server (its HttpConnectionOwner), one at a time: a pipelined request is not read before the
 * previous one is answered.
 *
 * Answers go out as the socket drains (ResponseOutput): at most HttpLimits::SendBufferBytes
 * (64 KiB) is handed to Qt beyond what the kernel took, and a pipelined request is not parsed
 * while the answer before it is still waiting for that room — a client that asks and does not
 * read stops being read (backpressure, as nginx does) and pins one answer, shared with every
 * other client of the same document. A connection whose client takes nothing of an answer for
 * HttpLimits::sendTimeoutMs is closed. Errors are answered with a JSON body and `Connection: close`; the
 * connection then stops reading requests, drains what the client still sends for a moment (so
 * it sees the answer rather than a reset) and closes. The server calls checkTimeouts()
 * periodically; one timer serves every connection.
 *
 * It lives on the front door's thread: its entry points (the exchange's answers, the sweep)
 * assert it.
 */
class HttpConnection final : public QObject
{
    Q_OBJECT
public:
    /// `fd`: an accepted, non-blocking socket, owned from now on. `owner` must outlive it.
    HttpConnection(int fd, const QHostAddress &peer, qint64 acceptedAtMs,
                   HttpConnectionOwner *owner, QObject *parent = nullptr);
    ~HttpConnection() override;

    /// False when Qt refused the descriptor (it is closed then).
    bool start();
    const QHostAddress &peer() const { return m_peer; }
    /// Closes the connection when one of its deadlines passed.
    void checkTimeouts(qint64 nowMs);
    /// Monotonic milliseconds, the clock of every deadline here.
    static qint64 now();

    // For HttpExchange, with the number of the request it answers.
    QTcpSocket *socket() const { return m_socket; }
    bool isCurrent(quint64 seq) const;
    /// The connection closes after the answer to the current request.
    bool closesAfterResponse() const { return m_closeAfterResponse; }
    /// Sends a complete response to request `seq`, its head then its body (both shared, not
    /// copied), as the socket drains; then reads the next request, or closes.
    void respond(quint64 seq, const QByteArray &head, const QByteArray &body = {});
    /// The handler of `seq` dropped it without an answer: 500.
    void abandoned(quint64 seq);
    /// Gives the socket up (a stream takes it over): no more reads, timers or accounting here.
    QTcpSocket *release(quint64 seq);

Q_SIGNALS:
    /// Closed or released; the connection deletes itself afterwards.
    void finished();

private:
    enum class Phase { Reading, Handling, Lingering, Done };

    void process();
    void scheduleProcess();
    void dispatch();
    void fail(int status, const QByteArray &code, const QString &message);
    void startClosing();
    void shutdownWrite();
    void drain();
    void onBytesWritten();
    /// Hands pending answers to the socket up to SendBufferBytes beyond the kernel's buffer.
    void pumpOutput();
    /// Something of an answer waits: for room in Qt's buffer, or for the kernel to take it.
    bool sending() const;
    void closeNow();

    HttpConnectionOwner *m_owner;
    QTcpSocket *m_socket = nullptr;
    int m_fd;
    QHostAddress m_peer;
    HttpRequestParser m_parser;
    QByteArray m_in;                ///< read from the socket, not parsed yet
    ResponseOutput m_out;           ///< answers not handed to the socket yet
    Phase m_phase = Phase::Reading;
    quint64 m_seq = 0;              ///< requests dispatched so far
    bool m_closeAfterResponse = false;
    bool m_processScheduled = false;
    bool m_inProcess = false;
    bool m_writeShut = false;
    qint64 m_requestStart;          ///< accept, or the first byte of a later request
    qint64 m_idleSince = 0;
    qint64 m_headDone = 0;
    qint64 m_lastRead = 0;
    qint64 m_lastWrite = 0;         ///< the last progress of an answer (the send timeout's clock)
    qint64 m_lingerStart = 0;
    qint64 m_drained = 0;
};

} // namespace Hermes
