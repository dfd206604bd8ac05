#include "config.h"

#include <QCommandLineParser>
#include <QFile>

namespace Hermes {

static QString sourceName(Config::Source source)
{
    switch (source) {
    case Config::Source::Default: return QStringLiteral("the default");
    case Config::Source::File: return QStringLiteral("the config file");
    case Config::Source::Environment: return QStringLiteral("the environment");
    case Config::Source::CommandLine: return QStringLiteral("the command line");
    }
    return {};
}

static const QString ConfigFileEnv = QStringLiteral("HERMES_CONFIG_FILE");

Config::Config(QList<OptionSpec> specs) : m_specs(std::move(specs)) {}

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
        if (!spec.defaultValue.isEmpty() && !spec.secret)
            help += QStringLiteral(", default: ") + spec.defaultValue;
        help += u']';
        parser.addOption(QCommandLineOption(spec.flag, help, spec.valueName));
    }
}

// Parses a .env / ini file into key → value. Returns false with `error` on a malformed line.
static bool readConfigFile(const QString &path, QHash<QString, QString> *out, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
        *error = QStringLiteral("%1: cannot read %2: %3").arg(ConfigFileEnv, path, file.errorString());
        return false;
    }
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
        if (eq <= 0) {
            *error = QStringLiteral("%1 line %2: expected KEY=VALUE").arg(path).arg(lineNumber);
            return false;
        }
        const QString key = line.first(eq).trimmed();
        QString value = line.sliced(eq + 1).trimmed();
        if (value.size() >= 2 && (value.front() == u'"' || value.front() == u'\'')
            && value.back() == value.front())
            value = value.sliced(1, value.size() - 2);
        else if (const qsizetype hash = value.indexOf(QLatin1StringView(" #")); hash >= 0)
            value = value.first(hash).trimmed(); // an inline comment after an unquoted value
        out->insert(key, value);
    }
    return true;
}

static bool validate(const OptionSpec &spec, QString *text, QString *problem)
{
    using Type = OptionSpec::Type;
    switch (spec.type) {
    case Type::String:
    case Type::List:
        return true;
    case Type::Integer: {
        bool ok = false;
        const qint64 value = text->trimmed().toLongLong(&ok);
        if (ok && value >= spec.minimum && value <= spec.maximum) {
            *text = QString::number(value);
            return true;
        }
        *problem = spec.minimum == std::numeric_limits<qint64>::min()
            ? QStringLiteral("is not an integer")
            : QStringLiteral("is not an integer between %1 and %2").arg(spec.minimum).arg(spec.maximum);
        return false;
    }
    case Type::Boolean: {
        const QString v = text->trimmed().toLower();
        if (v == u"true" || v == u"1" || v == u"yes" || v == u"on") {
            *text = QStringLiteral("true");
            return true;
        }
        if (v == u"false" || v == u"0" || v == u"no" || v == u"off") {
            *text = QStringLiteral("false");
            return true;
        }
        *problem = QStringLiteral("is not a boolean (true/false, 1/0, yes/no, on/off)");
        return false;
    }
    case Type::Choice: {
        const QString v = text->trimmed().toLower();
        if (spec.choices.contains(v)) {
            *text = v;
            return true;
        }
        *problem = QStringLiteral("is not one of: %1").arg(spec.choices.join(QStringLiteral(", ")));
        return false;
    }
    }
    return false;
}

bool Config::resolve(const QCommandLineParser *parser, const QProcessEnvironment &environment,
                     QString *error)
{
    m_values.clear();
    m_configFile.clear();
    QHash<QString, QString> file;
    if (parser && parser->isSet(QStringLiteral("config")))
        m_configFile = parser->value(QStringLiteral("config"));
    else
        m_configFile = environment.value(ConfigFileEnv);
    if (!m_configFile.isEmpty()) {
        if (!readConfigFile(m_configFile, &file, error))
            return false;
        for (auto it = file.cbegin(); it != file.cend(); ++it) {
            if (!it.key().startsWith(QLatin1StringView("HERMES_")) || it.key() == ConfigFileEnv)
                continue;
            const bool known = std::any_of(m_specs.cbegin(), m_specs.cend(),
                                           [&](const OptionSpec &s) { return s.env == it.key(); });
            if (!known) {
                *error = QStringLiteral("%1: unknown setting %2").arg(m_configFile, it.key());
                return false;
            }
        }
    }

    for (const OptionSpec &spec : m_specs) {
        Value value{spec.defaultValue, Source::Default};
        if (file.contains(spec.env))
            value = {file.value(spec.env), Source::File};
        if (environment.contains(spec.env))
            value = {environment.value(spec.env), Source::Environment};
        if (parser && !spec.flag.isEmpty() && parser->isSet(spec.flag))
            value = {parser->value(spec.flag), Source::CommandLine};
        QString problem;
        if (!validate(spec, &value.text, &problem)) {
            const QString shown = spec.secret ? QStringLiteral("the value")
                                              : u'"' + value.text + u'"';
            const QString origin = value.source == Source::CommandLine
                ? QStringLiteral("--%1 on the command line").arg(spec.flag)
                : sourceName(value.source);
            *error = QStringLiteral("%1: %2 (from %3) %4").arg(spec.env, shown, origin, problem);
            return false;
        }
        m_values.insert(spec.env, value);
    }
    return true;
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
            out += QStringLiteral("| `%1` | %2 | %3 | %4 |\n")
                       .arg(s.env,
                            s.flag.isEmpty() ? QStringLiteral("-") : QStringLiteral("`--%1`").arg(s.flag),
                            def.isEmpty() ? QStringLiteral("(empty)") : u'`' + def + u'`',
                            QString(meaning).replace(u'|', QStringLiteral("\\|")));
        }
        return out;
    }
    for (const OptionSpec &s : m_specs) {
        const QString def = s.documentedDefault.isEmpty() ? s.defaultValue : s.documentedDefault;
        out += QStringLiteral("# %1\n#%2=%3\n\n").arg(s.description, s.env, def);
    }
    return out;
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
