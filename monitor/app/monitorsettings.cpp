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
    s.maxAttempts = settings.value(QStringLiteral("reconnect/maxAttempts"), s.maxAttempts).toInt();
    return s;
}

void MonitorSettings::save() const
{
    QSettings settings;
    settings.setValue(QStringLiteral("server/url"), server);
    settings.setValue(QStringLiteral("reconnect/baseMs"), backoffBaseMs);
    settings.setValue(QStringLiteral("reconnect/capMs"), backoffCapMs);
    settings.setValue(QStringLiteral("reconnect/maxAttempts"), maxAttempts);
}

} // namespace Hermes
