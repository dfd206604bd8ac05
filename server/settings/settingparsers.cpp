#include "settings/settingparsers.h"

#include "logging.h"

namespace Hermes {

Result<QHostAddress> SettingParsers::hostAddress(const QString &text)
{
    if (text == u"localhost")
        return QHostAddress(QHostAddress::LocalHost);
    QHostAddress address;
    if (!address.setAddress(text))
        return Config::invalidSetting(QStringLiteral("\"%1\" is not an IP address (use 127.0.0.1, "
                                             "0.0.0.0, ::1 or ::)").arg(text));
    return address;
}

Result<QString> SettingParsers::nonEmpty(const QString &text)
{
    if (text.isEmpty())
        return Config::invalidSetting(QStringLiteral("must not be empty"));
    return text;
}

Result<EventStyle> SettingParsers::eventStyle(const QString &text)
{
    return fromWire<EventStyle>(text).value_or(EventStyle::Envelope); // a Choice: validated
}

Result<QString> SettingParsers::logLevelSpec(const QString &text)
{
    if (const Result<QString> rules = Logging::parseLevelSpec(text); !rules)
        return Config::invalidSetting(rules.error().message);
    return text;
}

Result<int> SettingParsers::octalUmask(const QString &text)
{
    bool ok = false;
    const int umask = text.toInt(&ok, 8);
    if (!ok || umask < 0 || umask > 0777)
        return Config::invalidSetting(QStringLiteral("\"%1\" is not an octal umask (0000 to 0777)").arg(text));
    return umask;
}

Result<ListenAddress> SettingParsers::listenAddress(const QString &text)
{
    ListenAddress out;
    if (text.isEmpty())
        return out;
    const qsizetype colon = text.lastIndexOf(u':');
    QString host = colon > 0 ? text.first(colon) : QString();
    if (host.startsWith(u'[') && host.endsWith(u']'))
        host = host.sliced(1, host.size() - 2);
    bool ok = false;
    const uint port = colon > 0 ? text.sliced(colon + 1).toUInt(&ok) : 0;
    if (host == u"localhost")
        host = QStringLiteral("127.0.0.1");
    if (!ok || port == 0 || port > 65535 || !out.host.setAddress(host))
        return Config::invalidSetting(QStringLiteral("\"%1\" is not host:port with an IP address "
                                             "(e.g. 127.0.0.1:9464)").arg(text));
    out.port = quint16(port);
    return out;
}

} // namespace Hermes
