#pragma once

#include "result.h"

#include <QHash>
#include <QList>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

#include <limits>

class QCommandLineParser;

namespace Hermes {

/// One setting: its environment variable, its command-line option, its default and meaning.
/// Programs describe all their settings in one table of these; the table also feeds `--help`
/// and the configuration reference, so the docs cannot drift from the code.
struct OptionSpec
{
    enum class Type {
        String,
        Integer, ///< decimal, within [minimum, maximum]
        Boolean, ///< true/false, 1/0, yes/no, on/off (any case)
        List,    ///< comma-separated, items trimmed, empty items dropped
        Choice,  ///< one of `choices` (case-insensitive, stored lower-case)
    };
    /// What an Integer counts. The reference shows it beside the default; a program that
    /// keeps the value in another unit converts it once, where the value is stored.
    enum class Unit {
        None,
        Bytes,
        BytesPerSecond,
        Mebibytes,
        Milliseconds,
        Seconds,
        Percent,
    };

    QString env;          ///< e.g. "HERMES_SSE_HEARTBEAT_INTERVAL"
    QString flag;         ///< long option without dashes, e.g. "heartbeat-interval"; may be empty
    Type type = Type::String;
    QString defaultValue; ///< as text, validated like any other value
    Unit unit = Unit::None;
    QString description;  ///< one sentence for --help and docs
    /// A running program applies it again when told to reload (SIGHUP); the docs say so.
    bool reloadable = false;
    qint64 minimum = std::numeric_limits<qint64>::min();
    qint64 maximum = std::numeric_limits<qint64>::max();
    QStringList choices;
    QString valueName = QStringLiteral("value");
    bool secret = false;  ///< never printed (API keys, token secrets)
    /// The default as the documentation shows it, when the real one depends on the machine
    /// (a home directory); empty: `defaultValue`.
    QString documentedDefault;
    /// Secrets do not belong in the environment or on a command line (both are visible to
    /// other processes of the user): `fromFile` adds a companion setting `<env>_FILE` naming a
    /// file that holds the value. Its option is spelled after the variable, whatever the
    /// setting's own option: the name without HERMES_, in lower case with dashes
    /// (HERMES_REDIS_URL_FILE: --redis-url-file).
    bool fromFile = false;
    /// An older spelling of `flag`, still accepted with a warning (see Config::warnings()).
    QString deprecatedFlag;
    /// A systemd credential (LoadCredential=, $CREDENTIALS_DIRECTORY) used when the setting is
    /// not given otherwise: its contents are the value, or, with `credentialIsPath`, its path is.
    QString credential;
    bool credentialIsPath = false;
};

/**
 * Resolves a table of OptionSpec from, highest precedence first: the command line, the
 * environment, an optional config file, the defaults.
 *
 * The config file is named by `--config FILE` or `HERMES_CONFIG_FILE`; it holds `KEY=VALUE`
 * lines in .env style (`#` comments, optional `export `, optional single or double quotes;
 * `[section]` lines of an ini file are ignored). An unknown `HERMES_*` key in it or in the
 * environment is reported by warnings() with the closest known name (a typo must not pass
 * silently, yet a setting that a newer or older release dropped must not stop a service on
 * upgrade); other keys are ignored so a shared .env still works.
 *
 * Every value is validated; an invalid one makes resolve() fail with a message that names the
 * variable, the value and where it came from. Nothing falls back to a default silently.
 */
class Config
{
public:
    enum class Source { Default, File, Environment, CommandLine, SecretFile, Credential };

    explicit Config(QList<OptionSpec> specs);

    /// Adds `--<flag>` for every spec with a flag, plus `--config`, to `parser`.
    void addOptionsTo(QCommandLineParser &parser) const;

    /// Resolves all values. `parser` must already have parsed the arguments (it may be null
    /// for no command line). Fails (Error::Kind::Invalid, code "invalid_setting") on the
    /// first invalid value, with a message that names the variable.
    Result<void> resolve(const QCommandLineParser *parser, const QProcessEnvironment &environment);

    QString string(QStringView env) const;
    qint64 integer(QStringView env) const;
    bool boolean(QStringView env) const;
    QStringList list(QStringView env) const;
    Source source(QStringView env) const;
    /// The config file that was read, or empty.
    QString configFile() const { return m_configFile; }
    /// What resolve() noticed without failing: unknown HERMES_ keys in the file or the
    /// environment. For the log, one message each.
    const QStringList &warnings() const { return m_warnings; }
    /// `HERMES_*` names that other programs read (scripts, the Caddyfile): not warned about.
    void setForeignKeys(const QStringList &keys) { m_foreignKeys = keys; }

    const QList<OptionSpec> &specs() const { return m_specs; }

    enum class ReferenceFormat { Markdown, EnvFile };
    /// Every option with its variable, flag, default and meaning: the configuration reference
    /// (docs/configuration.md) and the commented example file (hermes.env.example) are this
    /// output, and a test keeps them equal to it.
    QString reference(ReferenceFormat format) const;
    /// How the reference writes `unit` after a value ("s", "ms", "bytes", ...); empty for None.
    static QString unitSymbol(OptionSpec::Unit unit);
    /// The error of a setting that cannot be used, whatever is wrong with it: the user's input
    /// to fix (Error::Kind::Invalid, code "invalid_setting").
    static Error invalidSetting(QString message);

private:
    struct Value
    {
        QString text;
        Source source = Source::Default;
    };
    const Value &value(QStringView env) const;

    QList<OptionSpec> m_specs;
    bool isKnownKey(const QString &key) const;
    QString closestKey(const QString &key) const;
    Result<void> substituteSecret(const OptionSpec &spec, const QProcessEnvironment &environment);

    QHash<QString, Value> m_values;
    QString m_configFile;
    QStringList m_warnings;
    QStringList m_foreignKeys;
};

} // namespace Hermes
