#pragma once

#include "broker/redismark.h"
#include "broker/rediskeyspace.h"
#include "broker/redisscripts.h"
#include "event.h"
#include "result.h"

#include <QList>

struct redisReply;

namespace Hermes {

/**
 * Reads the Redis broker's history from the streams: what to ask (the Load script's call for
 * a node that delivered up to some id) and what the answer says (its events in id order, and
 * per channel the newest id trimming removed and how many entries were read).
 *
 * A node reads the newest entries when it starts or its history is replaced (tail), and what
 * it missed after a lost connection (after). It sends the call itself, on its connection.
 */
class RedisHistoryReader final
{
public:
    using Mode = RedisScripts::Load::Mode;

    /// What a load found.
    struct Loaded
    {
        quint32 epoch = 0;
        QList<Event> events;             ///< in id order
        ChannelFloors trimmed;           ///< per channel: the newest id trimming removed
        int counts[Channel::Count] = {}; ///< per channel: the stream entries read (events or not)
        ChannelFloors oldestRead;        ///< per channel: the oldest entry read
        ChannelFloors newestRead;        ///< per channel: the newest entry read
        int unreadable = 0;              ///< entries that were no event (skipped)
        /// Why the continuity check failed (and the script started a new epoch); empty: it held.
        QString damage;
        /// The epoch this one replaced when a continuity check failed, and what the node that
        /// found it damaged had delivered there (RedisKeyspace::origin()); epoch 0: none.
        RedisMark::Epoch origin;

        /// Per channel, the newest id that is not in this history: what trimming removed or,
        /// for a channel read up to `readLimit` entries (older ones may be there, but not
        /// here), the id just below its oldest event read.
        ChannelFloors floors(int readLimit) const;
    };

    /// `streamLength`: the entries a stream keeps (HERMES_REDIS_STREAM_LENGTH).
    RedisHistoryReader(RedisKeyspace keys, int streamLength);

    /// The call that loads `mode` for a node that delivered up to `lastDelivered` (null: nothing
    /// yet) in `epoch` (0: none yet), its continuity checked against `mark` (see RedisMark).
    RedisScripts::Load call(Mode mode, EventId lastDelivered, quint32 epoch,
                            const RedisMark &mark = {}) const;
    /// The most entries a load of `mode` reads per stream: all a tail keeps, or one page of a
    /// gap (the caller pages on while a stream gives a full page).
    int readLimit(Mode mode) const;
    /// The deployment's stream length, once known (RedisProbe).
    void setStreamLength(int streamLength) { m_streamLength = streamLength; }

    /// What a reply to call() says, or why it cannot be used (an error reply, a reply of
    /// another shape, no valid epoch; the message is for the log). Entries that are not
    /// events (not an entry, no `e` field, not an envelope) are skipped. `reply` is not null.
    Result<Loaded> parse(const redisReply *reply) const;

private:
    RedisKeyspace m_keys;
    int m_streamLength;
};

} // namespace Hermes
