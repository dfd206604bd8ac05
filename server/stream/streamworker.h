#pragma once

#include "stream/encodedevent.h"
#include "stream/resumeplanner.h"
#include "stream/streamconnection.h"

#include <QHash>
#include <QObject>
#include <QTimer>

#include <deque>
#include <vector>

class QSocketNotifier;
class QTcpSocket;

namespace Hermes {

class EventHistory;
class Metrics;

/**
 * Fans events out to the streams of one thread, and feeds streams that are behind from the
 * history as their sockets drain.
 *
 * A stream's socket is taken over from Qt once its response starts (see StreamConnection) and
 * watched with one epoll set, itself watched by one QSocketNotifier: nothing per stream lives
 * in Qt. Events handed to deliver() are written at the next event-loop iteration, all of them
 * in one send per stream (in rounds of at most a few tens of KB): a burst costs one syscall
 * per stream, not one per event. Streams with the same filter, style and framing share one
 * buffer per round.
 *
 * Only a stream that is caught up and whose socket took everything gets live bytes. Any other
 * stream — one that resumed with Last-Event-ID, or whose socket was full when a round went
 * out — is "behind": it is fed from the history, a bounded chunk at a time, each time its
 * socket drains, until it has caught up. A replay or a burst therefore never queues more
 * than a chunk per stream and is never a reason to drop a client; a client whose socket
 * accepts nothing for the send timeout is dropped, and one that falls so far behind that the
 * history no longer holds what it missed gets `resync_required`.
 */
class StreamWorker final : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        int heartbeatIntervalSec = 30;
        int connectionTimeoutSec = 300; ///< 0: never
        int retryMs = 3000;
        qint64 maxClientBuffer = 1 << 20; ///< most bytes a stream is given at once
        int sendTimeoutSec = 60;          ///< drop a stream whose socket takes nothing this long
        int resumeWaitMs = 3000;          ///< how long a resume may wait (see ResumePlanner)
    };

    StreamWorker(const Options &options, const EventHistory *history,
                 const ResumePlanner *planner, Metrics *metrics, QObject *parent = nullptr);
    ~StreamWorker() override;

    /// Takes `socket` over: writes `head` (status line and headers), the `connected` event,
    /// then what ResumePlanner decides for `params.lastEventId`, and from then on every event
    /// that passes the filter. Qt must have nothing left to write on it.
    void addStream(QTcpSocket *socket, const QByteArray &head, const StreamParams &params);
    /// Queues `event` (already in the history) for the next flush.
    void deliver(const EncodedEventPtr &event);
    /// A history of `epoch` is in place, newest event `newest`, none of it to be sent live.
    /// `reset`: it replaces another epoch's history: streams get `resync_required`.
    void setHistory(quint32 epoch, EventId newest, bool reset);

    qsizetype connectionCount() const { return qsizetype(m_connections.size()); }
    /// Open streams opened with this `StreamParams::owner` (quotas per credential).
    int streamsOwnedBy(const QByteArray &owner) const { return m_owners.value(owner); }
    /// Ends every stream cleanly (a `retry:` hint, then the last chunk) and closes it.
    void closeAll();

    /// One HTTP chunk holding `payload`.
    static QByteArray chunk(const QByteArray &payload);

private:
    using ConnectionList = StreamConnection::List;
    enum class Removal { ClientClosed, Timeout, Shutdown, SlowClient, WriteError };
    using Failures = std::vector<std::pair<StreamConnection *, Removal>>;

    void flush();
    void flushRound(const EncodedEventPtr *first, const EncodedEventPtr *last, Failures *failed);
    void sendHeartbeat();
    void tick();
    void onSocketsReady();
    void applyPlan(StreamConnection &c, const QByteArray &lastEventId,
                   const ResumePlanner::Plan &plan, Failures *failed);
    void replan(StreamConnection &c, const QByteArray &lastEventId, bool waitOver,
                Failures *failed);
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
    bool isBehind(const StreamConnection &c) const
    {
        return c.waitDeadline == 0 && !c.hasPending() && c.cursor < m_state.delivered;
    }

    Options m_options;
    const EventHistory *m_history;
    const ResumePlanner *m_planner;
    Metrics *m_metrics;
    ResumePlanner::State m_state; ///< the epoch, whether the history is ready, what went out
    ConnectionList m_connections; ///< in order of arrival, so deadlines ascend
    int m_waiting = 0;            ///< streams waiting for their resume point
    std::vector<EncodedEventPtr> m_pending;
    bool m_flushScheduled = false;
    std::deque<StreamConnection *> m_pumpQueue;
    bool m_pumpsScheduled = false;
    QHash<QByteArray, int> m_owners;     ///< owner → open streams (non-empty owners only)
    QHash<QString, int> m_groupIds;      ///< share-group key → group
    std::vector<QString> m_groupKeys;    ///< group → key (empty when free)
    std::vector<int> m_groupUsers;       ///< group → streams in it
    std::vector<int> m_freeGroups;
    int m_epoll = -1;
    QSocketNotifier *m_epollNotifier = nullptr;
    QTimer m_heartbeat;
    QTimer m_tick;
};

} // namespace Hermes
