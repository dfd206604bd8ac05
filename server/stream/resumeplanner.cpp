#include "stream/resumeplanner.h"

#include "stream/eventhistory.h"

namespace Hermes {

ResumePlanner::Plan ResumePlanner::plan(const QByteArray &lastEventId, quint8 channelMask,
                                        const State &state, bool waitOver) const
{
    const auto resync = [&](const char *reason) {
        return Plan{Plan::Resync, state.delivered, QString::fromLatin1(reason)};
    };
    if (!state.historyReady) {
        // Nothing is delivered before the history is there, and a position is only known
        // within it: every stream waits. One that resumes waits a bounded time, then is told
        // to resync (and goes on waiting for the history as a fresh stream).
        if (!waitOver || lastEventId.isEmpty())
            return Plan{Plan::Wait, {}, {}};
        return resync("history_loading");
    }
    if (lastEventId.isEmpty())
        return Plan{Plan::Live, state.delivered, {}};

    const std::optional<EventId> last = EventId::parse(lastEventId);
    if (!last)
        return resync("invalid_last_event_id");
    if (last->epoch() != state.epoch)
        return resync("unknown_history");
    if (*last > state.delivered) {
        if (!waitOver && m_mayArrive(*last))
            return Plan{Plan::Wait, {}, {}};
        return resync("unknown_event_id");
    }
    if (!m_history->covers(*last, channelMask))
        return resync("history_exceeded");
    return Plan{Plan::Replay, *last, {}};
}

} // namespace Hermes
