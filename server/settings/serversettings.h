#pragma once

#include "config.h"
#include "result.h"
#include "settings/downloadsettings.h"
#include "settings/httpsettings.h"
#include "settings/redissettings.h"
#include "settings/streamsettings.h"
#include "sseencoder.h"

#include <QHostAddress>
#include <QString>
#include <QStringList>

namespace Hermes {

// The groups of ServerSettings that no single component takes as its options. Like the
// component groups (StreamSettings, HttpSettings, RedisSettings, DownloadSettings), each is a
// plain value: SettingsTable defines every setting (variable, default, unit, doc) and writes it
// into its member; tst_settingstable keeps the defaults below equal to the table's.

/// Where the server listens and keeps its state.
struct GeneralSettings
{
    QHostAddress host{QHostAddress::LocalHost};
    quint16 port = 8000;
    QString dataDir; ///< the table's default depends on the machine ($STATE_DIRECTORY, XDG)
    bool webUi = true; ///< HERMES_WEBUI: serve the built-in page at /ui/
};

/// Who may use the server: API keys, the stream-token secret, browser origins (CORS).
struct AccessSettings
{
    QStringList apiKeys;
    QString apiKeyFile;
    QString tokenSecret;
    QStringList allowedOrigins;
};

/// What the event endpoints (EventRoutes) read on every request; most reload on SIGHUP.
struct EventApiSettings
{
    bool enabled = true;            ///< HERMES_ENABLE_SSE: serve the streams (else 503)
    int maxConnections = 1000;      ///< streams over every I/O thread
    int maxStreamsPerKey = 100;     ///< streams per API key / stream token; 0: no cap
    EventStyle eventStyle = EventStyle::Envelope;
    int maxPublishBytes = 64 * 1024;
    int brokerTimeoutMs = 5000;     ///< a request waits this long for the broker, then 503
};

/// The event history: kept per channel for Last-Event-ID replay (by the hub and the brokers).
struct HistorySettings
{
    int size = 10000;               ///< events per channel
    qint64 bytes = 16 << 20;        ///< bytes of events per channel (EventHistory)
    QString fsync = QStringLiteral("everysec"); ///< the embedded broker's: always, everysec, no
};

/// The download store.
struct StoreSettings
{
    QString databaseUrl;            ///< the server's default: sqlite:///<data dir>/hermes.db
    QString databasePasswordFile;
};

/// An address to listen on; port 0: none.
struct ListenAddress
{
    QHostAddress host;
    quint16 port = 0;
    bool operator==(const ListenAddress &) const = default;
};

/// Who may read /metrics, and where.
struct MetricsSettings
{
    QString token;                  ///< also accepted for /metrics (besides API keys)
    /// /metrics alone on a listener of its own; port 0: on the main listener, with a credential.
    ListenAddress address;
};

/// The service around the parts: the log and the modes of downloaded files.
struct OpsSettings
{
    QString logLevel = QStringLiteral("info"); ///< a Logging level spec
    int downloadUmask = 0027;       ///< applied to the download dir and finished files
    QString downloadGroup;          ///< empty: the server's own group
};

/// Every setting of hermes-server, typed, in groups. Built once at start-up from Config; on
/// SIGHUP, SettingsReload writes the reloadable ones again.
struct ServerSettings
{
    GeneralSettings general;
    AccessSettings access;
    HttpSettings http;
    EventApiSettings events;
    StreamSettings stream;
    HistorySettings history;
    RedisSettings redis;
    StoreSettings store;
    DownloadSettings downloads;
    MetricsSettings metrics;
    OpsSettings ops;

    /// Every secret these settings hold (keys, token secret, URL passwords): never logged.
    QList<QByteArray> secrets() const;
    /// HERMES_* names that belong to other programs (the Caddyfile, run.sh, hermes-events,
    /// hermes-monitor): not warned about as typos.
    static QStringList foreignKeys();

    /// The option table (see SettingsTable) as Config takes it.
    static QList<OptionSpec> optionSpecs();
    /// Typed settings from a resolved Config: every entry of SettingsTable, then the defaults
    /// that depend on another setting (the download dir and the database in the data dir).
    /// Fails with a message that names the variable (e.g. an unparsable host address).
    static Result<ServerSettings> fromConfig(const Config &config);
};

} // namespace Hermes
