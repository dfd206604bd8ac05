#pragma once

#include <QByteArray>
#include <QString>
#include <QUrl>

namespace Hermes {

/// What the monitor remembers: QSettings for the server and backoff limits, and the API key in
/// its own file readable only by the user (mode 0600), never in the settings file.
struct MonitorSettings
{
    QUrl server{QStringLiteral("http://127.0.0.1:8000")};
    QByteArray apiKey;
    int backoffBaseMs = 1000;
    int backoffCapMs = 30000;
    int maxAttempts = 10;

    static MonitorSettings load();
    /// Returns false with `error` when the key file cannot be written privately.
    bool save(QString *error) const;
    static QString apiKeyFile();
};

} // namespace Hermes
