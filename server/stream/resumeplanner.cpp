#include "stream/resumeplanner.h"

#include "stream/eventhistory.h"

namespace Hermes {

ResumePlanner::Plan ResumePlanner::plan(const QByteArray &lastEventId, quint8 channelMask,
                                        const State &state, bool waitOver) const
{
    const auto resync = [&](ResyncReason reason) {
        return Plan{Plan::Resync, state.delivered, reason};
    };
    if (!state.historyReady) {
        // Nothing is delivered before the history is there, and a place in the order is only
        // known within it: every stream waits, a bounded time, then ends (before `connected`:
        // nothing was promised) and comes back. A resync here could not say where to resume.
        if (!waitOver)
            return Plan{Plan::Wait, {}, {}};
        return Plan{Plan::End, {}, {}};
    }
    if (lastEventId.isEmpty())
        return Plan{Plan::Live, state.delivered, {}};

    const std::optional<EventId> last = EventId::parse(lastEventId);
    if (!last)
        return resync(ResyncReason::InvalidLastEventId);
    if (last->epoch() != state.epoch)
        return resync(ResyncReason::UnknownHistory);
    if (*last > state.delivered) {
        if (!waitOver && m_mayArrive(*last))
            return Plan{Plan::Wait, {}, {}};
        return resync(ResyncReason::UnknownEventId);
    }
    if (!m_history->covers(*last, channelMask))
        return resync(m_history->lostAfter(*last, channelMask) ? ResyncReason::EventsLost
                                                               : ResyncReason::HistoryExceeded);
    if (!m_history->mayHold(*last))
        return resync(ResyncReason::UnknownEventId); // within the history, but no event of it
    return Plan{Plan::Replay, *last, {}};
}

} // namespace Hermes
