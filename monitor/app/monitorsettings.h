#pragma once

#include <QByteArray>
#include <QString>
#include <QUrl>

namespace Hermes {

/// What the monitor remembers in QSettings: the server, the reconnect limits, notifications
/// and the tray. The API key is kept by ApiKeyVault (a keyring, or a 0600 file), never in the
/// settings file.
struct MonitorSettings
{
    QUrl server{QStringLiteral("http://127.0.0.1:8000")};
    QByteArray apiKey;
    int backoffBaseMs = 1000;
    int backoffCapMs = 30000;
    int maxAttempts = 0;          ///< 0: never give up
    bool notifyCompleted = true;
    bool notifyFailed = true;
    bool notifySystem = true;
    int notificationsPerMinute = 6;
    bool minimizeToTray = false;

    /// Everything but the key.
    static MonitorSettings load();
    void save() const;
};

} // namespace Hermes
