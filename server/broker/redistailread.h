#pragma once

#include "broker/historybudget.h"
#include "broker/redishistoryreader.h"
#include "broker/rediskeyspace.h"
#include "broker/redisscripts.h"
#include "result.h"

#include <array>
#include <optional>

struct redisReply;

namespace Hermes {

/**
 * Reads the tail of the Redis streams that becomes a node's history (at its start, or when
 * the history is replaced) in pages bounded by bytes, newest first, keeping only the newest
 * events that fit the history's bounds: HistoryBudget, as the embedded journal's load. A
 * channel of large events is never read whole: what the node holds while it reads is the
 * budget and one page (RedisHistoryReader::PageBytes, and never much more than the budget
 * still has room for) per stream.
 *
 * The Load script's answer is the first page of every stream; then each stream is read on
 * below its oldest entry (RedisScripts::TailPage) until it is read to its end, an event does
 * not fit (the newest left out is the channel's floor: a resume from before it resyncs,
 * history_exceeded, as after an eviction), or HERMES_REDIS_STREAM_LENGTH entries were read
 * (the floor is below the oldest entry read, as before pages). A page also carries the
 * stream's trimmed id and the epoch: a database replaced meanwhile starts the load over.
 */
class RedisTailRead final
{
public:
    /// `historySize`, `historyBytes`: the history's bounds per channel.
    RedisTailRead(RedisKeyspace keys, int historySize, qint64 historyBytes);

    /// Starts a read from the Load script's answer (RedisHistoryReader::parse), reading at
    /// most `streamLength` entries per stream.
    void begin(RedisHistoryReader::Loaded first, int streamLength);
    /// The next page to read, or none: the tail is read.
    std::optional<RedisScripts::TailPage> next() const;
    enum class Page { Read, EpochChanged };
    /// A TailPage reply for the page next() gave. EpochChanged: the database was flushed or
    /// replaced since the read began (begin anew); an error: the reply is unusable.
    Result<Page> add(const redisReply *reply);
    /// What was read: the epoch, damage and trimmed ids of the first answer, the events kept
    /// in id order; `floors`: per channel, the newest id that is not in it.
    RedisHistoryReader::Loaded take(ChannelFloors *floors);

private:
    struct Lane
    {
        HistoryBudget budget{1, 1};
        QList<QList<Event>> kept; ///< pages of kept events, newest page first, each in id order
        int read = 0;             ///< entries read (events or not)
        EventId oldestRead;
        EventId leftOut;          ///< the newest event that did not fit (null: none yet)
        bool more = false;        ///< the stream may hold older entries
    };
    /// A page of a lane's stream: keeps the newest of its events that still fit.
    void keep(Lane &lane, QList<Event> events);
    bool done(const Lane &lane) const;

    RedisKeyspace m_keys;
    int m_historySize;
    qint64 m_historyBytes;
    int m_streamLength = 0;
    RedisHistoryReader::Loaded m_loaded; ///< the first answer's epoch, damage and trimmed ids
    std::array<Lane, Channel::Count> m_lanes;
};

} // namespace Hermes
