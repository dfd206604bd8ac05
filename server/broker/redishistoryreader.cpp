#include "broker/redishistoryreader.h"

#include "broker/redisconnection.h"

#include <hiredis/hiredis.h>

#include <algorithm>

namespace Hermes {

RedisHistoryReader::RedisHistoryReader(RedisKeyspace keys, int streamLength)
    : m_keys(std::move(keys)), m_streamLength(streamLength)
{
}

int RedisHistoryReader::readLimit(Mode mode) const
{
    // Streams are capped near streamLength, so twice that reads whatever is left of a gap.
    return mode == Mode::Tail ? m_streamLength : 2 * m_streamLength + 1000;
}

RedisScripts::Load RedisHistoryReader::call(Mode mode, EventId lastDelivered, quint32 epoch,
                                            const RedisMark &mark) const
{
    std::array<QByteArray, Channel::Count> markChannels;
    std::array<QByteArray, Channel::Count> names;
    for (Channel c : Channel::all()) {
        const EventId &id = mark.channels[size_t(c.index())];
        markChannels[size_t(c.index())] = id.isNull() ? QByteArray() : id.position();
        names[size_t(c.index())] = c.nameBytes();
    }
    QList<QByteArray> earlier;
    for (const RedisMark::Epoch &e : mark.earlier) {
        earlier.append(EventId::epochText(e.epoch));
        earlier.append(e.position.position());
        for (const EventId &id : e.channels)
            earlier.append(id.isNull() ? QByteArray() : id.position());
    }
    return RedisScripts::Load{
        .epoch = m_keys.epoch(),
        .streams = m_keys.streams(),
        .trimmed = m_keys.trimmedKeys(),
        .sequence = m_keys.sequence(),
        .heads = m_keys.heads(),
        .candidateEpoch = EventId::epochText(EventId::randomEpoch()),
        .count = readLimit(mode),
        .mode = mode,
        .after = lastDelivered.isNull() ? QByteArray("0-0") : lastDelivered.position(),
        .callerEpoch = EventId::epochText(epoch),
        .markEpoch = EventId::epochText(mark.epoch),
        .markPosition = mark.isNull() ? QByteArray("0-0") : mark.position.position(),
        .markChannels = markChannels,
        .eventsChannel = m_keys.eventsChannel(),
        .channels = names,
        .earlierMarks = earlier,
    };
}

static EventId entryPosition(const redisReply *entry, quint32 epoch)
{
    return EventId::fromPosition(RedisReply::string(entry->element[0]), epoch).value_or(EventId());
}

Result<RedisHistoryReader::Loaded> RedisHistoryReader::parse(const redisReply *reply) const
{
    if (RedisReply::isError(reply) || reply->type != REDIS_REPLY_ARRAY
        || (reply->elements != 5 && reply->elements != 6)) {
        return Error::unavailable("unreadable_streams",
                                  QStringLiteral("cannot read the streams: %1")
                                      .arg(QString::fromUtf8(RedisReply::string(reply))));
    }
    Loaded loaded;
    loaded.epoch = EventId::parseEpoch(RedisReply::string(reply->element[0]));
    if (loaded.epoch == 0) {
        return Error::unavailable("no_epoch", QStringLiteral("%1 holds no valid epoch")
                                                  .arg(QString::fromUtf8(m_keys.epoch())));
    }
    const redisReply *deleted = reply->element[4];
    if (reply->elements == 6)
        loaded.damage = QString::fromUtf8(RedisReply::string(reply->element[5]));
    for (Channel channel : Channel::all()) {
        const int c = channel.index();
        const redisReply *entries = reply->element[1 + c];
        for (size_t i = 0; entries->type == REDIS_REPLY_ARRAY && i < entries->elements; ++i) {
            const redisReply *entry = entries->element[i];
            if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2)
                continue;
            const redisReply *fields = entry->element[1];
            for (size_t f = 0; fields->type == REDIS_REPLY_ARRAY && f + 1 < fields->elements; f += 2) {
                if (RedisReply::string(fields->element[f]) != "e")
                    continue;
                if (Result<Event> parsed = Event::fromEnvelope(channel, RedisReply::string(fields->element[f + 1]))) {
                    Event event = std::move(*parsed);
                    event.id = entryPosition(entry, loaded.epoch);
                    loaded.events.append(event);
                    ++loaded.counts[c];
                }
            }
        }
        const QByteArray trimmed = deleted->type == REDIS_REPLY_ARRAY && size_t(c) < deleted->elements
            ? RedisReply::string(deleted->element[c]) : QByteArray();
        if (const auto id = EventId::fromPosition(trimmed, loaded.epoch))
            loaded.trimmed[size_t(c)] = *id;
    }
    std::sort(loaded.events.begin(), loaded.events.end(),
              [](const Event &a, const Event &b) { return a.id < b.id; });
    return loaded;
}

ChannelFloors RedisHistoryReader::Loaded::floors(int readLimit) const
{
    ChannelFloors floors;
    for (int c = 0; c < Channel::Count; ++c) {
        EventId floor = trimmed[size_t(c)];
        if (counts[c] >= readLimit) {
            // Read to the count: older entries may be there, but not in this history.
            for (const Event &e : events) {
                if (e.channel.index() == c) {
                    floor = std::max(floor, e.id.previous());
                    break;
                }
            }
        }
        floors[size_t(c)] = floor;
    }
    return floors;
}

} // namespace Hermes
