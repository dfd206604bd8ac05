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
        // Nothing is delivered before the history is there, and a place in the order is only
        // known within it: every stream waits, a bounded time, then ends (before `connected`:
        // nothing was promised) and comes back. A resync here could not say where to resume.
        if (!waitOver)
            return Plan{Plan::Wait, {}, {}};
        return Plan{Plan::End, {}, QStringLiteral("history_loading")};
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
    if (!m_history->mayHold(*last))
        return resync("unknown_event_id"); // within the history, but no event of it
    return Plan{Plan::Replay, *last, {}};
}

} // namespace Hermes
