#pragma once

#include "settings/streamsettings.h"
#include "stream/batchsender.h"
#include "stream/encodedevent.h"
#include "stream/resumeplanner.h"
#include "stream/streamconnection.h"

#include <QElapsedTimer>
#include <QHash>
#include <QMutex>
#include <QObject>
#include <QTimer>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

class QSocketNotifier;

namespace Hermes {

class EventHistory;
class Metrics;

/**
 * Fans events out to the streams of one I/O thread, and feeds streams that are behind from
 * the history as their sockets drain. EventHub runs one per HERMES_IO_THREADS, each in its own
 * thread; deliver() and setHistory() may be called from any thread, everything else only in
 * the worker's own.
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
    /// Queues `event` (already in the history) for the next flush. Any thread.
    void deliver(const EncodedEventPtr &event);
    /// A history of `epoch` is in place (EventHistory::generation() `generation`), newest
    /// event `newest`, none of it to be sent live. `reset`: it replaces another history:
    /// streams get `resync_required`. Any thread; ordered with deliver().
    void setHistory(quint32 epoch, EventId newest, bool reset, quint64 generation);

    /// Streams handed to this worker and not ended yet (any thread; counted by the caller
    /// of addStream() through reserve(), so a stream on its way counts too).
    qsizetype connectionCount() const { return m_count.load(std::memory_order_relaxed); }
    void reserve() { m_count.fetch_add(1, std::memory_order_relaxed); }
    /// Ends every stream cleanly (a `retry:` hint, then the last chunk) and closes it.
    void closeAll();
    /// How it sends (after start()).
    BatchSender::Backend backend() const { return m_sender->backend(); }
    const QString &fallbackReason() const { return m_sender->fallbackReason(); }

    /// One HTTP chunk holding `payload`.
    static QByteArray chunk(const QByteArray &payload);

private:
    using ConnectionList = StreamConnection::List;
    /// What deliver() and setHistory() hand over, in order.
    struct Inbound
    {
        /// Event: `event`. History: see setHistory(). Skip: the worker fell too far behind;
        /// the events up to `newest` are read from the history (see skipTo()).
        enum Kind { Event, History, Skip };
        EncodedEventPtr event;
        Kind kind = Event;
        quint32 epoch = 0;
        EventId newest;
        bool reset = false;
        quint64 generation = 0;
    };
    /// Streams with the same filter, style and framing (see the class comment).
    struct ShareGroup
    {
        QString key; ///< empty: free
        StreamFilter filter;
        EventStyle style = EventStyle::Envelope;
        bool chunked = true;
        int users = 0;
        std::vector<StreamConnection *> live;
        quint64 round = 0;  ///< the round `bytes` belong to
        QByteArray bytes;   ///< this round's frames for the group
        quint64 perChannel[Channel::Count] = {}; ///< events of this round, by channel index
    };
    /// NotReady: ended cleanly (a retry hint) before it started: no history came in time.
    enum class Removal { ClientClosed, Timeout, Shutdown, SlowClient, WriteError, NotReady };
    using Failures = std::vector<std::pair<StreamConnection *, Removal>>;

    void flush();
    void applyHistory(quint32 epoch, EventId newest, bool reset, quint64 generation);
    void skipTo(EventId newest);
    /// Queues flush() unless it is queued (m_inboxLock held).
    void scheduleFlushLocked();
    /// Plans again the streams waiting for their resume point (something arrived).
    void replanWaiting(Failures *failed);
    void flushRound(const EncodedEventPtr *first, const EncodedEventPtr *last, Failures *failed);
    void touchGroup(int group);
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
    void resync(StreamConnection &c, const QString &reason, const QByteArray &lastEventId,
                Failures *failed);
    void resyncAt(StreamConnection &c, const QString &reason, const QByteArray &lastEventId,
                  EventId at, Failures *failed);
    void pump(StreamConnection &c, Failures *failed);
    void schedulePump(StreamConnection &c);
    void runPumps();
    void write(StreamConnection &c, const QByteArray &payload, Failures *failed);
    void watchWritable(StreamConnection &c, bool on);
    void removeAll(const Failures &failed);
    void remove(StreamConnection &c, Removal why);
    void endStream(StreamConnection &c, Removal why);
    /// The share group of a filter, style and framing: a small integer, so the fan-out
    /// indexes an array per stream instead of hashing a key.
    int joinShareGroup(const StreamConnection &c);
    void leaveShareGroup(int group);
    /// A caught-up stream joins its group's live list; leaving it, it is at `at`.
    void makeLive(StreamConnection &c);
    void leaveLive(StreamConnection &c, EventId at);
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
    ConnectionList m_connections; ///< in order of arrival, so deadlines ascend
    std::atomic<qsizetype> m_count{0};
    int m_waiting = 0;            ///< streams waiting for their resume point
    QMutex m_inboxLock;
    std::vector<Inbound> m_inbox; ///< guarded by m_inboxLock
    int m_inboxEvents = 0;        ///< events in m_inbox, guarded by m_inboxLock
    QElapsedTimer m_skipLog;
    std::vector<EncodedEventPtr> m_picked; ///< pump()'s events, reused
    bool m_flushScheduled = false; ///< guarded by m_inboxLock
    std::deque<StreamConnection *> m_pumpQueue;
    bool m_pumpsScheduled = false;
    std::vector<ShareGroup> m_groups;
    QHash<QString, int> m_groupIds;      ///< share-group key → group
    std::vector<int> m_freeGroups;
    std::vector<int> m_anyDownloadGroups;               ///< groups without a download id
    QHash<QString, std::vector<int>> m_downloadGroups; ///< download id → its groups
    quint64 m_round = 0;
    std::vector<int> m_touched; ///< the groups of the current round
    quint64 m_generation = 0;   ///< the history generation the streams are in
    std::unique_ptr<BatchSender> m_sender; ///< made by start(): an io_uring has one submitter
    /// Outcomes of a round's sends that need more than counting, applied after the round.
    std::vector<std::pair<StreamConnection *, StreamConnection::WriteResult>> m_outcomes;
    EventId m_roundNewest;
    qint64 m_roundNow = 0;
    quint64 m_roundBytes = 0;
    int m_epoll = -1;
    QSocketNotifier *m_epollNotifier = nullptr;
    QTimer *m_heartbeat = nullptr;
    QTimer *m_tick = nullptr;
    QTimer *m_roundTimer = nullptr; ///< holds a flush back to roundIntervalMs after the last
    QElapsedTimer m_lastRound;      ///< when flush() last took events
};

} // namespace Hermes
