#include "stream/streamworker.h"

#include "stream/eventhistory.h"
#include "stream/streamframes.h"
#include "deadpeer.h"
#include "logging.h"
#include "metrics.h"

#include <QElapsedTimer>

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <sys/socket.h>

namespace Hermes {

// A flush goes out in rounds of at most this many bytes of frames, so a stream whose socket
// fills up mid-burst holds a reference to one round, not to the whole burst; the rest reaches
// it from the history as the socket drains.
static constexpr qsizetype RoundBytes = 64 * 1024;
// How long a new stream waits for a first history (Redis reconnecting) before it is ended
// with a retry hint, to come back later.
static constexpr int HistoryWaitMs = 10000;
// The metric outcome of each plan kind (Live, Replay, Wait: never counted, Resync, End).
static constexpr Metrics::Resume ResumeOutcomes[] = {
    Metrics::Resume::CaughtUp, Metrics::Resume::Replayed, Metrics::Resume::Count,
    Metrics::Resume::Resync, Metrics::Resume::NotReady};

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
      m_inbox(options.maxQueuedEvents, options.roundIntervalMs, options.maxQueuedBytes, this),
      m_pump(history, options.maxClientBuffer), m_sockets(this)
{
    connect(&m_inbox, &StreamInbox::flushDue, this, &StreamWorker::flush);
    connect(&m_sockets, &StreamSocketSet::activity, this, &StreamWorker::onSocketsReady);
}

void StreamWorker::start()
{
    HERMES_ASSERT_THREAD(this);
    m_sender = std::make_unique<BatchSender>(
        m_options.ioBackend, [this](StreamConnection &c, long result) { onSent(c, result); });
    m_sockets.start();
    m_heartbeat = new QTimer(this);
    m_heartbeat->setInterval(m_options.heartbeatIntervalSec * 1000);
    connect(m_heartbeat, &QTimer::timeout, this, &StreamWorker::sendHeartbeat);
    m_heartbeat->start();
    // Rotation, send timeouts and resume waits are checked once a second.
    m_tick = new QTimer(this);
    m_tick->setInterval(1000);
    connect(m_tick, &QTimer::timeout, this, &StreamWorker::tick);
    m_tick->start();
}

// The sockets (a member) close every descriptor, then their epoll set.
StreamWorker::~StreamWorker() = default;

void StreamWorker::addStream(int fd, const QByteArray &head, const StreamParams &params)
{
    HERMES_ASSERT_THREAD(this);
    const qint64 deadline = m_options.connectionTimeoutSec > 0
        ? nowMs() + qint64(m_options.connectionTimeoutSec) * 1000
        : 0;
    // No TCP_USER_TIMEOUT here: Linux applies it to a closed receive window too and then ends
    // the connection without a RST, so a live client that stopped reading for a while was left
    // waiting on a stream that no longer existed (a 10-minute soak of the delivery model: two
    // clients hung for minutes). A slow client is the send timeout's, which closes properly.
    StreamConnection &c = m_sockets.add(fd, params, deadline);
    c.setShareGroup(m_groups.join(c));
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
        m_sockets.watchWritable(c, true);
    removeAll(failed);
}

void StreamWorker::sendConnected(StreamConnection &c, EventId at, Failures *failed)
{
    c.connected = true;
    write(c, StreamFrames::connected(at, m_options.heartbeatIntervalSec, c.style()), failed);
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
    if (!lastEventId.isEmpty()) // a resume: one outcome each, once it no longer waits
        m_metrics->resumed(ResumeOutcomes[plan.kind]);
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
        resync(c, *plan.reason, lastEventId, failed);
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

void StreamWorker::resync(StreamConnection &c, ResyncReason reason,
                          const QByteArray &lastEventId, Failures *failed)
{
    resyncAt(c, reason, lastEventId, m_state.delivered, failed);
}

void StreamWorker::resyncAt(StreamConnection &c, ResyncReason reason,
                            const QByteArray &lastEventId, EventId at, Failures *failed)
{
    // The stream goes on from `at`, which the event carries as its id.
    c.cursor = at;
    m_metrics->resyncSent(reason);
    write(c, StreamFrames::resyncRequired(reason, lastEventId, at, c.style()), failed);
}

bool StreamWorker::historyAhead() const
{
    return m_history->generation() != m_generation;
}

void StreamWorker::pump(StreamConnection &c, Failures *failed)
{
    for (int turn = 0; turn < CatchUpPump::ChunksPerTurn && isBehind(c); ++turn) {
        CatchUpPump::Chunk chunk;
        const CatchUpPump::Read read = m_pump.read(c, m_state.delivered, m_generation, &chunk);
        if (read == CatchUpPump::Read::HistoryAhead)
            return; // the history changes under it: the change, when applied, replans
        if (read == CatchUpPump::Read::Exceeded) {
            // It fell behind further than the history reaches: what it missed is gone.
            resync(c, ResyncReason::HistoryExceeded, {}, failed);
            break;
        }
        c.cursor = chunk.cursor;
        for (Channel channel : Channel::all()) {
            if (chunk.perChannel[channel.index()]) {
                m_metrics->eventsDelivered(channel, chunk.perChannel[channel.index()]);
                m_metrics->eventsReplayed(chunk.perChannel[channel.index()]);
            }
        }
        if (!chunk.frames.isEmpty())
            write(c, chunk.frames, failed);
    }
    if (isBehind(c))
        schedulePump(c); // more to send: after the other streams had a turn
    else
        settle(c);
}

void StreamWorker::schedulePump(StreamConnection &c)
{
    if (m_pump.schedule(c))
        QMetaObject::invokeMethod(this, &StreamWorker::runPumps, Qt::QueuedConnection);
}

void StreamWorker::runPumps()
{
    HERMES_ASSERT_THREAD(this);
    const std::deque<StreamConnection *> turn = m_pump.takeTurn();
    Failures failed;
    for (StreamConnection *c : turn) {
        c->pumpScheduled = false;
        pump(*c, &failed);
    }
    removeAll(failed);
}

void StreamWorker::settle(StreamConnection &c)
{
    if (!c.isLive() && c.connected && c.waitDeadline == 0 && !c.hasPending()
        && !(c.cursor < m_state.delivered))
        m_groups.makeLive(c);
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
    for (const auto &entry : m_sockets)
        leaveLive(*entry, m_state.delivered);
    m_state.delivered = newest;
    for (const auto &entry : m_sockets) {
        if (isBehind(*entry))
            schedulePump(*entry);
    }
}

void StreamWorker::applyHistory(quint32 epoch, EventId newest, bool reset, quint64 generation)
{
    const EventId wasDelivered = m_state.delivered; // what every live stream has been sent
    const bool sameEpoch = m_state.historyReady && m_state.epoch == epoch;
    m_state.historyReady = true;
    m_state.epoch = epoch;
    m_state.delivered = newest;
    m_generation = generation;
    Failures failed;
    if (reset && sameEpoch) {
        // The same timeline read again (Redis trimmed or lost a stream past what this node had
        // delivered): every position stands. Each stream goes on from its own through the
        // history, which resyncs (history_exceeded) only those whose channels lost events after
        // it; the others miss nothing and are not told to resync.
        for (const auto &entry : m_sockets) {
            if (entry->waitDeadline != 0 || !entry->connected)
                continue;
            const EventId at = entry->isLive() ? wasDelivered : entry->cursor;
            leaveLive(*entry, std::min(at, newest));
            pump(*entry, &failed); // then live again once caught up
        }
    } else if (reset) {
        // Every stream's position belongs to the replaced history: it is told to resync and
        // goes on from the same position in the new one. Positions outlive epochs (Redis' one
        // sequence only grows; a flushed database starts again from its clock), so what the
        // new history holds above it is new to the stream (events published after a flush,
        // before this node noticed), and what it holds below it is not: a history replaced
        // after a restore keeps the events streams already had, now under the new epoch's
        // ids — sent again they would be duplicates. Never above the newest here.
        for (const auto &entry : m_sockets) {
            if (entry->waitDeadline != 0 || !entry->connected)
                continue;
            // A live stream's own cursor is where it went live; it has been sent everything
            // the worker delivered since.
            const EventId at = entry->isLive() ? wasDelivered : entry->cursor;
            const EventId from = std::min(EventId(at.ms(), at.seq(), epoch), newest);
            leaveLive(*entry, from);
            resyncAt(*entry, ResyncReason::HistoryReset, {}, from, &failed);
            pump(*entry, &failed);
        }
    } else {
        // Streams are not live before a first history (they wait), but a position from no
        // epoch must never stay behind: it would match no round and no pump.
        for (const auto &entry : m_sockets) {
            if (entry->waitDeadline == 0 && !entry->isLive() && entry->cursor.epoch() != epoch)
                entry->cursor = newest;
        }
    }
    replanWaiting(&failed);
    removeAll(failed);
}

void StreamWorker::applyLoss(Channel::Mask channels)
{
    // As a reset, for the streams on those channels only: they go on from the newest (the
    // lost events had no place in the order; what they got so far was complete up to it).
    // Streams still waiting to be placed are planned against the history, which says so.
    Failures failed;
    for (const auto &entry : m_sockets) {
        if (entry->waitDeadline != 0 || !entry->connected || !(entry->filter().channels & channels))
            continue;
        leaveLive(*entry, m_state.delivered);
        resyncAt(*entry, ResyncReason::EventsLost, {}, m_state.delivered, &failed);
        settle(*entry);
    }
    removeAll(failed);
}

void StreamWorker::flush()
{
    HERMES_ASSERT_THREAD(this);
    std::vector<StreamInbox::Entry> inbox;
    if (!m_inbox.take(&inbox))
        return; // a round of events waits for its interval: flushDue() comes again
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
    for (StreamInbox::Entry &in : inbox) {
        switch (in.kind) {
        case StreamInbox::Entry::Event:
            events.push_back(std::move(in.event));
            break;
        case StreamInbox::Entry::History:
            sendEvents();
            applyHistory(in.epoch, in.newest, in.reset, in.generation);
            break;
        case StreamInbox::Entry::Skip:
            sendEvents();
            skipTo(in.newest);
            break;
        case StreamInbox::Entry::Lost:
            sendEvents();
            applyLoss(in.channels);
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
    for (const auto &entry : m_sockets) {
        if (entry->waitDeadline != 0)
            replan(*entry, QByteArray(entry->waitFor), false, failed);
    }
}

void StreamWorker::flushRound(const EncodedEventPtr *first, const EncodedEventPtr *last,
                              Failures *failed)
{
    const EventId newest = (*(last - 1))->id;
    const std::vector<int> &touched = m_groups.frameRound(first, last);
    // Every live stream of a touched group gets the group's bytes; the sends go to the kernel
    // in batches, and what did not go out whole is dealt with once all went (the live lists
    // must not change while they are walked).
    quint64 delivered[Channel::Count] = {};
    quint64 bytesSent = 0;
    m_roundNow = nowMs();
    for (int group : touched) {
        ShareGroupIndex::Group &g = m_groups.group(group);
        if (g.bytes.isEmpty())
            continue;
        if (g.chunked)
            g.bytes = StreamFrames::chunk(g.bytes);
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
    m_groups.endRound(); // the streams hold what they still need
    applyOutcomes(newest, failed);
    for (Channel channel : Channel::all()) {
        if (delivered[channel.index()])
            m_metrics->eventsDelivered(channel, delivered[channel.index()]);
    }
    m_metrics->bytesSent(bytesSent);
    m_state.delivered = newest;
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
        m_sockets.watchWritable(*c, true);
    }
    m_outcomes.clear();
}

void StreamWorker::write(StreamConnection &c, const QByteArray &payload, Failures *failed)
{
    const QByteArray bytes = c.chunked() ? StreamFrames::chunk(payload) : payload;
    switch (c.write(bytes, nowMs())) {
    case StreamConnection::WriteResult::Ok:
        break;
    case StreamConnection::WriteResult::Blocked:
        leaveLive(c, m_state.delivered);
        m_sockets.watchWritable(c, true);
        break;
    case StreamConnection::WriteResult::Failed:
        // Removed by the caller after its loop, which may still be walking the list.
        failed->push_back({&c, Removal::WriteError});
        return;
    }
    m_metrics->bytesSent(quint64(bytes.size()));
}

void StreamWorker::onSocketsReady()
{
    HERMES_ASSERT_THREAD(this);
    Failures failed;
    for (const StreamSocketSet::Ready &ready : m_sockets.poll(nowMs())) {
        switch (ready.what) {
        case StreamSocketSet::Readiness::Closed:
            failed.push_back({ready.stream, Removal::ClientClosed});
            break;
        case StreamSocketSet::Readiness::WriteFailed:
            failed.push_back({ready.stream, Removal::WriteError});
            break;
        case StreamSocketSet::Readiness::Drained:
            pump(*ready.stream, &failed); // the socket drained: feed it what it is behind on
            break;
        }
    }
    removeAll(failed);
}

void StreamWorker::sendHeartbeat()
{
    HERMES_ASSERT_THREAD(this);
    const QByteArray plain = StreamFrames::heartbeat();
    const QByteArray chunked = StreamFrames::chunk(plain);
    Failures failed;
    m_roundNow = nowMs();
    quint64 bytesSent = 0;
    for (const auto &entry : m_sockets) {
        StreamConnection &c = *entry;
        if (c.hasPending())
            continue; // not idle: bytes are on their way
        // Before `connected` (waiting for the history) a comment keeps proxies from timing
        // out: the first event of a stream is always `connected`.
        const QByteArray &bytes = c.connected ? (c.chunked() ? chunked : plain)
                                              : StreamFrames::waitingComment(c.chunked());
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
    HERMES_ASSERT_THREAD(this);
    const qint64 now = nowMs();
    if (m_options.connectionTimeoutSec > 0) {
        // Arrival order is deadline order.
        while (!m_sockets.empty() && m_sockets.front().deadline() <= now)
            endStream(m_sockets.front(), Removal::Timeout);
    }
    Failures failed;
    const qint64 sendTimeoutMs = qint64(m_options.sendTimeoutSec) * 1000;
    for (const auto &entry : m_sockets) {
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
    c.write(StreamFrames::end(m_options.retryMs, c.chunked()), nowMs());
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
    case Removal::Revoked: m_metrics->streamEnded(Metrics::StreamEnd::Revoked); break;
    case Removal::SlowClient:
    case Removal::WriteError: {
        const bool slow = why == Removal::SlowClient;
        m_metrics->connectionDropped(slow ? Metrics::Drop::SlowClient : Metrics::Drop::WriteError);
        qCInfo(lcHub) << "dropping a stream:"
                      << (slow ? "its socket took nothing for the send timeout" : "write failed");
        break;
    }
    }
    leaveLive(c, {});
    m_groups.leave(c.shareGroup());
    if (c.waitDeadline != 0)
        --m_waiting;
    m_pump.cancel(c);
    const QByteArray owner = c.owner();
    m_sockets.remove(c); // closes the descriptor
    m_count.fetch_sub(1, std::memory_order_relaxed);
    if (m_closed)
        m_closed(owner);
}

void StreamWorker::closeAll()
{
    HERMES_ASSERT_THREAD(this);
    while (!m_sockets.empty())
        endStream(m_sockets.front(), Removal::Shutdown);
}

void StreamWorker::closeOwnedBy(const QSet<QByteArray> &owners)
{
    HERMES_ASSERT_THREAD(this);
    std::vector<StreamConnection *> revoked;
    for (const auto &entry : m_sockets) {
        if (owners.contains(entry->owner()))
            revoked.push_back(entry.get());
    }
    for (StreamConnection *c : revoked)
        endStream(*c, Removal::Revoked);
}

} // namespace Hermes
