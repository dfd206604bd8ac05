// SettingsReload in-process: each reloadable setting changes in the object the routes read,
// the API keys are replaced, CORS follows; a setting that needs a restart is reported (and
// again on the next reload, since it is still not in force); a failed reading changes nothing.

#include "http/apikeystore.h"
#include "http/httpserver.h"
#include "http/settingsreload.h"
#include "settings/serversettings.h"

#include <QCommandLineParser>
#include <QFile>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QTest>

using namespace Hermes;

namespace {

// QVERIFY2 evaluates its message even when the check passes: only a failure has an error.
template<typename T>
QByteArray errorOf(const Result<T> &result)
{
    return result ? QByteArray() : result.error().message.toUtf8();
}

bool writeFile(const QString &path, const QByteArray &contents)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(contents) == contents.size();
}

QString fieldText(const ServerSettings &s, const QString &env)
{
    if (env == u"HERMES_SSE_MAX_CONNECTIONS")
        return QString::number(s.events.maxConnections);
    if (env == u"HERMES_ENABLE_SSE")
        return s.events.enabled ? QStringLiteral("true") : QStringLiteral("false");
    if (env == u"HERMES_SSE_EVENT_STYLE")
        return s.events.eventStyle == EventStyle::Named ? QStringLiteral("named") : QStringLiteral("envelope");
    if (env == u"HERMES_MAX_PUBLISH_BYTES")
        return QString::number(s.events.maxPublishBytes);
    if (env == u"HERMES_ALLOWED_ORIGINS")
        return s.access.allowedOrigins.join(u',');
    if (env == u"HERMES_LOG_LEVEL")
        return s.ops.logLevel;
    if (env == u"HERMES_METRICS_TOKEN")
        return s.metrics.token;
    return QStringLiteral("?");
}

/// A server's settings as main() builds them, from a config file in a temporary dir.
struct Fixture
{
    QTemporaryDir dir;
    QString configFile = dir.filePath(QStringLiteral("hermes.env"));
    QString keyFile = dir.filePath(QStringLiteral("keys"));
    QCommandLineParser parser;
    QProcessEnvironment environment;
    std::unique_ptr<Config> config;
    ServerSettings settings;
    ApiKeyStore keys;
    HttpServer http;
    std::unique_ptr<SettingsReload> reload;

    bool start(const QByteArray &contents)
    {
        if (!writeFile(configFile, contents) || !writeFile(keyFile, "old-key-1234\n"))
            return false;
        config = std::make_unique<Config>(ServerSettings::optionSpecs());
        config->addOptionsTo(parser);
        if (!parser.parse({QStringLiteral("hermes-server"), QStringLiteral("--config"), configFile,
                           QStringLiteral("--data-dir"), dir.path(), QStringLiteral("--api-key-file"), keyFile}))
            return false;
        if (!config->resolve(&parser, environment))
            return false;
        Result<ServerSettings> read = ServerSettings::fromConfig(*config);
        if (!read)
            return false;
        settings = std::move(*read);
        if (!keys.configure(settings.access.apiKeys, settings.access.apiKeyFile, settings.general.dataDir))
            return false;
        reload = std::make_unique<SettingsReload>(settings, *config, keys, http);
        return true;
    }
};

} // namespace

class tst_SettingsReload : public QObject
{
    Q_OBJECT

private slots:
    void appliedSettings_data();
    void appliedSettings();
    void keysAreReplaced();
    void removedKeysAreReported();
    void restartOnlySettingsAreReported();
    void failedReadingChangesNothing_data();
    void failedReadingChangesNothing();
};

void tst_SettingsReload::appliedSettings_data()
{
    QTest::addColumn<QString>("env");
    QTest::addColumn<QString>("value");
    QTest::newRow("max connections") << "HERMES_SSE_MAX_CONNECTIONS" << "5";
    QTest::newRow("sse off") << "HERMES_ENABLE_SSE" << "false";
    QTest::newRow("event style") << "HERMES_SSE_EVENT_STYLE" << "named";
    QTest::newRow("publish size") << "HERMES_MAX_PUBLISH_BYTES" << "1024";
    QTest::newRow("origins") << "HERMES_ALLOWED_ORIGINS" << "https://a.example,https://b.example";
    QTest::newRow("log level") << "HERMES_LOG_LEVEL" << "warning,hermes.http=debug";
    // The route reads it per request: the old token is refused from the next scrape.
    QTest::newRow("metrics token") << "HERMES_METRICS_TOKEN" << "new-metrics-token";
    // Every applied setting has a row.
    QCOMPARE(SettingsReload::applied().size(), 9); // the 7 above plus the two key settings
}

void tst_SettingsReload::appliedSettings()
{
    QFETCH(QString, env);
    QFETCH(QString, value);
    Fixture f;
    QVERIFY(f.start("HERMES_SSE_HEARTBEAT_INTERVAL=30\n"));
    QVERIFY(fieldText(f.settings, env) != value);
    QVERIFY(writeFile(f.configFile, (env + u'=' + value + u'\n').toUtf8()));
    const Result<QStringList> restart = f.reload->reload(&f.parser, f.environment);
    QVERIFY2(restart, errorOf(restart).constData());
    QCOMPARE(fieldText(f.settings, env), value);
    QVERIFY2(restart->isEmpty(), qPrintable(restart->join(u',')));
    QLoggingCategory::setFilterRules(QString());
}

void tst_SettingsReload::keysAreReplaced()
{
    Fixture f;
    QVERIFY(f.start({}));
    QVERIFY(f.keys.verify("old-key-1234"));
    QVERIFY(writeFile(f.keyFile, "new-key-5678\nsecond-key-9012\n"));
    const Result<QStringList> restart = f.reload->reload(&f.parser, f.environment);
    QVERIFY2(restart, errorOf(restart).constData());
    QVERIFY(!f.keys.verify("old-key-1234"));
    QVERIFY(f.keys.verify("new-key-5678"));
    QVERIFY(f.keys.verify("second-key-9012"));
    QCOMPARE(f.keys.size(), 2);
}

void tst_SettingsReload::removedKeysAreReported()
{
    Fixture f;
    QVERIFY(f.start({}));
    QList<QList<QByteArray>> reported;
    f.reload->setKeysRemoved([&](const QList<QByteArray> &digests) { reported.append(digests); });
    // Two keys, one only as its SHA-256: removing either is reported with its digest.
    const QByteArray hashedLine =
        "sha256:" + ApiKeyStore::digestOf("hashed-key-3456").toHex() + '\n';
    QVERIFY(writeFile(f.keyFile, "old-key-1234\n" + hashedLine));
    QVERIFY(f.reload->reload(&f.parser, f.environment));
    QVERIFY(reported.isEmpty()); // only added
    QVERIFY(writeFile(f.keyFile, "old-key-1234\n"));
    QVERIFY(f.reload->reload(&f.parser, f.environment));
    QCOMPARE(reported, (QList<QList<QByteArray>>{{ApiKeyStore::digestOf("hashed-key-3456")}}));
    QVERIFY(writeFile(f.keyFile, "new-key-5678\n"));
    QVERIFY(f.reload->reload(&f.parser, f.environment));
    QCOMPARE(reported.size(), 2);
    QCOMPARE(reported.last(), QList<QByteArray>{ApiKeyStore::digestOf("old-key-1234")});
    // A reading that fails removes nothing.
    QVERIFY(writeFile(f.keyFile, "sha256:not-hex\n"));
    QVERIFY(!f.reload->reload(&f.parser, f.environment));
    QCOMPARE(reported.size(), 2);
    QVERIFY(f.keys.verify("new-key-5678"));
}

void tst_SettingsReload::restartOnlySettingsAreReported()
{
    Fixture f;
    QVERIFY(f.start("HERMES_SSE_HEARTBEAT_INTERVAL=30\nHERMES_PORT=8000\n"));
    QVERIFY(writeFile(f.configFile, "HERMES_SSE_HEARTBEAT_INTERVAL=7\nHERMES_PORT=8001\nHERMES_SSE_RETRY=100\n"));
    Result<QStringList> restart = f.reload->reload(&f.parser, f.environment);
    QVERIFY2(restart, errorOf(restart).constData());
    restart->sort();
    QCOMPARE(*restart, (QStringList{"HERMES_PORT", "HERMES_SSE_HEARTBEAT_INTERVAL", "HERMES_SSE_RETRY"}));
    QCOMPARE(f.settings.stream.heartbeatIntervalSec, 30); // untouched: the workers have their copy
    QCOMPARE(f.settings.general.port, quint16(8000));
    // Still not in force on the next reload; back to the running value, nothing to report.
    restart = f.reload->reload(&f.parser, f.environment);
    QVERIFY(restart);
    QCOMPARE(restart->size(), 3);
    QVERIFY(writeFile(f.configFile, "HERMES_SSE_HEARTBEAT_INTERVAL=30\nHERMES_PORT=8000\n"));
    restart = f.reload->reload(&f.parser, f.environment);
    QVERIFY(restart);
    QVERIFY2(restart->isEmpty(), qPrintable(restart->join(u',')));
}

void tst_SettingsReload::failedReadingChangesNothing_data()
{
    QTest::addColumn<QByteArray>("config");
    QTest::addColumn<QByteArray>("keyFile");
    QTest::addColumn<QString>("named");
    QTest::newRow("invalid value") << QByteArray("HERMES_SSE_MAX_CONNECTIONS=5\nHERMES_PORT=eighty\n")
                                   << QByteArray("new-key-5678\n") << "HERMES_PORT";
    QTest::newRow("invalid log level") << QByteArray("HERMES_SSE_MAX_CONNECTIONS=5\nHERMES_LOG_LEVEL=loud\n")
                                       << QByteArray("new-key-5678\n") << "HERMES_LOG_LEVEL";
    QTest::newRow("broken key file") << QByteArray("HERMES_SSE_MAX_CONNECTIONS=5\n")
                                     << QByteArray("sha256:zz\n") << "HERMES_API_KEY_FILE";
    QTest::newRow("malformed file") << QByteArray("HERMES_SSE_MAX_CONNECTIONS\n")
                                    << QByteArray("new-key-5678\n") << "line 1";
}

void tst_SettingsReload::failedReadingChangesNothing()
{
    QFETCH(QByteArray, config);
    QFETCH(QByteArray, keyFile);
    QFETCH(QString, named);
    Fixture f;
    QVERIFY(f.start({}));
    const int before = f.settings.events.maxConnections;
    QVERIFY(writeFile(f.configFile, config));
    QVERIFY(writeFile(f.keyFile, keyFile));
    const Result<QStringList> restart = f.reload->reload(&f.parser, f.environment);
    QVERIFY(!restart);
    QVERIFY2(restart.error().message.contains(named), qPrintable(restart.error().message));
    QCOMPARE(f.settings.events.maxConnections, before);
    QVERIFY(f.keys.verify("old-key-1234"));
    QVERIFY(!f.keys.verify("new-key-5678"));
}

QTEST_GUILESS_MAIN(tst_SettingsReload)
#include "tst_settingsreload.moc"
