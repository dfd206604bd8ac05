#pragma once

#include "stream/eventhistory.h"
#include "stream/resumeplanner.h"
#include "stream/streamworker.h"
#include "threadaffinity.h"

#include <QHash>
#include <mutex>
#include <QObject>

#include <memory>
#include <vector>

class QTcpSocket;
class QThread;

namespace Hermes {

class Broker;
class Metrics;

/**
 * Where events from the broker become bytes on streams: each event is encoded once, kept in
 * the replay history and handed to the stream workers as shared bytes.
 *
 * The hub follows the broker's epoch: a history of another epoch replaces the current one
 * (streams resync), and streams wait for the first history before they start.
 *
 * Streams are written by `ioThreads` StreamWorkers, each in its own thread with its own epoll
 * set and send batches; a new stream goes to the worker with the fewest. The hub (in the
 * thread it was created in, with the broker) encodes each event once and hands the same
 * shared bytes to every worker; the history is written here and read by the workers under
 * its lock (EventHistory::lock()). The broker's signals, openStream() and closeAll() run in
 * the hub's thread (they assert it); the functions marked HERMES_ANY_THREAD lock or read
 * atomics.
 */
class EventHub final : public QObject
{
    Q_OBJECT
public:
    /// `ioThreads` 0: one per core.
    /// `historySize`, `historyBytes`: the history's bounds per channel (EventHistory).
    EventHub(Broker *broker, int historySize, qint64 historyBytes,
             const StreamWorker::Options &options, int ioThreads, Metrics *metrics,
             QObject *parent = nullptr);
    ~EventHub() override;

    Broker *broker() const { return m_broker; }
    /// In the hub's thread, the history's writer, it may be read without its lock.
    const EventHistory &history() const { return m_history; }
    HERMES_ANY_THREAD qsizetype activeConnections() const;
    /// Whether the broker's history has arrived (streams that resume wait for it).
    bool historyReady() const { return m_ready; }
    quint32 epoch() const { return m_epoch; }
    int ioThreads() const { return int(m_workers.size()); }

    /// Takes `socket` over as a stream (see StreamWorker::addStream): the socket's descriptor
    /// goes to a worker, Qt's socket object is released. Qt must have nothing left to write.
    void openStream(QTcpSocket *socket, const QByteArray &head, const StreamParams &params);
    /// Open streams counted against `owner` (StreamParams::owner), for per-credential quotas.
    HERMES_ANY_THREAD int streamsOwnedBy(const QByteArray &owner) const;
    /// Ends every stream cleanly (see StreamWorker::closeAll), waiting for the workers.
    void closeAll();
    /// Ends, cleanly and at once, every open stream counted against one of `owners` (and any
    /// already handed to a worker): their credential was revoked. Does not wait.
    void closeStreamsOf(const QSet<QByteArray> &owners);

private:
    void onEvent(const Event &event);
    void onEventsLost(Channel channel, EventId after, quint64 count);
    void onHistoryLoaded(quint32 epoch, const QList<Event> &events,
                         const ChannelFloors &floors);
    /// A worker's stream ended (in the worker's thread).
    HERMES_ANY_THREAD void streamClosed(const QByteArray &owner);

    /// Deletes a worker in its own thread: its timers and socket notifier belong to it.
    struct DeleteInItsThread
    {
        void operator()(StreamWorker *worker) const;
    };

    Broker *m_broker;
    Metrics *m_metrics;
    EventHistory m_history;
    ResumePlanner m_planner;
    /// Worker i lives in thread i. The destructor ends them in order: each worker, then its
    /// thread.
    std::vector<std::unique_ptr<StreamWorker, DeleteInItsThread>> m_workers;
    std::vector<std::unique_ptr<QThread>> m_threads;
    mutable std::mutex m_ownersLock; // pthread, so ThreadSanitizer sees it contended
    QHash<QByteArray, int> m_owners; ///< owner → open streams (non-empty owners only)
    quint32 m_epoch = 0;
    bool m_ready = false;
};

} // namespace Hermes
