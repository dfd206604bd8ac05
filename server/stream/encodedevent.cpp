#include "stream/encodedevent.h"

namespace Hermes {

quint8 channelBit(QStringView channel)
{
    if (channel == Channels::Downloads)
        return DownloadsBit;
    if (channel == Channels::Queue)
        return QueueBit;
    if (channel == Channels::System)
        return SystemBit;
    return 0;
}

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
    encoded->channel = channelBit(event.channel);
    encoded->type = event.type;
    encoded->downloadId = event.downloadId();
    encoded->frames[int(EventStyle::Envelope)] = SseEncoder::encode(event, EventStyle::Envelope);
    encoded->frames[int(EventStyle::Named)] = SseEncoder::encode(event, EventStyle::Named);
    return encoded;
}

} // namespace Hermes
