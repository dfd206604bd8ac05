#pragma once

#include "protocol/channel.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <array>

namespace Hermes {

/**
 * Every Redis key and channel name of the Redis broker, derived from the key prefix
 * (HERMES_REDIS_KEY_PREFIX, `hermes:` by default) in one place.
 *
 * Nodes of other versions share the database, so these names are a contract:
 *
 * - `<prefix>seq`: the newest position of the one sequence (`<ms>-<seq>`)
 * - `<prefix>epoch`: the epoch of the database (see EventId)
 * - `<prefix>stream:<channel>`: a channel's capped stream, one field `e` (the envelope) per entry
 * - `<prefix>trimmed:<channel>`: the newest id trimming removed from that stream
 * - `<prefix>adopt:<SHA-1 of channel and payload>`: an outside message adopted lately (its id)
 * - `<prefix>heads`: a hash, per channel name the newest id appended to its stream (Publish and
 *   Adopt set it; nodes of older versions do not, so it may lag, never lead). Written on every
 *   event, so an LRU keeps it: it outlives a stream key that was evicted or lost, and the Load
 *   script then raises that channel's trimmed key to it (a floor: resumes across it resync)
 * - `<prefix>config`: a hash of the deployment's settings, set by the first node (HSETNX):
 *   `stream_length`, the entries each stream keeps
 * - `<prefix>origin`: the epoch the current one replaced when the Load script found the history
 *   damaged, and what the node that found it had delivered there: `<epoch>\n<ms>-<seq>\n`
 *   and per channel `<ms>-<seq>` ('' when none), newline-separated. Every node that loads the
 *   new epoch remembers it (RedisMark::recall()), so a later restore of that epoch's snapshot
 *   fails the check on any of them
 * - `<prefix>events`: the internal channel every node delivers from
 * - `<prefix>lost`: the internal channel of recorded losses (RedisScripts::MarkLost)
 * - the public channels (`download:updates`, …): the Python Hermes' names, unprefixed
 * - `sse:token:<token>`: the Python Hermes API's stream tokens, unprefixed (its keys)
 */
class RedisKeyspace final
{
public:
    explicit RedisKeyspace(const QString &prefix);

    QByteArray sequence() const;
    QByteArray epoch() const;
    QByteArray stream(Channel channel) const;
    /// Every channel's stream, in Channel::all() order.
    std::array<QByteArray, Channel::Count> streams() const;
    QByteArray trimmed(Channel channel) const;
    /// Every channel's trimmed key, in Channel::all() order.
    std::array<QByteArray, Channel::Count> trimmedKeys() const;
    /// The hash of every channel's newest id (field: the channel's name).
    QByteArray heads() const;
    /// The hash of the deployment's settings (`stream_length`).
    QByteArray config() const;
    /// The epoch the current one replaced after a failed continuity check, with its mark.
    QByteArray origin() const;
    /// The key that marks `payload` on `channel` as adopted: the same on every node.
    QByteArray adoption(Channel channel, const QByteArray &payload) const;

    /// The internal channel: the scripts publish every event there, with its id.
    QByteArray eventsChannel() const;
    /// Where a recorded loss is announced: `<epoch>-<ms>-<seq>\n<channel>\n<ms>-<seq>` (the
    /// position trimmed was raised to, the channel, what the recording node had delivered).
    QByteArray lossesChannel() const;
    /// What a node subscribes to: the internal channel, the public ones, then the losses'.
    QList<QByteArray> subscriptions() const;

    /// Where the Python Hermes API keeps a stream token's record.
    static QByteArray pythonToken(const QByteArray &token);

private:
    QByteArray key(const char *name) const;

    QByteArray m_prefix;
};

} // namespace Hermes
