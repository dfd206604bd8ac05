#pragma once

#include "config.h"
#include "result.h"

#include <QHash>
#include <QString>
#include <QStringList>

#include <functional>

class QCommandLineParser;

namespace Hermes {

class ApiKeyStore;
class HttpServer;
struct ServerSettings;

/**
 * SIGHUP: reads the settings again (command line, environment, config file, key file,
 * credentials) and applies what can change without dropping a stream: the entries of
 * SettingsTable marked reloadable (the API keys, the log level, the CORS origins, and the
 * settings the routes read on every request: SSE on/off, the stream limit, the default event
 * style, the publish size limit). Any other setting that changed is reported as needing a
 * restart, and again on later reloads until then.
 *
 * Nothing is applied when the new reading fails (an invalid value, an unreadable key file):
 * the previous settings stay in force.
 *
 * A key that the new reading no longer has is revoked at once: REST refuses it from the next
 * request, and the keysRemoved callback (set by the server: EventHub::closeStreamsOf()) ends
 * the streams opened with it or with the stream tokens it minted.
 *
 * Thread: the thread of the HttpServer, whose routes read the settings (the main thread).
 */
class SettingsReload final
{
public:
    /// `settings` is the object the routes hold by reference; `initial` the Config it came from.
    SettingsReload(ServerSettings &settings, const Config &initial, ApiKeyStore &keys, HttpServer &http);

    /// The changed settings that apply only after a restart; or why the new reading failed
    /// (and nothing changed).
    Result<QStringList> reload(const QCommandLineParser *parser, const QProcessEnvironment &environment);

    /// The settings that reload() applies: the reloadable entries of SettingsTable.
    static QStringList applied();

    /// Called by reload() with the SHA-256 (ApiKeyStore::digests()) of each key it removed.
    using KeysRemoved = std::function<void(const QList<QByteArray> &digests)>;
    void setKeysRemoved(KeysRemoved callback) { m_keysRemoved = std::move(callback); }

private:
    ServerSettings &m_settings;
    ApiKeyStore &m_keys;
    HttpServer &m_http;
    KeysRemoved m_keysRemoved;
    QHash<QString, QString> m_inForce; ///< every setting's text as it is in force
};

} // namespace Hermes
