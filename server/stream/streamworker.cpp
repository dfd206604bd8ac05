#include "stream/streamworker.h"

#include "stream/eventhistory.h"
#include "logging.h"
#include "metrics.h"

#include <QElapsedTimer>
#include <QJsonDocument>
#include <QSocketNotifier>
#include <QUuid>

#include <algorithm>
#include <mutex>
#include <shared_mutex>
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
// How long a new stream waits for a first history (Redis reconnecting) before it is ended
// with a retry hint, to come back later.
static constexpr int HistoryWaitMs = 10000;

// Monotonic: a wall clock stepped by NTP or a resumed VM must not drop or rotate every stream.
static qint64 nowMs()
{
    static const QElapsedTimer clock = [] { QElapsedTimer t; t.start(); return t; }();
    return clock.elapsed() + 1; // never 0, which means "none" for deadlines
}

StreamWorker::StreamWorker(const Options &options, const EventHistory *history,
                           const ResumePlanner *planner, Metrics *metrics, Closed closed,
                           QObject *parent)
    : QObject(parent), m_options(options), m_history(history), m_planner(planner),
      m_metrics(metrics), m_closed(std::move(closed)),
      m_epoll(::epoll_create1(EPOLL_CLOEXEC))
{
    if (m_epoll < 0)
        qFatal("epoll_create1 failed: %s", std::strerror(errno));
}

void StreamWorker::start()
{
    m_sender = std::make_unique<BatchSender>(
        m_options.ioBackend, [this](StreamConnection &c, long result) { onSent(c, result); });
    m_epollNotifier = new QSocketNotifier(m_epoll, QSocketNotifier::Read, this);
    connect(m_epollNotifier, &QSocketNotifier::activated, this, &StreamWorker::onSocketsReady);
    m_heartbeat = new QTimer(this);
    m_heartbeat->setInterval(m_options.heartbeatIntervalSec * 1000);
    connect(m_heartbeat, &QTimer::timeout, this, &StreamWorker::sendHeartbeat);
    m_heartbeat->start();
    // Rotation, send timeouts and resume waits are checked once a second.
    m_tick = new QTimer(this);
    m_tick->setInterval(1000);
    connect(m_tick, &QTimer::timeout, this, &StreamWorker::tick);
    m_tick->start();
    m_roundTimer = new QTimer(this);
    m_roundTimer->setSingleShot(true);
    m_roundTimer->setTimerType(Qt::PreciseTimer);
    connect(m_roundTimer, &QTimer::timeout, this, &StreamWorker::flush);
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

void StreamWorker::addStream(int fd, const QByteArray &head, const StreamParams &params)
{
    const qint64 deadline = m_options.connectionTimeoutSec > 0
        ? nowMs() + qint64(m_options.connectionTimeoutSec) * 1000
        : 0;
    m_connections.push_back(std::make_unique<StreamConnection>(fd, params, deadline));
    StreamConnection &c = *m_connections.back();
    c.position = std::prev(m_connections.end());
    c.setShareGroup(joinShareGroup(c));
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.ptr = &c;
    ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev);
    m_metrics->connectionOpened();

    // The head goes out at once; the `connected` event only when the stream has a place in the
    // event order (see applyPlan): it promises that every later event follows.
    Failures failed;
    const QByteArray opening = head + "\r\n";
    if (c.write(opening, nowMs()) == StreamConnection::WriteResult::Failed)
        failed.push_back({&c, Removal::WriteError});
    else
        replan(c, params.lastEventId, false, &failed);
    m_metrics->bytesSent(quint64(opening.size()));
    if (c.hasPending())
        watchWritable(c, true);
    removeAll(failed);
}

void StreamWorker::sendConnected(StreamConnection &c, EventId at, Failures *failed)
{
    // heartbeat_interval (seconds) is additive to the Python payload: clients size their
    // stall watchdog from it instead of guessing the server's setting. The id is where the
    // stream starts, so a client that receives nothing else before a reconnect still resumes
    // exactly from here.
    c.connected = true;
    const QString connectionId =
        QStringLiteral("conn_") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    Event event = hubEvent("connected", {{QStringLiteral("connection_id"), connectionId},
                                         {QStringLiteral("heartbeat_interval"),
                                          m_options.heartbeatIntervalSec}});
    event.id = at;
    write(c, SseEncoder::encode(event, c.style()), failed);
}

void StreamWorker::replan(StreamConnection &c, const QByteArray &lastEventId, bool waitOver,
                          Failures *failed)
{
    ResumePlanner::Plan plan;
    {
        const std::shared_lock lock(m_history->lock());
        if (historyAhead())
            plan.kind = ResumePlanner::Plan::Wait; // replanned when the change is applied
        else
            plan = m_planner->plan(lastEventId, c.filter().channels, m_state, waitOver);
    }
    applyPlan(c, lastEventId, plan, failed);
}

void StreamWorker::applyPlan(StreamConnection &c, const QByteArray &lastEventId,
                             const ResumePlanner::Plan &plan, Failures *failed)
{
    if (plan.kind == ResumePlanner::Plan::Wait) {
        if (c.waitDeadline == 0) {
            c.waitFor = lastEventId;
            // The history may take a while to come (Redis is reconnecting); an id that may
            // still arrive from another node, a moment.
            c.waitDeadline = nowMs()
                + (m_state.historyReady ? m_options.resumeWaitMs : HistoryWaitMs);
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
        sendConnected(c, plan.cursor, failed);
        c.cursor = plan.cursor;
        settle(c);
        break;
    case ResumePlanner::Plan::Replay:
        sendConnected(c, plan.cursor, failed);
        c.cursor = plan.cursor;
        pump(c, failed);
        break;
    case ResumePlanner::Plan::Resync:
        sendConnected(c, EventId(), failed);
        resync(c, plan.reason, lastEventId, failed);
        settle(c);
        break;
    case ResumePlanner::Plan::End:
        // No history to place it in yet: it ends cleanly, before `connected`, so nothing was
        // promised; the client comes back after the retry hint.
        failed->push_back({&c, Removal::NotReady});
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

bool StreamWorker::historyAhead() const
{
    return m_history->generation() != m_generation;
}

void StreamWorker::pump(StreamConnection &c, Failures *failed)
{
    const qsizetype budget = qBound<qsizetype>(1024, m_options.maxClientBuffer, ChunkBytes);
    for (int turn = 0; turn < ChunksPerTurn && isBehind(c); ++turn) {
        // Under the history's lock only the events are picked (shared pointers); framing and
        // sending happen after it is released, so the hub is never kept from appending.
        bool exceeded = false;
        bool full = false;
        int visited = 0;
        EventId last;
        {
            const std::shared_lock lock(m_history->lock());
            if (historyAhead())
                return; // the history changes under it: the change, when applied, replans
            if (!m_history->covers(c.cursor, c.filter().channels)) {
                exceeded = true;
            } else {
                qsizetype bytes = 0;
                last = m_history->read(
                    c.cursor, m_state.delivered, c.filter().channels, ChunkEvents,
                    [&](const EncodedEventPtr &e) {
                        ++visited;
                        if (c.filter().matches(*e)) {
                            m_picked.push_back(e);
                            bytes += e->frame(c.style()).size();
                        }
                        full = bytes >= budget;
                        return !full;
                    });
            }
        }
        if (exceeded) {
            // It fell behind further than the history reaches: what it missed is gone.
            resync(c, QStringLiteral("history_exceeded"), {}, failed);
            break;
        }
        // Nothing more on its channels up to what went out: it has caught up.
        c.cursor = (!full && visited < ChunkEvents) ? m_state.delivered : last;
        QByteArray frames;
        quint64 perChannel[Channel::Count] = {};
        for (const EncodedEventPtr &e : m_picked) {
            frames += e->frame(c.style());
            ++perChannel[e->channel.index()];
        }
        m_picked.clear();
        for (Channel channel : Channel::all()) {
            if (perChannel[channel.index()])
                m_metrics->eventsDelivered(channel, perChannel[channel.index()]);
        }
        if (!frames.isEmpty())
            write(c, frames, failed);
    }
    if (isBehind(c))
        schedulePump(c); // more to send: after the other streams had a turn
    else
        settle(c);
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
        } else {
            group = int(m_groups.size());
            m_groups.emplace_back();
        }
        ShareGroup &g = m_groups[size_t(group)];
        g.key = key;
        g.filter = c.filter();
        g.style = c.style();
        g.chunked = c.chunked();
        if (g.filter.downloadId.isEmpty())
            m_anyDownloadGroups.push_back(group);
        else
            m_downloadGroups[g.filter.downloadId].push_back(group);
        it = m_groupIds.insert(key, group);
    }
    ++m_groups[size_t(*it)].users;
    return *it;
}

void StreamWorker::leaveShareGroup(int group)
{
    ShareGroup &g = m_groups[size_t(group)];
    if (--g.users > 0)
        return;
    // The last stream of a filter left: the group is reused, so distinct filters coming and
    // going never grow the table.
    const auto drop = [group](std::vector<int> &groups) {
        groups.erase(std::find(groups.begin(), groups.end(), group));
    };
    if (g.filter.downloadId.isEmpty()) {
        drop(m_anyDownloadGroups);
    } else {
        auto it = m_downloadGroups.find(g.filter.downloadId);
        drop(*it);
        if (it->empty())
            m_downloadGroups.erase(it);
    }
    m_groupIds.remove(g.key);
    g = ShareGroup();
    m_freeGroups.push_back(group);
}

void StreamWorker::makeLive(StreamConnection &c)
{
    auto &live = m_groups[size_t(c.shareGroup())].live;
    c.liveIndex = int(live.size());
    live.push_back(&c);
}

void StreamWorker::leaveLive(StreamConnection &c, EventId at)
{
    if (!c.isLive())
        return;
    auto &live = m_groups[size_t(c.shareGroup())].live;
    live[size_t(c.liveIndex)] = live.back();
    live[size_t(c.liveIndex)]->liveIndex = c.liveIndex;
    live.pop_back();
    c.liveIndex = -1;
    c.cursor = at; // from now on it keeps its own place
}

void StreamWorker::settle(StreamConnection &c)
{
    if (!c.isLive() && c.connected && c.waitDeadline == 0 && !c.hasPending()
        && !(c.cursor < m_state.delivered))
        makeLive(c);
}

void StreamWorker::deliver(const EncodedEventPtr &event)
{
    const QMutexLocker lock(&m_inboxLock);
    if (!m_inbox.empty() && m_inbox.back().kind == Inbound::Skip) {
        m_inbox.back().newest = event->id;
    } else if (m_inboxEvents >= m_options.maxQueuedEvents) {
        // This thread is this far behind the hub: what follows is not queued again but read
        // from the history, where it already is (see skipTo()).
        m_inbox.push_back({nullptr, Inbound::Skip, 0, event->id, false, 0});
    } else {
        m_inbox.push_back({event, Inbound::Event, 0, {}, false, 0});
        ++m_inboxEvents;
    }
    scheduleFlushLocked();
}

void StreamWorker::scheduleFlushLocked()
{
    if (!m_flushScheduled) {
        m_flushScheduled = true;
        QMetaObject::invokeMethod(this, &StreamWorker::flush, Qt::QueuedConnection);
    }
}

void StreamWorker::setHistory(quint32 epoch, EventId newest, bool reset, quint64 generation)
{
    const QMutexLocker lock(&m_inboxLock);
    m_inbox.push_back({nullptr, Inbound::History, epoch, newest, reset, generation});
    scheduleFlushLocked();
}

void StreamWorker::skipTo(EventId newest)
{
    // Every live stream goes on from the history, as a stream whose socket was full does: it
    // catches up chunk by chunk, or resyncs if the history no longer reaches back that far.
    if (!m_skipLog.isValid() || m_skipLog.elapsed() >= 10000) {
        qCWarning(lcHub) << "an I/O thread fell" << m_options.maxQueuedEvents
                         << "events behind; its streams catch up from the history";
        m_skipLog.start();
    }
    for (const auto &entry : m_connections)
        leaveLive(*entry, m_state.delivered);
    m_state.delivered = newest;
    for (const auto &entry : m_connections) {
        if (isBehind(*entry))
            schedulePump(*entry);
    }
}

void StreamWorker::applyHistory(quint32 epoch, EventId newest, bool reset, quint64 generation)
{
    const bool newEpoch = epoch != m_state.epoch;
    m_state.historyReady = true;
    m_state.epoch = epoch;
    m_state.delivered = newest;
    m_generation = generation;
    Failures failed;
    if (reset) {
        // Every stream's position belongs to the replaced history. In a new epoch every event
        // is new to them: they go on from its start. In the same epoch (what they missed was
        // trimmed away) they go on from the newest.
        const EventId from = newEpoch ? EventId(0, 0, epoch) : newest;
        for (const auto &entry : m_connections) {
            if (entry->waitDeadline != 0 || !entry->connected)
                continue;
            leaveLive(*entry, from);
            resyncAt(*entry, QStringLiteral("history_reset"), {}, from, &failed);
            pump(*entry, &failed);
        }
    } else {
        // Streams are not live before a first history (they wait), but a position from no
        // epoch must never stay behind: it would match no round and no pump.
        for (const auto &entry : m_connections) {
            if (entry->waitDeadline == 0 && !entry->isLive() && entry->cursor.epoch() != epoch)
                entry->cursor = newest;
        }
    }
    replanWaiting(&failed);
    removeAll(failed);
}

void StreamWorker::flush()
{
    std::vector<Inbound> inbox;
    {
        const QMutexLocker lock(&m_inboxLock);
        if (m_options.roundIntervalMs > 0 && m_inboxEvents > 0) {
            // A round of events waits for its interval (a history change alone does not);
            // m_flushScheduled stays set meanwhile, so nothing queues another flush().
            const qint64 left = m_lastRound.isValid() ? m_options.roundIntervalMs - m_lastRound.elapsed() : 0;
            if (left > 0) {
                if (!m_roundTimer->isActive())
                    m_roundTimer->start(int(left));
                return;
            }
            m_lastRound.start();
        }
        inbox.swap(m_inbox);
        m_inboxEvents = 0;
        m_flushScheduled = false;
    }
    // Events go out in rounds of at most RoundBytes; a history change in between is applied
    // in its place in the order.
    std::vector<EncodedEventPtr> events;
    const auto sendEvents = [&] {
        Failures failed;
        for (size_t start = 0; start < events.size();) {
            size_t end = start + 1;
            qsizetype bytes = events[start]->frames[0].size();
            while (end < events.size() && bytes + events[end]->frames[0].size() <= RoundBytes)
                bytes += events[end++]->frames[0].size();
            flushRound(events.data() + start, events.data() + end, &failed);
            removeAll(failed);
            failed.clear();
            start = end;
        }
        events.clear();
    };
    for (Inbound &in : inbox) {
        switch (in.kind) {
        case Inbound::Event:
            events.push_back(std::move(in.event));
            break;
        case Inbound::History:
            sendEvents();
            applyHistory(in.epoch, in.newest, in.reset, in.generation);
            break;
        case Inbound::Skip:
            sendEvents();
            skipTo(in.newest);
            break;
        }
    }
    sendEvents();
    Failures failed;
    replanWaiting(&failed);
    removeAll(failed);
}

void StreamWorker::replanWaiting(Failures *failed)
{
    if (m_waiting == 0)
        return;
    for (const auto &entry : m_connections) {
        if (entry->waitDeadline != 0)
            replan(*entry, QByteArray(entry->waitFor), false, failed);
    }
}

void StreamWorker::flushRound(const EncodedEventPtr *first, const EncodedEventPtr *last,
                              Failures *failed)
{
    const EventId newest = (*(last - 1))->id;
    // Only the groups the round concerns are visited: the groups of each event's download id,
    // and the groups that take every download. Each is matched and framed once per round.
    ++m_round;
    m_touched.clear();
    for (const EncodedEventPtr *e = first; e != last; ++e) {
        if ((*e)->downloadId.isEmpty())
            continue;
        const auto it = m_downloadGroups.constFind((*e)->downloadId);
        if (it == m_downloadGroups.cend())
            continue;
        for (int group : *it) {
            ShareGroup &g = m_groups[size_t(group)];
            if (g.live.empty())
                continue;
            touchGroup(group);
            if (g.filter.matches(**e)) {
                g.bytes += (*e)->frame(g.style);
                ++g.perChannel[(*e)->channel.index()];
            }
        }
    }
    for (int group : m_anyDownloadGroups) {
        ShareGroup &g = m_groups[size_t(group)];
        if (g.live.empty())
            continue;
        touchGroup(group);
        for (const EncodedEventPtr *e = first; e != last; ++e) {
            if (g.filter.matches(**e)) {
                g.bytes += (*e)->frame(g.style);
                ++g.perChannel[(*e)->channel.index()];
            }
        }
    }
    // Every live stream of a touched group gets the group's bytes; the sends go to the kernel
    // in batches, and what did not go out whole is dealt with once all went (the live lists
    // must not change while they are walked).
    quint64 delivered[Channel::Count] = {};
    quint64 bytesSent = 0;
    m_roundNow = nowMs();
    for (int group : m_touched) {
        ShareGroup &g = m_groups[size_t(group)];
        if (g.bytes.isEmpty())
            continue;
        if (g.chunked)
            g.bytes = chunk(g.bytes);
        const quint64 streams = g.live.size();
        for (int i = 0; i < Channel::Count; ++i)
            delivered[i] += g.perChannel[i] * streams;
        bytesSent += quint64(g.bytes.size()) * streams;
        for (StreamConnection *c : g.live) {
            c->stage(g.bytes, m_roundNow);
            m_sender->add(*c);
        }
    }
    m_sender->flush();
    for (int group : m_touched)
        m_groups[size_t(group)].bytes = QByteArray(); // the streams hold what they still need
    applyOutcomes(newest, failed);
    for (Channel channel : Channel::all()) {
        if (delivered[channel.index()])
            m_metrics->eventsDelivered(channel, delivered[channel.index()]);
    }
    m_metrics->bytesSent(bytesSent);
    m_state.delivered = newest;
}

void StreamWorker::touchGroup(int group)
{
    ShareGroup &g = m_groups[size_t(group)];
    if (g.round == m_round)
        return;
    g.round = m_round;
    g.bytes.clear();
    std::fill(std::begin(g.perChannel), std::end(g.perChannel), 0);
    m_touched.push_back(group);
}

void StreamWorker::onSent(StreamConnection &c, long result)
{
    const auto outcome = c.complete(result, m_roundNow);
    if (outcome != StreamConnection::WriteResult::Ok)
        m_outcomes.emplace_back(&c, outcome);
}

void StreamWorker::applyOutcomes(EventId at, Failures *failed)
{
    for (const auto &[c, outcome] : m_outcomes) {
        if (outcome == StreamConnection::WriteResult::Failed) {
            failed->push_back({c, Removal::WriteError});
            continue;
        }
        // Its socket is full: it leaves the live list and is fed from the history once it
        // drains, from `at` (what it was given).
        leaveLive(*c, at);
        watchWritable(*c, true);
    }
    m_outcomes.clear();
}

void StreamWorker::write(StreamConnection &c, const QByteArray &payload, Failures *failed)
{
    const QByteArray bytes = c.chunked() ? chunk(payload) : payload;
    switch (c.write(bytes, nowMs())) {
    case StreamConnection::WriteResult::Ok:
        break;
    case StreamConnection::WriteResult::Blocked:
        leaveLive(c, m_state.delivered);
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
    // Before `connected` (waiting for the history) a comment keeps proxies from timing out:
    // the first event of a stream is always `connected`.
    static const QByteArray waitingPlain = SseEncoder::comment("waiting for the event history");
    static const QByteArray waitingChunked = chunk(waitingPlain);
    Failures failed;
    m_roundNow = nowMs();
    quint64 bytesSent = 0;
    for (const auto &entry : m_connections) {
        StreamConnection &c = *entry;
        if (c.hasPending())
            continue; // not idle: bytes are on their way
        const QByteArray &bytes = c.connected ? (c.chunked() ? chunked : plain)
                                              : (c.chunked() ? waitingChunked : waitingPlain);
        c.stage(bytes, m_roundNow);
        m_sender->add(c);
        bytesSent += quint64(bytes.size());
    }
    m_sender->flush();
    applyOutcomes(m_state.delivered, &failed);
    m_metrics->bytesSent(bytesSent);
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
        if (why == Removal::NotReady)
            endStream(*conn, why); // a clean end, with the retry hint
        else
            remove(*conn, why);
    }
}

void StreamWorker::remove(StreamConnection &c, Removal why)
{
    switch (why) {
    case Removal::ClientClosed: m_metrics->streamEnded(Metrics::StreamEnd::ClientClosed); break;
    case Removal::Timeout:
    case Removal::NotReady: m_metrics->streamEnded(Metrics::StreamEnd::Timeout); break;
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
    leaveLive(c, {});
    leaveShareGroup(c.shareGroup());
    if (c.waitDeadline != 0)
        --m_waiting;
    if (c.pumpScheduled) {
        // Only in the queue of the next turn; runPumps() clears the flag of its own copy.
        const auto it = std::find(m_pumpQueue.begin(), m_pumpQueue.end(), &c);
        if (it != m_pumpQueue.end())
            m_pumpQueue.erase(it);
    }
    const QByteArray owner = c.owner();
    m_connections.erase(c.position); // closes the descriptor
    m_count.fetch_sub(1, std::memory_order_relaxed);
    if (m_closed)
        m_closed(owner);
}

void StreamWorker::closeAll()
{
    while (!m_connections.empty())
        endStream(*m_connections.front(), Removal::Shutdown);
}

} // namespace Hermes
