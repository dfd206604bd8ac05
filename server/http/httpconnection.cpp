#include "http/httpconnection.h"

#include "http/httpresponse.h"
#include "logging.h"
#include "threadaffinity.h"

#include <QTcpSocket>

#include <chrono>
#include <limits>
#include <sys/socket.h>
#include <unistd.h>

namespace Hermes {

/// Bytes taken from the socket at a time (into a stack buffer).
static constexpr qint64 ReadChunk = 16 * 1024;
/// Requests answered in one go before other connections get their turn.
static constexpr int RequestsPerTurn = 16;

qint64 HttpConnection::now()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

HttpConnection::HttpConnection(int fd, const QHostAddress &peer, qint64 acceptedAtMs,
                               HttpConnectionOwner *owner, QObject *parent)
    : QObject(parent), m_owner(owner), m_fd(fd), m_peer(peer), m_parser(owner->limits()),
      m_requestStart(acceptedAtMs)
{
    m_parser.setRemoteAddress(peer);
}

HttpConnection::~HttpConnection()
{
    if (!m_socket && m_fd >= 0 && m_phase != Phase::Done)
        ::close(m_fd); // start() never handed it to Qt
}

bool HttpConnection::start()
{
    auto *socket = new QTcpSocket(this);
    // Unbuffered: Qt reads nothing by itself, the bytes wait in the kernel until process()
    // reads them into its stack buffer (TCP flow control slows a client that sends faster);
    // writes go straight to the kernel too, Qt buffers only what it did not take.
    if (!socket->setSocketDescriptor(m_fd, QAbstractSocket::ConnectedState,
                                     QIODevice::ReadWrite | QIODevice::Unbuffered)) {
        delete socket;
        return false; // the destructor closes the descriptor
    }
    // An answer larger than one segment ends in a short one: with Nagle it would wait for the
    // client's delayed ACK (40 ms on Linux) — every 50 KiB list page did. Streams turn it back
    // on (release()): their pacing is the batch's, unchanged.
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    m_socket = socket;
    m_lastWrite = m_lastRead = now();
    connect(socket, &QTcpSocket::readyRead, this, [this] {
        if (m_phase == Phase::Reading)
            process();
        else if (m_phase == Phase::Lingering)
            drain();
    });
    connect(socket, &QTcpSocket::bytesWritten, this, &HttpConnection::onBytesWritten);
    connect(socket, &QTcpSocket::disconnected, this, &HttpConnection::closeNow);
    connect(socket, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError e) {
        if (e != QAbstractSocket::RemoteHostClosedError) // that one is followed by disconnected
            closeNow();
    });
    if (socket->bytesAvailable() > 0)
        scheduleProcess();
    return true;
}

bool HttpConnection::isCurrent(quint64 seq) const
{
    return m_phase == Phase::Handling && seq == m_seq;
}

void HttpConnection::scheduleProcess()
{
    if (m_processScheduled)
        return;
    m_processScheduled = true;
    QMetaObject::invokeMethod(this, [this] {
        m_processScheduled = false;
        if (m_phase == Phase::Reading)
            process();
    }, Qt::QueuedConnection);
}

void HttpConnection::process()
{
    if (m_inProcess)
        return;
    m_inProcess = true;
    int answered = 0;
    // Bytes are read into this stack buffer and parsed in place: only what is left over after
    // a request (a pipelined one) is kept with the connection, so an idle or slow one holds
    // no read buffer of its own beyond Qt's.
    char buffer[ReadChunk];
    QByteArrayView pending;
    bool fromBuffer = false;
    while (m_phase == Phase::Reading) {
        if (!m_out.isEmpty())
            break; // the answer before waits for room: onBytesWritten() resumes
        if (answered == RequestsPerTurn) {
            scheduleProcess();
            break;
        }
        if (pending.isEmpty()) {
            if (!m_in.isEmpty()) {
                pending = m_in;
                fromBuffer = false;
            } else {
                if (!m_parser.inProgress() && m_seq > 0)
                    m_requestStart = now(); // the first byte of a keep-alive request
                const qint64 n = m_socket->read(buffer, sizeof buffer);
                if (n < 0) {
                    closeNow(); // the client closed (an unbuffered socket says so only here)
                    break;
                }
                if (n == 0)
                    break;
                m_lastRead = now();
                pending = QByteArrayView(buffer, n);
                fromBuffer = true;
            }
        }
        qsizetype used = 0;
        HttpRequestParser::Status status = m_parser.feed(pending, &used);
        pending = pending.sliced(used);
        if (!fromBuffer) {
            m_in.remove(0, used);
            pending = m_in;
            if (m_in.isEmpty())
                m_in = QByteArray(); // no capacity kept
        }
        if (status == HttpRequestParser::Status::HeadReady) {
            m_headDone = now();
            status = m_parser.setBodyLimit(m_owner->bodyLimit(m_parser.request()));
            if (status == HttpRequestParser::Status::NeedMore && m_parser.expectsContinue()) {
                m_out.append(HttpResponse::continueResponse());
                pumpOutput();
            }
        }
        if (status == HttpRequestParser::Status::Error) {
            const auto &e = m_parser.error();
            fail(e.status, e.code, e.message);
            break;
        }
        if (status == HttpRequestParser::Status::Complete) {
            ++answered;
            if (fromBuffer && !pending.isEmpty()) {
                m_in = pending.toByteArray(); // pipelined: kept until this one is answered
                pending = m_in;
                fromBuffer = false;
            }
            dispatch();
        }
    }
    if (fromBuffer && !pending.isEmpty() && m_phase == Phase::Reading)
        m_in = pending.toByteArray();
    m_inProcess = false;
}

void HttpConnection::dispatch()
{
    auto request = std::make_shared<const HttpRequest>(m_parser.takeRequest());
    ++m_seq;
    m_closeAfterResponse = !request->keepAlive() || m_owner->isClosing();
    m_phase = Phase::Handling;
    m_owner->dispatch(this, m_seq, request);
}

void HttpConnection::respond(quint64 seq, const QByteArray &head, const QByteArray &body)
{
    HERMES_ASSERT_THREAD(this); // an answer that comes late (a broker's callback) comes here
    if (!isCurrent(seq))
        return;
    if (!sending())
        m_lastWrite = now(); // the clock of a client that does not read starts here
    m_out.append(head);
    m_out.append(body);
    pumpOutput();
    if (m_phase == Phase::Done)
        return; // the socket failed
    if (m_closeAfterResponse) {
        startClosing();
        return;
    }
    m_phase = Phase::Reading;
    m_parser.reset();
    m_requestStart = m_idleSince = now();
    if (!m_inProcess)
        scheduleProcess();
}

void HttpConnection::abandoned(quint64 seq)
{
    HERMES_ASSERT_THREAD(this);
    if (!isCurrent(seq))
        return;
    qCWarning(lcHttp) << "a route dropped a request without answering it";
    m_closeAfterResponse = true;
    respond(seq, HttpResponse::error(500, "internal_error",
                                     QStringLiteral("the request was not answered"), {}, true));
}

QTcpSocket *HttpConnection::release(quint64 seq)
{
    HERMES_ASSERT_THREAD(this);
    if (!isCurrent(seq))
        return nullptr;
    QTcpSocket *socket = m_socket;
    m_socket = nullptr;
    m_phase = Phase::Done;
    socket->disconnect(this);
    socket->setParent(nullptr);
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 0);
    // The new owner closes Qt's side (StreamWorker: dup + abort); Qt then forgets it.
    connect(socket, &QAbstractSocket::stateChanged, socket, [socket](QAbstractSocket::SocketState s) {
        if (s == QAbstractSocket::UnconnectedState)
            socket->deleteLater();
    });
    emit finished();
    deleteLater();
    return socket;
}

void HttpConnection::fail(int status, const QByteArray &code, const QString &message)
{
    if (m_phase == Phase::Done || m_phase == Phase::Lingering)
        return;
    qCDebug(lcHttp).noquote() << "refused a request from" << m_peer.toString() << "with" << status
                              << code;
    if (!sending())
        m_lastWrite = now();
    m_owner->refused(status, code);
    m_out.append(HttpResponse::error(status, code, message, {}, true));
    pumpOutput();
    if (m_phase != Phase::Done)
        startClosing();
}

void HttpConnection::startClosing()
{
    m_phase = Phase::Lingering;
    m_in.clear();
    m_parser.reset();
    m_lingerStart = now();
    if (!sending())
        shutdownWrite();
}

// Lingering close (as nginx does): end our side, keep reading until the client closes or the
// linger time is up. Closing at once with unread bytes would send a reset that can destroy the
// answer before the client has read it.
void HttpConnection::shutdownWrite()
{
    if (m_writeShut)
        return;
    m_writeShut = true;
    m_lingerStart = now();
    ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
    drain();
}

void HttpConnection::drain()
{
    char buffer[ReadChunk];
    while (m_phase == Phase::Lingering) {
        const qint64 n = m_socket->read(buffer, sizeof buffer);
        if (n < 0 || (m_drained += n) > HttpLimits::LingerMaxBytes)
            closeNow();
        if (n <= 0)
            break;
    }
}

void HttpConnection::onBytesWritten()
{
    m_lastWrite = now();
    const bool waited = !m_out.isEmpty();
    pumpOutput();
    if (m_phase == Phase::Lingering && !sending()) {
        shutdownWrite();
    } else if (m_phase == Phase::Reading && m_out.isEmpty()) {
        if (!m_parser.inProgress() && (waited || !sending()))
            m_requestStart = m_idleSince = now(); // the next request's clocks start now
        scheduleProcess();
    }
}

void HttpConnection::pumpOutput()
{
    // Qt takes what the kernel does not and keeps it: never more than SendBufferBytes of it.
    // While the kernel takes everything, this goes on; once Qt holds the rest, its
    // bytesWritten (onBytesWritten()) brings us back.
    while (!m_out.isEmpty() && m_phase != Phase::Done) {
        const qint64 buffered = m_socket->bytesToWrite();
        const qint64 room = HttpLimits::SendBufferBytes - buffered;
        if (room <= 0)
            return;
        if (buffered == 0)
            m_lastWrite = now(); // the kernel took everything so far: progress
        if (m_out.writeTo(*m_socket, room) < 0) {
            closeNow();
            return;
        }
    }
}

bool HttpConnection::sending() const
{
    return !m_out.isEmpty() || (m_socket && m_socket->bytesToWrite() > 0);
}

void HttpConnection::closeNow()
{
    if (m_phase == Phase::Done)
        return;
    m_phase = Phase::Done;
    m_out.clear();
    m_socket->abort();
    emit finished();
    deleteLater();
}

void HttpConnection::checkTimeouts(qint64 t)
{
    HERMES_ASSERT_THREAD(this);
    const HttpLimits &l = m_owner->limits();
    switch (m_phase) {
    case Phase::Reading:
        if (sending() && t - m_lastWrite >= l.sendTimeoutMs) {
            closeNow(); // answers it does not read
        } else if (!m_out.isEmpty()) {
            // Nothing is read while an answer waits for room (backpressure): only the send
            // timeout counts, however slowly the client reads.
        } else if (m_parser.readingBody()) {
            const qint64 stalled = m_lastRead + l.bodyTimeoutMs;
            const qint64 slow = l.minBodyBytesPerSecond > 0
                ? m_headDone + l.bodyTimeoutMs + m_parser.bodyBytesRead() * 1000 / l.minBodyBytesPerSecond
                : std::numeric_limits<qint64>::max();
            if (t >= qMin(stalled, slow))
                fail(408, "request_timeout", QStringLiteral("the request body stopped arriving"));
        } else if (m_parser.inProgress() || !m_in.isEmpty()) {
            if (t >= m_requestStart + l.headerTimeoutMs)
                fail(408, "request_timeout",
                     QStringLiteral("the request head did not arrive within %1 ms").arg(l.headerTimeoutMs));
        } else if (sending()) {
            // Idle once its answers are out.
        } else if (m_seq == 0 ? t >= m_requestStart + l.headerTimeoutMs
                              : t >= m_idleSince + l.idleTimeoutMs) {
            closeNow(); // nothing asked: nothing to answer
        }
        break;
    case Phase::Lingering:
        if (m_writeShut ? t >= m_lingerStart + l.lingerMs
                        : t - m_lastWrite >= l.sendTimeoutMs)
            closeNow();
        break;
    case Phase::Handling: // bounded by the routes (see BoundedWait)
    case Phase::Done:
        break;
    }
}

} // namespace Hermes
