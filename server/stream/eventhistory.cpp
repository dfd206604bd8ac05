#include "stream/eventhistory.h"

#include <algorithm>

namespace Hermes {

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

bool EventHistory::eventsAfter(EventId after, quint8 channelMask,
                               std::vector<EncodedEventPtr> *out) const
{
    const size_t first = out->size();
    for (quint8 bit : {DownloadsBit, QueueBit, SystemBit}) {
        if (!(channelMask & bit))
            continue;
        const Channel &c = channel(bit);
        if (after < c.evictedUpTo)
            return false;
        // Ids grow within a channel, so the missed events are a suffix found by binary search.
        auto it = std::upper_bound(c.events.begin(), c.events.end(), after,
                                   [](EventId id, const EncodedEventPtr &e) { return id < e->id; });
        out->insert(out->end(), it, c.events.end());
    }
    std::sort(out->begin() + first, out->end(),
              [](const EncodedEventPtr &a, const EncodedEventPtr &b) { return a->id < b->id; });
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
