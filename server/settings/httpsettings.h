#pragma once

#include <QtGlobal>

namespace Hermes {

/**
 * The front door's settings (HERMES_HTTP_*): what it allows one client before a route sees its
 * request — sizes checked as the bytes arrive, timeouts, and how many connections may be open
 * at once. Defaults follow nginx's. HttpServer takes this group as its HttpLimits.
 *
 * Every member but LingerMaxBytes and SendBufferBytes is a setting: its variable, default and unit are defined in
 * SettingsTable, which writes it here (seconds converted to ms there); tst_settingstable keeps
 * the defaults below equal to the table's.
 */
struct HttpSettings
{
    int maxRequestLine = 8 * 1024;      ///< bytes; longer: 414
    int maxHeaderBytes = 32 * 1024;     ///< the header block; larger: 431
    int maxHeaderFields = 100;          ///< more: 431
    qint64 maxBodyBytes = 64 * 1024;    ///< for routes without a limit of their own; larger: 413
    int headerTimeoutMs = 10'000;       ///< a request's head must arrive within this
    int bodyTimeoutMs = 10'000;         ///< a request body must not stall longer
    /// A response the client does not read closes the connection after this long without
    /// progress (nginx's send_timeout).
    int sendTimeoutMs = 60'000;
    int idleTimeoutMs = 60'000;         ///< an idle keep-alive connection is closed after this
    int maxConnections = 1024;          ///< open connections that are not streams
    int maxConnectionsPerAddress = 128; ///< of those, from one client address; 0: no cap
    /// Slowest average a body may arrive at once it has had bodyTimeoutMs (0: any): keeps a
    /// client that trickles one byte per timeout from holding a connection for days.
    qint64 minBodyBytesPerSecond = 1024;
    /// After an error the server stops sending, keeps reading (and dropping) for this long so
    /// the client sees the answer instead of a reset, then closes (nginx's lingering_time).
    int lingerMs = 2000;
    /// ... and reads at most this much meanwhile. Not a setting.
    static constexpr qint64 LingerMaxBytes = 4 << 20;
    /// What a connection holds of its answers beyond the kernel's socket buffer: a response is
    /// handed to the socket this much at a time as it drains, and a pipelined request waits
    /// until the answer before it is in. Not a setting.
    static constexpr qint64 SendBufferBytes = 64 * 1024;
};

} // namespace Hermes
