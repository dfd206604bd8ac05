// hermes-server: the download queue's real-time layer. Streams every event on the bus to
// clients as Server-Sent Events.

#include "http/apikeystore.h"
#include "broker/broker.h"
#include "broker/memorybroker.h"
#include "downloads/downloadengine.h"
#include "http/downloadroutes.h"
#include "downloads/downloadstore.h"
#include "stream/eventhub.h"
#include "http/eventroutes.h"
#include "http/httpserver.h"
#include "logging.h"
#include "metrics.h"
#include "broker/redisbroker.h"
#include "serversettings.h"
#include "signalwatcher.h"
#include "http/streamtokens.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QTimer>

#include <csignal>
#include <sys/resource.h>
#include <cstdio>

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

static int fail(const QString &message)
{
    std::fprintf(stderr, "hermes-server: %s\n", qPrintable(message));
    return 78; // EX_CONFIG: the configuration is what is wrong
}

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("hermes-server"));
    QCoreApplication::setApplicationVersion(QStringLiteral(HERMES_VERSION));
    qSetMessagePattern(QStringLiteral(
        "%{time yyyy-MM-ddThh:mm:ss.zzz} %{if-debug}debug%{endif}%{if-info}info%{endif}"
        "%{if-warning}warning%{endif}%{if-critical}error%{endif}%{if-fatal}fatal%{endif} "
        "%{category}: %{message}"));

    Config config(ServerSettings::optionSpecs());
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

    QString error;
    ServerSettings settings;
    if (!config.resolve(&parser, QProcessEnvironment::systemEnvironment(), &error)
        || !ServerSettings::fromConfig(config, &settings, &error))
        return fail(error);

    if (!QDir().mkpath(settings.dataDir))
        return fail(QStringLiteral("HERMES_DATA_DIR: cannot create %1").arg(settings.dataDir));
    QFile::setPermissions(settings.dataDir, QFileDevice::ReadOwner | QFileDevice::WriteOwner
                                                | QFileDevice::ExeOwner);

    ApiKeyStore keys;
    if (!keys.load(settings.apiKeys, settings.apiKeyFile, &error))
        return fail(error);
    if (keys.isEmpty()) {
        bool created = false;
        if (!keys.loadOrCreateDefault(settings.dataDir, &created, &error))
            return fail(error);
        qCInfo(lcAuth).noquote() << (created ? "created a new API key in" : "using the API key in")
                                 << ApiKeyStore::defaultKeyFile(settings.dataDir);
    }
    QByteArray tokenSecret;
    if (!StreamTokenService::loadSecret(settings.tokenSecret, settings.dataDir, &tokenSecret, &error))
        return fail(error);
    const StreamTokenService tokens(tokenSecret);

    raiseOpenFilesLimit(settings.maxConnections);

    Metrics metrics;
    std::unique_ptr<Broker> broker;
    MemoryBroker *memoryBroker = nullptr;
    if (settings.redisUrl.isEmpty()) {
        // The embedded broker keeps its history in the data dir, so a restart loses nothing a
        // client may resume from.
        EventJournal::Fsync fsync = EventJournal::Fsync::EverySecond;
        EventJournal::parseFsync(settings.historyFsync, &fsync);
        auto memory = std::make_unique<MemoryBroker>(std::make_unique<EventJournal>(
            QDir(settings.dataDir).filePath(QStringLiteral("history")), settings.historySize,
            fsync));
        memoryBroker = memory.get();
        broker = std::move(memory);
    } else {
        RedisBroker::Options redis;
        if (!RedisAddress::parse(settings.redisUrl, &redis.address, &error))
            return fail(error);
        redis.keyPrefix = settings.redisKeyPrefix;
        redis.streamLength = settings.redisStreamLength;
        redis.connectTimeoutMs = settings.redisConnectTimeoutMs;
        redis.adoptWindowSec = settings.redisAdoptWindowSec;
        broker = std::make_unique<RedisBroker>(redis);
    }
    StreamWorker::Options streamOptions;
    streamOptions.heartbeatIntervalSec = settings.heartbeatInterval;
    streamOptions.connectionTimeoutSec = settings.connectionTimeout;
    streamOptions.retryMs = settings.retryMs;
    streamOptions.maxClientBuffer = settings.maxClientBuffer;
    streamOptions.sendTimeoutSec = settings.sendTimeoutSec;
    EventHub hub(broker.get(), settings.historySize, streamOptions, &metrics);
    // Started once the hub listens, so it receives the history first.
    if (memoryBroker) {
        if (!memoryBroker->start(&error))
            return fail(QStringLiteral("HERMES_DATA_DIR: the event history: %1").arg(error));
    } else {
        static_cast<RedisBroker *>(broker.get())->start();
    }

    DownloadStore store;
    if (!store.open(settings.databaseUrl, &error))
        return fail(error);
    DownloadEngine::Options downloadOptions;
    downloadOptions.downloadDir = settings.downloadDir;
    downloadOptions.maxConcurrent = settings.maxConcurrentDownloads;
    downloadOptions.maxAttempts = settings.downloadMaxAttempts;
    downloadOptions.retryBaseMs = settings.downloadRetryDelayMs;
    downloadOptions.maxRedirects = settings.downloadMaxRedirects;
    downloadOptions.maxFileSize = settings.downloadMaxFileSize;
    downloadOptions.progressStepPercent = settings.progressStepPercent;
    downloadOptions.progressIntervalMs = settings.progressIntervalMs;
    downloadOptions.diskWarningBytes = settings.diskWarningMb << 20;
    DownloadEngine downloads(downloadOptions, &store, broker.get());

    HttpServer http;
    http.setAllowedOrigins(settings.allowedOrigins);
    EventRoutes routes(settings, keys, tokens, &hub, &metrics);
    routes.registerOn(&http);
    DownloadRoutes downloadRoutes(&downloads, keys, &metrics);
    downloadRoutes.registerOn(&http);
    if (!http.listenOn(settings.host, settings.port, &error))
        return fail(QStringLiteral("HERMES_HOST/HERMES_PORT: %1").arg(error));
    downloads.start();
    qCInfo(lcHttp).noquote() << "listening on"
                             << QStringLiteral("http://%1:%2").arg(settings.host.toString())
                                    .arg(http.serverPort())
                             << "with the" << broker->name() << "broker";

    // SIGTERM/SIGINT: stop accepting, end every stream cleanly with a retry: hint, and exit 0
    // once the last bytes had a moment to leave (well within the 2 s a supervisor allows).
    SignalWatcher signalWatcher({SIGTERM, SIGINT});
    std::signal(SIGPIPE, SIG_IGN);
    QObject::connect(&signalWatcher, &SignalWatcher::signalReceived, &app, [&](int signal) {
        qCInfo(lcHttp) << "received signal" << signal << "- shutting down";
        http.stopListening();
        hub.worker()->closeAll();
        if (memoryBroker)
            memoryBroker->stop(); // the history is complete on disk: the next start resumes it
        QTimer::singleShot(200, &app, [] { QCoreApplication::exit(0); });
    });
    return app.exec();
}
