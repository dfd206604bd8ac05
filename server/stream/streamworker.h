#pragma once

#include "settings/streamsettings.h"
#include "stream/batchsender.h"
#include "stream/catchuppump.h"
#include "stream/encodedevent.h"
#include "stream/resumeplanner.h"
#include "stream/sharegroupindex.h"
#include "stream/streamconnection.h"
#include "stream/streaminbox.h"
#include "stream/streamsocketset.h"
#include "threadaffinity.h"

#include <QElapsedTimer>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

namespace Hermes {

class EventHistory;
class Metrics;

/**
 * Fans events out to the streams of one I/O thread, and feeds streams that are behind from
 * the history as their sockets drain. EventHub runs one per HERMES_IO_THREADS, each in its own
 * thread; the functions marked HERMES_ANY_THREAD may be called from any thread, everything
 * else only in the worker's own (the public ones and the event-loop entry points assert it).
 *
 * The worker composes: its StreamInbox (what other threads hand over), its StreamSocketSet (the
 * sockets, in arrival order, and their epoll watch), its ShareGroupIndex (share groups and
 * their live lists), its CatchUpPump (streams behind, fed from the history), and a
 * BatchSender; it decides what each stream gets and when.
 *
 * A stream's socket is taken over from Qt once its response starts (see StreamConnection) and
 * watched with one epoll set, itself watched by one QSocketNotifier: nothing per stream lives
 * in Qt. Events handed to deliver() are written at the worker's next event-loop iteration,
 * all of them in one send per stream (in rounds of at most a few tens of KB): a burst costs
 * one send per stream, not one per event, and the sends of a round go to the kernel in
 * batches (BatchSender: io_uring, or one send() each).
 *
 * Streams with the same filter, style and framing form a share group: one buffer per group
 * and round. A stream that is caught up and whose socket took everything is "live": it sits in
 * its group's list, and a round visits only the groups its events concern (the groups of each
 * event's download id, and the groups that take every download) — an event costs the same
 * however many streams watch other downloads. Any other stream — one that resumed with
 * Last-Event-ID, or whose socket was full when a round went out — is "behind": it is fed from
 * the history, a bounded chunk at a time, each time its socket drains, until it has caught up
 * and is live again. A replay or a burst therefore never queues more than a chunk per stream
 * and is never a reason to drop a client; a client whose socket accepts nothing for the send
 * timeout is dropped, and one that falls so far behind that the history no longer holds what
 * it missed gets `resync_required`.
 */
class StreamWorker final : public QObject
{
    Q_OBJECT
public:
    /// The HERMES_SSE_* / HERMES_IO_* settings group (see StreamSettings).
    using Options = StreamSettings;
    /// Called in the worker's thread when a stream ends, with its StreamParams::owner.
    using Closed = std::function<void(const QByteArray &owner)>;

    StreamWorker(const Options &options, const EventHistory *history,
                 const ResumePlanner *planner, Metrics *metrics, Closed closed,
                 QObject *parent = nullptr);
    ~StreamWorker() override;

    /// Starts the timers and the socket watch, in the thread the worker lives in.
    void start();
    /// Takes the stream socket `fd` over (the worker owns it from now on): writes `head`
    /// (status line and headers), the `connected` event, then what ResumePlanner decides for
    /// `params.lastEventId`, and from then on every event that passes the filter.
    void addStream(int fd, const QByteArray &head, const StreamParams &params);
    /// Queues `event` (already in the history) for the next flush (StreamInbox: it locks).
    HERMES_ANY_THREAD void deliver(const EncodedEventPtr &event) { m_inbox.deliver(event); }
    /// A history of `epoch` is in place (EventHistory::generation() `generation`), newest
    /// event `newest`, none of it to be sent live. `reset`: it replaces another history:
    /// streams get `resync_required`. Ordered with deliver() (StreamInbox: it locks).
    HERMES_ANY_THREAD void setHistory(quint32 epoch, EventId newest, bool reset,
                                      quint64 generation)
    {
        m_inbox.setHistory(epoch, newest, reset, generation);
    }

    /// Events on `channels` may have been lost just now (Broker::eventsLost(); the history
    /// already says so, EventHistory::markLost()): every open stream on them gets
    /// `resync_required` (`events_lost`) and goes on from the newest. Ordered with deliver().
    HERMES_ANY_THREAD void eventsLost(Channel::Mask channels) { m_inbox.eventsLost(channels); }

    /// Streams handed to this worker and not ended yet (an atomic; counted by the caller
    /// of addStream() through reserve(), so a stream on its way counts too).
    HERMES_ANY_THREAD qsizetype connectionCount() const
    {
        return m_count.load(std::memory_order_relaxed);
    }
    HERMES_ANY_THREAD void reserve() { m_count.fetch_add(1, std::memory_order_relaxed); }
    /// Ends every stream cleanly (a `retry:` hint, then the last chunk) and closes it.
    void closeAll();
    /// Ends the streams whose StreamParams::owner is in `owners` the same way (their
    /// credential was revoked: they come back to a 401). Called queued, after addStream() of
    /// any stream the hub handed over before: none slips through.
    void closeOwnedBy(const QSet<QByteArray> &owners);
    /// How it sends (after start()).
    BatchSender::Backend backend() const
    {
        HERMES_ASSERT_THREAD(this);
        return m_sender->backend();
    }
    const QString &fallbackReason() const
    {
        HERMES_ASSERT_THREAD(this);
        return m_sender->fallbackReason();
    }

private:
    /// NotReady: ended cleanly (a retry hint) before it started: no history came in time.
    enum class Removal { ClientClosed, Timeout, Shutdown, SlowClient, WriteError, NotReady, Revoked };
    using Failures = std::vector<std::pair<StreamConnection *, Removal>>;

    void flush();
    void applyHistory(quint32 epoch, EventId newest, bool reset, quint64 generation);
    void skipTo(EventId newest);
    void applyLoss(Channel::Mask channels);
    /// Plans again the streams waiting for their resume point (something arrived).
    void replanWaiting(Failures *failed);
    void flushRound(const EncodedEventPtr *first, const EncodedEventPtr *last, Failures *failed);
    void onSent(StreamConnection &c, long result);
    /// Deals with the sends of a round that did not go out whole (see flushRound()).
    void applyOutcomes(EventId at, Failures *failed);
    void sendHeartbeat();
    void tick();
    void onSocketsReady();
    void applyPlan(StreamConnection &c, const QByteArray &lastEventId,
                   const ResumePlanner::Plan &plan, Failures *failed);
    void replan(StreamConnection &c, const QByteArray &lastEventId, bool waitOver,
                Failures *failed);
    void sendConnected(StreamConnection &c, EventId at, Failures *failed);
    void resync(StreamConnection &c, ResyncReason reason, const QByteArray &lastEventId,
                Failures *failed);
    void resyncAt(StreamConnection &c, ResyncReason reason, const QByteArray &lastEventId,
                  EventId at, Failures *failed);
    void pump(StreamConnection &c, Failures *failed);
    void schedulePump(StreamConnection &c);
    void runPumps();
    void write(StreamConnection &c, const QByteArray &payload, Failures *failed);
    void removeAll(const Failures &failed);
    void remove(StreamConnection &c, Removal why);
    void endStream(StreamConnection &c, Removal why);
    /// A live stream leaves its group's live list; from now on it keeps its own place, `at`.
    void leaveLive(StreamConnection &c, EventId at)
    {
        if (!c.isLive())
            return;
        m_groups.leaveLive(c);
        c.cursor = at;
    }
    /// Makes a stream that has caught up live again.
    void settle(StreamConnection &c);
    bool isBehind(const StreamConnection &c) const
    {
        return !c.isLive() && c.waitDeadline == 0 && !c.hasPending()
            && c.cursor < m_state.delivered;
    }
    /// The history was replaced and the change is still on its way in the inbox: until it is
    /// applied, nothing is read from the history. (Called with the history's lock held.)
    bool historyAhead() const;

    Options m_options;
    const EventHistory *m_history;
    const ResumePlanner *m_planner;
    Metrics *m_metrics;
    Closed m_closed;
    ResumePlanner::State m_state; ///< the epoch, whether the history is ready, what went out
    std::atomic<qsizetype> m_count{0};
    int m_waiting = 0;            ///< streams waiting for their resume point
    StreamInbox m_inbox;          ///< what deliver() and setHistory() hand over
    QElapsedTimer m_skipLog;
    ShareGroupIndex m_groups;
    CatchUpPump m_pump;
    quint64 m_generation = 0;   ///< the history generation the streams are in
    std::unique_ptr<BatchSender> m_sender; ///< made by start(): an io_uring has one submitter
    /// Outcomes of a round's sends that need more than counting, applied after the round.
    std::vector<std::pair<StreamConnection *, StreamConnection::WriteResult>> m_outcomes;
    qint64 m_roundNow = 0;
    StreamSocketSet m_sockets; ///< the streams, in order of arrival (so deadlines ascend)
    QTimer *m_heartbeat = nullptr;
    QTimer *m_tick = nullptr;
};

} // namespace Hermes
