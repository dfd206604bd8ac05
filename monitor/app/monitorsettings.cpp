#include "monitorsettings.h"

#include <QSettings>

namespace Hermes {

MonitorSettings MonitorSettings::load()
{
    MonitorSettings s;
    QSettings settings;
    s.server = settings.value(QStringLiteral("server/url"), s.server).toUrl();
    s.backoffBaseMs = settings.value(QStringLiteral("reconnect/baseMs"), s.backoffBaseMs).toInt();
    s.backoffCapMs = settings.value(QStringLiteral("reconnect/capMs"), s.backoffCapMs).toInt();
    // "maxAttempts" was 10 by default in earlier versions, and giving up stranded users: a
    // stored value is kept only under the new key.
    s.maxAttempts = settings.value(QStringLiteral("reconnect/giveUpAfter"), s.maxAttempts).toInt();
    s.notifyCompleted = settings.value(QStringLiteral("notifications/completed"), s.notifyCompleted).toBool();
    s.notifyFailed = settings.value(QStringLiteral("notifications/failed"), s.notifyFailed).toBool();
    s.notifySystem = settings.value(QStringLiteral("notifications/system"), s.notifySystem).toBool();
    s.notificationsPerMinute = settings.value(QStringLiteral("notifications/perMinute"), s.notificationsPerMinute).toInt();
    s.minimizeToTray = settings.value(QStringLiteral("tray/minimize"), s.minimizeToTray).toBool();
    return s;
}

void MonitorSettings::save() const
{
    QSettings settings;
    settings.setValue(QStringLiteral("server/url"), server);
    settings.setValue(QStringLiteral("reconnect/baseMs"), backoffBaseMs);
    settings.setValue(QStringLiteral("reconnect/capMs"), backoffCapMs);
    settings.setValue(QStringLiteral("reconnect/giveUpAfter"), maxAttempts);
    settings.setValue(QStringLiteral("notifications/completed"), notifyCompleted);
    settings.setValue(QStringLiteral("notifications/failed"), notifyFailed);
    settings.setValue(QStringLiteral("notifications/system"), notifySystem);
    settings.setValue(QStringLiteral("notifications/perMinute"), notificationsPerMinute);
    settings.setValue(QStringLiteral("tray/minimize"), minimizeToTray);
}

} // namespace Hermes
