#include "settings/serversettings.h"

#include "settings/settingstable.h"

#include <QDir>
#include <QFile>
#include <QUrl>

namespace Hermes {

QList<OptionSpec> ServerSettings::optionSpecs()
{
    QList<OptionSpec> specs;
    for (const SettingEntry &entry : SettingsTable::entries())
        specs.append(entry.spec);
    return specs;
}

Result<ServerSettings> ServerSettings::fromConfig(const Config &config)
{
    ServerSettings settings;
    if (Result<void> written = SettingsTable::write(config, settings); !written)
        return written.error();
    // Defaults that depend on another setting: what the table documents as "<data dir>/...".
    if (settings.downloads.downloadDir.isEmpty())
        settings.downloads.downloadDir = QDir(settings.general.dataDir).filePath(QStringLiteral("downloads"));
    if (settings.store.databaseUrl.isEmpty())
        settings.store.databaseUrl = QStringLiteral("sqlite://")
            + QDir(settings.general.dataDir).absoluteFilePath(QStringLiteral("hermes.db"));
    return settings;
}

QList<QByteArray> ServerSettings::secrets() const
{
    QList<QByteArray> out;
    for (const QString &key : access.apiKeys)
        out << key.toUtf8();
    out << access.tokenSecret.toUtf8() << metrics.token.toUtf8();
    if (!redis.sentinelPassword.isEmpty())
        out << redis.sentinelPassword.toUtf8() << QUrl::toPercentEncoding(redis.sentinelPassword);
    for (const QString &url : {redis.url, store.databaseUrl}) {
        const QUrl parsed(url);
        if (!parsed.password().isEmpty())
            out << parsed.password().toUtf8() << QUrl::toPercentEncoding(parsed.password());
    }
    if (!store.databasePasswordFile.isEmpty()) {
        QFile file(store.databasePasswordFile);
        if (file.open(QIODevice::ReadOnly)) {
            const QByteArray password = file.readLine(4096).trimmed();
            if (!password.isEmpty())
                out << password << QUrl::toPercentEncoding(QString::fromUtf8(password));
        }
    }
    return out;
}

QStringList ServerSettings::foreignKeys()
{
    return {QStringLiteral("HERMES_PROXY_ADDRESS"), QStringLiteral("HERMES_UPSTREAMS"),
            QStringLiteral("HERMES_CADDY_ADMIN"), QStringLiteral("HERMES_NO_MONITOR"),
            QStringLiteral("HERMES_API_KEY"), QStringLiteral("HERMES_MONITOR_KEYRING")};
}

} // namespace Hermes
