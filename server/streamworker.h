#pragma once

#include "encodedevent.h"
#include "streamconnection.h"

#include <QObject>
#include <QTimer>

#include <list>
#include <memory>
#include <vector>

class QTcpSocket;

namespace Hermes {

class EventHistory;
class Metrics;

/**
 * Fans events out to the streams of one thread.
 *
 * Events handed to deliver() are queued and written at the next event-loop iteration, all of
 * them in one write per client: a burst costs one syscall per client, not one per event.
 * Clients with no filter share one buffer per style. One heartbeat timer and one expiry check
 * serve every stream of the worker; nothing here is a timer per connection.
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
    /// every live event that passes `filter`.
    void addStream(QTcpSocket *socket, const QByteArray &head, const StreamFilter &filter,
                   EventStyle style, const QByteArray &lastEventId, EventId historyStart);
    void deliver(const EncodedEventPtr &event);
    /// Events up to `id` need no live delivery here (loaded history): replay may use them.
    void markDelivered(EventId id) { m_flushedUpTo = std::max(m_flushedUpTo, id); }
    qsizetype connectionCount() const { return qsizetype(m_connections.size()); }
    /// Ends every stream cleanly (a `retry:` hint, then the last chunk) and closes it.
    void closeAll();

    /// One HTTP chunk holding `payload`.
    static QByteArray chunk(const QByteArray &payload);

private:
    using ConnectionList = std::list<std::unique_ptr<StreamConnection>>;
    enum class Removal { ClientClosed, Timeout, Shutdown, SlowClient, WriteError };

    QByteArray openingFrames(const StreamFilter &filter, EventStyle style,
                             const QByteArray &lastEventId, EventId historyStart,
                             EventId *skipUpTo) const;
    void flush();
    void sendHeartbeat();
    void expireStreams();
    using Failures = std::vector<std::pair<ConnectionList::iterator, Removal>>;
    void write(ConnectionList::iterator it, const QByteArray &bytes, Failures *failed);
    void remove(ConnectionList::iterator it, Removal why);
    void endStream(ConnectionList::iterator it, Removal why);

    Options m_options;
    const EventHistory *m_history;
    Metrics *m_metrics;
    ConnectionList m_connections; ///< in order of arrival, so deadlines ascend
    std::vector<EncodedEventPtr> m_pending;
    EventId m_flushedUpTo;
    bool m_flushScheduled = false;
    QTimer m_heartbeat;
    QTimer m_expiry;
};

} // namespace Hermes
