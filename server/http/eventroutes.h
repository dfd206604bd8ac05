#pragma once

#include <QElapsedTimer>

#include <memory>

#include "http/apikeystore.h"
#include "stream/encodedevent.h"
#include "settings/serversettings.h"
#include "http/streamtokens.h"

namespace Hermes {

class EventHub;
class ExternalTokenLookup;
class HttpExchange;
class HttpServer;
class Metrics;

/**
 * The event endpoints under /api/v1/events/ and `/metrics`: health, streams (with auth, stream tokens,
 * filters and styles, quotas per credential), token minting and publishing. Waits on the broker
 * are bounded (HERMES_BROKER_TIMEOUT): a broker that is gone gets the client a 503, never a
 * hang, and its error text stays in the log.
 */
class EventRoutes final
{
public:
    /// `tokenLookup`: where the Python Hermes' stream tokens are (Redis), or null.
    EventRoutes(const ServerSettings &settings, const ApiKeyStore &keys,
                const StreamTokenService &tokens, EventHub *hub, Metrics *metrics,
                ExternalTokenLookup *tokenLookup = nullptr);

    void registerOn(HttpServer *server);
    /// `/metrics` alone, on the separate listener of HERMES_METRICS_ADDRESS.
    void registerMetricsOn(HttpServer *server);

private:
    enum class Endpoint { Stream, Queue, Download };
    /// What a stream request asked for, kept while its token is looked up.
    struct StreamRequest
    {
        Endpoint endpoint = Endpoint::Stream;
        StreamFilter filter;
        EventStyle style = EventStyle::Envelope;
        QByteArray lastEventId;
        QByteArray owner; ///< the credential's digest, for HERMES_SSE_MAX_CONNECTIONS_PER_KEY
    };

    void health(HttpExchange &ex);
    void metrics(HttpExchange &ex, bool requireCredential);
    void stream(HttpExchange &ex, Endpoint endpoint);
    void mintToken(HttpExchange &ex);
    void publish(HttpExchange &ex);

    /// A stream token: ours (signed), or one the Python Hermes API stored in Redis. Opens the
    /// stream when it covers the request, now or once the lookup answers.
    void authorizeToken(HttpExchange &ex, const QString &token, const StreamRequest &req);
    bool scopeAllows(HttpExchange &ex, const TokenScope &scope, const StreamRequest &req);
    void openStream(HttpExchange &ex, const StreamRequest &req);
    static void replyBrokerUnavailable(HttpExchange &ex);

    const ServerSettings &m_settings;
    const ApiKeyStore &m_keys;
    const StreamTokenService &m_tokens;
    EventHub *m_hub;
    Metrics *m_metrics;
    ExternalTokenLookup *m_tokenLookup;
    /// Refused publishes since the last log line about them (shared with the callbacks, which
    /// may outlive a request).
    struct FailureLog
    {
        quint64 count = 0;
        QElapsedTimer lastLog;
    };
    std::shared_ptr<FailureLog> m_failedPublishes = std::make_shared<FailureLog>();
};

} // namespace Hermes
