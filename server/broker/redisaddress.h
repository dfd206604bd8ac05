#pragma once

#include "result.h"

#include <QString>

namespace Hermes {

/// Where and how to reach Redis, parsed from `redis://[:password@]host:port/db` or
/// `unix:///path/to/redis.sock[?db=N&password=…]`.
struct RedisAddress
{
    QString host;        ///< empty for a unix socket
    int port = 6379;
    QString socketPath;  ///< set for unix://
    QString username;
    QString password;
    int db = 0;

    /// The address, or why not (Error::Kind::Invalid, `invalid_redis_url`; the message names
    /// HERMES_REDIS_URL, never the password).
    static Result<RedisAddress> parse(const QString &url);
    /// For logs: the address without credentials.
    QString display() const;
};

} // namespace Hermes
