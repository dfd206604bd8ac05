#include "broker/redishistoryreader.h"

#include "broker/redisconnection.h"

#include <hiredis/hiredis.h>

#include <algorithm>

namespace Hermes {

RedisHistoryReader::RedisHistoryReader(RedisKeyspace keys, int streamLength, int historySize,
                                       qint64 historyBytes)
    : m_keys(std::move(keys)), m_streamLength(streamLength), m_historySize(qMax(1, historySize)),
      m_historyBytes(qMax<qint64>(1, historyBytes))
{
}

qint64 RedisHistoryReader::pageBytes(qint64 room)
{
    return std::clamp<qint64>(room / 2 + room % 2, 1, PageBytes);
}

int RedisHistoryReader::readLimit(Mode mode) const
{
    // A tail reads what a stream keeps; a gap fill reads pages of this size until it is done.
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
        .origin = m_keys.origin(),
        .candidateEpoch = EventId::epochText(EventId::randomEpoch()),
        // A tail's first page: no more than the history keeps (RedisTailRead reads on).
        .count = mode == Mode::Tail ? std::min(m_streamLength, m_historySize) : readLimit(mode),
        .mode = mode,
        .after = lastDelivered.isNull() ? QByteArray("0-0") : lastDelivered.position(),
        .callerEpoch = EventId::epochText(epoch),
        .markEpoch = EventId::epochText(mark.epoch),
        .markPosition = mark.isNull() ? QByteArray("0-0") : mark.position.position(),
        .markChannels = markChannels,
        .eventsChannel = m_keys.eventsChannel(),
        .channels = names,
        .pageBytes = mode == Mode::Tail ? pageBytes(m_historyBytes) : PageBytes,
        .earlierMarks = earlier,
    };
}

static EventId entryPosition(const redisReply *entry, quint32 epoch)
{
    return EventId::fromPosition(RedisReply::string(entry->element[0]), epoch).value_or(EventId());
}

// `<epoch>\n<ms>-<seq>\n` and three channel ids (see RedisKeyspace::origin()); anything
// else is no origin (epoch 0): it only ever adds to what a node checks, so none is safe.
static RedisMark::Epoch parseOrigin(const QByteArray &text)
{
    const QList<QByteArray> parts = text.split('\n');
    RedisMark::Epoch origin;
    if (parts.size() != 2 + Channel::Count)
        return origin;
    const quint32 epoch = EventId::parseEpoch(parts[0]);
    if (epoch == 0)
        return origin;
    EventId position; // `0-0`: nothing delivered there
    if (const auto id = EventId::fromPosition(parts[1], epoch); id && (id->ms() > 0 || id->seq() > 0))
        position = *id;
    for (int c = 0; c < Channel::Count; ++c) {
        if (const auto id = EventId::fromPosition(parts[2 + c], epoch)) {
            origin.channels[size_t(c)] = *id;
            position = std::max(position, *id);
        }
    }
    origin.epoch = epoch;
    origin.position = position;
    return origin;
}

Result<RedisHistoryReader::Loaded> RedisHistoryReader::parse(const redisReply *reply) const
{
    if (RedisReply::isError(reply) || reply->type != REDIS_REPLY_ARRAY
        || reply->elements < 5 || reply->elements > 8) {
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
    if (reply->elements >= 6)
        loaded.damage = QString::fromUtf8(RedisReply::string(reply->element[5]));
    const redisReply *more = reply->elements >= 7 ? reply->element[6] : nullptr;
    if (reply->elements >= 8)
        loaded.origin = parseOrigin(RedisReply::string(reply->element[7]));
    for (Channel channel : Channel::all()) {
        const int c = channel.index();
        readEntries(reply->element[1 + c], channel, &loaded);
        loaded.more[c] = more && more->type == REDIS_REPLY_ARRAY && size_t(c) < more->elements
            && !RedisReply::string(more->element[c]).isEmpty();
        const QByteArray trimmed = deleted->type == REDIS_REPLY_ARRAY && size_t(c) < deleted->elements
            ? RedisReply::string(deleted->element[c]) : QByteArray();
        if (const auto id = EventId::fromPosition(trimmed, loaded.epoch))
            loaded.trimmed[size_t(c)] = *id;
    }
    std::sort(loaded.events.begin(), loaded.events.end(),
              [](const Event &a, const Event &b) { return a.id < b.id; });
    return loaded;
}

void RedisHistoryReader::readEntries(const redisReply *entries, Channel channel, Loaded *into)
{
    const size_t c = size_t(channel.index());
    for (size_t i = 0; entries->type == REDIS_REPLY_ARRAY && i < entries->elements; ++i) {
        const redisReply *entry = entries->element[i];
        if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2)
            continue;
        const EventId id = entryPosition(entry, into->epoch);
        if (id.isNull())
            continue;
        // Every entry counts, an event or not: a full page must read on past it, and the
        // floor of a tail read in part is below its oldest entry, whatever that held. By id,
        // not by place: a tail arrives newest first, a gap oldest first.
        ++into->counts[c];
        if (into->oldestRead[c].isNull() || id < into->oldestRead[c])
            into->oldestRead[c] = id;
        into->newestRead[c] = std::max(into->newestRead[c], id);
        bool isEvent = false;
        const redisReply *fields = entry->element[1];
        for (size_t f = 0; fields->type == REDIS_REPLY_ARRAY && f + 1 < fields->elements && !isEvent; f += 2) {
            if (RedisReply::string(fields->element[f]) != "e")
                continue;
            if (Result<Event> parsed = Event::fromEnvelope(channel, RedisReply::string(fields->element[f + 1]))) {
                Event event = std::move(*parsed);
                event.id = id;
                into->events.append(event);
                isEvent = true;
            }
        }
        into->unreadable += isEvent ? 0 : 1;
    }
}

} // namespace Hermes
