#include "stream/eventhistory.h"

#include <algorithm>
#include <limits>

namespace Hermes {

static constexpr quint8 ChannelBits[3] = {DownloadsBit, QueueBit, SystemBit};

static int indexOf(quint8 bit)
{
    return bit == DownloadsBit ? 0 : bit == QueueBit ? 1 : 2;
}

EventHistory::Channel &EventHistory::channel(quint8 bit)
{
    return m_channels[indexOf(bit)];
}

const EventHistory::Channel &EventHistory::channel(quint8 bit) const
{
    return m_channels[indexOf(bit)];
}

void EventHistory::append(const EncodedEventPtr &event)
{
    Channel &c = channel(event->channel);
    c.events.push_back(event);
    if (qsizetype(c.events.size()) > m_capacity) {
        c.evictedUpTo = c.events.front()->id;
        c.events.pop_front();
    }
    m_newest = std::max(m_newest, event->id);
}

void EventHistory::setFloor(quint8 bit, EventId id)
{
    Channel &c = channel(bit);
    c.evictedUpTo = std::max(c.evictedUpTo, id);
}

void EventHistory::clear()
{
    for (Channel &c : m_channels)
        c = Channel();
    m_newest = EventId();
    ++m_generation;
}

bool EventHistory::covers(EventId after, quint8 channelMask) const
{
    for (quint8 bit : ChannelBits) {
        if ((channelMask & bit) && after < channel(bit).evictedUpTo)
            return false;
    }
    return true;
}

bool EventHistory::mayHold(EventId id) const
{
    if (id.ms() == 0 && id.seq() == 0)
        return true;
    for (const Channel &c : m_channels) {
        if (!(c.evictedUpTo < id))
            return true;
        const auto it = std::lower_bound(c.events.begin(), c.events.end(), id,
                                         [](const EncodedEventPtr &e, EventId id) { return e->id < id; });
        if (it != c.events.end() && (*it)->id == id)
            return true;
    }
    return false;
}

EventId EventHistory::read(EventId after, EventId upTo, quint8 channelMask, int maxEvents,
                           const Visitor &visit) const
{
    // A merge of the channels' suffixes after `after`: each channel is in id order, so the
    // start of each is found by binary search and the smallest head is taken each step.
    using Iterator = std::deque<EncodedEventPtr>::const_iterator;
    Iterator heads[3], ends[3];
    for (int i = 0; i < 3; ++i) {
        const Channel &c = m_channels[i];
        ends[i] = c.events.end();
        heads[i] = (channelMask & ChannelBits[i])
            ? std::upper_bound(c.events.begin(), c.events.end(), after,
                               [](EventId id, const EncodedEventPtr &e) { return id < e->id; })
            : ends[i];
    }
    EventId last = after;
    for (int visited = 0; visited < maxEvents; ++visited) {
        int next = -1;
        for (int i = 0; i < 3; ++i) {
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

bool EventHistory::eventsAfter(EventId after, quint8 channelMask,
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

qsizetype EventHistory::size() const
{
    qsizetype n = 0;
    for (const Channel &c : m_channels)
        n += qsizetype(c.events.size());
    return n;
}

} // namespace Hermes
