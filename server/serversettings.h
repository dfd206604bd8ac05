#pragma once

#include "config.h"
#include "sseencoder.h"

#include <QHostAddress>
#include <QString>
#include <QStringList>

namespace Hermes {

/// Every setting of hermes-server, typed. Built once at start-up from Config.
struct ServerSettings
{
    QHostAddress host;
    quint16 port = 8000;
    QString dataDir;
    bool sseEnabled = true;
    int heartbeatInterval = 30;     ///< seconds
    int maxConnections = 1000;
    int connectionTimeout = 300;    ///< seconds; 0 = streams never rotate
    int retryMs = 3000;             ///< the `retry:` hint sent when the server ends a stream
    QStringList allowedOrigins;
    EventStyle eventStyle = EventStyle::Envelope;
    QStringList apiKeys;
    QString apiKeyFile;
    QString tokenSecret;
    int historySize = 10000;        ///< events kept per channel for Last-Event-ID replay
    qint64 maxClientBuffer = 1 << 20; ///< most bytes handed to one stream at a time
    QString historyFsync = QStringLiteral("everysec"); ///< always, everysec, no
    int sendTimeoutSec = 60;        ///< a stream whose socket takes nothing this long is dropped
    int ioThreads = 0;              ///< stream I/O threads; 0: one per core
    QString ioBackend = QStringLiteral("auto"); ///< auto, io_uring, epoll
    int ioRoundIntervalMs = 2;      ///< least time between a worker's rounds of sends
    int maxPublishBytes = 64 * 1024;
    QString redisUrl;               ///< empty: the embedded broker
    QString redisKeyPrefix = QStringLiteral("hermes:");
    int redisStreamLength = 10000;  ///< entries kept per channel stream (MAXLEN ~)
    int redisConnectTimeoutMs = 5000;
    int redisAdoptWindowSec = 60;   ///< de-duplication window for outside publishers' events
    QString downloadDir;            ///< default: <data dir>/downloads
    QString databaseUrl;            ///< default: sqlite:///<data dir>/hermes.db
    int maxConcurrentDownloads = 3;
    int downloadMaxAttempts = 5;
    int downloadRetryDelayMs = 1000;
    int downloadMaxRedirects = 10;
    qint64 downloadMaxFileSize = 0; ///< bytes; 0: no limit
    int progressStepPercent = 1;
    int progressIntervalMs = 500;
    qint64 diskWarningMb = 1024;
    // downloads on several nodes (cluster)
    QString databasePasswordFile;
    int downloadLeaseMs = 15000;
    int downloadLeaseRenewMs = 5000;
    int clusterMaxConcurrentDownloads = 0; ///< 0: no limit over the nodes
    // ops
    QString logLevel = QStringLiteral("info"); ///< a Logging level spec
    int downloadUmask = 0027;       ///< applied to the download dir and finished files
    QString downloadGroup;          ///< empty: the server's own group
    /// Every secret these settings hold (keys, token secret, URL passwords): never logged.
    QList<QByteArray> secrets() const;
    /// HERMES_* names that belong to other programs (the Caddyfile, run.sh, hermes-events,
    /// hermes-monitor): not warned about as typos.
    static QStringList foreignKeys();
    // front door (http/): limits, timeouts, quotas, metrics exposure
    int httpMaxRequestLine = 8192;  ///< bytes (see HttpLimits)
    int httpMaxHeaderBytes = 32768;
    int httpMaxHeaderFields = 100;
    qint64 httpMaxBodyBytes = 65536;
    int httpHeaderTimeout = 10;     ///< seconds
    int httpBodyTimeout = 10;       ///< seconds
    qint64 httpMinBodyRate = 1024;  ///< bytes per second; 0: any
    int httpLingerMs = 2000;
    int httpIdleTimeout = 60;       ///< seconds
    int httpMaxConnections = 1024;
    int httpMaxConnectionsPerAddress = 128;
    int maxStreamsPerKey = 100;     ///< streams per API key / stream token; 0: no cap
    QString metricsToken;           ///< also accepted for /metrics (besides API keys)
    QHostAddress metricsHost;       ///< with metricsPort: /metrics only on its own listener
    quint16 metricsPort = 0;        ///< 0: /metrics on the main listener, with a credential
    int brokerTimeoutMs = 5000;     ///< a request waits this long for the broker, then 503

    /// The option table (env var, flag, default, description) for every setting above.
    static QList<OptionSpec> optionSpecs();
    /// Typed settings from a resolved Config. Returns false with `error` for cross-field
    /// problems (e.g. an unparsable host address).
    static bool fromConfig(const Config &config, ServerSettings *out, QString *error);
};

} // namespace Hermes
