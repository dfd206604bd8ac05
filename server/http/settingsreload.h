#pragma once

#include "config.h"

#include <QHash>
#include <QString>
#include <QStringList>

class QCommandLineParser;

namespace Hermes {

class ApiKeyStore;
class HttpServer;
struct ServerSettings;

/**
 * SIGHUP: reads the settings again (command line, environment, config file, key file,
 * credentials) and applies what can change without dropping a stream: the API keys, the log
 * level, the CORS origins, and the settings the routes read on every request (SSE on/off, the
 * stream limit, the default event style, the publish size limit). Any other setting that
 * changed is reported as needing a restart, and again on later reloads until then.
 *
 * Nothing is applied when the new reading fails (an invalid value, an unreadable key file):
 * the previous settings stay in force.
 */
class SettingsReload final
{
public:
    /// `settings` is the object the routes hold by reference; `initial` the Config it came from.
    SettingsReload(ServerSettings &settings, const Config &initial, ApiKeyStore &keys, HttpServer &http);

    /// Returns false with `error` (and changes nothing); else `needRestart` lists the changed
    /// settings that apply only after a restart.
    bool reload(const QCommandLineParser *parser, const QProcessEnvironment &environment,
                QStringList *needRestart, QString *error);

    /// The settings that reload() applies.
    static const QStringList &applied();

private:
    ServerSettings &m_settings;
    ApiKeyStore &m_keys;
    HttpServer &m_http;
    QHash<QString, QString> m_inForce; ///< every setting's text as it is in force
};

} // namespace Hermes
