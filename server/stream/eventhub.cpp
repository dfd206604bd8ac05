#include "stream/eventhub.h"

#include "broker/broker.h"
#include "logging.h"
#include "metrics.h"

namespace Hermes {

EventHub::EventHub(Broker *broker, int historySize, const StreamWorker::Options &options,
                   Metrics *metrics, QObject *parent)
    : QObject(parent), m_broker(broker), m_metrics(metrics), m_history(historySize),
      m_planner(&m_history, [broker](EventId id) { return broker->mayStillArrive(id); }),
      m_worker(std::make_unique<StreamWorker>(options, &m_history, &m_planner, metrics))
{
    connect(broker, &Broker::eventReceived, this, &EventHub::onEvent);
    connect(broker, &Broker::historyLoaded, this, &EventHub::onHistoryLoaded);
    connect(broker, &Broker::eventDiscarded, this, [metrics] { metrics->eventDiscarded(); });
}

void EventHub::onHistoryLoaded(quint32 epoch, const QList<Event> &events,
                               const QHash<QString, EventId> &floors)
{
    // A second history replaces the first (the Redis database was flushed, or trimmed past
    // what was delivered here): streams are told to resync.
    const bool reset = m_ready;
    if (reset)
        qCWarning(lcHub) << "the event history was replaced; streams resync";
    m_history.clear();
    for (const Event &event : events) {
        const EncodedEventPtr encoded = EncodedEvent::encode(event);
        if (encoded->channel)
            m_history.append(encoded);
    }
    for (auto it = floors.cbegin(); it != floors.cend(); ++it)
        m_history.setFloor(channelBit(it.key()), it.value());
    m_epoch = epoch;
    m_ready = true;
    // These were never queued for live delivery: replay hands them out.
    const EventId newest = m_history.newest().isNull() ? EventId(0, 0, epoch) : m_history.newest();
    m_worker->setHistory(epoch, newest, reset);
}

void EventHub::onEvent(const Event &event)
{
    const EncodedEventPtr encoded = EncodedEvent::encode(event);
    if (!encoded->channel) {
        m_metrics->eventDiscarded();
        return;
    }
    if (!m_ready || event.id.epoch() != m_epoch) {
        // Brokers announce a history first; an event outside it cannot be placed in order.
        qCWarning(lcHub).noquote() << "dropping an event of an unknown epoch:"
                                   << event.id.toByteArray();
        m_metrics->eventDiscarded();
        return;
    }
    m_metrics->eventPublished(encoded->channel);
    m_history.append(encoded);
    m_worker->deliver(encoded);
}

} // namespace Hermes
