#include "stream/streamworker.h"

#include "stream/eventhistory.h"
#include "logging.h"
#include "metrics.h"

#include <QDateTime>
#include <QHash>
#include <QJsonDocument>
#include <QTcpSocket>
#include <QSocketNotifier>
#include <QUuid>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace Hermes {

StreamWorker::StreamWorker(const Options &options, const EventHistory *history,
                           Metrics *metrics, QObject *parent)
    : QObject(parent), m_options(options), m_history(history), m_metrics(metrics),
      m_epoll(::epoll_create1(EPOLL_CLOEXEC))
{
    if (m_epoll < 0)
        qFatal("epoll_create1 failed: %s", std::strerror(errno));
    m_epollNotifier = new QSocketNotifier(m_epoll, QSocketNotifier::Read, this);
    connect(m_epollNotifier, &QSocketNotifier::activated, this, &StreamWorker::onSocketsReady);
    m_heartbeat.setInterval(options.heartbeatIntervalSec * 1000);
    connect(&m_heartbeat, &QTimer::timeout, this, &StreamWorker::sendHeartbeat);
    m_heartbeat.start();
    if (options.connectionTimeoutSec > 0) {
        m_expiry.setInterval(qMin(1000, options.connectionTimeoutSec * 1000));
        connect(&m_expiry, &QTimer::timeout, this, &StreamWorker::expireStreams);
        m_expiry.start();
    }
}

StreamWorker::~StreamWorker()
{
    m_connections.clear(); // closes every descriptor
    delete m_epollNotifier;
    ::close(m_epoll);
}

QByteArray StreamWorker::chunk(const QByteArray &payload)
{
    return QByteArray::number(payload.size(), 16) + "\r\n" + payload + "\r\n";
}

static Event hubEvent(const char *type, QJsonObject data)
{
    Event e;
    e.type = QString::fromLatin1(type);
    e.timestamp = Event::currentTimestamp();
    data.insert(QStringLiteral("timestamp"), e.timestamp);
    e.data = std::move(data);
    return e;
}

QByteArray StreamWorker::openingFrames(const StreamFilter &filter, EventStyle style,
                                       const QByteArray &lastEventId, EventId historyStart,
                                       EventId *skipUpTo) const
{
    const QString connectionId =
        QStringLiteral("conn_") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    // heartbeat_interval (seconds) is additive to the Python payload: clients size their
    // stall watchdog from it instead of guessing the server's setting.
    QByteArray out = SseEncoder::encode(
        hubEvent("connected", {{QStringLiteral("connection_id"), connectionId},
                               {QStringLiteral("heartbeat_interval"),
                                m_options.heartbeatIntervalSec}}),
        style);
    if (lastEventId.isEmpty())
        return out;

    // Missed events are replayed up to what this worker has already flushed; anything newer
    // is still queued here and reaches the new stream with the next flush.
    const std::optional<EventId> last = EventId::parse(lastEventId);
    QString reason;
    std::vector<EncodedEventPtr> missed;
    if (!last)
        reason = QStringLiteral("invalid_last_event_id");
    else if (*last < historyStart)
        reason = QStringLiteral("history_unavailable"); // from before this server's history
    else if (!m_history->eventsAfter(*last, filter.channels, &missed))
        reason = QStringLiteral("history_exceeded");
    if (!reason.isEmpty()) {
        Event resync = hubEvent("resync_required",
                                {{QStringLiteral("reason"), reason},
                                 {QStringLiteral("last_event_id"),
                                  QString::fromUtf8(lastEventId.left(64))}});
        // Carries the newest id, so a client that reconnects after reloading resumes from here.
        resync.id = m_flushedUpTo;
        out += SseEncoder::encode(resync, style);
        *skipUpTo = m_flushedUpTo;
        return out;
    }
    for (const EncodedEventPtr &e : missed) {
        if (e->id <= m_flushedUpTo && filter.matches(*e))
            out += e->frame(style);
    }
    *skipUpTo = *last;
    return out;
}

void StreamWorker::addStream(QTcpSocket *socket, const QByteArray &head,
                             const StreamParams &params, EventId historyStart)
{
    const StreamFilter &filter = params.filter;
    const EventStyle style = params.style;
    const QByteArray &lastEventId = params.lastEventId;
    Q_ASSERT(socket->bytesToWrite() == 0);
    // The stream keeps a duplicate of the descriptor; Qt's socket, its buffers and notifiers
    // are released (abort() closes only Qt's descriptor, the connection stays open). Queued,
    // because QAbstractHttpServer is still inside its read handler for this socket.
    const int fd = ::fcntl(int(socket->socketDescriptor()), F_DUPFD_CLOEXEC, 0);
    QMetaObject::invokeMethod(socket, &QTcpSocket::abort, Qt::QueuedConnection);
    if (fd < 0) {
        qCWarning(lcHub) << "cannot take a stream over:" << std::strerror(errno);
        return;
    }
    EventId skipUpTo;
    const QByteArray opening = openingFrames(filter, style, lastEventId, historyStart, &skipUpTo);
    const qint64 deadline = m_options.connectionTimeoutSec > 0
        ? QDateTime::currentMSecsSinceEpoch() + qint64(m_options.connectionTimeoutSec) * 1000
        : 0;
    m_connections.push_back(
        std::make_unique<StreamConnection>(fd, filter, style, skipUpTo, deadline));
    StreamConnection &c = *m_connections.back();
    c.position = std::prev(m_connections.end());
    c.setShareGroup(joinShareGroup(filter, style));
    c.owner = params.owner;
    if (!c.owner.isEmpty())
        ++m_owners[c.owner];
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.ptr = &c;
    ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev);
    m_metrics->connectionOpened();
    Failures failed;
    write(c, head + "\r\n" + chunk(opening), &failed);
    for (const auto &[conn, why] : failed)
        remove(*conn, why);
}

int StreamWorker::joinShareGroup(const StreamFilter &filter, EventStyle style)
{
    const QString key = QString::number(int(style)) + u'/' + filter.key();
    auto it = m_groupIds.find(key);
    if (it == m_groupIds.end()) {
        int group;
        if (!m_freeGroups.empty()) {
            group = m_freeGroups.back();
            m_freeGroups.pop_back();
            m_groupKeys[size_t(group)] = key;
        } else {
            group = int(m_groupKeys.size());
            m_groupKeys.push_back(key);
            m_groupUsers.push_back(0);
        }
        it = m_groupIds.insert(key, group);
    }
    ++m_groupUsers[size_t(*it)];
    return *it;
}

void StreamWorker::leaveShareGroup(int group)
{
    if (--m_groupUsers[size_t(group)] > 0)
        return;
    // The last stream of a filter left: the group is reused, so distinct filters coming and
    // going never grow the table.
    m_groupIds.remove(m_groupKeys[size_t(group)]);
    m_groupKeys[size_t(group)].clear();
    m_freeGroups.push_back(group);
}

void StreamWorker::deliver(const EncodedEventPtr &event)
{
    m_pending.push_back(event);
    if (!m_flushScheduled) {
        m_flushScheduled = true;
        QMetaObject::invokeMethod(this, &StreamWorker::flush, Qt::QueuedConnection);
    }
}

void StreamWorker::flush()
{
    m_flushScheduled = false;
    if (m_pending.empty())
        return;
    const std::vector<EncodedEventPtr> pending = std::move(m_pending);
    m_pending.clear();
    m_flushedUpTo = std::max(m_flushedUpTo, pending.back()->id);

    // Streams with the same filter and style get the same bytes: each distinct filter is
    // matched and framed once per flush, not once per stream. Unfiltered streams, the common
    // case, all share one buffer.
    struct Shared
    {
        bool built = false;
        QByteArray bytes;
        quint64 perChannel[8] = {};
    };
    std::vector<Shared> shared(m_groupKeys.size());
    quint64 delivered[8] = {}; // added to the metrics once, after the loop
    Failures failed;
    for (const auto &entry : m_connections) {
        StreamConnection &c = *entry;
        const int style = int(c.style());
        if (c.skipUpTo() >= pending.front()->id) {
            // Just opened with a replay that overlaps this flush: its own bytes.
            QByteArray frames;
            for (const auto &e : pending) {
                if (e->id > c.skipUpTo() && c.filter().matches(*e)) {
                    frames += e->frames[style];
                    ++delivered[e->channel];
                }
            }
            if (!frames.isEmpty())
                write(c, chunk(frames), &failed);
            continue;
        }
        Shared &group = shared[size_t(c.shareGroup())];
        if (!group.built) {
            group.built = true;
            QByteArray frames;
            for (const auto &e : pending) {
                if (c.filter().matches(*e)) {
                    frames += e->frames[style];
                    ++group.perChannel[e->channel];
                }
            }
            if (!frames.isEmpty())
                group.bytes = chunk(frames);
        }
        if (group.bytes.isEmpty())
            continue;
        for (quint8 bit : {DownloadsBit, QueueBit, SystemBit})
            delivered[bit] += group.perChannel[bit];
        write(c, group.bytes, &failed);
    }
    for (quint8 bit : {DownloadsBit, QueueBit, SystemBit})
        m_metrics->eventsDelivered(bit, delivered[bit]);
    for (const auto &[conn, why] : failed)
        remove(*conn, why);
}

void StreamWorker::write(StreamConnection &c, const QByteArray &bytes, Failures *failed)
{
    switch (c.write(bytes, m_options.maxClientBuffer)) {
    case StreamConnection::WriteResult::Ok:
        break;
    case StreamConnection::WriteResult::Blocked:
        watchWritable(c, true);
        break;
    // Removed by the caller after its loop, which is still walking the list.
    case StreamConnection::WriteResult::Overflow:
        failed->push_back({&c, Removal::SlowClient});
        return;
    case StreamConnection::WriteResult::Failed:
        failed->push_back({&c, Removal::WriteError});
        return;
    }
    m_metrics->bytesSent(quint64(bytes.size()));
}

void StreamWorker::watchWritable(StreamConnection &c, bool on)
{
    if (c.watchingWritable == on)
        return;
    c.watchingWritable = on;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0u);
    ev.data.ptr = &c;
    ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, c.fd(), &ev);
}

void StreamWorker::onSocketsReady()
{
    epoll_event events[256];
    const int n = ::epoll_wait(m_epoll, events, 256, 0);
    Failures failed;
    for (int i = 0; i < n; ++i) {
        auto &c = *static_cast<StreamConnection *>(events[i].data.ptr);
        const uint32_t ev = events[i].events;
        if (ev & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
            failed.push_back({&c, Removal::ClientClosed});
            continue;
        }
        if (ev & EPOLLIN) {
            // A stream's client has nothing more to say; anything it sends is discarded,
            // and end of file means it left.
            char buffer[512];
            const ssize_t r = ::recv(c.fd(), buffer, sizeof buffer, MSG_DONTWAIT);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                failed.push_back({&c, Removal::ClientClosed});
                continue;
            }
        }
        if (ev & EPOLLOUT) {
            switch (c.flushPending()) {
            case StreamConnection::WriteResult::Ok: watchWritable(c, false); break;
            case StreamConnection::WriteResult::Failed: failed.push_back({&c, Removal::WriteError}); break;
            default: break;
            }
        }
    }
    for (const auto &[conn, why] : failed)
        remove(*conn, why);
}

void StreamWorker::sendHeartbeat()
{
    const QJsonObject data{{QStringLiteral("timestamp"), Event::currentTimestamp()}};
    const QByteArray bytes = chunk(SseEncoder::frame(
        QJsonDocument(data).toJson(QJsonDocument::Compact), "heartbeat"));
    Failures failed;
    for (const auto &c : m_connections)
        write(*c, bytes, &failed);
    for (const auto &[conn, why] : failed)
        remove(*conn, why);
}

void StreamWorker::expireStreams()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    while (!m_connections.empty() && m_connections.front()->deadline() <= now)
        endStream(*m_connections.front(), Removal::Timeout);
}

void StreamWorker::endStream(StreamConnection &c, Removal why)
{
    // A clean end: the retry hint, then the terminating chunk, so the client knows the stream
    // ended on purpose and when to come back. What the kernel does not take at once of these
    // last bytes is dropped with the connection.
    c.write(chunk(SseEncoder::retry(m_options.retryMs)) + "0\r\n\r\n",
            std::numeric_limits<qint64>::max());
    if (c.pendingBytes() == 0)
        ::shutdown(c.fd(), SHUT_WR);
    remove(c, why);
}

void StreamWorker::remove(StreamConnection &c, Removal why)
{
    switch (why) {
    case Removal::ClientClosed: m_metrics->streamEnded(Metrics::StreamEnd::ClientClosed); break;
    case Removal::Timeout: m_metrics->streamEnded(Metrics::StreamEnd::Timeout); break;
    case Removal::Shutdown: m_metrics->streamEnded(Metrics::StreamEnd::Shutdown); break;
    case Removal::SlowClient:
    case Removal::WriteError: {
        const bool slow = why == Removal::SlowClient;
        m_metrics->connectionDropped(slow ? Metrics::Drop::SlowClient : Metrics::Drop::WriteError);
        qCInfo(lcHub) << "dropping a stream:"
                      << (slow ? "the client does not keep up" : "write failed");
        break;
    }
    }
    ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, c.fd(), nullptr);
    leaveShareGroup(c.shareGroup());
    if (!c.owner.isEmpty() && --m_owners[c.owner] <= 0)
        m_owners.remove(c.owner);
    m_connections.erase(c.position); // closes the descriptor
}

void StreamWorker::closeAll()
{
    while (!m_connections.empty())
        endStream(*m_connections.front(), Removal::Shutdown);
}

} // namespace Hermes
