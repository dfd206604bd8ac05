#include "stream/eventhub.h"

#include "broker/broker.h"
#include "metrics.h"


namespace Hermes {

EventHub::EventHub(Broker *broker, int historySize, const StreamWorker::Options &options,
                   Metrics *metrics, QObject *parent)
    : QObject(parent), m_broker(broker), m_metrics(metrics), m_history(historySize),
      m_worker(std::make_unique<StreamWorker>(options, &m_history, metrics))
{
    connect(broker, &Broker::eventReceived, this, &EventHub::onEvent);
    connect(broker, &Broker::historyLoaded, this, &EventHub::onHistoryLoaded);
    connect(broker, &Broker::eventDiscarded, this, [metrics] { metrics->eventDiscarded(); });
}

EventId EventHub::historyStart() const
{
    return m_broker->historyStart();
}

void EventHub::onHistoryLoaded(const QList<Event> &events, const QHash<QString, EventId> &floors)
{
    for (const Event &event : events) {
        const EncodedEventPtr encoded = EncodedEvent::encode(event);
        if (encoded->channel)
            m_history.append(encoded);
    }
    for (auto it = floors.cbegin(); it != floors.cend(); ++it)
        m_history.setFloor(channelBit(it.key()), it.value());
    // These were never queued for live delivery, so replay may hand them out at once.
    m_worker->markDelivered(m_history.newest());
}

void EventHub::onEvent(const Event &event)
{
    const EncodedEventPtr encoded = EncodedEvent::encode(event);
    if (!encoded->channel) {
        m_metrics->eventDiscarded();
        return;
    }
    m_metrics->eventPublished(encoded->channel);
    m_history.append(encoded);
    m_worker->deliver(encoded);
}

} // namespace Hermes
