#pragma once

#include <QString>

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
    int adoptWindowSec = 60;      ///< de-duplication window for outside publishers' events
    bool allowEviction = false;   ///< an evicting maxmemory-policy is a warning, not an error
};

} // namespace Hermes
