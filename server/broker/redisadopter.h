#pragma once

#include "broker/rediskeyspace.h"
#include "broker/redisscripts.h"
#include "result.h"

namespace Hermes {

/**
 * Adopts outside publishers' events: a bare PUBLISH on a public channel (what the Python
 * Hermes workers do, or `redis-cli PUBLISH`) becomes one event with one id on every node.
 *
 * Every node sees such a message and runs the Adopt script for it, keyed by the SHA-1 of
 * channel and payload: the first gives it an id and forwards it on the internal channel, the
 * others find it adopted (for the adoption window), so it is delivered once, from there. Two
 * byte-identical messages on one channel within the window are therefore one event. A node's
 * own copies on the public channels (they carry an `"id"`) are not adopted.
 */
class RedisAdopter final
{
public:
    /// `streamLength`: HERMES_REDIS_STREAM_LENGTH; `windowSec`: HERMES_REDIS_ADOPT_WINDOW.
    RedisAdopter(RedisKeyspace keys, int streamLength, int windowSec);

    /// Whether `payload` on a public channel is what a node published there for the Python
    /// Hermes' subscribers (the Publish script's copy, with `"id":"<epoch>-<ms>-<seq>"`
    /// appended): the nodes deliver the copy on the internal channel instead.
    static bool isRelayedCopy(const QByteArray &payload);

    /// The call that adopts `payload` received on `channel`, or why it is not an event
    /// (Error::Kind::Invalid, the envelope's fault in words for the log).
    Result<RedisScripts::Adopt> adoption(Channel channel, const QByteArray &payload) const;

private:
    RedisKeyspace m_keys;
    int m_streamLength;
    int m_windowSec;
};

} // namespace Hermes
