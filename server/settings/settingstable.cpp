#include "settings/settingstable.h"

#include "settings/serversettings.h"
#include "settings/settingbuilder.h"
#include "settings/settingparsers.h"

#include <QDir>
#include <QStandardPaths>

namespace Hermes {

namespace {

using Type = OptionSpec::Type;
using Unit = OptionSpec::Unit;
using namespace SettingParsers;
using Setting = SettingBuilder;

// Checks against settings written before (see SettingEntry::write): the full message.
Result<void> renewAtMostHalfTheLease(const ServerSettings &s)
{
    if (s.downloads.renewMs * 2 > s.downloads.leaseMs)
        return Config::invalidSetting(QStringLiteral("HERMES_DOWNLOAD_LEASE_RENEW (%1 ms) must be at "
                                                     "most half of HERMES_DOWNLOAD_LEASE (%2 ms)")
                                          .arg(s.downloads.renewMs).arg(s.downloads.leaseMs));
    return {};
}

Result<void> adoptRetryWithinTheWindow(const ServerSettings &s)
{
    if (s.redis.adoptRetryLimitSec >= s.redis.adoptWindowSec)
        return Config::invalidSetting(QStringLiteral("HERMES_REDIS_ADOPT_RETRY_LIMIT (%1 s) must be "
                                                     "below HERMES_REDIS_ADOPT_WINDOW (%2 s)")
                                          .arg(s.redis.adoptRetryLimitSec).arg(s.redis.adoptWindowSec));
    return {};
}

// WAIT blocks the command connection, and a command unanswered for the connect timeout counts
// as a lost connection: the wait must end well before (see RedisReplicaWait).
Result<void> waitBelowConnectTimeout(const ServerSettings &s)
{
    if (s.redis.waitReplicas > 0 && s.redis.waitTimeoutMs * 2 > s.redis.connectTimeoutMs)
        return Config::invalidSetting(QStringLiteral("HERMES_REDIS_WAIT_TIMEOUT (%1 ms) must be at most "
                                                     "half of HERMES_REDIS_CONNECT_TIMEOUT (%2 ms)")
                                          .arg(s.redis.waitTimeoutMs).arg(s.redis.connectTimeoutMs));
    return {};
}

QString defaultDataDir()
{
    // Under systemd, the unit's StateDirectory= ($STATE_DIRECTORY; the first when there are
    // several); else the XDG data dir of the user running the server (~/.local/share/hermes-server).
    const QString state = qEnvironmentVariable("STATE_DIRECTORY").section(u':', 0, 0);
    if (!state.isEmpty())
        return state;
    return QDir(QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation))
        .filePath(QStringLiteral("hermes-server"));
}

QList<SettingEntry> buildTable()
{
    using S = ServerSettings;
    return {
        Setting("HERMES_HOST", "host", Type::String, QStringLiteral("127.0.0.1"),
                "Address to listen on (0.0.0.0 or :: for every interface).")
            .parsedInto(&S::general, &GeneralSettings::host, hostAddress),
        Setting("HERMES_PORT", "port", Type::Integer, QStringLiteral("8000"),
                "TCP port to listen on.")
            .range(1, 65535).into(&S::general, &GeneralSettings::port),
        Setting("HERMES_DATA_DIR", "data-dir", Type::String, defaultDataDir(),
                "Directory for the server's state: generated API key, token secret.")
            .documentedDefault("$STATE_DIRECTORY, else ~/.local/share/hermes-server")
            .parsedInto(&S::general, &GeneralSettings::dataDir, nonEmpty),
        Setting("HERMES_WEBUI", "webui", Type::Boolean, QStringLiteral("true"),
                "Serve the built-in web page at /ui/ (/ redirects there); when false those "
                "paths answer 404. The page needs no credential to load; it asks for an API key.")
            .into(&S::general, &GeneralSettings::webUi),
        Setting("HERMES_ENABLE_SSE", "enable-sse", Type::Boolean, QStringLiteral("true"),
                "Serve the event streams; when false they answer 503.")
            .reloadable().into(&S::events, &EventApiSettings::enabled),
        Setting("HERMES_SSE_HEARTBEAT_INTERVAL", "heartbeat-interval", Type::Integer,
                QStringLiteral("30"), "Seconds between heartbeat events on every stream.")
            .range(1, 3600).unit(Unit::Seconds)
            .into(&S::stream, &StreamSettings::heartbeatIntervalSec),
        Setting("HERMES_SSE_MAX_CONNECTIONS", "max-connections", Type::Integer,
                QStringLiteral("1000"),
                "Concurrent streams; further ones get 503 with Retry-After. Keep it below "
                "the open-files limit (ulimit -n).")
            .range(1, 1000000).reloadable().into(&S::events, &EventApiSettings::maxConnections),
        Setting("HERMES_SSE_CONNECTION_TIMEOUT", "connection-timeout", Type::Integer,
                QStringLiteral("300"),
                "Seconds after which the server ends a stream cleanly (after a retry: "
                "hint) so the client reconnects and resumes; 0 disables.")
            .range(0, 7 * 24 * 3600).unit(Unit::Seconds)
            .into(&S::stream, &StreamSettings::connectionTimeoutSec),
        Setting("HERMES_SSE_RETRY", "retry", Type::Integer, QStringLiteral("3000"),
                "Milliseconds sent as the SSE retry: hint when the server ends a stream.")
            .range(0, 3600000).unit(Unit::Milliseconds).into(&S::stream, &StreamSettings::retryMs),
        Setting("HERMES_ALLOWED_ORIGINS", "allowed-origins", Type::List, QString(),
                "Comma-separated browser origins allowed by CORS (e.g. https://app.example); "
                "* allows any; empty allows none.")
            .reloadable().into(&S::access, &AccessSettings::allowedOrigins),
        Setting("HERMES_SSE_EVENT_STYLE", "event-style", Type::Choice, QString(wireName(EventStyle::Envelope)),
                "Default SSE framing: envelope (data holds {type,data,timestamp}) or named "
                "(event: <type>, data holds the inner data, as the Python Hermes server "
                "writes). ?style= overrides it per stream.")
            .choices({QString(wireName(EventStyle::Envelope)), QString(wireName(EventStyle::Named))}).reloadable()
            .parsedInto(&S::events, &EventApiSettings::eventStyle, eventStyle),
        Setting("HERMES_API_KEYS", "api-keys", Type::List, QString(),
                "Comma-separated API keys accepted as Authorization: Bearer <key>.")
            .secret().reloadable().into(&S::access, &AccessSettings::apiKeys),
        Setting("HERMES_API_KEY_FILE", "api-key-file", Type::String, QString(),
                "File with one API key per line (or sha256:<hex> of a key). When no key is "
                "configured at all, a key is generated into <data dir>/api-key.")
            .credentialPath("api-keys").reloadable().into(&S::access, &AccessSettings::apiKeyFile),
        Setting("HERMES_TOKEN_SECRET", "token-secret", Type::String, QString(),
                "Secret that signs stream tokens; nodes sharing it accept each other's tokens. "
                "Default: generated once into <data dir>/token-secret.")
            .secretFromFile().into(&S::access, &AccessSettings::tokenSecret),
        Setting("HERMES_SSE_HISTORY_SIZE", "history-size", Type::Integer, QStringLiteral("10000"),
                "Events kept per channel for Last-Event-ID replay. With the embedded broker "
                "they are kept in <data dir>/history across restarts.")
            .range(1, 10000000).into(&S::history, &HistorySettings::size),
        // 16 MiB a channel: about 10,000 ordinary events (progress updates weigh 1-2 KB held,
        // both frames) fit, so the count is what binds in normal use; large payloads hit this
        // instead. Three channels: at most 48 MiB of history in the process (README, "Memory
        // budget").
        Setting("HERMES_SSE_HISTORY_BYTES", "history-bytes", Type::Integer, QStringLiteral("16777216"),
                "Most bytes of events kept in memory per channel for Last-Event-ID replay, "
                "counted as held (both encoded frames with their payload, and overhead): "
                "the oldest go first when either this or HERMES_SSE_HISTORY_SIZE is reached, "
                "and a client resuming from before them gets resync_required. The newest "
                "event of a channel is kept even when it alone is larger.")
            .range(1 << 20, qint64(1) << 40).unit(Unit::Bytes)
            .into(&S::history, &HistorySettings::bytes),
        Setting("HERMES_SSE_HISTORY_FSYNC", "history-fsync", Type::Choice, QStringLiteral("everysec"),
                "When the embedded broker's history is flushed to disk: always (before "
                "each event is delivered), everysec, or no (left to the kernel). A process "
                "crash loses nothing either way; after a power loss without always, clients "
                "that resume get resync_required.")
            .choices({QStringLiteral("always"), QStringLiteral("everysec"), QStringLiteral("no")})
            .into(&S::history, &HistorySettings::fsync),
        Setting("HERMES_SSE_MAX_CLIENT_BUFFER", "max-client-buffer", Type::Integer,
                QStringLiteral("1048576"),
                "Most bytes handed to one stream at a time. A stream that falls behind (a "
                "replay, a burst, a slow reader) is fed from the history as its socket "
                "drains, at most 64 KiB and this much at a time.")
            .range(4096, qint64(1) << 32).unit(Unit::Bytes)
            .into(&S::stream, &StreamSettings::maxClientBuffer),
        Setting("HERMES_SSE_SEND_TIMEOUT", "send-timeout", Type::Integer, QStringLiteral("60"),
                "Seconds a stream's socket may take no bytes at all while some wait, before "
                "the stream is dropped (like nginx's send_timeout); it resumes with "
                "Last-Event-ID.")
            .range(1, 3600).unit(Unit::Seconds).into(&S::stream, &StreamSettings::sendTimeoutSec),
        Setting("HERMES_IO_THREADS", "io-threads", Type::Integer, QStringLiteral("0"),
                "Threads that write the event streams, each with its own sockets (new "
                "streams go to the one with the fewest). 0: one per CPU core.")
            .range(0, 64).into(&S::stream, &StreamSettings::ioThreads),
        Setting("HERMES_IO_BACKEND", "io-backend", Type::Choice, QStringLiteral("auto"),
                "How a fan-out's sends reach the kernel: io_uring (one system call per "
                "batch of sends), epoll (one send() per stream), or auto (io_uring when the "
                "kernel allows it, else epoll).")
            .choices({QStringLiteral("auto"), QStringLiteral("io_uring"), QStringLiteral("epoll")})
            .into(&S::stream, &StreamSettings::ioBackend),
        Setting("HERMES_IO_ROUND_INTERVAL", "io-round-interval", Type::Integer, QStringLiteral("5"),
                "Milliseconds an I/O thread's rounds of sends are apart at least: the events "
                "that arrive meanwhile go out together in the next round, one send per "
                "stream. An event after a quiet spell goes out at once; events faster than "
                "one per interval wait up to this long. 0: a round per wakeup.")
            .range(0, 100).unit(Unit::Milliseconds).into(&S::stream, &StreamSettings::roundIntervalMs),
        Setting("HERMES_MAX_PUBLISH_BYTES", "max-publish-bytes", Type::Integer,
                QStringLiteral("65536"), "Largest accepted publish request body, in bytes.")
            .range(256, 16 << 20).unit(Unit::Bytes).reloadable()
            .into(&S::events, &EventApiSettings::maxPublishBytes),
        Setting("HERMES_REDIS_URL", "redis", Type::String, QString(),
                "Redis to use as the broker: redis://[:password@]host:port/db or "
                "unix:///path/to/redis.sock[?db=N]. Empty: the embedded in-process broker.")
            .secretFromFile().into(&S::redis, &RedisSettings::url),
        Setting("HERMES_REDIS_KEY_PREFIX", "redis-key-prefix", Type::String, QStringLiteral("hermes:"),
                "Prefix of the Redis keys Hermes creates (the per-channel event streams).")
            .into(&S::redis, &RedisSettings::keyPrefix),
        Setting("HERMES_REDIS_STREAM_LENGTH", "redis-stream-length", Type::Integer,
                QStringLiteral("10000"),
                "Events kept per channel in the Redis streams for replay on any node. It "
                "belongs to the deployment: the first node stores it in Redis "
                "(<prefix>config, field stream_length) and a node started with another value "
                "uses the stored one, with a warning. To change it for every node: redis-cli "
                "HSET <prefix>config stream_length N (nodes pick it up within seconds).")
            .range(100, 10000000).into(&S::redis, &RedisSettings::streamLength),
        Setting("HERMES_REDIS_CONNECT_TIMEOUT", "redis-connect-timeout", Type::Integer,
                QStringLiteral("5000"), "Milliseconds to wait for a Redis connection.")
            .range(100, 600000).unit(Unit::Milliseconds)
            .into(&S::redis, &RedisSettings::connectTimeoutMs),
        Setting("HERMES_REDIS_RECONNECT_MAX", "redis-reconnect-max", Type::Integer,
                QStringLiteral("10000"),
                "Longest wait between two attempts to reach a Redis that went away: the "
                "attempts start 500 ms apart and double (with jitter) up to this. Lower: "
                "back sooner after an outage, more attempts against a Redis that is down.")
            .range(500, 600000).unit(Unit::Milliseconds)
            .into(&S::redis, &RedisSettings::reconnectMaxMs),
        Setting("HERMES_REDIS_ADOPT_WINDOW", "redis-adopt-window", Type::Integer, QStringLiteral("60"),
                "Seconds during which an outside publisher's event (a bare PUBLISH) is "
                "recognised by every node as the same event and gets one shared id.")
            .range(1, 86400).unit(Unit::Seconds).into(&S::redis, &RedisSettings::adoptWindowSec),
        Setting("HERMES_REDIS_ALLOW_EVICTION", "redis-allow-eviction", Type::Boolean,
                QStringLiteral("false"),
                "Run even when Redis' maxmemory-policy may evict Hermes' keys (allkeys-*): "
                "a warning instead of a node that stays not ready. Evicted streams mean "
                "clients resync (or, where no record survives, miss events silently).")
            .into(&S::redis, &RedisSettings::allowEviction),
        Setting("HERMES_REDIS_ADOPT_RETRY_LIMIT", "redis-adopt-retry-limit", Type::Integer,
                QStringLiteral("30"),
                "Seconds an outside publisher's event that Redis accepted but could not adopt "
                "(out of memory, a script error, a lost connection) is retried, with backoff, "
                "before it is given up: its channel's streams then get resync_required "
                "(events_lost). Below HERMES_REDIS_ADOPT_WINDOW.")
            .range(1, 86400).unit(Unit::Seconds).check(adoptRetryWithinTheWindow)
            .into(&S::redis, &RedisSettings::adoptRetryLimitSec),
        Setting("HERMES_REDIS_SENTINELS", "redis-sentinels", Type::List, QString(),
                "Redis Sentinel: comma-separated ip:port of the sentinels to ask for the master "
                "(IP addresses: host names are resolved synchronously). The broker follows "
                "failovers. HERMES_REDIS_URL, if set, then gives only the password and "
                "database.")
            .into(&S::redis, &RedisSettings::sentinels),
        Setting("HERMES_REDIS_SENTINEL_MASTER", "redis-sentinel-master", Type::String,
                QStringLiteral("mymaster"), "The master name the sentinels monitor.")
            .into(&S::redis, &RedisSettings::sentinelMaster),
        Setting("HERMES_REDIS_SENTINEL_PASSWORD", "redis-sentinel-password", Type::String, QString(),
                "Password of the sentinels themselves (their requirepass); empty: none.")
            .secretFromFile().into(&S::redis, &RedisSettings::sentinelPassword),
        Setting("HERMES_REDIS_WAIT_REPLICAS", "redis-wait-replicas", Type::Integer, QStringLiteral("0"),
                "A publish is acknowledged (202) only once this many Redis replicas have the "
                "event (WAIT), else it answers 503; so a failover loses no acknowledged event. "
                "0: acknowledged once the master has it.")
            .range(0, 100).into(&S::redis, &RedisSettings::waitReplicas),
        Setting("HERMES_REDIS_WAIT_TIMEOUT", "redis-wait-timeout", Type::Integer, QStringLiteral("1000"),
                "Milliseconds a publish waits for HERMES_REDIS_WAIT_REPLICAS replicas; at most "
                "half of HERMES_REDIS_CONNECT_TIMEOUT.")
            .range(1, 300000).unit(Unit::Milliseconds).check(waitBelowConnectTimeout)
            .into(&S::redis, &RedisSettings::waitTimeoutMs),
        Setting("HERMES_DOWNLOAD_DIR", "download-dir", Type::String, QString(),
                "Where finished downloads go (and their .part files while running). "
                "Default: <data dir>/downloads.")
            .into(&S::downloads, &DownloadSettings::downloadDir),
        Setting("HERMES_DATABASE_URL", "database-url", Type::String, QString(),
                "The download store: sqlite:///path/to/file.db (one node), or "
                "postgresql://user[:password]@host[:port]/database[?sslmode=...] shared by several "
                "nodes. Default: <data dir>/hermes.db.")
            .secretFromFile() // a database URL may carry a password too
            .into(&S::store, &StoreSettings::databaseUrl),
        Setting("HERMES_MAX_CONCURRENT_DOWNLOADS", "max-concurrent-downloads", Type::Integer,
                QStringLiteral("3"),
                "Downloads transferring at the same time. One whose bytes are all in (its file "
                "being synced to the disk and moved into place) no longer counts, so the next "
                "starts; at most as many again are being finished.")
            .range(1, 100).into(&S::downloads, &DownloadSettings::maxConcurrent),
        Setting("HERMES_DOWNLOAD_CONNECTIONS_PER_HOST", "connections-per-host", Type::Integer,
                QStringLiteral("6"),
                "Transfers to one origin (scheme, host and port) at the same time; the others "
                "wait for a connection (phase waiting_for_connection) instead of sharing it. Qt "
                "6.4 opens at most 6 connections per host and network access manager: above 6 "
                "the engine spreads the transfers over several managers (one thread each per 6).")
            .range(1, 100).into(&S::downloads, &DownloadSettings::connectionsPerHost),
        Setting("HERMES_DOWNLOAD_STALLED_AFTER", "download-stalled-after", Type::Integer,
                QStringLiteral("10000"),
                "Milliseconds without a byte after which a transfer is shown as stalled (phase "
                "stalled). After 30 s without a byte the attempt fails and is retried.")
            .range(100, 30000).unit(Unit::Milliseconds)
            .into(&S::downloads, &DownloadSettings::stalledAfterMs),
        Setting("HERMES_DOWNLOAD_RETRY_WINDOW", "download-retry-window", Type::Integer,
                QStringLiteral("3600"),
                "Seconds a download keeps being retried after a transient failure (resolver, "
                "connection, timeout, 5xx, 408, 429, a short body) before it fails; the window "
                "starts at the first failure of a run and a success ends the run.")
            .range(0, 30 * 24 * 3600).unit(Unit::Seconds)
            .into(&S::downloads, &DownloadSettings::retryWindowMs, Unit::Milliseconds),
        Setting("HERMES_DOWNLOAD_MAX_ATTEMPTS", "download-max-attempts", Type::Integer,
                QStringLiteral("0"),
                "At most this many attempts within the retry window; 0: only the window limits.")
            .range(0, 100000).into(&S::downloads, &DownloadSettings::maxAttempts),
        Setting("HERMES_DOWNLOAD_RETRY_DELAY", "download-retry-delay", Type::Integer,
                QStringLiteral("1000"),
                "Milliseconds before the first retry; it doubles with each attempt (at most 60 s, jittered).")
            .range(0, 600000).unit(Unit::Milliseconds)
            .into(&S::downloads, &DownloadSettings::retryBaseMs),
        Setting("HERMES_DOWNLOAD_MAX_REDIRECTS", "download-max-redirects", Type::Integer,
                QStringLiteral("10"), "Redirects followed for one download.")
            .range(0, 50).into(&S::downloads, &DownloadSettings::maxRedirects),
        Setting("HERMES_DOWNLOAD_BLOCK_PRIVATE", "download-block-private", Type::Boolean,
                QStringLiteral("false"),
                "Refuse downloads (and redirect hops) to loopback, private (RFC 1918), shared "
                "(100.64/10), link-local, unique-local (fc00::/7) and other non-public "
                "addresses, checked on the address connected to: turn on when API key holders "
                "must not reach the server's own network through it.")
            .into(&S::downloads, &DownloadSettings::blockPrivate),
        Setting("HERMES_DOWNLOAD_MAX_FILE_SIZE", "download-max-file-size", Type::Integer,
                QStringLiteral("0"), "Largest file accepted, in bytes; 0: no limit.")
            .range(0, std::numeric_limits<qint64>::max()).unit(Unit::Bytes)
            .into(&S::downloads, &DownloadSettings::maxFileSize),
        Setting("HERMES_PROGRESS_STEP_PERCENT", "progress-step-percent", Type::Integer,
                QStringLiteral("1"),
                "A download_progress event when the percentage grew by this much...")
            .range(1, 100).unit(Unit::Percent)
            .into(&S::downloads, &DownloadSettings::progressStepPercent),
        Setting("HERMES_PROGRESS_INTERVAL_MS", "progress-interval", Type::Integer,
                QStringLiteral("500"), "...or when this many milliseconds passed.")
            .range(50, 60000).unit(Unit::Milliseconds)
            .into(&S::downloads, &DownloadSettings::progressIntervalMs),
        Setting("HERMES_DOWNLOAD_MIN_FREE", "download-min-free", Type::Integer, QStringLiteral("64"),
                "MB that must stay free in the download dir: below it no transfer starts, and a "
                "download that fills the disk is paused (nothing lost) until there is room again.")
            .range(0, std::numeric_limits<qint32>::max()).unit(Unit::Mebibytes)
            .into(&S::downloads, &DownloadSettings::minFreeBytes, Unit::Bytes),
        Setting("HERMES_DISK_WARNING_MB", "disk-warning-mb", Type::Integer, QStringLiteral("1024"),
                "A system notification warns when less than this many MB are free for downloads.")
            .range(0, std::numeric_limits<qint32>::max()).unit(Unit::Mebibytes)
            .into(&S::downloads, &DownloadSettings::diskWarningBytes, Unit::Bytes),
        // --- downloads on several nodes (cluster) ---
        Setting("HERMES_DATABASE_PASSWORD_FILE", "database-password-file", Type::String, QString(),
                "File whose first line is the PostgreSQL password (wins over the URL's). Without "
                "either, libpq's PGPASSWORD or ~/.pgpass apply.")
            .into(&S::store, &StoreSettings::databasePasswordFile),
        Setting("HERMES_DOWNLOAD_LEASE", "download-lease", Type::Integer, QStringLiteral("15000"),
                "Milliseconds a node's claim on a running download lasts without renewal; a "
                "node that died loses its downloads to another node after this long.")
            .range(1000, 3600000).unit(Unit::Milliseconds)
            .into(&S::downloads, &DownloadSettings::leaseMs),
        Setting("HERMES_DOWNLOAD_LEASE_RENEW", "download-lease-renew", Type::Integer,
                QStringLiteral("5000"),
                "Milliseconds between lease renewals (and looks for orphaned work); at most "
                "half of HERMES_DOWNLOAD_LEASE.")
            .range(100, 1800000).unit(Unit::Milliseconds).check(renewAtMostHalfTheLease)
            .into(&S::downloads, &DownloadSettings::renewMs),
        Setting("HERMES_CLUSTER_MAX_DOWNLOADS", "cluster-max-downloads", Type::Integer,
                QStringLiteral("0"),
                "Downloads transferring at the same time over every node sharing the database; "
                "0: only the per-node HERMES_MAX_CONCURRENT_DOWNLOADS.")
            .range(0, 100000).into(&S::downloads, &DownloadSettings::clusterMaxConcurrent),
        // front door (http/): limits checked as bytes arrive, timeouts, quotas, /metrics
        Setting("HERMES_HTTP_MAX_REQUEST_LINE", "http-max-request-line", Type::Integer,
                QStringLiteral("8192"),
                "Longest request line (method, target, version) in bytes; longer: 414.")
            .range(256, 1 << 20).unit(Unit::Bytes).into(&S::http, &HttpSettings::maxRequestLine),
        Setting("HERMES_HTTP_MAX_HEADER_SIZE", "http-max-header-size", Type::Integer,
                QStringLiteral("32768"), "Largest request header block in bytes; larger: 431.")
            .range(1024, 1 << 20).unit(Unit::Bytes).into(&S::http, &HttpSettings::maxHeaderBytes),
        Setting("HERMES_HTTP_MAX_HEADER_FIELDS", "http-max-header-fields", Type::Integer,
                QStringLiteral("100"), "Most header fields in a request; more: 431.")
            .range(8, 10000).into(&S::http, &HttpSettings::maxHeaderFields),
        Setting("HERMES_HTTP_MAX_BODY_SIZE", "http-max-body-size", Type::Integer,
                QStringLiteral("65536"),
                "Largest request body in bytes for endpoints without a limit of their own "
                "(publish has HERMES_MAX_PUBLISH_BYTES); larger: 413 before it is read.")
            .range(0, 64 << 20).unit(Unit::Bytes).into(&S::http, &HttpSettings::maxBodyBytes),
        Setting("HERMES_HTTP_HEADER_TIMEOUT", "http-header-timeout", Type::Integer,
                QStringLiteral("10"),
                "Seconds within which a request's line and headers must arrive (counted from "
                "the connection, or from the request's first byte on a kept-alive one): 408.")
            .range(1, 3600).unit(Unit::Seconds)
            .into(&S::http, &HttpSettings::headerTimeoutMs, Unit::Milliseconds),
        Setting("HERMES_HTTP_BODY_TIMEOUT", "http-body-timeout", Type::Integer,
                QStringLiteral("10"),
                "Seconds a request body may stall (and, after that long, it must keep "
                "HERMES_HTTP_MIN_BODY_RATE on average): 408.")
            .range(1, 3600).unit(Unit::Seconds)
            .into(&S::http, &HttpSettings::bodyTimeoutMs, Unit::Milliseconds),
        Setting("HERMES_HTTP_SEND_TIMEOUT", "http-send-timeout", Type::Integer,
                QStringLiteral("60"),
                "Seconds a response may wait for a client that reads none of it (nginx's "
                "send_timeout): then the connection is closed. A response goes out as the "
                "socket drains, 64 KiB at most held beyond the kernel's socket buffer.")
            .range(1, 3600).unit(Unit::Seconds)
            .into(&S::http, &HttpSettings::sendTimeoutMs, Unit::Milliseconds),
        Setting("HERMES_HTTP_MIN_BODY_RATE", "http-min-body-rate", Type::Integer,
                QStringLiteral("1024"),
                "Bytes per second a request body must average once it has had "
                "HERMES_HTTP_BODY_TIMEOUT, or 408: a client trickling a byte now and then "
                "cannot hold a connection for days. 0: any rate.")
            .range(0, 1'000'000'000).unit(Unit::BytesPerSecond)
            .into(&S::http, &HttpSettings::minBodyBytesPerSecond),
        Setting("HERMES_HTTP_LINGER", "http-linger", Type::Integer, QStringLiteral("2000"),
                "Milliseconds the server keeps reading (and dropping, 4 MiB at most) what a "
                "client still sends after an error answer, so that the client sees the "
                "answer instead of a reset (nginx's lingering close); then it closes.")
            .range(0, 60'000).unit(Unit::Milliseconds).into(&S::http, &HttpSettings::lingerMs),
        Setting("HERMES_HTTP_IDLE_TIMEOUT", "http-idle-timeout", Type::Integer, QStringLiteral("60"),
                "Seconds an idle keep-alive connection stays open.")
            .range(1, 86400).unit(Unit::Seconds)
            .into(&S::http, &HttpSettings::idleTimeoutMs, Unit::Milliseconds),
        Setting("HERMES_HTTP_MAX_CONNECTIONS", "http-max-connections", Type::Integer,
                QStringLiteral("1024"),
                "Open connections that are not event streams; beyond, new clients wait in "
                "the listen backlog until one closes.")
            .range(1, 1000000).into(&S::http, &HttpSettings::maxConnections),
        Setting("HERMES_HTTP_MAX_CONNECTIONS_PER_IP", "http-max-connections-per-ip",
                Type::Integer, QStringLiteral("128"),
                "Of those, open at once from one client address (further ones wait, unread, "
                "up to the header timeout); 0: no cap. Behind a proxy every client has the "
                "proxy's address: set 0 there and let the proxy limit clients.")
            .range(0, 1000000).into(&S::http, &HttpSettings::maxConnectionsPerAddress),
        Setting("HERMES_SSE_MAX_CONNECTIONS_PER_KEY", "max-connections-per-key",
                Type::Integer, QStringLiteral("100"),
                "Concurrent streams per API key (counting the streams of the tokens it "
                "minted) and per other stream token; further ones get 429 with Retry-After. "
                "0: no cap.")
            .range(0, 1000000).into(&S::events, &EventApiSettings::maxStreamsPerKey),
        Setting("HERMES_METRICS_TOKEN", "metrics-token", Type::String, QString(),
                "A bearer token that may read /metrics (API keys always may), for a Prometheus "
                "that should not hold an API key. A reload (SIGHUP) that changes it refuses the "
                "old one from the next request; one that removes it leaves a separate metrics "
                "listener asking for an API key until a restart.")
            .secretFromFile().reloadable().into(&S::metrics, &MetricsSettings::token),
        Setting("HERMES_METRICS_ADDRESS", "metrics-address", Type::String, QString(),
                "host:port of a separate listener that serves only /metrics, without a "
                "credential unless HERMES_METRICS_TOKEN is set (e.g. 127.0.0.1:9464 for a "
                "Prometheus on the host). Set, /metrics is not served on the main address.")
            .parsedInto(&S::metrics, &MetricsSettings::address, listenAddress),
        Setting("HERMES_BROKER_TIMEOUT", "broker-timeout", Type::Integer, QStringLiteral("5000"),
                "Milliseconds a request waits for the broker (publish, Redis token lookup) "
                "before it gets 503.")
            .range(100, 600000).unit(Unit::Milliseconds)
            .into(&S::events, &EventApiSettings::brokerTimeoutMs),
        // ops: logging, modes of downloaded files
        Setting("HERMES_LOG_LEVEL", "log-level", Type::String, QStringLiteral("info"),
                "Least severe messages logged: error, warning, info or debug, then optionally "
                "category=level items, e.g. warning,hermes.http=debug.")
            .reloadable().parsedInto(&S::ops, &OpsSettings::logLevel, logLevelSpec),
        Setting("HERMES_DOWNLOAD_UMASK", "download-umask", Type::String, QStringLiteral("0027"),
                "Octal umask for the download dir and finished files (0027: the group may read "
                "them, e.g. a media server in it; part files and the rest of the data dir stay "
                "private).")
            .parsedInto(&S::ops, &OpsSettings::downloadUmask, octalUmask),
        Setting("HERMES_DOWNLOAD_GROUP", "download-group", Type::String, QString(),
                "Group that owns the download dir and finished files (the server must be a member; "
                "the dir gets the setgid bit). Empty: the server's own group.")
            .into(&S::ops, &OpsSettings::downloadGroup),
    };
}

} // namespace

const QList<SettingEntry> &SettingsTable::entries()
{
    static const QList<SettingEntry> table = buildTable();
    return table;
}

const SettingEntry *SettingsTable::find(QStringView env)
{
    for (const SettingEntry &entry : entries()) {
        if (entry.spec.env == env)
            return &entry;
    }
    return nullptr;
}

Result<void> SettingsTable::write(const Config &config, ServerSettings &settings)
{
    for (const SettingEntry &entry : entries()) {
        if (Result<void> written = entry.write(config, settings); !written)
            return written;
    }
    return {};
}

} // namespace Hermes
