#pragma once

#include "eventid.h"
#include "protocol/vocabulary.h"
#include "threadaffinity.h"

#include <QByteArray>

#include <functional>
#include <optional>

namespace Hermes {

class EventHistory;

/**
 * Decides what a stream that opens with a Last-Event-ID gets: a replay from that id, a short
 * wait, or `resync_required` — the one place that knows why a resume cannot be served.
 *
 * A client never gets a silent gap or a silent skip: an id that is malformed, from another
 * epoch (a history that was flushed or replaced), older than the history, newer than
 * anything that can still arrive, or within the history but the id of none of its events (a
 * lost timeline: Redis restored from an older snapshot) means resync. An id of this epoch that is newer than what
 * this node has delivered, but may still arrive (another node issued it and the bus has not
 * brought it here yet), is waited for, for a bounded time; so is the history while it loads.
 */
class ResumePlanner final
{
public:
    /// What the hub knows right now.
    struct State
    {
        bool historyReady = false;
        quint32 epoch = 0;
        EventId delivered; ///< the newest id fanned out to streams
    };
    /// Whether an id of the current epoch above `State::delivered` may still be delivered here
    /// (the broker's knowledge: the embedded one issued it or not; Redis cannot tell).
    using MayArrive = std::function<bool(EventId)>;

    struct Plan
    {
        /// End: no history to place the stream in yet: end it cleanly, to come back later.
        enum Kind { Live, Replay, Wait, Resync, End } kind = Live;
        EventId cursor;  ///< Live, Replay: the stream continues after this id
        std::optional<ResyncReason> reason; ///< Resync: why (the other kinds have none)
    };

    ResumePlanner(const EventHistory *history, MayArrive mayArrive)
        : m_history(history), m_mayArrive(std::move(mayArrive))
    {
    }

    /// The plan for a stream on `channelMask` resuming from `lastEventId` (empty: a fresh
    /// stream). `waitOver`: the stream already waited as long as it may. Called by the I/O
    /// threads, each holding the history's lock shared (EventHistory::lock()).
    HERMES_ANY_THREAD Plan plan(const QByteArray &lastEventId, quint8 channelMask, const State &state,
              bool waitOver) const;

private:
    const EventHistory *m_history;
    MayArrive m_mayArrive;
};

} // namespace Hermes
