#pragma once

#include "broker/redismark.h"
#include "broker/rediskeyspace.h"
#include "broker/redisscripts.h"
#include "event.h"
#include "result.h"

#include <QList>

#include <limits>

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
        /// Per channel: the page ended at its count or bytes, so the stream may hold more
        /// (older entries for a tail, newer ones after a gap).
        bool more[Channel::Count] = {};
        int unreadable = 0;              ///< entries that were no event (skipped)
        /// Why the continuity check failed (and the script started a new epoch); empty: it held.
        QString damage;
        /// The epoch this one replaced when a continuity check failed, and what the node that
        /// found it damaged had delivered there (RedisKeyspace::origin()); epoch 0: none.
        RedisMark::Epoch origin;
    };

    /// The values one page of one stream carries at most (beyond its first entry): what a
    /// node parses of the streams at a time is bounded by bytes, however large the events.
    static constexpr qint64 PageBytes = 1 << 20;

    /// `streamLength`: the entries a stream keeps (HERMES_REDIS_STREAM_LENGTH); `historySize`,
    /// `historyBytes`: the history's bounds per channel (a tail's first page reads no more).
    RedisHistoryReader(RedisKeyspace keys, int streamLength,
                       int historySize = std::numeric_limits<int>::max(),
                       qint64 historyBytes = std::numeric_limits<qint64>::max());

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
    /// Adds one stream's entries (a reply's list of them) to `into`: the events among them,
    /// the count, oldest and newest entry read and the entries that are no event.
    static void readEntries(const redisReply *entries, Channel channel, Loaded *into);
    /// The bytes of values a page reads for a history that has `room` bytes left: half of
    /// it (an event is held about twice, HistoryBudget::weight), at least 1 (one entry, which
    /// tells what lies below the history), at most PageBytes.
    static qint64 pageBytes(qint64 room);

private:
    RedisKeyspace m_keys;
    int m_streamLength;
    int m_historySize;
    qint64 m_historyBytes;
};

} // namespace Hermes
