#include "config.h"

#include <QCommandLineParser>
#include <QFile>

#include <algorithm>

namespace Hermes {

static QString sourceName(Config::Source source)
{
    switch (source) {
    case Config::Source::Default: return QStringLiteral("the default");
    case Config::Source::File: return QStringLiteral("the config file");
    case Config::Source::Environment: return QStringLiteral("the environment");
    case Config::Source::CommandLine: return QStringLiteral("the command line");
    case Config::Source::SecretFile: return QStringLiteral("its _FILE");
    case Config::Source::Credential: return QStringLiteral("a systemd credential");
    }
    return {};
}

static const QString ConfigFileEnv = QStringLiteral("HERMES_CONFIG_FILE");


static const QString FileSuffix = QStringLiteral("_FILE");

// HERMES_REDIS_URL_FILE → redis-url-file.
static QString flagOf(const QString &env)
{
    return env.sliced(env.startsWith(QLatin1StringView("HERMES_")) ? 7 : 0).toLower().replace(u'_', u'-');
}

Config::Config(QList<OptionSpec> specs)
{
    for (OptionSpec &spec : specs) {
        if (!spec.credential.isEmpty())
            spec.description += spec.credentialIsPath
                ? QStringLiteral(" The systemd credential \"%1\" is used as this file when "
                                 "nothing else is set.").arg(spec.credential)
                : QStringLiteral(" Also read from the systemd credential \"%1\".").arg(spec.credential);
        if (spec.reloadable)
            spec.description += QStringLiteral(" Reloaded on SIGHUP.");
        m_specs.append(spec);
        if (!spec.fromFile)
            continue;
        OptionSpec file;
        file.env = spec.env + FileSuffix;
        // One rule for every _FILE option: the variable's name (HERMES_REDIS_URL_FILE:
        // --redis-url-file). The older spelling, the setting's option plus -file
        // (--redis-file), is still accepted, with a warning.
        if (!spec.flag.isEmpty()) {
            file.flag = flagOf(file.env);
            if (const QString old = spec.flag + QStringLiteral("-file"); old != file.flag)
                file.deprecatedFlag = old;
        }
        // The value it names is applied again on reload when the setting is: so is the file.
        file.reloadable = spec.reloadable;
        file.description = QStringLiteral("File holding %1 (surrounding whitespace ignored), so "
                                          "the secret is in neither the environment nor the "
                                          "command line.").arg(spec.env);
        if (file.reloadable)
            file.description += QStringLiteral(" Read again on SIGHUP.");
        file.valueName = QStringLiteral("file");
        m_specs.append(file);
    }
}

void Config::addOptionsTo(QCommandLineParser &parser) const
{
    parser.addOption(QCommandLineOption(
        QStringLiteral("config"),
        QStringLiteral("Read settings from a .env-style file [env: %1].").arg(ConfigFileEnv),
        QStringLiteral("file")));
    for (const OptionSpec &spec : m_specs) {
        if (spec.flag.isEmpty())
            continue;
        QString help = spec.description + QStringLiteral(" [env: ") + spec.env;
        // The documented default, not this machine's (a home directory): --help feeds the
        // man page, which must not depend on who built it.
        const QString def = spec.documentedDefault.isEmpty() ? spec.defaultValue : spec.documentedDefault;
        if (!def.isEmpty() && !spec.secret)
            help += QStringLiteral(", default: ") + def;
        help += u']';
        QStringList names{spec.flag};
        if (!spec.deprecatedFlag.isEmpty()) {
            names.append(spec.deprecatedFlag);
            help += QStringLiteral(" (--%1: deprecated spelling)").arg(spec.deprecatedFlag);
        }
        parser.addOption(QCommandLineOption(names, help, spec.valueName));
    }
}

// Parses a .env / ini file into key → value. Fails on an unreadable file or a malformed line.
static Result<QHash<QString, QString>> readConfigFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return Config::invalidSetting(QStringLiteral("%1: cannot read %2: %3").arg(ConfigFileEnv, path, file.errorString()));
    QHash<QString, QString> out;
    int lineNumber = 0;
    while (!file.atEnd()) {
        ++lineNumber;
        QString line = QString::fromUtf8(file.readLine()).trimmed();
        if (line.isEmpty() || line.startsWith(u'#') || line.startsWith(u';')
            || (line.startsWith(u'[') && line.endsWith(u']')))
            continue;
        if (line.startsWith(QLatin1StringView("export ")))
            line = line.sliced(7).trimmed();
        const qsizetype eq = line.indexOf(u'=');
        if (eq <= 0)
            return Config::invalidSetting(QStringLiteral("%1 line %2: expected KEY=VALUE").arg(path).arg(lineNumber));
        const QString key = line.first(eq).trimmed();
        QString value = line.sliced(eq + 1).trimmed();
        if (value.size() >= 2 && (value.front() == u'"' || value.front() == u'\'')
            && value.back() == value.front())
            value = value.sliced(1, value.size() - 2);
        else if (const qsizetype hash = value.indexOf(QLatin1StringView(" #")); hash >= 0)
            value = value.first(hash).trimmed(); // an inline comment after an unquoted value
        out.insert(key, value);
    }
    return out;
}

// The value in its normal form (a trimmed integer, true/false, a lower-case choice), or why it
// is not one: the problem alone, e.g. "is not a boolean (...)"; the caller names the setting.
static Result<QString> validate(const OptionSpec &spec, const QString &text)
{
    using Type = OptionSpec::Type;
    const auto problem = [](QString why) { return Config::invalidSetting(std::move(why)); };
    switch (spec.type) {
    case Type::String:
    case Type::List:
        return text;
    case Type::Integer: {
        bool ok = false;
        const qint64 value = text.trimmed().toLongLong(&ok);
        if (ok && value >= spec.minimum && value <= spec.maximum)
            return QString::number(value);
        return problem(spec.minimum == std::numeric_limits<qint64>::min()
            ? QStringLiteral("is not an integer")
            : QStringLiteral("is not an integer between %1 and %2").arg(spec.minimum).arg(spec.maximum));
    }
    case Type::Boolean: {
        const QString v = text.trimmed().toLower();
        if (v == u"true" || v == u"1" || v == u"yes" || v == u"on")
            return QStringLiteral("true");
        if (v == u"false" || v == u"0" || v == u"no" || v == u"off")
            return QStringLiteral("false");
        return problem(QStringLiteral("is not a boolean (true/false, 1/0, yes/no, on/off)"));
    }
    case Type::Choice: {
        const QString v = text.trimmed().toLower();
        if (spec.choices.contains(v))
            return v;
        return problem(QStringLiteral("is not one of: %1").arg(spec.choices.join(QStringLiteral(", "))));
    }
    }
    return problem(QStringLiteral("has an unknown type"));
}

// Edit distance with adjacent transpositions (optimal string alignment): PROT is one edit
// from PORT.
static qsizetype editDistance(QStringView a, QStringView b)
{
    QList<QList<qsizetype>> d(a.size() + 1, QList<qsizetype>(b.size() + 1));
    for (qsizetype i = 0; i <= a.size(); ++i)
        d[i][0] = i;
    for (qsizetype j = 0; j <= b.size(); ++j)
        d[0][j] = j;
    for (qsizetype i = 1; i <= a.size(); ++i) {
        for (qsizetype j = 1; j <= b.size(); ++j) {
            const qsizetype cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.size()][b.size()];
}

// The known name a typo most likely meant: within one edit per four characters of the part
// after HERMES_ (at least one), or a name that one of them begins (a truncated name).
static QString closestName(const QString &key, const QStringList &candidates)
{
    const QStringView typed = QStringView(key).sliced(qMin<qsizetype>(7, key.size()));
    QString best;
    qsizetype bestDistance = std::max<qsizetype>(1, typed.size() / 4) + 1;
    for (const QString &c : candidates) {
        const QStringView known = QStringView(c).sliced(qMin<qsizetype>(7, c.size()));
        qsizetype d = editDistance(typed, known);
        if (typed.size() >= 6 && (known.startsWith(typed) || typed.startsWith(known)))
            d = std::min<qsizetype>(d, 1);
        if (d < bestDistance) {
            bestDistance = d;
            best = c;
        }
    }
    return best;
}

bool Config::isKnownKey(const QString &key) const
{
    return key == ConfigFileEnv || m_foreignKeys.contains(key)
        || std::any_of(m_specs.cbegin(), m_specs.cend(), [&](const OptionSpec &s) { return s.env == key; });
}

QString Config::closestKey(const QString &key) const
{
    QStringList names;
    for (const OptionSpec &s : m_specs)
        names.append(s.env);
    return closestName(key, names);
}

// A secret's file, trimmed; or the problem alone ("cannot read ...": the caller names the setting).
static Result<QString> readSecretFile(const QString &path)
{
    QFile file(path);
    // A secret is short; a huge file is a mistake (e.g. a device), not a secret.
    if (!file.open(QIODevice::ReadOnly) || file.size() > 64 * 1024)
        return Config::invalidSetting(file.isOpen() ? QStringLiteral("%1 is larger than 64 KiB").arg(path)
                                            : QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
    return QString::fromUtf8(file.read(64 * 1024)).trimmed();
}

// The value of a secret from `<ENV>_FILE`, else from a systemd credential, when the setting
// itself is not given.
Result<void> Config::substituteSecret(const OptionSpec &spec, const QProcessEnvironment &environment)
{
    Value &value = m_values[spec.env];
    if (spec.fromFile) {
        const Value file = m_values.value(spec.env + FileSuffix);
        if (!file.text.isEmpty()) {
            if (value.source != Source::Default)
                return Config::invalidSetting(QStringLiteral("%1 and %1%2 are both set (from %3 and %4): set only one")
                                          .arg(spec.env, FileSuffix, sourceName(value.source), sourceName(file.source)));
            const Result<QString> secret = readSecretFile(file.text);
            if (!secret)
                return Config::invalidSetting(spec.env + FileSuffix + QStringLiteral(": ") + secret.error().message);
            value = {*secret, Source::SecretFile};
            return {};
        }
    }
    const QString credentials = environment.value(QStringLiteral("CREDENTIALS_DIRECTORY"));
    if (spec.credential.isEmpty() || credentials.isEmpty() || value.source != Source::Default)
        return {};
    const QString path = credentials + u'/' + spec.credential;
    if (!QFile::exists(path))
        return {};
    if (spec.credentialIsPath) {
        value.text = path;
    } else {
        const Result<QString> secret = readSecretFile(path);
        if (!secret)
            return Config::invalidSetting(QStringLiteral("%1: the systemd credential %2: %3")
                                      .arg(spec.env, spec.credential, secret.error().message));
        value.text = *secret;
    }
    value.source = Source::Credential;
    return {};
}

Result<void> Config::resolve(const QCommandLineParser *parser, const QProcessEnvironment &environment)
{
    m_values.clear();
    m_configFile.clear();
    m_warnings.clear();
    QHash<QString, QString> file;
    if (parser && parser->isSet(QStringLiteral("config")))
        m_configFile = parser->value(QStringLiteral("config"));
    else
        m_configFile = environment.value(ConfigFileEnv);
    if (!m_configFile.isEmpty()) {
        Result<QHash<QString, QString>> read = readConfigFile(m_configFile);
        if (!read)
            return read.error();
        file = std::move(*read);
    }

    // Typos warn instead of failing: a service must still start after an upgrade that
    // dropped a setting its config file names.
    const auto warnUnknown = [this](const QStringList &keys, const QString &where) {
        QStringList sorted = keys;
        sorted.sort();
        for (const QString &key : sorted) {
            if (!key.startsWith(QLatin1StringView("HERMES_")) || isKnownKey(key))
                continue;
            const QString closest = closestKey(key);
            m_warnings.append(QStringLiteral("unknown setting %1 in %2 is ignored%3")
                                  .arg(key, where, closest.isEmpty() ? QString()
                                           : QStringLiteral(" (did you mean %1?)").arg(closest)));
        }
    };
    warnUnknown(file.keys(), m_configFile);
    warnUnknown(environment.keys(), QStringLiteral("the environment"));

    for (const OptionSpec &spec : m_specs) {
        Value value{spec.defaultValue, Source::Default};
        if (file.contains(spec.env))
            value = {file.value(spec.env), Source::File};
        if (environment.contains(spec.env))
            value = {environment.value(spec.env), Source::Environment};
        if (parser && !spec.flag.isEmpty() && parser->isSet(spec.flag)) {
            value = {parser->value(spec.flag), Source::CommandLine};
            if (!spec.deprecatedFlag.isEmpty() && parser->optionNames().contains(spec.deprecatedFlag))
                m_warnings.append(QStringLiteral("--%1 is deprecated: use --%2 (the same setting, %3)")
                                      .arg(spec.deprecatedFlag, spec.flag, spec.env));
        }
        m_values.insert(spec.env, value);
    }
    for (const OptionSpec &spec : m_specs) {
        if (Result<void> substituted = substituteSecret(spec, environment); !substituted)
            return substituted;
        Value &value = m_values[spec.env];
        const Result<QString> valid = validate(spec, value.text);
        if (!valid) {
            const QString shown = spec.secret ? QStringLiteral("the value")
                                              : u'"' + value.text + u'"';
            const QString origin = value.source == Source::CommandLine
                ? QStringLiteral("--%1 on the command line").arg(spec.flag)
                : sourceName(value.source);
            return Config::invalidSetting(QStringLiteral("%1: %2 (from %3) %4")
                                      .arg(spec.env, shown, origin, valid.error().message));
        }
        value.text = *valid;
    }
    return {};
}

QString Config::reference(ReferenceFormat format) const
{
    QString out;
    if (format == ReferenceFormat::Markdown) {
        out += QStringLiteral("| variable | option | default | meaning |\n|---|---|---|---|\n");
        for (const OptionSpec &s : m_specs) {
            const QString def = s.documentedDefault.isEmpty() ? s.defaultValue : s.documentedDefault;
            QString meaning = s.description;
            if (s.type == OptionSpec::Type::Integer && s.maximum != std::numeric_limits<qint64>::max())
                meaning += QStringLiteral(" (%1 to %2)").arg(s.minimum).arg(s.maximum);
            if (s.type == OptionSpec::Type::Choice)
                meaning += QStringLiteral(" (one of: %1)").arg(s.choices.join(QStringLiteral(", ")));
            QString shownDefault = def.isEmpty() ? QStringLiteral("(empty)") : u'`' + def + u'`';
            if (!def.isEmpty() && s.unit != OptionSpec::Unit::None)
                shownDefault += u' ' + unitSymbol(s.unit);
            out += QStringLiteral("| `%1` | %2 | %3 | %4 |\n")
                       .arg(s.env,
                            s.flag.isEmpty() ? QStringLiteral("-") : QStringLiteral("`--%1`").arg(s.flag),
                            shownDefault, QString(meaning).replace(u'|', QStringLiteral("\\|")));
        }
        return out;
    }
    for (const OptionSpec &s : m_specs) {
        const QString def = s.documentedDefault.isEmpty() ? s.defaultValue : s.documentedDefault;
        out += QStringLiteral("# %1\n#%2=%3\n\n").arg(s.description, s.env, def);
    }
    return out;
}

Error Config::invalidSetting(QString message)
{
    return Error::invalid(QByteArrayLiteral("invalid_setting"), std::move(message));
}

QString Config::unitSymbol(OptionSpec::Unit unit)
{
    switch (unit) {
    case OptionSpec::Unit::None: return {};
    case OptionSpec::Unit::Bytes: return QStringLiteral("bytes");
    case OptionSpec::Unit::BytesPerSecond: return QStringLiteral("bytes/s");
    case OptionSpec::Unit::Mebibytes: return QStringLiteral("MiB");
    case OptionSpec::Unit::Milliseconds: return QStringLiteral("ms");
    case OptionSpec::Unit::Seconds: return QStringLiteral("s");
    case OptionSpec::Unit::Percent: return QStringLiteral("%");
    }
    return {};
}

const Config::Value &Config::value(QStringView env) const
{
    static const Value empty;
    const auto it = m_values.constFind(env.toString());
    Q_ASSERT_X(it != m_values.cend(), "Config", "unknown setting");
    return it == m_values.cend() ? empty : *it;
}

QString Config::string(QStringView env) const
{
    return value(env).text;
}

qint64 Config::integer(QStringView env) const
{
    return value(env).text.toLongLong();
}

bool Config::boolean(QStringView env) const
{
    return value(env).text == u"true";
}

QStringList Config::list(QStringView env) const
{
    QStringList out;
    for (const QString &item : value(env).text.split(u',', Qt::SkipEmptyParts)) {
        const QString trimmed = item.trimmed();
        if (!trimmed.isEmpty())
            out.append(trimmed);
    }
    return out;
}

Config::Source Config::source(QStringView env) const
{
    return value(env).source;
}

} // namespace Hermes
