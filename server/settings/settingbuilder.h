#pragma once

#include "settings/serversettings.h"
#include "settings/settingentry.h"

#include <type_traits>

namespace Hermes {

/// How many of `to` make one `from`: where a setting's unit differs from its member's, this
/// is the one place it is converted (seconds to ms, MiB to bytes).
inline qint64 unitScale(OptionSpec::Unit from, OptionSpec::Unit to)
{
    using Unit = OptionSpec::Unit;
    if (from == to)
        return 1;
    if (from == Unit::Seconds && to == Unit::Milliseconds)
        return 1000;
    if (from == Unit::Mebibytes && to == Unit::Bytes)
        return qint64(1) << 20;
    qFatal("SettingsTable: no conversion from unit %d to unit %d", int(from), int(to));
}

/// A member's value as text, for messages.
template<typename T>
QString settingText(const T &value)
{
    if constexpr (std::is_same_v<T, bool>)
        return value ? QStringLiteral("true") : QStringLiteral("false");
    else if constexpr (std::is_arithmetic_v<T>)
        return QString::number(value);
    else if constexpr (std::is_same_v<T, QString>)
        return value;
    else if constexpr (std::is_same_v<T, QStringList>)
        return value.join(u',');
    else if constexpr (std::is_same_v<T, QHostAddress>)
        return value.toString();
    else if constexpr (std::is_same_v<T, EventStyle>)
        return QString(wireName(value));
    else if constexpr (std::is_same_v<T, ListenAddress>)
        return value.port == 0 ? QString() : QStringLiteral("%1:%2").arg(value.host.toString()).arg(value.port);
}

template<typename T>
using SettingParser = Result<T> (*)(const QString &text);

/// Builds one SettingEntry of SettingsTable, as a row of the table reads: the OptionSpec's
/// fields, then the member the value goes to — into() for a value of the setting's type,
/// parsedInto() for a syntax of its own. The entry's functions are generated from that member.
class SettingBuilder
{
public:
    using Type = OptionSpec::Type;
    using Unit = OptionSpec::Unit;

    SettingBuilder(const char *env, const char *flag, Type type, const QString &defaultValue,
            const char *description)
    {
        m_spec.env = QString::fromLatin1(env);
        m_spec.flag = QString::fromLatin1(flag);
        m_spec.type = type;
        m_spec.defaultValue = defaultValue;
        m_spec.description = QString::fromLatin1(description);
    }
    SettingBuilder &range(qint64 minimum, qint64 maximum)
    {
        m_spec.minimum = minimum;
        m_spec.maximum = maximum;
        return *this;
    }
    SettingBuilder &choices(const QStringList &choices)
    {
        m_spec.choices = choices;
        return *this;
    }
    SettingBuilder &unit(Unit unit)
    {
        m_spec.unit = unit;
        return *this;
    }
    SettingBuilder &reloadable()
    {
        m_spec.reloadable = true;
        return *this;
    }
    /// Never printed (keys, secrets, URLs that may carry a password).
    SettingBuilder &secret()
    {
        m_spec.secret = true;
        return *this;
    }
    /// A secret that may come from `<ENV>_FILE` or the systemd credential named after it
    /// (HERMES_TOKEN_SECRET: token-secret, ...).
    SettingBuilder &secretFromFile()
    {
        m_spec.secret = true;
        m_spec.fromFile = true;
        m_spec.credential = m_spec.env.sliced(7).toLower().replace(u'_', u'-');
        return *this;
    }
    /// A file setting that the systemd credential `name` stands in for.
    SettingBuilder &credentialPath(const char *name)
    {
        m_spec.credential = QString::fromLatin1(name);
        m_spec.credentialIsPath = true;
        return *this;
    }
    SettingBuilder &documentedDefault(const char *text)
    {
        m_spec.documentedDefault = QString::fromLatin1(text);
        return *this;
    }
    /// Once written, the setting must agree with those above it.
    SettingBuilder &check(Result<void> (*check)(const ServerSettings &))
    {
        m_check = check;
        return *this;
    }

    /// The value as its type reads it (bool, QStringList, QString, or an integer converted
    /// from the setting's unit to `memberUnit`).
    template<typename Group, typename T>
    SettingEntry into(Group ServerSettings::*group, T Group::*member, Unit memberUnit)
    {
        const qint64 factor = unitScale(m_spec.unit, memberUnit);
        const QString env = m_spec.env;
        if constexpr (std::is_same_v<T, bool>) {
            Q_ASSERT(m_spec.type == Type::Boolean);
            return entry(group, member, [env](const Config &c) -> Result<T> { return c.boolean(env); });
        } else if constexpr (std::is_same_v<T, QStringList>) {
            Q_ASSERT(m_spec.type == Type::List);
            return entry(group, member, [env](const Config &c) -> Result<T> { return c.list(env); });
        } else if constexpr (std::is_same_v<T, QString>) {
            Q_ASSERT(m_spec.type == Type::String || m_spec.type == Type::Choice);
            return entry(group, member, [env](const Config &c) -> Result<T> { return c.string(env); });
        } else {
            static_assert(std::is_arithmetic_v<T>, "a value of another type needs parsedInto()");
            Q_ASSERT(m_spec.type == Type::Integer);
            return entry(group, member, [env, factor](const Config &c) -> Result<T> {
                return T(c.integer(env) * factor);
            });
        }
    }
    template<typename Group, typename T>
    SettingEntry into(Group ServerSettings::*group, T Group::*member)
    {
        return into(group, member, m_spec.unit);
    }
    template<typename Group, typename T>
    SettingEntry parsedInto(Group ServerSettings::*group, T Group::*member, SettingParser<T> parse)
    {
        const QString env = m_spec.env;
        return entry(group, member, [env, parse](const Config &c) { return parse(c.string(env)); });
    }

private:
    /// `read`: the value from the Config, as a Result<T>.
    template<typename Group, typename T, typename Read>
    SettingEntry entry(Group ServerSettings::*group, T Group::*member, Read read)
    {
        const auto field = [group, member](auto &settings) -> auto & { return (settings.*group).*member; };
        SettingEntry e;
        e.spec = m_spec;
        e.write = [env = m_spec.env, read, field, check = m_check](const Config &config,
                                                                   ServerSettings &settings) -> Result<void> {
            Result<T> value = read(config);
            if (!value)
                return Config::invalidSetting(env + QStringLiteral(": ") + value.error().message);
            field(settings) = std::move(*value);
            return check ? check(settings) : Result<void>();
        };
        e.copy = [field](const ServerSettings &from, ServerSettings &to) { field(to) = field(from); };
        e.same = [field](const ServerSettings &a, const ServerSettings &b) { return field(a) == field(b); };
        e.show = [field](const ServerSettings &settings) { return settingText(field(settings)); };
        return e;
    }

    OptionSpec m_spec;
    Result<void> (*m_check)(const ServerSettings &) = nullptr;
};

} // namespace Hermes
