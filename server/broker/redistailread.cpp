#include "broker/redistailread.h"

#include "broker/redisconnection.h"

#include <hiredis/hiredis.h>

#include <algorithm>

namespace Hermes {

RedisTailRead::RedisTailRead(RedisKeyspace keys, int historySize, qint64 historyBytes)
    : m_keys(std::move(keys)), m_historySize(qMax(1, historySize)),
      m_historyBytes(qMax<qint64>(1, historyBytes))
{
}

void RedisTailRead::begin(RedisHistoryReader::Loaded first, int streamLength)
{
    m_streamLength = streamLength;
    QList<Event> events = std::move(first.events);
    m_loaded = std::move(first);
    m_loaded.events.clear();
    std::array<QList<Event>, Channel::Count> perChannel;
    for (Event &e : events)
        perChannel[size_t(e.channel.index())].append(std::move(e));
    events = {};
    for (int c = 0; c < Channel::Count; ++c) {
        Lane &lane = m_lanes[size_t(c)];
        lane = Lane{};
        lane.budget = HistoryBudget(m_historySize, m_historyBytes);
        lane.read = m_loaded.counts[c];
        lane.oldestRead = m_loaded.oldestRead[size_t(c)];
        lane.more = m_loaded.more[c];
        keep(lane, std::move(perChannel[size_t(c)]));
    }
}

bool RedisTailRead::done(const Lane &lane) const
{
    return !lane.more || !lane.leftOut.isNull() || lane.read >= m_streamLength || lane.oldestRead.isNull();
}

std::optional<RedisScripts::TailPage> RedisTailRead::next() const
{
    for (Channel channel : Channel::all()) {
        const Lane &lane = m_lanes[size_t(channel.index())];
        if (done(lane))
            continue;
        // Only what may still fit: a full history asks for one entry, the newest left out,
        // which becomes the floor.
        return RedisScripts::TailPage{
            .epoch = m_keys.epoch(),
            .stream = m_keys.stream(channel),
            .trimmed = m_keys.trimmed(channel),
            .heads = m_keys.heads(),
            .before = lane.oldestRead.position(),
            .count = std::max(1, std::min(m_streamLength - lane.read, lane.budget.countRoom())),
            .pageBytes = RedisHistoryReader::pageBytes(lane.budget.byteRoom()),
            .channel = channel.nameBytes(),
        };
    }
    return std::nullopt;
}

Result<RedisTailRead::Page> RedisTailRead::add(const redisReply *reply)
{
    if (RedisReply::isError(reply) || reply->type != REDIS_REPLY_ARRAY || reply->elements != 4) {
        return Error::unavailable("unreadable_streams",
                                  QStringLiteral("cannot read the streams: %1")
                                      .arg(QString::fromUtf8(RedisReply::string(reply))));
    }
    if (EventId::parseEpoch(RedisReply::string(reply->element[0])) != m_loaded.epoch)
        return Page::EpochChanged;
    const auto channels = Channel::all();
    const auto reading = std::find_if(channels.begin(), channels.end(),
                                      [this](Channel c) { return !done(m_lanes[size_t(c.index())]); });
    if (reading == channels.end())
        return Page::Read; // nothing was asked
    const size_t c = size_t(reading->index());
    Lane &lane = m_lanes[c];
    RedisHistoryReader::Loaded page;
    page.epoch = m_loaded.epoch;
    RedisHistoryReader::readEntries(reply->element[1], *reading, &page);
    lane.read += page.counts[c];
    if (!page.oldestRead[c].isNull())
        lane.oldestRead = std::min(lane.oldestRead, page.oldestRead[c]);
    lane.more = page.counts[c] > 0 && !RedisReply::string(reply->element[2]).isEmpty();
    if (const auto trimmed = EventId::fromPosition(RedisReply::string(reply->element[3]), m_loaded.epoch))
        m_loaded.trimmed[c] = std::max(m_loaded.trimmed[c], *trimmed);
    m_loaded.unreadable += page.unreadable;
    std::reverse(page.events.begin(), page.events.end()); // newest first as read: in id order
    keep(lane, std::move(page.events));
    return Page::Read;
}

void RedisTailRead::keep(Lane &lane, QList<Event> events)
{
    const qsizetype from = lane.budget.keepNewest(events);
    if (from > 0)
        lane.leftOut = std::max(lane.leftOut, events[from - 1].id);
    if (from == 0)
        lane.kept.append(std::move(events));
    else if (from < events.size())
        lane.kept.append(events.sliced(from)); // a copy: the page's list is let go whole
}

RedisHistoryReader::Loaded RedisTailRead::take(ChannelFloors *floors)
{
    RedisHistoryReader::Loaded out = std::move(m_loaded);
    m_loaded = {};
    for (int c = 0; c < Channel::Count; ++c) {
        Lane &lane = m_lanes[size_t(c)];
        EventId floor = out.trimmed[size_t(c)];
        if (!lane.leftOut.isNull()) // what did not fit is gone, as if the history evicted it
            floor = std::max(floor, lane.leftOut);
        else if (lane.more) // read to the stream length: older entries may be there, not here
            floor = std::max(floor, lane.oldestRead.previous());
        (*floors)[size_t(c)] = floor;
        for (auto page = lane.kept.crbegin(); page != lane.kept.crend(); ++page)
            out.events.append(*page);
        lane = Lane{};
    }
    std::sort(out.events.begin(), out.events.end(), [](const Event &a, const Event &b) { return a.id < b.id; });
    return out;
}

} // namespace Hermes
