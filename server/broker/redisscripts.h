#pragma once

#include "event.h"
#include "result.h"

#include <QByteArray>
#include <QList>

#include <array>

namespace Hermes {

/**
 * The Redis broker's Lua scripts, each with its arguments as a struct: its members, in
 * declaration order, are what the script reads as KEYS[1], KEYS[2], …, then ARGV[1], …, and
 * command() sends them in that order. Keys come from a RedisKeyspace.
 *
 * Nodes of other versions run the same scripts on the same database: a script's text, the
 * keys it touches and what it replies or publishes stay as they are.
 *
 * Scripts go as EVAL with their text, every time. EVALSHA would save the bytes, but a Redis
 * that forgot a script (restarted, SCRIPT FLUSH) answers NOSCRIPT, and re-sending that one
 * command lets commands sent after it overtake it: the order of adoptions is the order of
 * events. Redis compiles each script once (it caches them by their SHA-1 either way).
 */
namespace RedisScripts {

/**
 * Publishes an event through this node: gives it the next id of the one sequence, appends it
 * to its channel's stream, publishes it with its id on the internal channel and, for the
 * Python Hermes' subscribers, on its public channel with an `"id"` member appended. Replies
 * the id, `<epoch>-<ms>-<seq>`.
 */
struct Publish
{
    // KEYS
    QByteArray stream;    ///< the event's channel's stream
    QByteArray sequence;
    QByteArray epoch;
    QByteArray trimmed;   ///< the stream's trimmed key
    /// Every stream: a sequence that does not exist yet starts above their newest entries.
    std::array<QByteArray, Channel::Count> streams;
    QByteArray heads;     ///< every channel's newest id: RedisKeyspace::heads()
    QByteArray config;    ///< RedisKeyspace::config(): its stream_length wins over maxLength
    // ARGV
    int maxLength = 0;         ///< entries kept in the stream (about), unless config holds one
    QByteArray envelope;
    QByteArray channel;        ///< the public channel
    QByteArray candidateEpoch; ///< the epoch of a database that has none yet
    QByteArray eventsChannel;  ///< the internal channel

    QList<QByteArray> command() const;
};

/**
 * Adopts an outside publisher's message: every node that sees it runs this; the first gives
 * it an id, appends it to its stream and publishes it on the internal channel, and marks it
 * adopted for a window; the others find the mark. Replies the id either way.
 */
struct Adopt
{
    // KEYS
    QByteArray stream;    ///< the message's channel's stream
    QByteArray sequence;
    QByteArray epoch;
    QByteArray trimmed;   ///< the stream's trimmed key
    QByteArray adoption;  ///< the mark: RedisKeyspace::adoption()
    std::array<QByteArray, Channel::Count> streams; ///< as in Publish
    QByteArray heads;                               ///< as in Publish
    QByteArray config;                              ///< as in Publish
    // ARGV
    int maxLength = 0;
    QByteArray envelope;       ///< the normalised envelope
    QByteArray channel;        ///< the public channel
    QByteArray candidateEpoch;
    QByteArray eventsChannel;
    qint64 windowMs = 0;       ///< how long the mark is kept

    QList<QByteArray> command() const;
};

/**
 * Records a loss: events on a channel may have been lost after a position (an outside message
 * that could not be adopted). Advances the sequence one position and raises the channel's
 * trimmed key to it, unless it is above `after` already. Replies `[what, id]`: `marked` (this
 * call advanced; `id` is the new trimmed position, a marker no event has), `known` (`id`: the
 * trimmed position found above `after`), or `gone` (the database is of another epoch).
 * `marked` is announced on the losses channel (RedisKeyspace::lossesChannel()).
 */
struct MarkLost
{
    // KEYS
    QByteArray sequence;
    QByteArray epoch;
    QByteArray trimmed;   ///< the channel's trimmed key
    std::array<QByteArray, Channel::Count> streams; ///< as in Publish
    // ARGV
    QByteArray callerEpoch; ///< the epoch the loss belongs to
    QByteArray after;       ///< `<ms>-<seq>`: the node had delivered up to here
    QByteArray lossesChannel; ///< where a new record is announced (RedisKeyspace)
    QByteArray channel;       ///< the channel's name, for the announcement

    QList<QByteArray> command() const;
};

/**
 * Reads the history: the epoch and, per stream, its newest entries (tail) or the entries after
 * an id (after), with the newest id trimming removed from it. Replies
 * `[epoch, [entries of stream 1], [… 2], [… 3], [trimmed 1, trimmed 2, trimmed 3], damage,
 * [more 1, more 2, more 3], origin]` ('' for a stream nothing was trimmed from; damage: '' or
 * why the continuity check failed and a new epoch began; more: '1' for a stream whose page
 * ended at `count` or `pageBytes`, '' for one read to its end; origin: the origin key, ''
 * when none); RedisHistoryReader reads that.
 *
 * First it checks the history against the caller's mark (what it delivered: see the script),
 * and raises the trimmed id of a stream that lost its newest entries to its channel's head.
 */
struct Load
{
    enum class Mode { Tail, After };

    // KEYS
    QByteArray epoch;
    std::array<QByteArray, Channel::Count> streams;
    std::array<QByteArray, Channel::Count> trimmed; ///< the streams' trimmed keys
    QByteArray sequence;
    QByteArray heads;    ///< RedisKeyspace::heads()
    QByteArray origin;   ///< RedisKeyspace::origin()
    // ARGV
    QByteArray candidateEpoch;
    int count = 0;       ///< at most this many entries per stream
    Mode mode = Mode::Tail;
    QByteArray after;    ///< the position (`<ms>-<seq>`) the caller delivered last
    QByteArray callerEpoch;
    QByteArray markEpoch = "0";      ///< the caller's mark: its epoch ("0": no mark)
    QByteArray markPosition = "0-0"; ///< … the newest position it delivered
    /// … per channel the newest position it delivered ('': none)
    std::array<QByteArray, Channel::Count> markChannels;
    QByteArray eventsChannel;        ///< where a new epoch is announced (reloadNotice())
    std::array<QByteArray, Channel::Count> channels; ///< the channels' names (heads' fields)
    qint64 pageBytes = 0; ///< … and per stream only until the entries read carry this many bytes
    /// The caller's marks of earlier epochs, five arguments each: epoch, position and the
    /// three channels' ids, as above. The script checks the one of the database's epoch.
    QList<QByteArray> earlierMarks;

    QList<QByteArray> command() const;
};

/**
 * Reads on down one stream's tail, below `before`: at most `count` entries, and only until
 * they carry `pageBytes` (the first is read whatever its size). Replies `[epoch, [entries],
 * more, trimmed]`: the database's epoch ('' without one), the entries newest first as Load's,
 * '1' when the stream may hold older entries (else ''), and the stream's trimmed id ('' when
 * nothing was trimmed), all at the same instant. A stream that vanished since the read began
 * (its newest entry below the channel's head) first gets its trimmed id raised to the head,
 * as Load does.
 */
struct TailPage
{
    // KEYS
    QByteArray epoch;
    QByteArray stream;
    QByteArray trimmed; ///< the stream's trimmed key
    QByteArray heads;   ///< RedisKeyspace::heads()
    // ARGV
    QByteArray before;  ///< `<ms>-<seq>`: the oldest entry read so far
    int count = 0;
    qint64 pageBytes = 0;
    QByteArray channel; ///< the stream's channel (its field in heads)

    QList<QByteArray> command() const;
};

/// What the Load script publishes on the internal channel when its check fails and it
/// starts `epoch`: every node reloads the history (a node of an older version logs it as an
/// invalid message and reloads at the next event).
QByteArray reloadNotice(quint32 epoch);
/// The epoch a reload notice announces, 0 when `payload` is none.
quint32 parseReloadNotice(const QByteArray &payload);

/// An event as the scripts publish it on the internal channel, `<epoch>-<ms>-<seq>\n<channel>\n
/// <envelope>`, or why it is not one (Error::Kind::Invalid; the message is for the log).
Result<Event> parseEventMessage(const QByteArray &payload);

} // namespace RedisScripts
} // namespace Hermes
