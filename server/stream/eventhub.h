#pragma once

#include "stream/eventhistory.h"
#include "stream/resumeplanner.h"
#include "stream/streamworker.h"

#include <QObject>

#include <memory>

namespace Hermes {

class Broker;
class Metrics;

/**
 * Where events from the broker become bytes on streams: each event is encoded once, kept in
 * the replay history and handed to the stream worker(s) as shared bytes.
 *
 * The hub follows the broker's epoch: a history of another epoch replaces the current one
 * (streams resync), and streams wait for the first history before they start.
 *
 * There is one worker today (in the hub's thread); the worker boundary is where several I/O
 * threads plug in, each fed the same shared encoded events.
 */
class EventHub final : public QObject
{
    Q_OBJECT
public:
    EventHub(Broker *broker, int historySize, const StreamWorker::Options &options,
             Metrics *metrics, QObject *parent = nullptr);

    Broker *broker() const { return m_broker; }
    StreamWorker *worker() { return m_worker.get(); }
    const EventHistory &history() const { return m_history; }
    qsizetype activeConnections() const { return m_worker->connectionCount(); }
    /// Whether the broker's history has arrived (streams that resume wait for it).
    bool historyReady() const { return m_ready; }
    quint32 epoch() const { return m_epoch; }

    /// Takes `socket` over as a stream (see StreamWorker::addStream).
    void openStream(QTcpSocket *socket, const QByteArray &head, const StreamParams &params)
    {
        m_worker->addStream(socket, head, params);
    }
    /// Open streams counted against `owner` (StreamParams::owner), for per-credential quotas.
    int streamsOwnedBy(const QByteArray &owner) const { return m_worker->streamsOwnedBy(owner); }

private:
    void onEvent(const Event &event);
    void onHistoryLoaded(quint32 epoch, const QList<Event> &events,
                         const QHash<QString, EventId> &floors);

    Broker *m_broker;
    Metrics *m_metrics;
    EventHistory m_history;
    ResumePlanner m_planner;
    std::unique_ptr<StreamWorker> m_worker;
    quint32 m_epoch = 0;
    bool m_ready = false;
};

} // namespace Hermes
