#include "stream/eventhistory.h"

#include <algorithm>
#include <limits>

namespace Hermes {

EventHistory::Lane &EventHistory::lane(Channel channel)
{
    return m_lanes[channel.index()];
}

const EventHistory::Lane &EventHistory::lane(Channel channel) const
{
    return m_lanes[channel.index()];
}

void EventHistory::append(const EncodedEventPtr &event)
{
    m_writer.check(Q_FUNC_INFO);
    Lane &c = lane(event->channel);
    c.events.push_back(event);
    c.bytes += event->heldBytes();
    // Both bounds evict the oldest and raise the floor alike: a resume from an evicted event
    // is history_exceeded whichever bound evicted it (ResumePlanner).
    while (qsizetype(c.events.size()) > m_capacity || (c.bytes > m_byteBudget && c.events.size() > 1)) {
        c.evictedUpTo = c.events.front()->id;
        c.bytes -= c.events.front()->heldBytes();
        c.events.pop_front();
    }
    m_newest = std::max(m_newest, event->id);
}

void EventHistory::setFloor(Channel channel, EventId id)
{
    m_writer.check(Q_FUNC_INFO);
    Lane &c = lane(channel);
    c.evictedUpTo = std::max(c.evictedUpTo, id);
}

void EventHistory::markLost(Channel channel, EventId through)
{
    m_writer.check(Q_FUNC_INFO);
    Lane &c = lane(channel);
    c.lostThrough = std::max(c.lostThrough, through);
}

void EventHistory::clear()
{
    m_writer.check(Q_FUNC_INFO);
    for (Lane &c : m_lanes)
        c = Lane();
    m_newest = EventId();
    ++m_generation;
}

bool EventHistory::covers(EventId after, Channel::Mask channelMask) const
{
    for (Channel channel : Channel::all()) {
        if (channel.isIn(channelMask) && after < lane(channel).evictedUpTo)
            return false;
    }
    return !lostAfter(after, channelMask);
}

bool EventHistory::lostAfter(EventId after, Channel::Mask channelMask) const
{
    for (Channel channel : Channel::all()) {
        const EventId lost = lane(channel).lostThrough;
        if (channel.isIn(channelMask) && !lost.isNull() && !(lost < after))
            return true;
    }
    return false;
}

bool EventHistory::mayHold(EventId id) const
{
    if (id.ms() == 0 && id.seq() == 0)
        return true;
    for (const Lane &c : m_lanes) {
        if (!(c.evictedUpTo < id))
            return true;
        const auto it = std::lower_bound(c.events.begin(), c.events.end(), id,
                                         [](const EncodedEventPtr &e, EventId id) { return e->id < id; });
        if (it != c.events.end() && (*it)->id == id)
            return true;
    }
    return false;
}

EventId EventHistory::read(EventId after, EventId upTo, Channel::Mask channelMask, int maxEvents,
                           const Visitor &visit) const
{
    // A merge of the channels' suffixes after `after`: each channel is in id order, so the
    // start of each is found by binary search and the smallest head is taken each step.
    using Iterator = std::deque<EncodedEventPtr>::const_iterator;
    Iterator heads[Channel::Count], ends[Channel::Count];
    for (Channel channel : Channel::all()) {
        const int i = channel.index();
        const Lane &c = m_lanes[i];
        ends[i] = c.events.end();
        heads[i] = channel.isIn(channelMask)
            ? std::upper_bound(c.events.begin(), c.events.end(), after,
                               [](EventId id, const EncodedEventPtr &e) { return id < e->id; })
            : ends[i];
    }
    EventId last = after;
    for (int visited = 0; visited < maxEvents; ++visited) {
        int next = -1;
        for (int i = 0; i < Channel::Count; ++i) {
            if (heads[i] != ends[i] && (next < 0 || (*heads[i])->id < (*heads[next])->id))
                next = i;
        }
        if (next < 0 || (*heads[next])->id > upTo)
            break;
        const EncodedEventPtr &event = *heads[next];
        ++heads[next];
        last = event->id;
        if (!visit(event))
            break;
    }
    return last;
}

bool EventHistory::eventsAfter(EventId after, Channel::Mask channelMask,
                               std::vector<EncodedEventPtr> *out) const
{
    if (!covers(after, channelMask))
        return false;
    read(after, m_newest, channelMask, std::numeric_limits<int>::max(),
         [out](const EncodedEventPtr &e) {
        out->push_back(e);
        return true;
    });
    return true;
}

qint64 EventHistory::heldBytes() const
{
    qint64 n = 0;
    for (const Lane &c : m_lanes)
        n += c.bytes;
    return n;
}

qsizetype EventHistory::size() const
{
    qsizetype n = 0;
    for (const Lane &c : m_lanes)
        n += qsizetype(c.events.size());
    return n;
}

} // namespace Hermes
