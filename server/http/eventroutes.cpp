#include "http/eventroutes.h"

#include "http/apiauth.h"
#include "http/boundedwait.h"
#include "broker/broker.h"
#include "broker/tokenlookup.h"
#include "stream/eventhub.h"
#include "http/httpserver.h"
#include "protocol/tokenscope.h"
#include "logging.h"
#include "metrics.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QUrlQuery>

#include <cmath>

namespace Hermes {

using Method = HttpServer::Method;

EventRoutes::EventRoutes(const ServerSettings &settings, const ApiKeyStore &keys,
                         const StreamTokenService &tokens, EventHub *hub, Metrics *metrics,
                         ExternalTokenLookup *tokenLookup)
    : m_settings(settings), m_keys(keys), m_tokens(tokens), m_hub(hub), m_metrics(metrics),
      m_tokenLookup(tokenLookup)
{
}

void EventRoutes::registerOn(HttpServer *server)
{
    const QString base = QStringLiteral("/api/v1/events/");
    server->route(Method::Get, base + QStringLiteral("health"), [this](HttpExchange &ex) { health(ex); });
    if (m_settings.metrics.address.port == 0) // else only on its own listener (registerMetricsOn)
        server->route(Method::Get, QStringLiteral("/metrics"),
                      [this](HttpExchange &ex) { metrics(ex, true); });
    server->route(Method::Get, base + QStringLiteral("stream"),
                  [this](HttpExchange &ex) { stream(ex, Endpoint::Stream); });
    server->route(Method::Get, base + QStringLiteral("queue"),
                  [this](HttpExchange &ex) { stream(ex, Endpoint::Queue); });
    server->route(Method::Get, base + QStringLiteral("downloads/{}"),
                  [this](HttpExchange &ex) { stream(ex, Endpoint::Download); });
    server->route(Method::Post, base + QStringLiteral("token"), [this](HttpExchange &ex) { mintToken(ex); });
    // Asked per request: a reload (SIGHUP) may change it.
    server->route(Method::Post, base + QStringLiteral("publish"), [this](HttpExchange &ex) { publish(ex); },
                  [this] { return qint64(m_settings.events.maxPublishBytes); });
}

void EventRoutes::registerMetricsOn(HttpServer *server)
{
    // A listener that started with a token keeps asking for a credential: a reload that
    // removes the token revokes it (API keys still read), it does not open the listener.
    const bool lockedAtStart = !m_settings.metrics.token.isEmpty();
    server->route(Method::Get, QStringLiteral("/metrics"), [this, lockedAtStart](HttpExchange &ex) {
        metrics(ex, lockedAtStart || !m_settings.metrics.token.isEmpty());
    });
}

void EventRoutes::health(HttpExchange &ex)
{
    const Broker *broker = m_hub->broker();
    QJsonObject brokerHealth{
        {QStringLiteral("type"), broker->name()},
        {QStringLiteral("status"), broker->isUp() ? QStringLiteral("up") : QStringLiteral("down")}};
    if (const QString location = broker->location(); !location.isEmpty())
        brokerHealth.insert(QStringLiteral("master"), location); // Sentinel's choice: the address only
    ex.replyJson(200, {
        {QStringLiteral("status"), broker->isUp() ? QStringLiteral("ok") : QStringLiteral("degraded")},
        {QStringLiteral("enabled"), m_settings.events.enabled},
        {QStringLiteral("active_connections"), m_hub->activeConnections()},
        {QStringLiteral("max_connections"), m_settings.events.maxConnections},
        {QStringLiteral("heartbeat_interval"), m_settings.stream.heartbeatIntervalSec},
        {QStringLiteral("connection_timeout"), m_settings.stream.connectionTimeoutSec},
        {QStringLiteral("broker"), brokerHealth},
        {QStringLiteral("history_events"), m_hub->history().size()},
        {QStringLiteral("uptime_seconds"), m_metrics->uptimeSeconds()},
        {QStringLiteral("version"), QCoreApplication::applicationVersion()},
    });
}

void EventRoutes::metrics(HttpExchange &ex, bool requireCredential)
{
    // The counters say how busy the server is and who is refused: not for the public.
    if (requireCredential) {
        const QByteArray credential = bearerCredential(ex);
        const bool ok = !credential.isEmpty()
            && ((!m_settings.metrics.token.isEmpty()
                 && constantTimeEquals(credential, m_settings.metrics.token.toUtf8()))
                || m_keys.verify(credential));
        if (!ok) {
            replyUnauthorized(ex, credential.isEmpty()
                                  ? u"missing Authorization: Bearer <api key or metrics token>"
                                  : u"invalid credential for /metrics",
                              !credential.isEmpty(), m_metrics);
            return;
        }
    }
    Metrics::Gauges g;
    g.activeConnections = m_hub->activeConnections();
    g.maxConnections = m_settings.events.maxConnections;
    g.historyEvents = m_hub->history().size();
    g.brokerName = m_hub->broker()->name();
    g.brokerUp = m_hub->broker()->isUp();
    ex.reply(200, m_metrics->render(g), "text/plain; version=0.0.4; charset=utf-8");
}

bool EventRoutes::scopeAllows(HttpExchange &ex, const TokenScope &scope, const StreamRequest &req)
{
    bool allowed = scope.kind == TokenScope::Kind::Stream;
    switch (req.endpoint) {
    case Endpoint::Stream:
        allowed = allowed
            || (scope.kind == TokenScope::Kind::System && req.filter.channels == Channel::bitOf(Channel::System))
            || (scope.kind == TokenScope::Kind::Queue && req.filter.channels == Channel::bitOf(Channel::Queue));
        break;
    case Endpoint::Queue:
        allowed = allowed || scope.kind == TokenScope::Kind::Queue;
        break;
    case Endpoint::Download:
        allowed = allowed
            || (scope.kind == TokenScope::Kind::Download && scope.downloadId == req.filter.downloadId);
        break;
    }
    if (!allowed) {
        m_metrics->connectionRejected(Metrics::Rejection::Forbidden);
        ex.replyError(403, u"insufficient_scope",
                      QStringLiteral("a token with scope \"%1\" does not cover this stream")
                          .arg(scope.toString()));
    }
    return allowed;
}

void EventRoutes::authorizeToken(HttpExchange &ex, const QString &token, const StreamRequest &req)
{
    TokenScope scope;
    QByteArray owner;
    switch (m_tokens.admit(token.toUtf8(), m_keys, &scope, &owner)) {
    case StreamTokenService::Verdict::Valid:
        if (scopeAllows(ex, scope, req)) {
            // A token counts against the key that minted it: minting more tokens does not
            // give a key holder more streams, and removing the key ends these streams too
            // (EventHub::closeStreamsOf()).
            StreamRequest mine = req;
            mine.owner = owner;
            openStream(ex, mine);
        }
        return;
    case StreamTokenService::Verdict::Expired:
        replyUnauthorized(ex, u"the stream token has expired; request a new one", true, m_metrics);
        return;
    case StreamTokenService::Verdict::Revoked:
        replyUnauthorized(ex, u"the API key that minted this stream token is no longer configured",
                          true, m_metrics);
        return;
    default:
        break;
    }
    // Not one of ours: perhaps minted by the Python Hermes API, which keeps its tokens in
    // Redis (sse:token:<token>) until they expire. While the broker is down nobody can tell.
    Broker *broker = m_hub->broker();
    if (!broker->isUp()) {
        replyBrokerUnavailable(ex);
        return;
    }
    if (!m_tokenLookup) {
        replyUnauthorized(ex, u"invalid stream token", true, m_metrics);
        return;
    }
    HttpExchange later = ex;
    auto onRecord = [this, later, req, broker](Result<QJsonObject> record) mutable {
        if (!record && (record.error().kind == Error::Kind::Unavailable || !broker->isUp())) {
            replyBrokerUnavailable(later); // lost during the lookup: not the token's fault
            return;
        }
        if (!record) {
            replyUnauthorized(later, u"invalid stream token", true, m_metrics);
            return;
        }
        const QDateTime expires = QDateTime::fromString(
            record->value(QStringLiteral("expires_at")).toString(), Qt::ISODateWithMs);
        if (expires.isValid() && expires.toUTC() <= QDateTime::currentDateTimeUtc()) {
            replyUnauthorized(later, u"the stream token has expired; request a new one", true, m_metrics);
            return;
        }
        const std::optional<TokenScope> scope =
            TokenScope::parse(record->value(QStringLiteral("scope")).toString());
        if (!scope) {
            m_metrics->connectionRejected(Metrics::Rejection::Forbidden);
            later.replyError(403, u"insufficient_scope",
                             u"the token's scope does not cover any event stream");
            return;
        }
        if (scopeAllows(later, *scope, req))
            openStream(later, req);
    };
    m_tokenLookup->lookupToken(token.toUtf8(),
                        boundedWait<Result<QJsonObject>>(
                            ex.context(), m_settings.events.brokerTimeoutMs, std::move(onRecord),
                            [later]() mutable { replyBrokerUnavailable(later); }));
}

void EventRoutes::stream(HttpExchange &ex, Endpoint endpoint)
{
    const QUrlQuery query(ex.request().url());
    if (!m_settings.events.enabled) {
        m_metrics->connectionRejected(Metrics::Rejection::Disabled);
        ex.replyError(503, u"sse_disabled", u"event streams are disabled (HERMES_ENABLE_SSE)");
        return;
    }

    StreamRequest req;
    req.endpoint = endpoint;
    StreamFilter &filter = req.filter;
    if (endpoint == Endpoint::Queue) {
        filter.channels = Channel::bitOf(Channel::Queue);
    } else if (endpoint == Endpoint::Download) {
        filter.channels = Channel::bitOf(Channel::Downloads) | Channel::bitOf(Channel::Queue);
        filter.downloadId = ex.params().value(0);
    } else if (query.hasQueryItem(QStringLiteral("channels"))) {
        filter.channels = 0;
        const QString list = query.queryItemValue(QStringLiteral("channels"), QUrl::FullyDecoded);
        for (const QString &name : list.split(u',', Qt::SkipEmptyParts)) {
            const auto channel = Channel::fromAnyName(name.trimmed());
            if (!channel) {
                ex.replyError(400, u"invalid_channel",
                              QStringLiteral("unknown channel \"%1\"; use downloads, queue, system")
                                  .arg(name.trimmed()));
                return;
            }
            filter.channels |= channel->bit();
        }
        if (!filter.channels) {
            ex.replyError(400, u"invalid_channel", u"channels= names no channel");
            return;
        }
    }
    const QString types = query.queryItemValue(QStringLiteral("types"), QUrl::FullyDecoded);
    for (const QString &type : types.split(u',', Qt::SkipEmptyParts))
        filter.types.insert(type.trimmed());

    req.style = m_settings.events.eventStyle;
    const QString styleName = query.queryItemValue(QStringLiteral("style"));
    if (const auto style = fromWire<EventStyle>(styleName)) {
        req.style = *style;
    } else if (!styleName.isEmpty()) {
        ex.replyError(400, u"invalid_style",
                      QStringLiteral("style must be %1 or %2")
                          .arg(wireName(EventStyle::Envelope), wireName(EventStyle::Named)));
        return;
    }

    // EventSource sends Last-Event-ID itself; polyfills and proxies that cannot may use the query.
    req.lastEventId = ex.header("last-event-id").trimmed();
    if (req.lastEventId.isEmpty())
        req.lastEventId = query.queryItemValue(QStringLiteral("lastEventId")).toUtf8();

    const QString token = query.queryItemValue(QStringLiteral("token"));
    if (!ex.header("authorization").isEmpty() || token.isEmpty()) {
        if (requireApiKey(ex, m_keys, m_metrics)) {
            req.owner = m_tokens.ownerOfKey(bearerCredential(ex));
            openStream(ex, req);
        }
        return;
    }
    req.owner = credentialOwner("token", token.toUtf8());
    authorizeToken(ex, token, req);
}

void EventRoutes::openStream(HttpExchange &ex, const StreamRequest &req)
{
    if (!ex.isPending())
        return; // the client left while its token was being looked up
    // HTTP/1.0 has no chunked framing: its stream simply ends when the server closes it.
    const bool http10 = ex.request().minorVersion() == 0;
    HeaderList headers{{"Content-Type", "text/event-stream; charset=utf-8"},
                       {"Cache-Control", "no-cache"},
                       {"X-Accel-Buffering", "no"}};
    if (!http10)
        headers.append(qMakePair(QByteArray("Transfer-Encoding"), QByteArray("chunked")));
    if (ex.isHead()) {
        ex.replyHead(200, headers); // what GET would answer, without opening a stream
        return;
    }
    if (m_hub->activeConnections() >= m_settings.events.maxConnections) {
        m_metrics->connectionRejected(Metrics::Rejection::MaxConnections);
        ex.replyError(503, u"max_connections",
                      QStringLiteral("the server holds its maximum of %1 streams; retry later")
                          .arg(m_settings.events.maxConnections),
                      {{"Retry-After", "5"}});
        return;
    }
    if (m_settings.events.maxStreamsPerKey > 0 && !req.owner.isEmpty()
        && m_hub->streamsOwnedBy(req.owner) >= m_settings.events.maxStreamsPerKey) {
        m_metrics->connectionRejected(Metrics::Rejection::TooManyStreams);
        ex.replyError(429, u"too_many_streams",
                      QStringLiteral("this credential holds its maximum of %1 streams "
                                     "(HERMES_SSE_MAX_CONNECTIONS_PER_KEY); close one or retry later")
                          .arg(m_settings.events.maxStreamsPerKey),
                      {{"Retry-After", "5"}});
        return;
    }
    // The stream writes on the socket's descriptor directly: whatever Qt still holds for this
    // connection (an earlier keep-alive response) must be out first, or it would come after.
    QTcpSocket *socket = ex.socket();
    if (socket->bytesToWrite() > 0)
        socket->flush();
    if (socket->bytesToWrite() > 0) {
        m_metrics->connectionRejected(Metrics::Rejection::Busy);
        ex.replyError(503, u"busy", u"the previous response on this connection is still being sent",
                      {{"Retry-After", "1"}});
        return;
    }
    const QByteArray head = ex.head(200, headers);
    StreamParams params;
    params.filter = req.filter;
    params.style = req.style;
    params.lastEventId = req.lastEventId;
    params.owner = req.owner;
    params.chunked = !http10;
    m_hub->openStream(ex.takeSocket(), head, params);
}

void EventRoutes::mintToken(HttpExchange &ex)
{
    if (!requireApiKey(ex, m_keys, m_metrics))
        return;
    const auto parsed = ex.jsonBody();
    if (!parsed)
        return;
    const QJsonObject &body = *parsed;
    const QJsonValue scopeValue = body.value(QStringLiteral("scope"));
    const std::optional<TokenScope> scope =
        scopeValue.isString() ? TokenScope::parse(scopeValue.toString()) : std::nullopt;
    if (!scope) {
        ex.replyError(Error::invalid("invalid_scope",
                                     QStringLiteral("scope must be one of %1").arg(TokenScope::forms())));
        return;
    }
    const QJsonValue ttlValue = body.value(QStringLiteral("ttl"));
    int ttl = StreamTokenService::DefaultTtl;
    if (!ttlValue.isUndefined() && !ttlValue.isNull()) {
        const double d = ttlValue.toDouble(-1);
        if (!ttlValue.isDouble() || d != std::floor(d) || d < StreamTokenService::MinTtl
            || d > StreamTokenService::MaxTtl) {
            ex.replyError(422, u"invalid_ttl",
                          QStringLiteral("ttl must be a whole number of seconds from %1 to %2")
                              .arg(StreamTokenService::MinTtl)
                              .arg(StreamTokenService::MaxTtl));
            return;
        }
        ttl = int(d);
    }
    const auto minted = m_tokens.mint(*scope, ttl, m_tokens.ownerOfKey(bearerCredential(ex)));
    ex.replyJson(200, {{QStringLiteral("token"), QString::fromLatin1(minted.token)},
                       {QStringLiteral("expiresAt"), minted.expiresAt.toString(Qt::ISODate)},
                       {QStringLiteral("scope"), scope->toString()},
                       {QStringLiteral("permissions"), QJsonArray{QStringLiteral("read")}},
                       {QStringLiteral("ttl"), ttl}},
                 {{"Cache-Control", "no-store"}});
}

void EventRoutes::publish(HttpExchange &ex)
{
    if (!requireApiKey(ex, m_keys, m_metrics))
        return;
    if (ex.request().body().size() > m_settings.events.maxPublishBytes) {
        ex.replyError(413, u"payload_too_large",
                      QStringLiteral("the body is larger than %1 bytes").arg(m_settings.events.maxPublishBytes));
        return;
    }
    const auto parsed = ex.jsonBody();
    if (!parsed)
        return;
    const QJsonObject &body = *parsed;
    const auto channel = Channel::fromName(body.value(QStringLiteral("channel")).toString());
    if (!channel) {
        QStringList names;
        for (Channel c : Channel::all())
            names.append(c.name());
        ex.replyError(400, u"invalid_channel",
                      QStringLiteral("channel must be one of %1").arg(names.join(QStringLiteral(", "))));
        return;
    }
    // Whole-string: `$` alone would let "evt\n" through.
    static const QRegularExpression typePattern(
        QRegularExpression::anchoredPattern(QStringLiteral("[A-Za-z0-9_.:-]{1,64}")));
    const QString type = body.value(QStringLiteral("type")).toString();
    if (!typePattern.match(type).hasMatch()) {
        ex.replyError(400, u"invalid_type",
                      u"type must be 1-64 characters of letters, digits, _ . : -");
        return;
    }
    const QJsonValue data = body.value(QStringLiteral("data"));
    if (!data.isObject()) {
        ex.replyError(400, u"invalid_data", u"data must be a JSON object");
        return;
    }
    Event event;
    event.channel = *channel;
    event.type = type;
    event.data = data.toObject();
    event.timestamp = Event::currentTimestamp();
    HttpExchange reply = ex; // answers after the broker confirms (asynchronous on Redis)
    auto onPublished = [failures = m_failedPublishes, reply, event, metrics = m_metrics,
                        timer = Metrics::startTimer()](
                           Result<EventId> id) mutable {
        metrics->observePublish(timer);
        if (!id) {
            // The broker's own words (a Redis error, an address) stay in the log, once per
            // 10 s however many publishes fail meanwhile (a broker down for a minute is one
            // story, not thousands of lines).
            ++failures->count;
            if (!failures->lastLog.isValid() || failures->lastLog.elapsed() >= 10000) {
                qCWarning(lcHttp).noquote() << "publishing failed:" << id.error().message << "-"
                                            << failures->count << "publish(es) refused";
                failures->count = 0;
                failures->lastLog.start();
            }
            replyBrokerUnavailable(reply);
            return;
        }
        reply.replyJson(202, {{QStringLiteral("id"), QString::fromLatin1(id->toByteArray())},
                              {QStringLiteral("channel"), QString(event.channel.name())},
                              {QStringLiteral("type"), event.type},
                              {QStringLiteral("timestamp"), event.timestamp}});
    };
    m_hub->broker()->publish(
        event, boundedWait<Result<EventId>>(
                   ex.context(), m_settings.events.brokerTimeoutMs, std::move(onPublished),
                   [reply]() mutable {
                       qCWarning(lcHttp) << "the broker did not answer a publish in time";
                       replyBrokerUnavailable(reply);
                   }));
}

void EventRoutes::replyBrokerUnavailable(HttpExchange &ex)
{
    // The broker's own words stay in the log: the client learns only that it is unavailable.
    if (!ex.replied())
        ex.replyError(Error::unavailable("broker_unavailable",
                                         QStringLiteral("the event broker is unavailable; retry later")),
                      {{"Retry-After", "1"}});
}

} // namespace Hermes
