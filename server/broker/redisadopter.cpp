#include "broker/redisadopter.h"

namespace Hermes {

RedisAdopter::RedisAdopter(RedisKeyspace keys, int streamLength, int windowSec)
    : m_keys(std::move(keys)), m_streamLength(streamLength), m_windowSec(windowSec)
{
}

bool RedisAdopter::isRelayedCopy(const QByteArray &payload)
{
    if (!payload.endsWith("\"}"))
        return false;
    const qsizetype at = payload.lastIndexOf(",\"id\":\"");
    const qsizetype start = at + 7;
    if (at < 0 || start > payload.size() - 2)
        return false;
    const auto id = EventId::parse(QByteArrayView(payload).sliced(start, payload.size() - 2 - start));
    return id && id->epoch() != 0;
}

Result<RedisScripts::Adopt> RedisAdopter::adoption(Channel channel, const QByteArray &payload) const
{
    const Result<Event> parsed = Event::fromEnvelope(channel, payload);
    if (!parsed)
        return parsed.error();
    const Event &event = *parsed;
    // Every node that adopts it offers the same normalised envelope but a timestamp of its
    // own for a bare payload; the first one's is kept and forwarded, so all deliver one text.
    return RedisScripts::Adopt{
        .stream = m_keys.stream(channel),
        .sequence = m_keys.sequence(),
        .epoch = m_keys.epoch(),
        .trimmed = m_keys.trimmed(channel),
        .adoption = m_keys.adoption(channel, payload),
        .streams = m_keys.streams(),
        .heads = m_keys.heads(),
        .config = m_keys.config(),
        .maxLength = m_streamLength,
        .envelope = event.envelopeJson(),
        .channel = channel.nameBytes(),
        .candidateEpoch = EventId::epochText(EventId::randomEpoch()),
        .eventsChannel = m_keys.eventsChannel(),
        .windowMs = qint64(m_windowSec) * 1000,
    };
}

} // namespace Hermes
