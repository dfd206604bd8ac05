#pragma once

#include "stream/encodedevent.h"
#include "stream/streamconnection.h"

#include <QHash>
#include <QObject>
#include <QTimer>

#include <vector>

class QSocketNotifier;
class QTcpSocket;

namespace Hermes {

class EventHistory;
class Metrics;

/**
 * Fans events out to the streams of one thread.
 *
 * A stream's socket is taken over from Qt once its response starts (see StreamConnection) and
 * watched with one epoll set, itself watched by one QSocketNotifier: nothing per stream lives
 * in Qt. Events handed to deliver() are queued and written at the next event-loop iteration,
 * all of them in one send per client: a burst costs one syscall per client, not one per
 * event. Clients with no filter share one buffer per style. One heartbeat timer and one expiry
 * check serve every stream of the worker.
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
        qint64 maxClientBuffer = 1 << 20;
    };

    StreamWorker(const Options &options, const EventHistory *history, Metrics *metrics,
                 QObject *parent = nullptr);
    ~StreamWorker() override;

    /// Takes `socket` over: writes `head` (status line and headers), the `connected` event,
    /// then the events missed since `lastEventId` (or `resync_required`), and from then on
    /// every live event that passes `filter`. Qt must have nothing left to write on it.
    void addStream(QTcpSocket *socket, const QByteArray &head, const StreamParams &params,
                   EventId historyStart);
    void deliver(const EncodedEventPtr &event);
    /// Events up to `id` need no live delivery here (loaded history): replay may use them.
    void markDelivered(EventId id) { m_flushedUpTo = std::max(m_flushedUpTo, id); }
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

    QByteArray openingFrames(const StreamFilter &filter, EventStyle style,
                             const QByteArray &lastEventId, EventId historyStart,
                             EventId *skipUpTo) const;
    void flush();
    void sendHeartbeat();
    void expireStreams();
    void onSocketsReady();
    void write(StreamConnection &c, const QByteArray &bytes, Failures *failed);
    void watchWritable(StreamConnection &c, bool on);
    void remove(StreamConnection &c, Removal why);
    void endStream(StreamConnection &c, Removal why);
    /// The share group of a filter and style: a small integer, so the fan-out indexes an
    /// array per stream instead of hashing a key.
    int joinShareGroup(const StreamFilter &filter, EventStyle style);
    void leaveShareGroup(int group);

    Options m_options;
    const EventHistory *m_history;
    Metrics *m_metrics;
    ConnectionList m_connections; ///< in order of arrival, so deadlines ascend
    std::vector<EncodedEventPtr> m_pending;
    EventId m_flushedUpTo;
    bool m_flushScheduled = false;
    QHash<QByteArray, int> m_owners;     ///< owner → open streams (non-empty owners only)
    QHash<QString, int> m_groupIds;      ///< filter+style key → group
    std::vector<QString> m_groupKeys;    ///< group → key (empty when free)
    std::vector<int> m_groupUsers;       ///< group → streams in it
    std::vector<int> m_freeGroups;
    int m_epoll = -1;
    QSocketNotifier *m_epollNotifier = nullptr;
    QTimer m_heartbeat;
    QTimer m_expiry;
};

} // namespace Hermes
