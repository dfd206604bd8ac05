#include "http/settingsreload.h"

#include "http/apikeystore.h"
#include "http/httpserver.h"
#include "logging.h"
#include "serversettings.h"

namespace Hermes {

SettingsReload::SettingsReload(ServerSettings &settings, const Config &initial, ApiKeyStore &keys,
                               HttpServer &http)
    : m_settings(settings), m_keys(keys), m_http(http)
{
    for (const OptionSpec &spec : initial.specs())
        m_inForce.insert(spec.env, initial.string(spec.env));
}

const QStringList &SettingsReload::applied()
{
    static const QStringList list{
        QStringLiteral("HERMES_API_KEYS"), QStringLiteral("HERMES_API_KEY_FILE"),
        QStringLiteral("HERMES_LOG_LEVEL"), QStringLiteral("HERMES_ALLOWED_ORIGINS"),
        QStringLiteral("HERMES_ENABLE_SSE"), QStringLiteral("HERMES_SSE_MAX_CONNECTIONS"),
        QStringLiteral("HERMES_SSE_EVENT_STYLE"), QStringLiteral("HERMES_MAX_PUBLISH_BYTES")};
    return list;
}

bool SettingsReload::reload(const QCommandLineParser *parser, const QProcessEnvironment &environment,
                            QStringList *needRestart, QString *error)
{
    Config fresh(ServerSettings::optionSpecs());
    fresh.setForeignKeys(ServerSettings::foreignKeys());
    ServerSettings next;
    if (!fresh.resolve(parser, environment, error) || !ServerSettings::fromConfig(fresh, &next, error))
        return false;
    if (const Result<QString> keys = m_keys.configure(next.apiKeys, next.apiKeyFile, m_settings.dataDir); !keys) {
        *error = keys.error().message;
        return false;
    }
    for (const QString &warning : fresh.warnings())
        qCWarning(lcConfig).noquote() << warning;

    Logging::setSecrets(m_settings.secrets() + next.secrets());
    QString ignored; // validated by fromConfig
    Logging::setLevelSpec(next.logLevel, &ignored);
    m_http.setAllowedOrigins(next.allowedOrigins);
    m_settings.apiKeys = next.apiKeys;
    m_settings.apiKeyFile = next.apiKeyFile;
    m_settings.logLevel = next.logLevel;
    m_settings.allowedOrigins = next.allowedOrigins;
    m_settings.sseEnabled = next.sseEnabled;
    m_settings.maxConnections = next.maxConnections;
    m_settings.eventStyle = next.eventStyle;
    m_settings.maxPublishBytes = next.maxPublishBytes;

    needRestart->clear();
    for (const OptionSpec &spec : fresh.specs()) {
        if (fresh.string(spec.env) == m_inForce.value(spec.env))
            continue;
        if (applied().contains(spec.env))
            m_inForce.insert(spec.env, fresh.string(spec.env));
        else
            needRestart->append(spec.env);
    }
    return true;
}

} // namespace Hermes
