#include "eventhub.h"

#include "broker.h"
#include "metrics.h"

#include <QDateTime>

namespace Hermes {

EventHub::EventHub(Broker *broker, int historySize, const StreamWorker::Options &options,
                   Metrics *metrics, QObject *parent)
    : QObject(parent), m_broker(broker), m_metrics(metrics), m_history(historySize),
      m_historyStart(quint64(QDateTime::currentMSecsSinceEpoch()), 0),
      m_worker(std::make_unique<StreamWorker>(options, &m_history, metrics))
{
    connect(broker, &Broker::eventReceived, this, &EventHub::onEvent);
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
