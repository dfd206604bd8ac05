// Config: precedence of the four sources, validation per type with errors that name the
// variable, and the .env/ini file format.

#include "config.h"

#include <QCommandLineParser>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace Hermes;
using Type = OptionSpec::Type;

namespace {

OptionSpec option(const char *env, const char *flag, Type type, const char *def)
{
    OptionSpec s;
    s.env = QString::fromLatin1(env);
    s.flag = QString::fromLatin1(flag);
    s.type = type;
    s.defaultValue = QString::fromLatin1(def);
    s.description = QStringLiteral("A setting.");
    return s;
}

QList<OptionSpec> specs()
{
    OptionSpec port = option("HERMES_PORT", "port", Type::Integer, "8000");
    port.minimum = 1;
    port.maximum = 65535;
    OptionSpec style = option("HERMES_SSE_EVENT_STYLE", "event-style", Type::Choice, "envelope");
    style.choices = {QStringLiteral("envelope"), QStringLiteral("named")};
    OptionSpec secret = option("HERMES_TOKEN_SECRET", "", Type::Integer, "1");
    secret.secret = true; // an integer only so that a value can be invalid here
    return {port, option("HERMES_ENABLE_SSE", "enable-sse", Type::Boolean, "true"),
            option("HERMES_ALLOWED_ORIGINS", "allowed-origins", Type::List, ""), style,
            option("HERMES_HOST", "host", Type::String, "127.0.0.1"), secret};
}

struct Resolved
{
    bool ok = false;
    QString error;
    std::unique_ptr<Config> config;
};

Resolved resolve(const QStringList &args, const QList<QPair<QString, QString>> &env,
                 const QList<OptionSpec> &table = specs())
{
    Resolved r;
    r.config = std::make_unique<Config>(table);
    QCommandLineParser parser;
    r.config->addOptionsTo(parser);
    if (!parser.parse(QStringList{QStringLiteral("prog")} + args)) {
        r.error = parser.errorText();
        return r;
    }
    QProcessEnvironment environment;
    for (const auto &[k, v] : env)
        environment.insert(k, v);
    const Result<void> resolved = r.config->resolve(&parser, environment);
    r.ok = resolved.ok();
    if (!resolved)
        r.error = resolved.error().message;
    return r;
}

QString writeFile(const QTemporaryDir &dir, const QByteArray &contents)
{
    const QString path = dir.filePath(QStringLiteral("hermes.env"));
    QFile f(path);
    f.open(QIODevice::WriteOnly | QIODevice::Truncate);
    f.write(contents);
    return path;
}

} // namespace

class tst_Config : public QObject
{
    Q_OBJECT

private slots:
    void defaults();
    void precedence();
    void invalidValuesNameTheVariable_data();
    void invalidValuesNameTheVariable();
    void booleans_data();
    void booleans();
    void lists();
    void choicesAreCaseInsensitive();
    void configFileFormat();
    void unknownHermesKeysAreWarnedAbout();
    void secretsFromFilesAndCredentials();
    void configFileFromEnvironment();
    void missingConfigFileIsAnError();
    void badDefaultIsAnError();
    void secretsAreNotEchoed();
    void helpShowsEnvAndDefault();
    void referenceShowsUnitsAndReloading();
};

void tst_Config::defaults()
{
    const Resolved r = resolve({}, {});
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.config->integer(u"HERMES_PORT"), 8000);
    QCOMPARE(r.config->boolean(u"HERMES_ENABLE_SSE"), true);
    QCOMPARE(r.config->list(u"HERMES_ALLOWED_ORIGINS"), QStringList());
    QCOMPARE(r.config->string(u"HERMES_SSE_EVENT_STYLE"), QStringLiteral("envelope"));
    QCOMPARE(r.config->source(u"HERMES_PORT"), Config::Source::Default);
}

void tst_Config::precedence()
{
    QTemporaryDir dir;
    const QString file = writeFile(dir, "HERMES_PORT=1001\nHERMES_HOST=10.0.0.1\nHERMES_ENABLE_SSE=false\n");
    // file < environment < command line, each setting on its own.
    const Resolved r = resolve({QStringLiteral("--config"), file, QStringLiteral("--port"), QStringLiteral("1003")},
                               {{QStringLiteral("HERMES_PORT"), QStringLiteral("1002")},
                                {QStringLiteral("HERMES_HOST"), QStringLiteral("10.0.0.2")}});
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.config->integer(u"HERMES_PORT"), 1003);
    QCOMPARE(r.config->source(u"HERMES_PORT"), Config::Source::CommandLine);
    QCOMPARE(r.config->string(u"HERMES_HOST"), QStringLiteral("10.0.0.2"));
    QCOMPARE(r.config->source(u"HERMES_HOST"), Config::Source::Environment);
    QCOMPARE(r.config->boolean(u"HERMES_ENABLE_SSE"), false);
    QCOMPARE(r.config->source(u"HERMES_ENABLE_SSE"), Config::Source::File);
    QCOMPARE(r.config->source(u"HERMES_SSE_EVENT_STYLE"), Config::Source::Default);
    QCOMPARE(r.config->configFile(), file);
}

void tst_Config::invalidValuesNameTheVariable_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("envName");
    QTest::addColumn<QString>("envValue");
    QTest::addColumn<QStringList>("mustContain");
    QTest::newRow("port not a number") << QStringList() << "HERMES_PORT" << "abc"
                                       << QStringList{"HERMES_PORT", "\"abc\"", "environment", "1 and 65535"};
    QTest::newRow("port too large") << QStringList() << "HERMES_PORT" << "65536" << QStringList{"HERMES_PORT", "65536"};
    QTest::newRow("port zero") << QStringList() << "HERMES_PORT" << "0" << QStringList{"HERMES_PORT"};
    QTest::newRow("port empty") << QStringList() << "HERMES_PORT" << "" << QStringList{"HERMES_PORT"};
    QTest::newRow("port from flag") << QStringList{"--port", "x"} << "" << ""
                                    << QStringList{"HERMES_PORT", "--port", "command line"};
    QTest::newRow("boolean") << QStringList() << "HERMES_ENABLE_SSE" << "maybe" << QStringList{"HERMES_ENABLE_SSE", "maybe"};
    QTest::newRow("choice") << QStringList() << "HERMES_SSE_EVENT_STYLE" << "fancy"
                            << QStringList{"HERMES_SSE_EVENT_STYLE", "envelope, named"};
}

void tst_Config::invalidValuesNameTheVariable()
{
    QFETCH(QStringList, args);
    QFETCH(QString, envName);
    QFETCH(QString, envValue);
    QFETCH(QStringList, mustContain);
    QList<QPair<QString, QString>> env;
    if (!envName.isEmpty())
        env.append({envName, envValue});
    const Resolved r = resolve(args, env);
    QVERIFY(!r.ok);
    for (const QString &part : mustContain)
        QVERIFY2(r.error.contains(part), qPrintable(r.error + QStringLiteral(" lacks ") + part));
}

void tst_Config::booleans_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("value");
    for (const char *t : {"true", "TRUE", "1", "yes", "On"})
        QTest::newRow(t) << QString::fromLatin1(t) << true;
    for (const char *f : {"false", "0", "no", "OFF"})
        QTest::newRow(f) << QString::fromLatin1(f) << false;
}

void tst_Config::booleans()
{
    QFETCH(QString, text);
    QFETCH(bool, value);
    const Resolved r = resolve({}, {{QStringLiteral("HERMES_ENABLE_SSE"), text}});
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.config->boolean(u"HERMES_ENABLE_SSE"), value);
}

void tst_Config::lists()
{
    const Resolved r = resolve({}, {{QStringLiteral("HERMES_ALLOWED_ORIGINS"), QStringLiteral(" https://a , ,https://b,")}});
    QVERIFY(r.ok);
    QCOMPARE(r.config->list(u"HERMES_ALLOWED_ORIGINS"), (QStringList{"https://a", "https://b"}));
}

void tst_Config::choicesAreCaseInsensitive()
{
    const Resolved r = resolve({QStringLiteral("--event-style=NAMED")}, {});
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.config->string(u"HERMES_SSE_EVENT_STYLE"), QStringLiteral("named"));
}

void tst_Config::configFileFormat()
{
    QTemporaryDir dir;
    const QString file = writeFile(dir,
        "# a comment\n"
        "; an ini comment\n"
        "[hermes]\n"
        "\n"
        "export HERMES_PORT=2001\n"
        "HERMES_HOST = \"::1\"\n"
        "HERMES_ALLOWED_ORIGINS='https://a, https://b'\n"
        "HERMES_SSE_EVENT_STYLE=named # inline comment\n"
        "OTHER_TOOL_SETTING=ignored\n");
    const Resolved r = resolve({QStringLiteral("--config"), file}, {});
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.config->integer(u"HERMES_PORT"), 2001);
    QCOMPARE(r.config->string(u"HERMES_HOST"), QStringLiteral("::1"));
    QCOMPARE(r.config->list(u"HERMES_ALLOWED_ORIGINS"), (QStringList{"https://a", "https://b"}));
    QCOMPARE(r.config->string(u"HERMES_SSE_EVENT_STYLE"), QStringLiteral("named"));

    const Resolved bad = resolve({QStringLiteral("--config"), writeFile(dir, "HERMES_PORT\n")}, {});
    QVERIFY(!bad.ok);
    QVERIFY2(bad.error.contains(u"line 1"), qPrintable(bad.error));
}

// A typo is reported with the closest known name, in the file and in the environment, but does
// not stop the program (an upgrade that drops a setting must not break a service).
void tst_Config::unknownHermesKeysAreWarnedAbout()
{
    QTemporaryDir dir;
    const Resolved r = resolve({QStringLiteral("--config"), writeFile(dir, "HERMES_PROT=80\nOTHER=1\n")},
                               {{QStringLiteral("HERMES_ENABLE_SEE"), QStringLiteral("x")},
                                {QStringLiteral("HERMES_COMPLETELY_DIFFERENT"), QStringLiteral("x")},
                                {QStringLiteral("HERMES_FOO"), QStringLiteral("x")}, // too far from HOST
                                {QStringLiteral("HERMES_CONFIG_FILE"), QStringLiteral("")},
                                {QStringLiteral("HERMES_PORT"), QStringLiteral("81")}});
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.config->integer(u"HERMES_PORT"), 81);
    const QStringList w = r.config->warnings();
    QCOMPARE(w.size(), 4);
    QVERIFY2(w.at(0).contains(u"HERMES_PROT") && w.at(0).contains(u"did you mean HERMES_PORT?"), qPrintable(w.at(0)));
    QVERIFY2(w.at(1).contains(u"HERMES_COMPLETELY_DIFFERENT") && !w.at(1).contains(u"did you mean"), qPrintable(w.at(1)));
    QVERIFY2(w.at(2).contains(u"HERMES_ENABLE_SEE") && w.at(2).contains(u"did you mean HERMES_ENABLE_SSE?"), qPrintable(w.at(2)));
    QVERIFY2(w.at(3).contains(u"HERMES_FOO") && !w.at(3).contains(u"did you mean"), qPrintable(w.at(3)));

    Config foreign(specs());
    foreign.setForeignKeys({QStringLiteral("HERMES_UPSTREAMS")});
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_UPSTREAMS"), QStringLiteral("a:1"));
    QVERIFY(foreign.resolve(nullptr, env));
    QVERIFY(foreign.warnings().isEmpty());
}

// Secrets from a file named by <ENV>_FILE, or from a systemd credential; never both a value
// and its file; the file's errors name the variable but never the secret.
void tst_Config::secretsFromFilesAndCredentials()
{
    QList<OptionSpec> table = specs();
    OptionSpec url = option("HERMES_REDIS_URL", "redis", Type::String, "");
    url.secret = true;
    url.fromFile = true;
    url.credential = QStringLiteral("redis-url");
    OptionSpec keys = option("HERMES_API_KEY_FILE", "api-key-file", Type::String, "");
    keys.credential = QStringLiteral("api-keys");
    keys.credentialIsPath = true;
    table << url << keys;

    QTemporaryDir dir;
    const QString secretFile = dir.filePath(QStringLiteral("redis-url"));
    QFile f(secretFile);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("redis://:s3cret@127.0.0.1:6379/0\n");
    f.close();

    Resolved r = resolve({}, {{QStringLiteral("HERMES_REDIS_URL_FILE"), secretFile}}, table);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.config->string(u"HERMES_REDIS_URL"), QStringLiteral("redis://:s3cret@127.0.0.1:6379/0"));
    QCOMPARE(r.config->source(u"HERMES_REDIS_URL"), Config::Source::SecretFile);

    // One rule for every _FILE option: the variable's name, HERMES_REDIS_URL_FILE is
    // --redis-url-file (not the setting's --redis plus -file).
    r = resolve({QStringLiteral("--redis-url-file"), secretFile}, {}, table);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.config->string(u"HERMES_REDIS_URL"), QStringLiteral("redis://:s3cret@127.0.0.1:6379/0"));
    QVERIFY(r.config->warnings().isEmpty());
    // The older spelling still works, with a warning that names the new one.
    r = resolve({QStringLiteral("--redis-file"), secretFile}, {}, table);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.config->string(u"HERMES_REDIS_URL"), QStringLiteral("redis://:s3cret@127.0.0.1:6379/0"));
    QCOMPARE(r.config->warnings(),
             QStringList{QStringLiteral("--redis-file is deprecated: use --redis-url-file (the same setting, HERMES_REDIS_URL_FILE)")});

    r = resolve({}, {{QStringLiteral("HERMES_REDIS_URL_FILE"), secretFile},
                     {QStringLiteral("HERMES_REDIS_URL"), QStringLiteral("redis://other")}}, table);
    QVERIFY(!r.ok);
    QVERIFY2(r.error.contains(u"both set") && !r.error.contains(u"other"), qPrintable(r.error));

    r = resolve({}, {{QStringLiteral("HERMES_REDIS_URL_FILE"), dir.filePath(QStringLiteral("missing"))}}, table);
    QVERIFY(!r.ok);
    QVERIFY2(r.error.startsWith(u"HERMES_REDIS_URL_FILE"), qPrintable(r.error));

    // systemd credentials: the contents, or the path for a setting that names a file.
    QVERIFY(QFile::copy(secretFile, dir.filePath(QStringLiteral("api-keys"))));
    r = resolve({}, {{QStringLiteral("CREDENTIALS_DIRECTORY"), dir.path()}}, table);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.config->string(u"HERMES_REDIS_URL"), QStringLiteral("redis://:s3cret@127.0.0.1:6379/0"));
    QCOMPARE(r.config->source(u"HERMES_REDIS_URL"), Config::Source::Credential);
    QCOMPARE(r.config->string(u"HERMES_API_KEY_FILE"), dir.filePath(QStringLiteral("api-keys")));
    // What is set explicitly wins over a credential.
    r = resolve({}, {{QStringLiteral("CREDENTIALS_DIRECTORY"), dir.path()},
                     {QStringLiteral("HERMES_REDIS_URL"), QStringLiteral("redis://explicit")}}, table);
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.config->string(u"HERMES_REDIS_URL"), QStringLiteral("redis://explicit"));
    QVERIFY(r.config->warnings().isEmpty());
}

void tst_Config::configFileFromEnvironment()
{
    QTemporaryDir dir;
    const QString file = writeFile(dir, "HERMES_PORT=3001\n");
    const Resolved r = resolve({}, {{QStringLiteral("HERMES_CONFIG_FILE"), file}});
    QVERIFY2(r.ok, qPrintable(r.error));
    QCOMPARE(r.config->integer(u"HERMES_PORT"), 3001);
}

void tst_Config::missingConfigFileIsAnError()
{
    const Resolved r = resolve({QStringLiteral("--config"), QStringLiteral("/nonexistent/hermes.env")}, {});
    QVERIFY(!r.ok);
    QVERIFY2(r.error.contains(u"/nonexistent/hermes.env"), qPrintable(r.error));
}

void tst_Config::badDefaultIsAnError()
{
    QList<OptionSpec> table = specs();
    table[0].defaultValue = QStringLiteral("not-a-port");
    const Resolved r = resolve({}, {}, table);
    QVERIFY(!r.ok);
    QVERIFY(r.error.contains(u"HERMES_PORT"));
    QVERIFY(r.error.contains(u"default"));
}

void tst_Config::secretsAreNotEchoed()
{
    const Resolved r = resolve({}, {{QStringLiteral("HERMES_TOKEN_SECRET"), QStringLiteral("hunter2")}});
    QVERIFY(!r.ok);
    QVERIFY(r.error.contains(u"HERMES_TOKEN_SECRET"));
    QVERIFY2(!r.error.contains(u"hunter2"), qPrintable(r.error));
}

void tst_Config::helpShowsEnvAndDefault()
{
    Config config(specs());
    QCommandLineParser parser;
    config.addOptionsTo(parser);
    const QString help = parser.helpText();
    QVERIFY(help.contains(u"--port"));
    QVERIFY(help.contains(u"HERMES_PORT"));
    QVERIFY(help.contains(u"default: 8000"));
    QVERIFY(help.contains(u"--config"));
}

// The unit follows the default in the Markdown reference (not in the env file, whose lines
// must stay assignable); a reloadable setting says so wherever its description goes.
void tst_Config::referenceShowsUnitsAndReloading()
{
    QList<OptionSpec> table = specs();
    table[0].unit = OptionSpec::Unit::Seconds; // HERMES_PORT, for the test's sake
    table[1].reloadable = true;                // HERMES_ENABLE_SSE
    Config config(table);
    const QString markdown = config.reference(Config::ReferenceFormat::Markdown);
    QVERIFY2(markdown.contains(u"| `HERMES_PORT` | `--port` | `8000` s | A setting. (1 to 65535) |"), qPrintable(markdown));
    QVERIFY2(markdown.contains(u"| `HERMES_ENABLE_SSE` | `--enable-sse` | `true` | A setting. Reloaded on SIGHUP. |"),
             qPrintable(markdown));
    const QString env = config.reference(Config::ReferenceFormat::EnvFile);
    QVERIFY2(env.contains(u"# A setting.\n#HERMES_PORT=8000\n"), qPrintable(env));
    QVERIFY2(env.contains(u"# A setting. Reloaded on SIGHUP.\n#HERMES_ENABLE_SSE=true\n"), qPrintable(env));
    QCommandLineParser parser;
    config.addOptionsTo(parser);
    QVERIFY(parser.helpText().simplified().contains(u"Reloaded on SIGHUP. [env: HERMES_ENABLE_SSE"));
}

QTEST_MAIN(tst_Config)
#include "tst_config.moc"
