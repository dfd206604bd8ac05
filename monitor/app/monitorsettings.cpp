#include "monitorsettings.h"

#include <QDir>
#include <QFile>
#include <QSaveFile>
#include <QSettings>
#include <QStandardPaths>

namespace Hermes {

QString MonitorSettings::apiKeyFile()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation)).filePath(QStringLiteral("api-key"));
}

MonitorSettings MonitorSettings::load()
{
    MonitorSettings s;
    QSettings settings;
    s.server = settings.value(QStringLiteral("server/url"), s.server).toUrl();
    s.backoffBaseMs = settings.value(QStringLiteral("reconnect/baseMs"), s.backoffBaseMs).toInt();
    s.backoffCapMs = settings.value(QStringLiteral("reconnect/capMs"), s.backoffCapMs).toInt();
    s.maxAttempts = settings.value(QStringLiteral("reconnect/maxAttempts"), s.maxAttempts).toInt();
    QFile key(apiKeyFile());
    if (key.open(QIODevice::ReadOnly))
        s.apiKey = key.readLine().trimmed();
    return s;
}

bool MonitorSettings::save(QString *error) const
{
    QSettings settings;
    settings.setValue(QStringLiteral("server/url"), server);
    settings.setValue(QStringLiteral("reconnect/baseMs"), backoffBaseMs);
    settings.setValue(QStringLiteral("reconnect/capMs"), backoffCapMs);
    settings.setValue(QStringLiteral("reconnect/maxAttempts"), maxAttempts);
    QDir().mkpath(QFileInfo(apiKeyFile()).absolutePath());
    QSaveFile file(apiKeyFile());
    if (!file.open(QIODevice::WriteOnly) || !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner)
        || file.write(apiKey + '\n') < 0 || !file.commit()) {
        *error = QStringLiteral("cannot write %1: %2").arg(apiKeyFile(), file.errorString());
        return false;
    }
    return true;
}

} // namespace Hermes
