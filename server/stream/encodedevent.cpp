#include "stream/encodedevent.h"

namespace Hermes {

QString StreamFilter::key() const
{
    QStringList sortedTypes(types.cbegin(), types.cend());
    sortedTypes.sort();
    return QString::number(channels) + u'|' + downloadId + u'|' + sortedTypes.join(u',');
}

std::shared_ptr<const EncodedEvent> EncodedEvent::encode(const Event &event)
{
    auto encoded = std::make_shared<EncodedEvent>();
    encoded->id = event.id;
    encoded->channel = event.channel;
    encoded->type = event.type;
    encoded->downloadId = event.downloadId();
    encoded->frames[int(EventStyle::Envelope)] = SseEncoder::encode(event, EventStyle::Envelope);
    encoded->frames[int(EventStyle::Named)] = SseEncoder::encode(event, EventStyle::Named);
    return encoded;
}

} // namespace Hermes
