#pragma once

#include "apikeystore.h"
#include "serversettings.h"
#include "streamtokens.h"

namespace Hermes {

class EventHub;
class HttpExchange;
class HttpServer;
class Metrics;
struct StreamFilter;

/**
 * The event endpoints under /api/v1/events/ and `/metrics`: health, streams (with auth, stream tokens,
 * filters and styles), token minting and publishing.
 */
class EventRoutes final
{
public:
    EventRoutes(const ServerSettings &settings, const ApiKeyStore &keys,
                const StreamTokenService &tokens, EventHub *hub, Metrics *metrics);

    void registerOn(HttpServer *server);

private:
    enum class Endpoint { Stream, Queue, Download };

    void health(HttpExchange &ex);
    void metrics(HttpExchange &ex);
    void stream(HttpExchange &ex, Endpoint endpoint);
    void mintToken(HttpExchange &ex);
    void publish(HttpExchange &ex);

    /// Bearer API key check; answers 401 itself and returns false when it fails.
    bool requireApiKey(HttpExchange &ex);
    /// Key or stream token, with the token's scope checked against what the stream shows.
    bool authorizeStream(HttpExchange &ex, Endpoint endpoint, const StreamFilter &filter);
    void unauthorized(HttpExchange &ex, QStringView message, bool invalidToken);

    const ServerSettings &m_settings;
    const ApiKeyStore &m_keys;
    const StreamTokenService &m_tokens;
    EventHub *m_hub;
    Metrics *m_metrics;
};

} // namespace Hermes
