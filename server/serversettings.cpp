#include "serversettings.h"

#include "logging.h"

#include <QDir>
#include <QFile>
#include <QStandardPaths>
#include <QUrl>

namespace Hermes {

using Type = OptionSpec::Type;

static OptionSpec spec(const char *env, const char *flag, Type type, const QString &def,
                       const char *description)
{
    OptionSpec s;
    s.env = QString::fromLatin1(env);
    s.flag = QString::fromLatin1(flag);
    s.type = type;
    s.defaultValue = def;
    s.description = QString::fromLatin1(description);
    return s;
}

static OptionSpec range(OptionSpec s, qint64 min, qint64 max)
{
    s.minimum = min;
    s.maximum = max;
    return s;
}

static OptionSpec choice(OptionSpec s, const QStringList &choices)
{
    s.choices = choices;
    return s;
}

static QString defaultDataDir()
{
    // Under systemd, the unit's StateDirectory= ($STATE_DIRECTORY; the first when there are
    // several); else the XDG data dir of the user running the server (~/.local/share/hermes-server).
    const QString state = qEnvironmentVariable("STATE_DIRECTORY").section(u':', 0, 0);
    if (!state.isEmpty())
        return state;
    return QDir(QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation))
        .filePath(QStringLiteral("hermes-server"));
}

QList<OptionSpec> ServerSettings::optionSpecs()
{
    QList<OptionSpec> specs{
        spec("HERMES_HOST", "host", Type::String, QStringLiteral("127.0.0.1"),
             "Address to listen on (0.0.0.0 or :: for every interface)."),
        range(spec("HERMES_PORT", "port", Type::Integer, QStringLiteral("8000"),
                   "TCP port to listen on."), 1, 65535),
        spec("HERMES_DATA_DIR", "data-dir", Type::String, defaultDataDir(),
             "Directory for the server's state: generated API key, token secret."),
        spec("HERMES_ENABLE_SSE", "enable-sse", Type::Boolean, QStringLiteral("true"),
             "Serve the event streams; when false they answer 503."),
        range(spec("HERMES_SSE_HEARTBEAT_INTERVAL", "heartbeat-interval", Type::Integer,
                   QStringLiteral("30"), "Seconds between heartbeat events on every stream."),
              1, 3600),
        range(spec("HERMES_SSE_MAX_CONNECTIONS", "max-connections", Type::Integer,
                   QStringLiteral("1000"),
                   "Concurrent streams; further ones get 503 with Retry-After. Keep it below "
                   "the open-files limit (ulimit -n)."),
              1, 1000000),
        range(spec("HERMES_SSE_CONNECTION_TIMEOUT", "connection-timeout", Type::Integer,
                   QStringLiteral("300"),
                   "Seconds after which the server ends a stream cleanly (after a retry: "
                   "hint) so the client reconnects and resumes; 0 disables."),
              0, 7 * 24 * 3600),
        range(spec("HERMES_SSE_RETRY", "retry", Type::Integer, QStringLiteral("3000"),
                   "Milliseconds sent as the SSE retry: hint when the server ends a stream."),
              0, 3600000),
        spec("HERMES_ALLOWED_ORIGINS", "allowed-origins", Type::List, QString(),
             "Comma-separated browser origins allowed by CORS (e.g. https://app.example); "
             "* allows any; empty allows none."),
        choice(spec("HERMES_SSE_EVENT_STYLE", "event-style", Type::Choice,
                    QStringLiteral("envelope"),
             "Default SSE framing: envelope (data holds {type,data,timestamp}) or named "
             "(event: <type>, data holds the inner data, as the Python Hermes server "
             "writes). ?style= overrides it per stream."),
               {QStringLiteral("envelope"), QStringLiteral("named")}),
        spec("HERMES_API_KEYS", "api-keys", Type::List, QString(),
             "Comma-separated API keys accepted as Authorization: Bearer <key>."),
        spec("HERMES_API_KEY_FILE", "api-key-file", Type::String, QString(),
             "File with one API key per line (or sha256:<hex> of a key). When no key is "
             "configured at all, a key is generated into <data dir>/api-key."),
        spec("HERMES_TOKEN_SECRET", "token-secret", Type::String, QString(),
             "Secret that signs stream tokens; nodes sharing it accept each other's tokens. "
             "Default: generated once into <data dir>/token-secret."),
        range(spec("HERMES_SSE_HISTORY_SIZE", "history-size", Type::Integer,
                   QStringLiteral("10000"),
                   "Events kept per channel for Last-Event-ID replay. With the embedded broker "
                   "they are kept in <data dir>/history across restarts."),
              1, 10000000),
        choice(spec("HERMES_SSE_HISTORY_FSYNC", "history-fsync", Type::Choice,
                    QStringLiteral("everysec"),
                    "When the embedded broker's history is flushed to disk: always (before "
                    "each event is delivered), everysec, or no (left to the kernel). A process "
                    "crash loses nothing either way; after a power loss without always, clients "
                    "that resume get resync_required."),
               {QStringLiteral("always"), QStringLiteral("everysec"), QStringLiteral("no")}),
        range(spec("HERMES_SSE_MAX_CLIENT_BUFFER", "max-client-buffer", Type::Integer,
                   QStringLiteral("1048576"),
                   "Most bytes handed to one stream at a time. A stream that falls behind (a "
                   "replay, a burst, a slow reader) is fed from the history as its socket "
                   "drains, at most 64 KiB and this much at a time."),
              4096, qint64(1) << 32),
        range(spec("HERMES_SSE_SEND_TIMEOUT", "send-timeout", Type::Integer,
                   QStringLiteral("60"),
                   "Seconds a stream's socket may take no bytes at all while some wait, before "
                   "the stream is dropped (like nginx's send_timeout); it resumes with "
                   "Last-Event-ID."),
              1, 3600),
        range(spec("HERMES_IO_THREADS", "io-threads", Type::Integer, QStringLiteral("0"),
                   "Threads that write the event streams, each with its own sockets (new "
                   "streams go to the one with the fewest). 0: one per CPU core."),
              0, 64),
        choice(spec("HERMES_IO_BACKEND", "io-backend", Type::Choice, QStringLiteral("auto"),
                    "How a fan-out's sends reach the kernel: io_uring (one system call per "
                    "batch of sends), epoll (one send() per stream), or auto (io_uring when the "
                    "kernel allows it, else epoll)."),
               {QStringLiteral("auto"), QStringLiteral("io_uring"), QStringLiteral("epoll")}),
        range(spec("HERMES_IO_ROUND_INTERVAL", "io-round-interval", Type::Integer, QStringLiteral("5"),
                   "Milliseconds an I/O thread's rounds of sends are apart at least: the events "
                   "that arrive meanwhile go out together in the next round, one send per "
                   "stream. An event after a quiet spell goes out at once; events faster than "
                   "one per interval wait up to this long. 0: a round per wakeup."),
              0, 100),
        range(spec("HERMES_MAX_PUBLISH_BYTES", "max-publish-bytes", Type::Integer,
                   QStringLiteral("65536"), "Largest accepted publish request body, in bytes."),
              256, 16 << 20),
        spec("HERMES_REDIS_URL", "redis", Type::String, QString(),
             "Redis to use as the broker: redis://[:password@]host:port/db or "
             "unix:///path/to/redis.sock[?db=N]. Empty: the embedded in-process broker."),
        spec("HERMES_REDIS_KEY_PREFIX", "redis-key-prefix", Type::String, QStringLiteral("hermes:"),
             "Prefix of the Redis keys Hermes creates (the per-channel event streams)."),
        range(spec("HERMES_REDIS_STREAM_LENGTH", "redis-stream-length", Type::Integer,
                   QStringLiteral("10000"),
                   "Events kept per channel in the Redis streams (XADD MAXLEN ~) for replay "
                   "on any node."),
              100, 10000000),
        range(spec("HERMES_REDIS_CONNECT_TIMEOUT", "redis-connect-timeout", Type::Integer,
                   QStringLiteral("5000"), "Milliseconds to wait for a Redis connection."),
              100, 600000),
        range(spec("HERMES_REDIS_ADOPT_WINDOW", "redis-adopt-window", Type::Integer,
                   QStringLiteral("60"),
                   "Seconds during which an outside publisher's event (a bare PUBLISH) is "
                   "recognised by every node as the same event and gets one shared id."),
              1, 86400),
        spec("HERMES_DOWNLOAD_DIR", "download-dir", Type::String, QString(),
             "Where finished downloads go (and their .part files while running). "
             "Default: <data dir>/downloads."),
        spec("HERMES_DATABASE_URL", "database-url", Type::String, QString(),
             "The download store: sqlite:///path/to/file.db (one node), or "
             "postgresql://user[:password]@host[:port]/database[?sslmode=...] shared by several "
             "nodes. Default: <data dir>/hermes.db."),
        range(spec("HERMES_MAX_CONCURRENT_DOWNLOADS", "max-concurrent-downloads", Type::Integer,
                   QStringLiteral("3"), "Downloads transferring at the same time."), 1, 100),
        range(spec("HERMES_DOWNLOAD_MAX_ATTEMPTS", "download-max-attempts", Type::Integer,
                   QStringLiteral("5"),
                   "Attempts of one download on network errors and 5xx answers before it fails."),
              1, 100),
        range(spec("HERMES_DOWNLOAD_RETRY_DELAY", "download-retry-delay", Type::Integer,
                   QStringLiteral("1000"),
                   "Milliseconds before the first retry; it doubles with each attempt (at most 60 s)."),
              0, 600000),
        range(spec("HERMES_DOWNLOAD_MAX_REDIRECTS", "download-max-redirects", Type::Integer,
                   QStringLiteral("10"), "Redirects followed for one download."), 0, 50),
        range(spec("HERMES_DOWNLOAD_MAX_FILE_SIZE", "download-max-file-size", Type::Integer,
                   QStringLiteral("0"), "Largest file accepted, in bytes; 0: no limit."),
              0, std::numeric_limits<qint64>::max()),
        range(spec("HERMES_PROGRESS_STEP_PERCENT", "progress-step-percent", Type::Integer,
                   QStringLiteral("1"),
                   "A download_progress event when the percentage grew by this much..."), 1, 100),
        range(spec("HERMES_PROGRESS_INTERVAL_MS", "progress-interval", Type::Integer,
                   QStringLiteral("500"), "...or when this many milliseconds passed."), 50, 60000),
        range(spec("HERMES_DISK_WARNING_MB", "disk-warning-mb", Type::Integer, QStringLiteral("1024"),
                   "A system notification warns when less than this many MB are free for downloads."),
              0, std::numeric_limits<qint32>::max()),
        // --- downloads on several nodes (cluster) ---
        spec("HERMES_DATABASE_PASSWORD_FILE", "database-password-file", Type::String, QString(),
             "File whose first line is the PostgreSQL password (wins over the URL's). Without "
             "either, libpq's PGPASSWORD or ~/.pgpass apply."),
        range(spec("HERMES_DOWNLOAD_LEASE", "download-lease", Type::Integer, QStringLiteral("15000"),
                   "Milliseconds a node's claim on a running download lasts without renewal; a "
                   "node that died loses its downloads to another node after this long."),
              1000, 3600000),
        range(spec("HERMES_DOWNLOAD_LEASE_RENEW", "download-lease-renew", Type::Integer,
                   QStringLiteral("5000"),
                   "Milliseconds between lease renewals (and looks for orphaned work); at most "
                   "half of HERMES_DOWNLOAD_LEASE."),
              100, 1800000),
        range(spec("HERMES_CLUSTER_MAX_DOWNLOADS", "cluster-max-downloads",
                   Type::Integer, QStringLiteral("0"),
                   "Downloads transferring at the same time over every node sharing the database; "
                   "0: only the per-node HERMES_MAX_CONCURRENT_DOWNLOADS."),
              0, 100000),
        // front door (http/): limits checked as bytes arrive, timeouts, quotas, /metrics
        range(spec("HERMES_HTTP_MAX_REQUEST_LINE", "http-max-request-line", Type::Integer,
                   QStringLiteral("8192"),
                   "Longest request line (method, target, version) in bytes; longer: 414."),
              256, 1 << 20),
        range(spec("HERMES_HTTP_MAX_HEADER_SIZE", "http-max-header-size", Type::Integer,
                   QStringLiteral("32768"),
                   "Largest request header block in bytes; larger: 431."), 1024, 1 << 20),
        range(spec("HERMES_HTTP_MAX_HEADER_FIELDS", "http-max-header-fields", Type::Integer,
                   QStringLiteral("100"), "Most header fields in a request; more: 431."),
              8, 10000),
        range(spec("HERMES_HTTP_MAX_BODY_SIZE", "http-max-body-size", Type::Integer,
                   QStringLiteral("65536"),
                   "Largest request body in bytes for endpoints without a limit of their own "
                   "(publish has HERMES_MAX_PUBLISH_BYTES); larger: 413 before it is read."),
              0, 64 << 20),
        range(spec("HERMES_HTTP_HEADER_TIMEOUT", "http-header-timeout", Type::Integer,
                   QStringLiteral("10"),
                   "Seconds within which a request's line and headers must arrive (counted from "
                   "the connection, or from the request's first byte on a kept-alive one): 408."),
              1, 3600),
        range(spec("HERMES_HTTP_BODY_TIMEOUT", "http-body-timeout", Type::Integer,
                   QStringLiteral("10"),
                   "Seconds a request body may stall (and, after that long, it must keep "
                   "HERMES_HTTP_MIN_BODY_RATE on average): 408. Also how long a response may "
                   "wait for a client that does not read."),
              1, 3600),
        range(spec("HERMES_HTTP_MIN_BODY_RATE", "http-min-body-rate", Type::Integer,
                   QStringLiteral("1024"),
                   "Bytes per second a request body must average once it has had "
                   "HERMES_HTTP_BODY_TIMEOUT, or 408: a client trickling a byte now and then "
                   "cannot hold a connection for days. 0: any rate."),
              0, 1'000'000'000),
        range(spec("HERMES_HTTP_LINGER", "http-linger", Type::Integer, QStringLiteral("2000"),
                   "Milliseconds the server keeps reading (and dropping, 4 MiB at most) what a "
                   "client still sends after an error answer, so that the client sees the "
                   "answer instead of a reset (nginx's lingering close); then it closes."),
              0, 60'000),
        range(spec("HERMES_HTTP_IDLE_TIMEOUT", "http-idle-timeout", Type::Integer,
                   QStringLiteral("60"),
                   "Seconds an idle keep-alive connection stays open."), 1, 86400),
        range(spec("HERMES_HTTP_MAX_CONNECTIONS", "http-max-connections", Type::Integer,
                   QStringLiteral("1024"),
                   "Open connections that are not event streams; beyond, new clients wait in "
                   "the listen backlog until one closes."),
              1, 1000000),
        range(spec("HERMES_HTTP_MAX_CONNECTIONS_PER_IP", "http-max-connections-per-ip",
                   Type::Integer, QStringLiteral("128"),
                   "Of those, open at once from one client address (further ones wait, unread, "
                   "up to the header timeout); 0: no cap. Behind a proxy every client has the "
                   "proxy's address: set 0 there and let the proxy limit clients."),
              0, 1000000),
        range(spec("HERMES_SSE_MAX_CONNECTIONS_PER_KEY", "max-connections-per-key",
                   Type::Integer, QStringLiteral("100"),
                   "Concurrent streams per API key (counting the streams of the tokens it "
                   "minted) and per other stream token; further ones get 429 with Retry-After. "
                   "0: no cap."),
              0, 1000000),
        spec("HERMES_METRICS_TOKEN", "metrics-token", Type::String, QString(),
             "A bearer token that may read /metrics (API keys always may), for a Prometheus "
             "that should not hold an API key."),
        spec("HERMES_METRICS_ADDRESS", "metrics-address", Type::String, QString(),
             "host:port of a separate listener that serves only /metrics, without a "
             "credential unless HERMES_METRICS_TOKEN is set (e.g. 127.0.0.1:9464 for a "
             "Prometheus on the host). Set, /metrics is not served on the main address."),
        range(spec("HERMES_BROKER_TIMEOUT", "broker-timeout", Type::Integer,
                   QStringLiteral("5000"),
                   "Milliseconds a request waits for the broker (publish, Redis token lookup) "
                   "before it gets 503."),
              100, 600000),
    };
    for (OptionSpec &s : specs) {
        if (s.env == u"HERMES_DATA_DIR")
            s.documentedDefault = QStringLiteral("~/.local/share/hermes-server");
        if (s.env == u"HERMES_API_KEYS" || s.env == u"HERMES_TOKEN_SECRET"
            || s.env == u"HERMES_REDIS_URL" || s.env == u"HERMES_DATABASE_URL" // may carry a password
            || s.env == u"HERMES_METRICS_TOKEN")
            s.secret = true;
    }

    // ops: logging, modes of downloaded files, secrets from files and systemd credentials.
    specs << spec("HERMES_LOG_LEVEL", "log-level", Type::String, QStringLiteral("info"),
                  "Least severe messages logged: error, warning, info or debug, then optionally "
                  "category=level items, e.g. warning,hermes.http=debug. Reloaded on SIGHUP.")
          << spec("HERMES_DOWNLOAD_UMASK", "download-umask", Type::String, QStringLiteral("0027"),
                  "Octal umask for the download dir and finished files (0027: the group may read "
                  "them, e.g. a media server in it; part files and the rest of the data dir stay "
                  "private).")
          << spec("HERMES_DOWNLOAD_GROUP", "download-group", Type::String, QString(),
                  "Group that owns the download dir and finished files (the server must be a member; "
                  "the dir gets the setgid bit). Empty: the server's own group.");
    for (OptionSpec &s : specs) {
        if (s.env == u"HERMES_TOKEN_SECRET" || s.env == u"HERMES_REDIS_URL"
            || s.env == u"HERMES_DATABASE_URL") {
            s.secret = true; // a database URL may carry a password too
            s.fromFile = true;
            s.credential = s.env.sliced(7).toLower().replace(u'_', u'-'); // token-secret, ...
        }
        if (s.env == u"HERMES_API_KEY_FILE") {
            s.credential = QStringLiteral("api-keys");
            s.credentialIsPath = true;
        }
        if (s.env == u"HERMES_DATA_DIR")
            s.documentedDefault = QStringLiteral("$STATE_DIRECTORY, else ~/.local/share/hermes-server");
    }
    return specs;
}

bool ServerSettings::fromConfig(const Config &config, ServerSettings *out, QString *error)
{
    const QString host = config.string(u"HERMES_HOST");
    if (host == u"localhost")
        out->host = QHostAddress(QHostAddress::LocalHost);
    else if (!out->host.setAddress(host)) {
        *error = QStringLiteral("HERMES_HOST: \"%1\" is not an IP address (use 127.0.0.1, "
                                "0.0.0.0, ::1 or ::)").arg(host);
        return false;
    }
    out->port = quint16(config.integer(u"HERMES_PORT"));
    out->dataDir = config.string(u"HERMES_DATA_DIR");
    if (out->dataDir.isEmpty()) {
        *error = QStringLiteral("HERMES_DATA_DIR: must not be empty");
        return false;
    }
    out->sseEnabled = config.boolean(u"HERMES_ENABLE_SSE");
    out->heartbeatInterval = int(config.integer(u"HERMES_SSE_HEARTBEAT_INTERVAL"));
    out->maxConnections = int(config.integer(u"HERMES_SSE_MAX_CONNECTIONS"));
    out->connectionTimeout = int(config.integer(u"HERMES_SSE_CONNECTION_TIMEOUT"));
    out->retryMs = int(config.integer(u"HERMES_SSE_RETRY"));
    out->allowedOrigins = config.list(u"HERMES_ALLOWED_ORIGINS");
    out->eventStyle = config.string(u"HERMES_SSE_EVENT_STYLE") == u"named" ? EventStyle::Named
                                                                          : EventStyle::Envelope;
    out->apiKeys = config.list(u"HERMES_API_KEYS");
    out->apiKeyFile = config.string(u"HERMES_API_KEY_FILE");
    out->tokenSecret = config.string(u"HERMES_TOKEN_SECRET");
    out->historySize = int(config.integer(u"HERMES_SSE_HISTORY_SIZE"));
    out->maxClientBuffer = config.integer(u"HERMES_SSE_MAX_CLIENT_BUFFER");
    out->historyFsync = config.string(u"HERMES_SSE_HISTORY_FSYNC");
    out->sendTimeoutSec = int(config.integer(u"HERMES_SSE_SEND_TIMEOUT"));
    out->ioThreads = int(config.integer(u"HERMES_IO_THREADS"));
    out->ioBackend = config.string(u"HERMES_IO_BACKEND");
    out->ioRoundIntervalMs = int(config.integer(u"HERMES_IO_ROUND_INTERVAL"));
    out->maxPublishBytes = int(config.integer(u"HERMES_MAX_PUBLISH_BYTES"));
    out->redisUrl = config.string(u"HERMES_REDIS_URL");
    out->redisKeyPrefix = config.string(u"HERMES_REDIS_KEY_PREFIX");
    out->redisStreamLength = int(config.integer(u"HERMES_REDIS_STREAM_LENGTH"));
    out->redisConnectTimeoutMs = int(config.integer(u"HERMES_REDIS_CONNECT_TIMEOUT"));
    out->redisAdoptWindowSec = int(config.integer(u"HERMES_REDIS_ADOPT_WINDOW"));
    out->downloadDir = config.string(u"HERMES_DOWNLOAD_DIR");
    if (out->downloadDir.isEmpty())
        out->downloadDir = QDir(out->dataDir).filePath(QStringLiteral("downloads"));
    out->databaseUrl = config.string(u"HERMES_DATABASE_URL");
    if (out->databaseUrl.isEmpty())
        out->databaseUrl = QStringLiteral("sqlite://") + QDir(out->dataDir).absoluteFilePath(QStringLiteral("hermes.db"));
    out->maxConcurrentDownloads = int(config.integer(u"HERMES_MAX_CONCURRENT_DOWNLOADS"));
    out->downloadMaxAttempts = int(config.integer(u"HERMES_DOWNLOAD_MAX_ATTEMPTS"));
    out->downloadRetryDelayMs = int(config.integer(u"HERMES_DOWNLOAD_RETRY_DELAY"));
    out->downloadMaxRedirects = int(config.integer(u"HERMES_DOWNLOAD_MAX_REDIRECTS"));
    out->downloadMaxFileSize = config.integer(u"HERMES_DOWNLOAD_MAX_FILE_SIZE");
    out->progressStepPercent = int(config.integer(u"HERMES_PROGRESS_STEP_PERCENT"));
    out->progressIntervalMs = int(config.integer(u"HERMES_PROGRESS_INTERVAL_MS"));
    out->diskWarningMb = config.integer(u"HERMES_DISK_WARNING_MB");
    // --- downloads on several nodes (cluster) ---
    out->databasePasswordFile = config.string(u"HERMES_DATABASE_PASSWORD_FILE");
    out->downloadLeaseMs = int(config.integer(u"HERMES_DOWNLOAD_LEASE"));
    out->downloadLeaseRenewMs = int(config.integer(u"HERMES_DOWNLOAD_LEASE_RENEW"));
    out->clusterMaxConcurrentDownloads = int(config.integer(u"HERMES_CLUSTER_MAX_DOWNLOADS"));
    if (out->downloadLeaseRenewMs * 2 > out->downloadLeaseMs) {
        *error = QStringLiteral("HERMES_DOWNLOAD_LEASE_RENEW (%1 ms) must be at most half of "
                                "HERMES_DOWNLOAD_LEASE (%2 ms)").arg(out->downloadLeaseRenewMs).arg(out->downloadLeaseMs);
        return false;
    }

    // ops
    out->logLevel = config.string(u"HERMES_LOG_LEVEL");
    QString rules;
    if (!Logging::parseLevelSpec(out->logLevel, &rules, error)) {
        *error = QStringLiteral("HERMES_LOG_LEVEL: ") + *error;
        return false;
    }
    bool umaskOk = false;
    const QString umaskText = config.string(u"HERMES_DOWNLOAD_UMASK");
    out->downloadUmask = umaskText.toInt(&umaskOk, 8);
    if (!umaskOk || out->downloadUmask < 0 || out->downloadUmask > 0777) {
        *error = QStringLiteral("HERMES_DOWNLOAD_UMASK: \"%1\" is not an octal umask (0000 to 0777)").arg(umaskText);
        return false;
    }
    out->downloadGroup = config.string(u"HERMES_DOWNLOAD_GROUP");
    // front door (http/)
    out->httpMaxRequestLine = int(config.integer(u"HERMES_HTTP_MAX_REQUEST_LINE"));
    out->httpMaxHeaderBytes = int(config.integer(u"HERMES_HTTP_MAX_HEADER_SIZE"));
    out->httpMaxHeaderFields = int(config.integer(u"HERMES_HTTP_MAX_HEADER_FIELDS"));
    out->httpMaxBodyBytes = config.integer(u"HERMES_HTTP_MAX_BODY_SIZE");
    out->httpHeaderTimeout = int(config.integer(u"HERMES_HTTP_HEADER_TIMEOUT"));
    out->httpBodyTimeout = int(config.integer(u"HERMES_HTTP_BODY_TIMEOUT"));
    out->httpMinBodyRate = config.integer(u"HERMES_HTTP_MIN_BODY_RATE");
    out->httpLingerMs = int(config.integer(u"HERMES_HTTP_LINGER"));
    out->httpIdleTimeout = int(config.integer(u"HERMES_HTTP_IDLE_TIMEOUT"));
    out->httpMaxConnections = int(config.integer(u"HERMES_HTTP_MAX_CONNECTIONS"));
    out->httpMaxConnectionsPerAddress = int(config.integer(u"HERMES_HTTP_MAX_CONNECTIONS_PER_IP"));
    out->maxStreamsPerKey = int(config.integer(u"HERMES_SSE_MAX_CONNECTIONS_PER_KEY"));
    out->metricsToken = config.string(u"HERMES_METRICS_TOKEN");
    out->brokerTimeoutMs = int(config.integer(u"HERMES_BROKER_TIMEOUT"));
    const QString metrics = config.string(u"HERMES_METRICS_ADDRESS");
    if (!metrics.isEmpty()) {
        // host:port, [v6]:port
        const qsizetype colon = metrics.lastIndexOf(u':');
        QString host = colon > 0 ? metrics.first(colon) : QString();
        if (host.startsWith(u'[') && host.endsWith(u']'))
            host = host.sliced(1, host.size() - 2);
        bool ok = false;
        const uint port = colon > 0 ? metrics.sliced(colon + 1).toUInt(&ok) : 0;
        if (host == u"localhost")
            host = QStringLiteral("127.0.0.1");
        if (!ok || port == 0 || port > 65535 || !out->metricsHost.setAddress(host)) {
            *error = QStringLiteral("HERMES_METRICS_ADDRESS: \"%1\" is not host:port with an IP "
                                    "address (e.g. 127.0.0.1:9464)").arg(metrics);
            return false;
        }
        out->metricsPort = quint16(port);
    }
    return true;
}

QList<QByteArray> ServerSettings::secrets() const
{
    QList<QByteArray> out;
    for (const QString &key : apiKeys)
        out << key.toUtf8();
    out << tokenSecret.toUtf8() << metricsToken.toUtf8();
    for (const QString &url : {redisUrl, databaseUrl}) {
        const QUrl parsed(url);
        if (!parsed.password().isEmpty())
            out << parsed.password().toUtf8() << QUrl::toPercentEncoding(parsed.password());
    }
    if (!databasePasswordFile.isEmpty()) {
        QFile file(databasePasswordFile);
        if (file.open(QIODevice::ReadOnly)) {
            const QByteArray password = file.readLine(4096).trimmed();
            if (!password.isEmpty())
                out << password << QUrl::toPercentEncoding(QString::fromUtf8(password));
        }
    }
    return out;
}

QStringList ServerSettings::foreignKeys()
{
    return {QStringLiteral("HERMES_PROXY_ADDRESS"), QStringLiteral("HERMES_UPSTREAMS"),
            QStringLiteral("HERMES_CADDY_ADMIN"), QStringLiteral("HERMES_NO_MONITOR"),
            QStringLiteral("HERMES_API_KEY"), QStringLiteral("HERMES_MONITOR_KEYRING")};
}

} // namespace Hermes
