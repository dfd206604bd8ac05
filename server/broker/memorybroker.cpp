#include "broker/broker.h"

namespace Hermes {

void MemoryBroker::publish(const Event &event, PublishCallback done)
{
    Event stamped = event;
    stamped.id = m_ids.next();
    Q_EMIT eventReceived(stamped);
    if (done)
        done(stamped.id, QString());
}

} // namespace Hermes
