// hermes-server: the download queue's real-time layer. Streams every event on the bus to
// clients as Server-Sent Events.

#include "http/apidocroute.h"
#include "http/apikeystore.h"
#include "backup.h"
#include "broker/broker.h"
#include "broker/memorybroker.h"
#include "downloads/downloadengine.h"
#include "http/downloadroutes.h"
#include "downloads/downloadstore.h"
#include "downloads/databaseurl.h"
#include "downloads/datadirlock.h"
#include "stream/eventhub.h"
#include "http/eventroutes.h"
#include "http/healthroutes.h"
#include "http/httpserver.h"
#include "http/settingsreload.h"
#include "logging.h"
#include "metrics.h"
#include "processmetrics.h"
#include "servermetrics.h"
#include "broker/redisbroker.h"
#include "settings/serversettings.h"
#include "signalwatcher.h"
#include "storagedirs.h"
#include "systemdnotifier.h"
#include "http/streamtokens.h"
#include "http/webuiroute.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QJsonObject>
#include <QTimer>

#include <csignal>
#include <sys/resource.h>
#include <cstdio>
#include <sys/stat.h>

using namespace Hermes;

// Streams are file descriptors: take the whole hard limit (the soft one is often 1024), and
// say so when the configured maximum cannot be reached.
static void raiseOpenFilesLimit(int maxConnections)
{
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    constexpr rlim_t reserve = 64; // listeners, logs, the data dir, Redis
    if (limit.rlim_cur != RLIM_INFINITY && rlim_t(maxConnections) + reserve > limit.rlim_cur)
        qCWarning(lcHttp).noquote()
            << "HERMES_SSE_MAX_CONNECTIONS is" << maxConnections << "but the open-files limit is"
            << limit.rlim_cur << "- streams beyond" << (limit.rlim_cur - reserve) << "will fail";
}

// Why the server cannot start. Under systemd the line carries the error priority, so that
// `journalctl -p err` shows the one line that matters when the service fails (a plain line
// would be read as info); on a terminal it is the usual `program: message`.
static void printError(const QString &message)
{
    const QByteArray line = Logging::stderrIsJournal()
        ? Logging::formatLine(Logging::Format::Journal, QtCriticalMsg, "hermes-server", message)
        : "hermes-server: " + message.toUtf8();
    std::fprintf(stderr, "%s\n", line.constData());
}

static int fail(const QString &message)
{
    printError(message);
    return 78; // EX_CONFIG: the configuration is what is wrong
}

int main(int argc, char *argv[])
{
    // Everything the server writes is private (keys, database, part files); finished
    // downloads get their shareable mode explicitly (StorageDirs).
    ::umask(077);
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("hermes-server"));
    QCoreApplication::setApplicationVersion(QStringLiteral(HERMES_VERSION));
    Logging::install();

    Config config(ServerSettings::optionSpecs());
    config.setForeignKeys(ServerSettings::foreignKeys());
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Streams download, queue and system events to clients as Server-Sent Events.\n"
        "Every option can also be set with the environment variable named in its help."));
    parser.addHelpOption();
    parser.addVersionOption();
    config.addOptionsTo(parser);
    const QCommandLineOption referenceOption(
        QStringLiteral("print-config-reference"),
        QStringLiteral("Print every setting as a Markdown table (markdown) or as a commented "
                       "env file (env), then exit."),
        QStringLiteral("format"));
    parser.addOption(referenceOption);
    const QCommandLineOption backupOption(
        QStringLiteral("backup"),
        QStringLiteral("Write a backup archive (tar: the database, generated key and secret) to "
                       "<file>, consistent while the server runs, then exit."),
        QStringLiteral("file"));
    parser.addOption(backupOption);
    QCommandLineOption routesOption(QStringLiteral("print-routes"),
                                    QStringLiteral("Print every HTTP route, then exit (for tests)."));
    routesOption.setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOption(routesOption);
    parser.process(app);
    if (parser.isSet(referenceOption)) {
        const QString format = parser.value(referenceOption);
        if (format != u"markdown" && format != u"env")
            return fail(QStringLiteral("--print-config-reference takes markdown or env"));
        std::fputs(qPrintable(config.reference(format == u"env" ? Config::ReferenceFormat::EnvFile
                                                                : Config::ReferenceFormat::Markdown)),
                   stdout);
        return 0;
    }

    const QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    if (const Result<void> resolved = config.resolve(&parser, environment); !resolved)
        return fail(resolved.error().message);
    Result<ServerSettings> read = ServerSettings::fromConfig(config);
    if (!read)
        return fail(read.error().message);
    ServerSettings settings = std::move(*read);
    Logging::setSecrets(settings.secrets());
    (void)Logging::setLevelSpec(settings.ops.logLevel); // validated by fromConfig
    for (const QString &warning : config.warnings())
        qCWarning(lcConfig).noquote() << warning;

    if (parser.isSet(backupOption)) {
        QString report;
        const Result<void> written = Backup::write(settings, parser.value(backupOption), &report);
        std::fputs(qPrintable(report), stdout);
        if (!written) {
            printError(QStringLiteral("backup failed: ") + written.error().message);
            return 1;
        }
        return 0;
    }

    if (const Result<void> prepared = StorageDirs::prepare(settings); !prepared)
        return fail(prepared.error().message);

    ApiKeyStore keys;
    const Result<QString> generatedKeyFile = keys.configure(settings.access.apiKeys, settings.access.apiKeyFile,
                                                            settings.general.dataDir);
    if (!generatedKeyFile)
        return fail(generatedKeyFile.error().message);
    if (!generatedKeyFile->isEmpty())
        qCInfo(lcAuth).noquote() << "using the generated API key in" << *generatedKeyFile;
    const Result<QByteArray> tokenSecret = StreamTokenService::loadSecret(settings.access.tokenSecret,
                                                                          settings.general.dataDir);
    if (!tokenSecret)
        return fail(tokenSecret.error().message);
    const StreamTokenService tokens(*tokenSecret);

    raiseOpenFilesLimit(settings.events.maxConnections);

    // One server per data dir whenever it holds per-node state — the SQLite store or the
    // embedded broker's history — taken before either is touched. (PostgreSQL and Redis are
    // shared on purpose; the settings above were only read, so errors in them come first.)
    const Result<DatabaseUrl> parsedDatabaseUrl = DatabaseUrl::parse(settings.store.databaseUrl,
                                                                     settings.store.databasePasswordFile);
    if (!parsedDatabaseUrl)
        return fail(parsedDatabaseUrl.error().message);
    const DatabaseUrl &databaseUrl = *parsedDatabaseUrl;
    DataDirLock dataDirLock;
    if (!databaseUrl.isPostgres() || !settings.redis.enabled()) {
        if (const Result<void> locked = dataDirLock.lock(settings.general.dataDir); !locked) {
            printError(locked.error().message);
            return 75; // EX_TEMPFAIL: another server holds it
        }
    }

    Metrics metrics;
    std::unique_ptr<Broker> broker;
    MemoryBroker *memoryBroker = nullptr;
    ExternalTokenLookup *tokenLookup = nullptr; // the Python Hermes' tokens, on Redis
    RedisBroker *redisBroker = nullptr;
    if (!settings.redis.enabled()) {
        // The embedded broker keeps its history in the data dir, so a restart loses nothing a
        // client may resume from.
        const EventJournal::Fsync fsync = EventJournal::parseFsync(settings.history.fsync)
                                              .value_or(EventJournal::Fsync::EverySecond);
        auto memory = std::make_unique<MemoryBroker>(std::make_unique<EventJournal>(
            QDir(settings.general.dataDir).filePath(QStringLiteral("history")), settings.history.size,
            fsync, settings.history.bytes));
        memoryBroker = memory.get();
        broker = std::move(memory);
    } else {
        // With sentinels the URL, if any, gives only the password, user and database.
        const Result<RedisAddress> address = settings.redis.url.isEmpty()
            ? Result<RedisAddress>(RedisAddress{})
            : RedisAddress::parse(settings.redis.url);
        if (!address)
            return fail(address.error().message);
        RedisBroker::Options options{settings.redis, *address};
        options.historySize = settings.history.size;
        options.historyBytes = settings.history.bytes;
        // What this node delivered, so a restarted node still checks the history against it.
        options.markPath = QDir(settings.general.dataDir).filePath(QStringLiteral("redis-mark.json"));
        if (!settings.redis.sentinels.isEmpty()) {
            if (!address->socketPath.isEmpty())
                return fail(QStringLiteral("HERMES_REDIS_URL: a unix socket cannot be combined with "
                                           "HERMES_REDIS_SENTINELS (the sentinels name a TCP address)"));
            const Result<QList<RedisAddress>> sentinels = RedisSentinelLocator::parseSentinels(
                settings.redis.sentinels, settings.redis.sentinelPassword);
            if (!sentinels)
                return fail(sentinels.error().message);
            options.sentinelAddresses = *sentinels;
        }
        auto redis = std::make_unique<RedisBroker>(std::move(options));
        redisBroker = redis.get();
        tokenLookup = redis.get();
        broker = std::move(redis);
    }
    EventHub hub(broker.get(), settings.history.size, settings.history.bytes, settings.stream,
                 settings.stream.ioThreads, &metrics);
    // Started once the hub listens, so it receives the history first.
    if (const Result<void> started = broker->start(); !started)
        return fail(QStringLiteral("HERMES_DATA_DIR: the event history: %1").arg(started.error().message));

    // Downloads: the store (SQLite, or PostgreSQL shared by the nodes) and the engine.
    DownloadStore store;
    if (const Result<void> opened = store.open(databaseUrl); !opened)
        return fail(opened.error().message);
    DownloadEngine::Options downloadOptions = settings.downloads;
    downloadOptions.finishedFileMode = StorageDirs::finishedFileMode(settings); // from the umask
    DownloadEngine downloads(downloadOptions, &store, broker.get());

    // ops: process and download metrics on every scrape.
    const ProcessMetrics processMetrics;
    metrics.addCollector([&](MetricsWriter &w) { processMetrics.collect(w); });
    QueueSummary queueSummary;
    QTimer queueSummaryTimer;
    const auto refreshQueueSummary = [&] {
        // The summary only: one row of the queue is read beside it, not the whole queue.
        downloads.service()->queue({std::nullopt, 1, 0, std::nullopt, false},
                                   [&queueSummary](Result<DownloadService::Queue> queue) {
            if (queue)
                queueSummary = queue->summary;
        });
    };
    QObject::connect(&queueSummaryTimer, &QTimer::timeout, &app, refreshQueueSummary);
    queueSummaryTimer.start(5000);
    refreshQueueSummary();
    metrics.addCollector([&](MetricsWriter &w) {
        ServerMetrics::collectDownloads(downloads, queueSummary, w);
        ServerMetrics::collectStore(store, databaseUrl.isPostgres(), w);
    });
    metrics.brokerStatus(broker->isUp()); // it started above, and may be up already
    QObject::connect(broker.get(), &Broker::statusChanged, &app,
                     [&metrics](bool up) { metrics.brokerStatus(up); });
    if (redisBroker && !settings.redis.sentinels.isEmpty()) {
        metrics.addCollector([redisBroker](MetricsWriter &w) {
            w.family("hermes_redis_master_info", "gauge",
                     "Always 1; the label is the Redis master Sentinel named (ip:port).");
            w.sample("hermes_redis_master_info", quint64(1),
                     "address=\"" + redisBroker->location().toUtf8() + '"');
            w.family("hermes_redis_master_switches_total", "counter",
                     "Times the master Sentinel names changed address since the start (a failover).");
            w.sample("hermes_redis_master_switches_total", redisBroker->masterSwitches());
        });
    }
    metrics.addCollector([&](MetricsWriter &w) {
        w.family("hermes_build_info", "gauge", "Always 1; the labels say which build runs.");
        w.sample("hermes_build_info", quint64(1),
                 "version=\"" HERMES_VERSION "\",qt_version=\"" + QByteArray(qVersion()) + '"');
    });

    HttpServer http(settings.http);
    http.setAllowedOrigins(settings.access.allowedOrigins);
    EventRoutes routes(settings, keys, tokens, &hub, &metrics, tokenLookup);
    routes.registerOn(&http);
    // HERMES_METRICS_ADDRESS: /metrics alone on a listener of its own (a Prometheus on the host).
    HttpServer metricsHttp(settings.http);
    const HttpAnswerObserver countAnswer = [&metrics](const HttpAnswer &a) {
        metrics.answered(a.route, a.method, a.status, a.reason);
    };
    http.setAnswerObserver(countAnswer);
    metricsHttp.setAnswerObserver(countAnswer);
    metrics.addCollector([&](MetricsWriter &w) {
        ServerMetrics::Connections c;
        c.streams = hub.activeConnections();
        c.rest = http.openConnections();
        c.metrics = metricsHttp.openConnections();
        c.parked = http.parkedConnections() + metricsHttp.parkedConnections();
        c.refused = http.refusedConnections() + metricsHttp.refusedConnections();
        c.expired = http.expiredConnections() + metricsHttp.expiredConnections();
        ServerMetrics::collectConnections(c, w);
    });
    if (settings.metrics.address.port != 0) {
        routes.registerMetricsOn(&metricsHttp);
        if (const Result<void> listening = metricsHttp.listenOn(settings.metrics.address.host, settings.metrics.address.port);
            !listening)
            return fail(QStringLiteral("HERMES_METRICS_ADDRESS: %1").arg(listening.error().message));
    }
    DownloadRoutes downloadRoutes(downloads.service(), keys, &metrics);
    downloadRoutes.registerOn(&http);
    HealthRoutes healthRoutes(broker.get(), &store);
    healthRoutes.registerOn(&http);
    ApiDocRoute apiDoc;
    apiDoc.registerOn(&http);
    WebUiRoute webUi;
    if (settings.general.webUi)
        webUi.registerOn(&http);
    if (parser.isSet(routesOption)) {
        std::fputs(qPrintable(http.routeList().join(u'\n') + u'\n'), stdout);
        return 0;
    }
    if (const Result<void> listening = http.listenOn(settings.general.host, settings.general.port); !listening)
        return fail(QStringLiteral("HERMES_HOST/HERMES_PORT: %1").arg(listening.error().message));
    downloads.start();
    const QString listening = QStringLiteral("http://%1:%2").arg(settings.general.host.toString()).arg(http.serverPort());
    qCInfo(lcHttp).noquote() << "listening on" << listening << "with the" << broker->name() << "broker";
    SystemdNotifier systemd;
    systemd.ready(QStringLiteral("serving on %1").arg(listening));

    // SIGHUP: read the settings again and apply what can change without dropping a stream.
    SettingsReload reloader(settings, config, keys, http);
    // A removed key ends its streams and its tokens' streams now, not when they next reconnect.
    reloader.setKeysRemoved([&tokens, &hub](const QList<QByteArray> &digests) {
        QSet<QByteArray> owners;
        for (const QByteArray &digest : digests)
            owners.insert(tokens.ownerOfDigest(digest));
        hub.closeStreamsOf(owners);
        qCInfo(lcAuth) << "ending the streams of" << digests.size() << "removed API key(s)";
    });
    const auto reload = [&] {
        systemd.reloading();
        const Result<QStringList> restart = reloader.reload(&parser, environment);
        if (!restart) {
            qCCritical(lcConfig).noquote() << "reload failed, the previous settings stay in force:"
                                           << restart.error().message;
            systemd.ready(QStringLiteral("serving on %1 (the last reload failed)").arg(listening));
            return;
        }
        if (!restart->isEmpty())
            qCWarning(lcConfig).noquote() << "changed but applied only after a restart:"
                                          << restart->join(QStringLiteral(", "));
        qCInfo(lcConfig).noquote() << "reloaded the settings;" << keys.size() << "API key(s) in force";
        systemd.ready(QStringLiteral("serving on %1").arg(listening));
    };

    // SIGTERM/SIGINT: stop accepting, end every stream cleanly with a retry: hint, and exit 0
    // once the last bytes had a moment to leave (well within the 2 s a supervisor allows).
    SignalWatcher signalWatcher({SIGTERM, SIGINT, SIGHUP});
    std::signal(SIGPIPE, SIG_IGN);
    QObject::connect(&signalWatcher, &SignalWatcher::signalReceived, &app, [&](int signal) {
        if (signal == SIGHUP) {
            reload();
            return;
        }
        qCInfo(lcHttp) << "received signal" << signal << "- shutting down";
        systemd.stopping();
        healthRoutes.setShuttingDown();
        http.stopListening();
        metricsHttp.stopListening();
        hub.closeAll();
        if (memoryBroker)
            memoryBroker->stop(); // the history is complete on disk: the next start resumes it
        QTimer::singleShot(200, &app, [] { QCoreApplication::exit(0); });
    });
    return app.exec();
}
