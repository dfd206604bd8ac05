#include "stream/streamworker.h"

#include "stream/eventhistory.h"
#include "logging.h"
#include "metrics.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QSocketNotifier>
#include <QTcpSocket>
#include <QUuid>

#include <algorithm>
#include <limits>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace Hermes {

// A flush goes out in rounds of at most this many bytes of frames, so a stream whose socket
// fills up mid-burst holds a reference to one round, not to the whole burst; the rest reaches
// it from the history as the socket drains.
static constexpr qsizetype RoundBytes = 64 * 1024;
// A stream that is behind is given at most this much per chunk, scanning at most this many
// history events per chunk, and this many chunks per turn before other streams get theirs.
static constexpr qsizetype ChunkBytes = 64 * 1024;
static constexpr int ChunkEvents = 4096;
static constexpr int ChunksPerTurn = 4;

// Monotonic: a wall clock stepped by NTP or a resumed VM must not drop or rotate every stream.
static qint64 nowMs()
{
    static const QElapsedTimer clock = [] { QElapsedTimer t; t.start(); return t; }();
    return clock.elapsed() + 1; // never 0, which means "none" for deadlines
}

StreamWorker::StreamWorker(const Options &options, const EventHistory *history,
                           const ResumePlanner *planner, Metrics *metrics, QObject *parent)
    : QObject(parent), m_options(options), m_history(history), m_planner(planner),
      m_metrics(metrics), m_epoll(::epoll_create1(EPOLL_CLOEXEC))
{
    if (m_epoll < 0)
        qFatal("epoll_create1 failed: %s", std::strerror(errno));
    m_epollNotifier = new QSocketNotifier(m_epoll, QSocketNotifier::Read, this);
    connect(m_epollNotifier, &QSocketNotifier::activated, this, &StreamWorker::onSocketsReady);
    m_heartbeat.setInterval(options.heartbeatIntervalSec * 1000);
    connect(&m_heartbeat, &QTimer::timeout, this, &StreamWorker::sendHeartbeat);
    m_heartbeat.start();
    // Rotation, send timeouts and resume waits are checked once a second.
    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, &StreamWorker::tick);
    m_tick.start();
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

void StreamWorker::addStream(QTcpSocket *socket, const QByteArray &head,
                             const StreamParams &params)
{
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
    const qint64 deadline = m_options.connectionTimeoutSec > 0
        ? nowMs() + qint64(m_options.connectionTimeoutSec) * 1000
        : 0;
    m_connections.push_back(std::make_unique<StreamConnection>(fd, params, deadline));
    StreamConnection &c = *m_connections.back();
    c.position = std::prev(m_connections.end());
    c.setShareGroup(joinShareGroup(c));
    if (!c.owner().isEmpty())
        ++m_owners[c.owner()];
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.ptr = &c;
    ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev);
    m_metrics->connectionOpened();

    // heartbeat_interval (seconds) is additive to the Python payload: clients size their
    // stall watchdog from it instead of guessing the server's setting. The event carries the
    // stream's starting point as its id when it has one, so a client that receives nothing
    // else before a reconnect still resumes exactly from here.
    const ResumePlanner::Plan plan =
        m_planner->plan(params.lastEventId, c.filter().channels, m_state, false);
    const QString connectionId =
        QStringLiteral("conn_") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    Event connectedEvent = hubEvent("connected", {{QStringLiteral("connection_id"), connectionId},
                                                  {QStringLiteral("heartbeat_interval"),
                                                   m_options.heartbeatIntervalSec}});
    if (plan.kind == ResumePlanner::Plan::Live || plan.kind == ResumePlanner::Plan::Replay)
        connectedEvent.id = plan.cursor;
    const QByteArray connected = SseEncoder::encode(connectedEvent, c.style());
    Failures failed;
    const QByteArray opening = head + "\r\n" + (c.chunked() ? chunk(connected) : connected);
    if (c.write(opening, nowMs()) == StreamConnection::WriteResult::Failed)
        failed.push_back({&c, Removal::WriteError});
    else
        applyPlan(c, params.lastEventId, plan, &failed);
    m_metrics->bytesSent(quint64(opening.size()));
    if (c.hasPending())
        watchWritable(c, true);
    removeAll(failed);
}

void StreamWorker::replan(StreamConnection &c, const QByteArray &lastEventId, bool waitOver,
                          Failures *failed)
{
    applyPlan(c, lastEventId, m_planner->plan(lastEventId, c.filter().channels, m_state, waitOver),
              failed);
}

void StreamWorker::applyPlan(StreamConnection &c, const QByteArray &lastEventId,
                             const ResumePlanner::Plan &plan, Failures *failed)
{
    if (plan.kind == ResumePlanner::Plan::Wait) {
        if (c.waitDeadline == 0) {
            c.waitFor = lastEventId;
            // A fresh stream waits for the history as long as it takes; a resume is bounded.
            c.waitDeadline = lastEventId.isEmpty() ? std::numeric_limits<qint64>::max()
                                                   : nowMs() + m_options.resumeWaitMs;
            ++m_waiting;
        }
        return;
    }
    if (c.waitDeadline != 0) {
        c.waitDeadline = 0;
        c.waitFor.clear();
        --m_waiting;
    }
    switch (plan.kind) {
    case ResumePlanner::Plan::Live:
        c.cursor = plan.cursor;
        break;
    case ResumePlanner::Plan::Replay:
        c.cursor = plan.cursor;
        pump(c, failed);
        break;
    case ResumePlanner::Plan::Resync:
        resync(c, plan.reason, lastEventId, failed);
        if (!m_state.historyReady) {
            // Told to reload; it has no position yet: it waits for the history as a fresh one.
            c.waitFor.clear();
            c.waitDeadline = std::numeric_limits<qint64>::max();
            ++m_waiting;
        }
        break;
    case ResumePlanner::Plan::Wait:
        break;
    }
}

void StreamWorker::resync(StreamConnection &c, const QString &reason,
                          const QByteArray &lastEventId, Failures *failed)
{
    resyncAt(c, reason, lastEventId, m_state.delivered, failed);
}

void StreamWorker::resyncAt(StreamConnection &c, const QString &reason,
                            const QByteArray &lastEventId, EventId at, Failures *failed)
{
    QJsonObject data{{QStringLiteral("reason"), reason}};
    if (!lastEventId.isEmpty())
        data.insert(QStringLiteral("last_event_id"), QString::fromUtf8(lastEventId.left(64)));
    Event event = hubEvent("resync_required", data);
    // Carries where the stream goes on from (normally the newest id), so a client that
    // reconnects after reloading resumes from there.
    event.id = at;
    c.cursor = at;
    m_metrics->resyncSent();
    write(c, SseEncoder::encode(event, c.style()), failed);
}

void StreamWorker::pump(StreamConnection &c, Failures *failed)
{
    const qsizetype budget = qBound<qsizetype>(1024, m_options.maxClientBuffer, ChunkBytes);
    for (int turn = 0; turn < ChunksPerTurn && isBehind(c); ++turn) {
        if (!m_history->covers(c.cursor, c.filter().channels)) {
            // It fell behind further than the history reaches: what it missed is gone.
            resync(c, QStringLiteral("history_exceeded"), {}, failed);
            return;
        }
        QByteArray frames;
        quint64 perChannel[8] = {};
        int visited = 0;
        bool full = false;
        const EventId last = m_history->read(
            c.cursor, m_state.delivered, c.filter().channels, ChunkEvents,
            [&](const EncodedEventPtr &e) {
                ++visited;
                if (c.filter().matches(*e)) {
                    frames += e->frame(c.style());
                    ++perChannel[e->channel];
                }
                full = frames.size() >= budget;
                return !full;
            });
        // Nothing more on its channels up to what went out: it has caught up.
        c.cursor = (!full && visited < ChunkEvents) ? m_state.delivered : last;
        for (quint8 bit : {DownloadsBit, QueueBit, SystemBit})
            m_metrics->eventsDelivered(bit, perChannel[bit]);
        if (!frames.isEmpty())
            write(c, frames, failed);
    }
    if (isBehind(c))
        schedulePump(c); // more to send: after the other streams had a turn
}

void StreamWorker::schedulePump(StreamConnection &c)
{
    if (c.pumpScheduled)
        return;
    c.pumpScheduled = true;
    m_pumpQueue.push_back(&c);
    if (!m_pumpsScheduled) {
        m_pumpsScheduled = true;
        QMetaObject::invokeMethod(this, &StreamWorker::runPumps, Qt::QueuedConnection);
    }
}

void StreamWorker::runPumps()
{
    m_pumpsScheduled = false;
    std::deque<StreamConnection *> queue;
    queue.swap(m_pumpQueue);
    Failures failed;
    for (StreamConnection *c : queue) {
        c->pumpScheduled = false;
        pump(*c, &failed);
    }
    removeAll(failed);
}

int StreamWorker::joinShareGroup(const StreamConnection &c)
{
    const QString key = QString::number(int(c.style())) + (c.chunked() ? u'c' : u'p') + u'/'
        + c.filter().key();
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

void StreamWorker::setHistory(quint32 epoch, EventId newest, bool reset)
{
    const bool newEpoch = epoch != m_state.epoch;
    m_state.historyReady = true;
    m_state.epoch = epoch;
    m_state.delivered = newest;
    Failures failed;
    if (reset) {
        // What was queued belongs to the replaced history; every stream's position too. In a
        // new epoch every event is new to them: they go on from its start. In the same epoch
        // (what they missed was trimmed away) they go on from the newest.
        m_pending.clear();
        const EventId from = newEpoch ? EventId(0, 0, epoch) : newest;
        for (const auto &entry : m_connections) {
            if (entry->waitDeadline != 0)
                continue;
            resyncAt(*entry, QStringLiteral("history_reset"), {}, from, &failed);
            pump(*entry, &failed);
        }
    } else {
        // Streams are not live before a first history (they wait), but a position from no
        // epoch must never stay behind: it would match no round and no pump.
        for (const auto &entry : m_connections) {
            if (entry->waitDeadline == 0 && entry->cursor.epoch() != epoch)
                entry->cursor = newest;
        }
    }
    if (m_waiting > 0) {
        for (const auto &entry : m_connections) {
            if (entry->waitDeadline != 0)
                replan(*entry, QByteArray(entry->waitFor), false, &failed);
        }
    }
    removeAll(failed);
}

void StreamWorker::flush()
{
    m_flushScheduled = false;
    if (m_pending.empty())
        return;
    const std::vector<EncodedEventPtr> pending = std::move(m_pending);
    m_pending.clear();
    Failures failed;
    for (size_t start = 0; start < pending.size();) {
        size_t end = start + 1;
        qsizetype bytes = pending[start]->frames[0].size();
        while (end < pending.size() && bytes + pending[end]->frames[0].size() <= RoundBytes)
            bytes += pending[end++]->frames[0].size();
        flushRound(pending.data() + start, pending.data() + end, &failed);
        removeAll(failed);
        failed.clear();
        start = end;
    }
    if (m_waiting > 0) {
        for (const auto &entry : m_connections) {
            if (entry->waitDeadline != 0)
                replan(*entry, QByteArray(entry->waitFor), false, &failed);
        }
        removeAll(failed);
    }
}

void StreamWorker::flushRound(const EncodedEventPtr *first, const EncodedEventPtr *last,
                              Failures *failed)
{
    const EventId previous = m_state.delivered;
    const EventId newest = (*(last - 1))->id;
    // Streams with the same filter, style and framing get the same bytes: each distinct
    // filter is matched and framed once per round, not once per stream.
    struct Shared
    {
        bool built = false;
        QByteArray bytes;
        quint64 perChannel[8] = {};
    };
    std::vector<Shared> shared(m_groupKeys.size());
    quint64 delivered[8] = {}; // added to the metrics once, after the loop
    const qint64 now = nowMs();
    for (const auto &entry : m_connections) {
        StreamConnection &c = *entry;
        // Only a stream that is caught up and has nothing waiting in its socket gets live
        // bytes; the others are fed from the history as they drain.
        if (c.waitDeadline != 0 || c.hasPending() || c.cursor != previous)
            continue;
        c.cursor = newest;
        Shared &group = shared[size_t(c.shareGroup())];
        if (!group.built) {
            group.built = true;
            QByteArray frames;
            for (const EncodedEventPtr *e = first; e != last; ++e) {
                if (c.filter().matches(**e)) {
                    frames += (*e)->frame(c.style());
                    ++group.perChannel[(*e)->channel];
                }
            }
            if (!frames.isEmpty())
                group.bytes = c.chunked() ? chunk(frames) : frames;
        }
        if (group.bytes.isEmpty())
            continue;
        for (quint8 bit : {DownloadsBit, QueueBit, SystemBit})
            delivered[bit] += group.perChannel[bit];
        switch (c.write(group.bytes, now)) {
        case StreamConnection::WriteResult::Ok: break;
        case StreamConnection::WriteResult::Blocked: watchWritable(c, true); break;
        case StreamConnection::WriteResult::Failed:
            failed->push_back({&c, Removal::WriteError});
            continue;
        }
        m_metrics->bytesSent(quint64(group.bytes.size()));
    }
    for (quint8 bit : {DownloadsBit, QueueBit, SystemBit})
        m_metrics->eventsDelivered(bit, delivered[bit]);
    m_state.delivered = newest;
}

void StreamWorker::write(StreamConnection &c, const QByteArray &payload, Failures *failed)
{
    const QByteArray bytes = c.chunked() ? chunk(payload) : payload;
    switch (c.write(bytes, nowMs())) {
    case StreamConnection::WriteResult::Ok:
        break;
    case StreamConnection::WriteResult::Blocked:
        watchWritable(c, true);
        break;
    case StreamConnection::WriteResult::Failed:
        // Removed by the caller after its loop, which may still be walking the list.
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
    const qint64 now = nowMs();
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
            switch (c.flushPending(now)) {
            case StreamConnection::WriteResult::Ok:
                watchWritable(c, false);
                pump(c, &failed); // the socket drained: feed it what it is behind on
                break;
            case StreamConnection::WriteResult::Failed:
                failed.push_back({&c, Removal::WriteError});
                break;
            case StreamConnection::WriteResult::Blocked:
                break;
            }
        }
    }
    removeAll(failed);
}

void StreamWorker::sendHeartbeat()
{
    const QJsonObject data{{QStringLiteral("timestamp"), Event::currentTimestamp()}};
    const QByteArray plain = SseEncoder::frame(
        QJsonDocument(data).toJson(QJsonDocument::Compact), "heartbeat");
    const QByteArray chunked = chunk(plain);
    Failures failed;
    const qint64 now = nowMs();
    for (const auto &entry : m_connections) {
        StreamConnection &c = *entry;
        if (c.hasPending())
            continue; // not idle: bytes are on their way
        const QByteArray &bytes = c.chunked() ? chunked : plain;
        switch (c.write(bytes, now)) {
        case StreamConnection::WriteResult::Ok: break;
        case StreamConnection::WriteResult::Blocked: watchWritable(c, true); break;
        case StreamConnection::WriteResult::Failed:
            failed.push_back({&c, Removal::WriteError});
            continue;
        }
        m_metrics->bytesSent(quint64(bytes.size()));
    }
    removeAll(failed);
}

void StreamWorker::tick()
{
    const qint64 now = nowMs();
    if (m_options.connectionTimeoutSec > 0) {
        // Arrival order is deadline order.
        while (!m_connections.empty() && m_connections.front()->deadline() <= now)
            endStream(*m_connections.front(), Removal::Timeout);
    }
    Failures failed;
    const qint64 sendTimeoutMs = qint64(m_options.sendTimeoutSec) * 1000;
    for (const auto &entry : m_connections) {
        StreamConnection &c = *entry;
        if (c.hasPending() && now - c.lastProgressMs() >= sendTimeoutMs)
            failed.push_back({&c, Removal::SlowClient});
        else if (c.waitDeadline != 0 && c.waitDeadline <= now)
            replan(c, QByteArray(c.waitFor), true, &failed);
    }
    removeAll(failed);
}

void StreamWorker::endStream(StreamConnection &c, Removal why)
{
    // A clean end: the retry hint, then the terminating chunk, so the client knows the stream
    // ended on purpose and when to come back. What the kernel does not take at once of these
    // last bytes is dropped with the connection.
    const QByteArray retry = SseEncoder::retry(m_options.retryMs);
    c.write(c.chunked() ? chunk(retry) + "0\r\n\r\n" : retry, nowMs());
    if (!c.hasPending())
        ::shutdown(c.fd(), SHUT_WR);
    remove(c, why);
}

void StreamWorker::removeAll(const Failures &failed)
{
    // A stream can fail twice in one pass (a write error, then its socket reported closed).
    std::vector<StreamConnection *> removed;
    for (const auto &[conn, why] : failed) {
        if (std::find(removed.begin(), removed.end(), conn) != removed.end())
            continue;
        removed.push_back(conn);
        remove(*conn, why);
    }
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
                      << (slow ? "its socket took nothing for the send timeout" : "write failed");
        break;
    }
    }
    ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, c.fd(), nullptr);
    leaveShareGroup(c.shareGroup());
    if (!c.owner().isEmpty() && --m_owners[c.owner()] <= 0)
        m_owners.remove(c.owner());
    if (c.waitDeadline != 0)
        --m_waiting;
    if (c.pumpScheduled) {
        // Only in the queue of the next turn; runPumps() clears the flag of its own copy.
        const auto it = std::find(m_pumpQueue.begin(), m_pumpQueue.end(), &c);
        if (it != m_pumpQueue.end())
            m_pumpQueue.erase(it);
    }
    m_connections.erase(c.position); // closes the descriptor
}

void StreamWorker::closeAll()
{
    while (!m_connections.empty())
        endStream(*m_connections.front(), Removal::Shutdown);
}

} // namespace Hermes
