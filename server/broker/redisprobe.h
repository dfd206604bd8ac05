#pragma once

#include "broker/rediskeyspace.h"

#include <QByteArray>
#include <QString>

#include <functional>
#include <optional>

namespace Hermes {

class RedisConnection;

/**
 * What a node learns about the Redis deployment besides the events, asked on connecting and
 * again every few seconds (an operator's CONFIG SET or HSET changes it at any time):
 *
 * - Redis' `run_id` (INFO server): another one means Redis restarted since the node's mark.
 * - its `maxmemory-policy` (INFO memory: CONFIG may be renamed away): an `allkeys-*` policy
 *   may evict Hermes' streams and keys, so their history is lost without a trace.
 * - the deployment's stream length (`<prefix>config`, field `stream_length`): the first node's
 *   HERMES_REDIS_STREAM_LENGTH, stored with HSETNX; every node uses it.
 */
class RedisProbe final
{
public:
    struct Found
    {
        QByteArray runId;          ///< empty: INFO unavailable
        QByteArray evictionPolicy; ///< empty: INFO unavailable
        int streamLength = 0;      ///< the deployment's (0: could not be read)
    };

    /// `streamLength`: this node's setting, stored when the deployment has none yet.
    RedisProbe(RedisKeyspace keys, int streamLength);

    /// Asks on `connection`; `done` runs once, with nothing when the connection went away.
    void run(RedisConnection &connection, std::function<void(std::optional<Found>)> done) const;

    /// Whether `policy` may evict keys that have no expiry (Hermes' keys): `allkeys-*`.
    static bool evictsHermesKeys(const QByteArray &policy);
    /// The value of `field` in an INFO reply's text (`field:value` lines), empty when absent.
    static QByteArray infoField(const QByteArray &info, const QByteArray &field);

private:
    RedisKeyspace m_keys;
    int m_streamLength;
};

} // namespace Hermes
