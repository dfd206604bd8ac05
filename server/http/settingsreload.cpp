#include "http/settingsreload.h"

#include "http/apikeystore.h"
#include "http/httpserver.h"
#include "logging.h"
#include "settings/serversettings.h"
#include "settings/settingstable.h"
#include "threadaffinity.h"

namespace Hermes {

SettingsReload::SettingsReload(ServerSettings &settings, const Config &initial, ApiKeyStore &keys,
                               HttpServer &http)
    : m_settings(settings), m_keys(keys), m_http(http)
{
    for (const OptionSpec &spec : initial.specs())
        m_inForce.insert(spec.env, initial.string(spec.env));
}

QStringList SettingsReload::applied()
{
    QStringList list;
    for (const SettingEntry &entry : SettingsTable::entries()) {
        if (entry.spec.reloadable)
            list.append(entry.spec.env);
    }
    return list;
}

Result<QStringList> SettingsReload::reload(const QCommandLineParser *parser,
                                           const QProcessEnvironment &environment)
{
    // The routes read the settings on the server's thread, between requests: writing them
    // there needs no lock.
    HERMES_ASSERT_THREAD(&m_http);
    Config fresh(ServerSettings::optionSpecs());
    fresh.setForeignKeys(ServerSettings::foreignKeys());
    if (Result<void> resolved = fresh.resolve(parser, environment); !resolved)
        return resolved.error();
    const Result<ServerSettings> read = ServerSettings::fromConfig(fresh);
    if (!read)
        return read.error();
    const ServerSettings &next = *read;
    const QList<QByteArray> previousKeys = m_keys.digests();
    if (const Result<QString> keys = m_keys.configure(next.access.apiKeys, next.access.apiKeyFile,
                                                      m_settings.general.dataDir);
        !keys)
        return keys.error();
    for (const QString &warning : fresh.warnings())
        qCWarning(lcConfig).noquote() << warning;

    // What applying means for the objects that keep their own copy (the key store took its
    // keys above): the log's secrets and filter, CORS.
    Logging::setSecrets(m_settings.secrets() + next.secrets());
    (void)Logging::setLevelSpec(next.ops.logLevel); // validated by fromConfig
    m_http.setAllowedOrigins(next.access.allowedOrigins);
    for (const SettingEntry &entry : SettingsTable::entries()) {
        if (entry.spec.reloadable)
            entry.copy(next, m_settings);
    }

    QList<QByteArray> removed;
    for (const QByteArray &digest : previousKeys) {
        if (!m_keys.digests().contains(digest) && !removed.contains(digest))
            removed.append(digest);
    }
    if (!removed.isEmpty() && m_keysRemoved)
        m_keysRemoved(removed);

    QStringList needRestart;
    for (const OptionSpec &spec : fresh.specs()) {
        if (fresh.string(spec.env) == m_inForce.value(spec.env))
            continue;
        // The spec says it, for the table's settings and for a companion <ENV>_FILE (not in
        // the table, reloadable when its setting is: its value was applied above).
        if (spec.reloadable)
            m_inForce.insert(spec.env, fresh.string(spec.env));
        else
            needRestart.append(spec.env);
    }
    return needRestart;
}

} // namespace Hermes
