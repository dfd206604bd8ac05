#pragma once

#include <QString>
#include <QStringList>

namespace Hermes {

/**
 * The Redis broker's settings (HERMES_REDIS_*). RedisBroker's Options are this group plus the
 * address parsed from `url` when the broker is made.
 *
 * Written by SettingsTable, which defines each variable, default and unit;
 * tst_settingstable keeps the defaults below equal to the table's.
 */
struct RedisSettings
{
    QString url;                  ///< empty: the embedded broker instead
    QString keyPrefix = QStringLiteral("hermes:");
    /// Entries kept per channel stream; the deployment's value in Redis wins (RedisBroker).
    int streamLength = 10000;
    int connectTimeoutMs = 5000;
    int reconnectMaxMs = 10000;   ///< the reconnect backoff's cap (nchan's default)
    int adoptWindowSec = 60;      ///< de-duplication window for outside publishers' events
    bool allowEviction = false;   ///< an evicting maxmemory-policy is a warning, not an error
    /// How long an outside publisher's event whose adoption fails is retried before it is
    /// given up (its channel's streams resync); below adoptWindowSec, so every node's retry
    /// still finds another node's adoption.
    int adoptRetryLimitSec = 30;
    /// Redis Sentinel: `ip:port` of each sentinel; empty: `url` names the Redis itself.
    QStringList sentinels;
    QString sentinelMaster = QStringLiteral("mymaster"); ///< the name the sentinels monitor
    QString sentinelPassword;     ///< the sentinels' requirepass (not the data Redis')
    int waitReplicas = 0;         ///< a publish is acknowledged once this many replicas have it
    int waitTimeoutMs = 1000;     ///< how long a publish waits for them

    /// Whether Redis is the broker (a URL, or sentinels that name it).
    bool enabled() const { return !url.isEmpty() || !sentinels.isEmpty(); }
};

} // namespace Hermes
