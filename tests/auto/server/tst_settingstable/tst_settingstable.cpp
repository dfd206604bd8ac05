// SettingsTable, the one definition of every setting: each entry writes its own member and no
// other; the defaults the components construct (their Options are the groups) equal the
// table's; units are converted where the value is stored; the reloadable entries are the ones
// SIGHUP applies; errors name the variable, and fromConfig derives the defaults that depend on
// the data dir.

#include "broker/redisbroker.h"
#include "downloads/downloadengine.h"
#include "http/httplimits.h"
#include "settings/serversettings.h"
#include "settings/settingstable.h"
#include "stream/streamworker.h"

#include <QTest>

#include <type_traits>

using namespace Hermes;

// The components take their group as their options: a default they construct is the group's.
static_assert(std::is_same_v<StreamWorker::Options, StreamSettings>);
static_assert(std::is_same_v<DownloadEngine::Options, DownloadSettings>);
static_assert(std::is_same_v<HttpLimits, HttpSettings>);
static_assert(std::is_base_of_v<RedisSettings, RedisBroker::Options>);

namespace {

// QVERIFY2 evaluates its message even when the check passes: only a failure has an error.
template<typename T>
QByteArray errorOf(const Result<T> &result)
{
    return result ? QByteArray() : result.error().message.toUtf8();
}

/// The settings a Config resolves to from `environment` alone (no command line, no file).
Result<ServerSettings> settingsFrom(const QProcessEnvironment &environment, bool tableOnly = false)
{
    Config config(ServerSettings::optionSpecs());
    if (Result<void> resolved = config.resolve(nullptr, environment); !resolved)
        return resolved.error();
    if (!tableOnly)
        return ServerSettings::fromConfig(config);
    ServerSettings settings;
    if (Result<void> written = SettingsTable::write(config, settings); !written)
        return written.error();
    return settings;
}

QProcessEnvironment environmentWith(const QString &env, const QString &value)
{
    QProcessEnvironment environment;
    environment.insert(env, value);
    return environment;
}

/// A valid value other than the default, for every entry.
QString anotherValue(const OptionSpec &spec)
{
    using Type = OptionSpec::Type;
    static const QHash<QString, QString> special{
        {QStringLiteral("HERMES_HOST"), QStringLiteral("::1")},
        {QStringLiteral("HERMES_DATA_DIR"), QStringLiteral("/nonexistent/hermes-data")},
        {QStringLiteral("HERMES_LOG_LEVEL"), QStringLiteral("warning,hermes.http=debug")},
        {QStringLiteral("HERMES_DOWNLOAD_UMASK"), QStringLiteral("0077")},
        {QStringLiteral("HERMES_METRICS_ADDRESS"), QStringLiteral("127.0.0.1:9464")},
    };
    if (special.contains(spec.env))
        return special.value(spec.env);
    switch (spec.type) {
    case Type::Integer: return QString::number(spec.defaultValue.toLongLong() + 1);
    case Type::Boolean: return spec.defaultValue == u"true" ? QStringLiteral("false") : QStringLiteral("true");
    case Type::List: return QStringLiteral("a,b");
    case Type::Choice: return spec.choices.at(spec.choices.indexOf(spec.defaultValue) == 0 ? 1 : 0);
    case Type::String: return QStringLiteral("another");
    }
    return {};
}

} // namespace

class tst_SettingsTable : public QObject
{
    Q_OBJECT

private slots:
    void componentDefaultsAreTheTables();
    void everyEntryWritesItsOwnMember();
    void unitsAreConvertedOnce();
    void reloadableEntries();
    void errorsNameTheVariable_data();
    void errorsNameTheVariable();
    void defaultsInTheDataDir();
};

// For every entry: the member of a default-constructed group — what the components and their
// tests construct — holds the table's default, parsed as the server parses it. (The round
// interval once defaulted to 2 ms here, 5 ms in the table and 0 ms in StreamWorker::Options.)
void tst_SettingsTable::componentDefaultsAreTheTables()
{
    const Result<ServerSettings> fromTable = settingsFrom({}, true);
    QVERIFY2(fromTable, errorOf(fromTable).constData());
    ServerSettings constructed;
    constructed.stream = StreamWorker::Options();
    constructed.downloads = DownloadEngine::Options();
    constructed.http = HttpLimits();
    constructed.redis = RedisBroker::Options();
    int compared = 0;
    for (const SettingEntry &entry : SettingsTable::entries()) {
        if (!entry.spec.documentedDefault.isEmpty())
            continue; // the machine's (the data dir): no constant can hold it
        ++compared;
        QVERIFY2(entry.same(*fromTable, constructed),
                 qPrintable(QStringLiteral("%1: the table's default is \"%2\", the group's \"%3\"")
                                .arg(entry.spec.env, entry.show(*fromTable), entry.show(constructed))));
    }
    QCOMPARE(compared, SettingsTable::entries().size() - 1);
}

// Set alone, each setting changes its member and nothing else: no two entries share a member,
// none writes nowhere.
void tst_SettingsTable::everyEntryWritesItsOwnMember()
{
    const Result<ServerSettings> defaults = settingsFrom({}, true);
    QVERIFY2(defaults, errorOf(defaults).constData());
    for (const SettingEntry &entry : SettingsTable::entries()) {
        const QString value = anotherValue(entry.spec);
        const Result<ServerSettings> changed = settingsFrom(environmentWith(entry.spec.env, value), true);
        QVERIFY2(changed, errorOf(changed).constData());
        QVERIFY2(!entry.same(*defaults, *changed),
                 qPrintable(entry.spec.env + QStringLiteral("=") + value + QStringLiteral(" changed nothing")));
        for (const SettingEntry &other : SettingsTable::entries()) {
            if (&other != &entry && !other.same(*defaults, *changed))
                QFAIL(qPrintable(QStringLiteral("%1=%2 also changed %3 (%4)")
                                     .arg(entry.spec.env, value, other.spec.env, other.show(*changed))));
        }
        // SIGHUP's copy moves exactly that member too.
        ServerSettings copied = *defaults;
        entry.copy(*changed, copied);
        for (const SettingEntry &other : SettingsTable::entries())
            QCOMPARE(other.same(copied, *changed), true);
    }
}

void tst_SettingsTable::unitsAreConvertedOnce()
{
    QProcessEnvironment environment;
    environment.insert(QStringLiteral("HERMES_HTTP_HEADER_TIMEOUT"), QStringLiteral("7"));
    environment.insert(QStringLiteral("HERMES_HTTP_BODY_TIMEOUT"), QStringLiteral("8"));
    environment.insert(QStringLiteral("HERMES_HTTP_IDLE_TIMEOUT"), QStringLiteral("9"));
    environment.insert(QStringLiteral("HERMES_DISK_WARNING_MB"), QStringLiteral("3"));
    environment.insert(QStringLiteral("HERMES_SSE_SEND_TIMEOUT"), QStringLiteral("11"));
    environment.insert(QStringLiteral("HERMES_PROGRESS_STEP_PERCENT"), QStringLiteral("4"));
    const Result<ServerSettings> s = settingsFrom(environment);
    QVERIFY2(s, errorOf(s).constData());
    QCOMPARE(s->http.headerTimeoutMs, 7000);
    QCOMPARE(s->http.bodyTimeoutMs, 8000);
    QCOMPARE(s->http.idleTimeoutMs, 9000);
    QCOMPARE(s->downloads.diskWarningBytes, qint64(3) << 20);
    QCOMPARE(s->stream.sendTimeoutSec, 11); // the worker counts in seconds too
    QCOMPARE(s->downloads.progressStepPercent, 4.0);
    // Every unit a setting declares is shown in the reference.
    for (const SettingEntry &entry : SettingsTable::entries()) {
        if (entry.spec.unit != OptionSpec::Unit::None)
            QVERIFY(!Config::unitSymbol(entry.spec.unit).isEmpty());
    }
}

void tst_SettingsTable::reloadableEntries()
{
    QStringList reloadable;
    for (const SettingEntry &entry : SettingsTable::entries()) {
        if (entry.spec.reloadable)
            reloadable.append(entry.spec.env);
    }
    reloadable.sort();
    QCOMPARE(reloadable, (QStringList{"HERMES_ALLOWED_ORIGINS", "HERMES_API_KEYS", "HERMES_API_KEY_FILE",
                                      "HERMES_ENABLE_SSE", "HERMES_LOG_LEVEL", "HERMES_MAX_PUBLISH_BYTES",
                                      "HERMES_METRICS_TOKEN", "HERMES_SSE_EVENT_STYLE",
                                      "HERMES_SSE_MAX_CONNECTIONS"}));
    QVERIFY(SettingsTable::find(u"HERMES_PORT"));
    QVERIFY(!SettingsTable::find(u"HERMES_TOKEN_SECRET_FILE")); // Config's companion, no member
}

// The messages of the settings with a syntax or a rule of their own, byte for byte: the
// server prints them when it refuses to start, and tests and people read them.
void tst_SettingsTable::errorsNameTheVariable_data()
{
    QTest::addColumn<QString>("env");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("message");
    QTest::newRow("host") << "HERMES_HOST" << "example.org"
        << "HERMES_HOST: \"example.org\" is not an IP address (use 127.0.0.1, 0.0.0.0, ::1 or ::)";
    QTest::newRow("data dir") << "HERMES_DATA_DIR" << "" << "HERMES_DATA_DIR: must not be empty";
    QTest::newRow("lease renew") << "HERMES_DOWNLOAD_LEASE_RENEW" << "7501"
        << "HERMES_DOWNLOAD_LEASE_RENEW (7501 ms) must be at most half of HERMES_DOWNLOAD_LEASE (15000 ms)";
    QTest::newRow("adopt retry limit") << "HERMES_REDIS_ADOPT_RETRY_LIMIT" << "60"
        << "HERMES_REDIS_ADOPT_RETRY_LIMIT (60 s) must be below HERMES_REDIS_ADOPT_WINDOW (60 s)";
    QTest::newRow("umask") << "HERMES_DOWNLOAD_UMASK" << "0999"
        << "HERMES_DOWNLOAD_UMASK: \"0999\" is not an octal umask (0000 to 0777)";
    QTest::newRow("metrics address") << "HERMES_METRICS_ADDRESS" << "9464"
        << "HERMES_METRICS_ADDRESS: \"9464\" is not host:port with an IP address (e.g. 127.0.0.1:9464)";
    QTest::newRow("integer") << "HERMES_PORT" << "eighty"
        << "HERMES_PORT: \"eighty\" (from the environment) is not an integer between 1 and 65535";
}

void tst_SettingsTable::errorsNameTheVariable()
{
    QFETCH(QString, env);
    QFETCH(QString, value);
    QFETCH(QString, message);
    const Result<ServerSettings> s = settingsFrom(environmentWith(env, value));
    QVERIFY(!s);
    QCOMPARE(s.error().message, message);
    QCOMPARE(s.error().kind, Error::Kind::Invalid);
}

void tst_SettingsTable::defaultsInTheDataDir()
{
    const Result<ServerSettings> s = settingsFrom(environmentWith(QStringLiteral("HERMES_DATA_DIR"),
                                                                  QStringLiteral("/srv/hermes")));
    QVERIFY2(s, errorOf(s).constData());
    QCOMPARE(s->downloads.downloadDir, QStringLiteral("/srv/hermes/downloads"));
    QCOMPARE(s->store.databaseUrl, QStringLiteral("sqlite:///srv/hermes/hermes.db"));
    QCOMPARE(s->general.host, QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(s->general.port, quint16(8000));

    QProcessEnvironment environment = environmentWith(QStringLiteral("HERMES_DATA_DIR"), QStringLiteral("/srv/hermes"));
    environment.insert(QStringLiteral("HERMES_DOWNLOAD_DIR"), QStringLiteral("/media/downloads"));
    environment.insert(QStringLiteral("HERMES_DATABASE_URL"), QStringLiteral("postgresql://db/hermes"));
    const Result<ServerSettings> given = settingsFrom(environment);
    QVERIFY2(given, errorOf(given).constData());
    QCOMPARE(given->downloads.downloadDir, QStringLiteral("/media/downloads"));
    QCOMPARE(given->store.databaseUrl, QStringLiteral("postgresql://db/hermes"));
}

QTEST_GUILESS_MAIN(tst_SettingsTable)
#include "tst_settingstable.moc"
