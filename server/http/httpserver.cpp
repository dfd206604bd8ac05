#include "http/httpserver.h"

#include "http/httpconnection.h"
#include "http/httplistener.h"
#include "json.h"
#include "logging.h"

#include <QJsonDocument>
#include <QJsonParseError>
#include <QTcpSocket>
#include <QUrlQuery>

#include <malloc.h>
#include <unistd.h>

namespace Hermes {

QByteArray httpReasonPhrase(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
    }
}

/// Statuses whose responses never have a body, nor headers describing one (RFC 9110 §6.4.1).
static bool bodyless(int status)
{
    return (status >= 100 && status < 200) || status == 204 || status == 304;
}

static QByteArray responseHead(int status, std::initializer_list<const HeaderList *> lists,
                               bool close)
{
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + httpReasonPhrase(status)
        + "\r\n";
    for (const HeaderList *list : lists) {
        for (const auto &h : *list)
            out += h.first + ": " + h.second + "\r\n";
    }
    if (close)
        out += "Connection: close\r\n";
    return out;
}

QByteArray HttpServer::errorResponse(int status, QByteArrayView code, const QString &message,
                                     const HeaderList &headers, bool close)
{
    const QByteArray body = Json::errorBody(QString::fromLatin1(code), message);
    return responseHead(status, {&headers}, close)
        + "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size())
        + "\r\n\r\n" + body;
}

// ---------------------------------------------------------------------------------------------

struct HttpExchange::State
{
    QPointer<HttpConnection> connection;
    quint64 seq;
    std::shared_ptr<const HttpRequest> request;
    QStringList params;
    HeaderList cors;
    bool replied = false;

    State(HttpConnection *c, quint64 s, std::shared_ptr<const HttpRequest> r, QStringList p,
          HeaderList h)
        : connection(c), seq(s), request(std::move(r)), params(std::move(p)), cors(std::move(h))
    {
    }
    Q_DISABLE_COPY_MOVE(State)
    ~State()
    {
        if (!replied && connection)
            connection->abandoned(seq);
    }
};

HttpExchange::HttpExchange(HttpConnection *connection, quint64 seq,
                           std::shared_ptr<const HttpRequest> request, QStringList params,
                           HeaderList corsHeaders)
    : d(std::make_shared<State>(connection, seq, std::move(request), std::move(params),
                                std::move(corsHeaders)))
{
}

const HttpRequest &HttpExchange::request() const { return *d->request; }
const QStringList &HttpExchange::params() const { return d->params; }
const HeaderList &HttpExchange::corsHeaders() const { return d->cors; }
bool HttpExchange::replied() const { return d->replied; }

QTcpSocket *HttpExchange::socket() const
{
    return isPending() ? d->connection->socket() : nullptr;
}

bool HttpExchange::isPending() const
{
    return !d->replied && d->connection && d->connection->isCurrent(d->seq);
}

QObject *HttpExchange::context() const
{
    return d->connection.data();
}

bool HttpExchange::closesConnection() const
{
    return !d->connection || d->connection->closesAfterResponse();
}

QByteArray HttpExchange::head(int status, const HeaderList &headers) const
{
    return responseHead(status, {&d->cors, &headers}, closesConnection());
}

std::optional<QJsonObject> HttpExchange::jsonBody()
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(request().body(), &error);
    if (error.error != QJsonParseError::NoError) {
        replyError(400, u"invalid_json",
                   QStringLiteral("the body is not valid JSON: %1 at offset %2")
                       .arg(error.errorString())
                       .arg(error.offset));
        return std::nullopt;
    }
    if (!doc.isObject()) {
        replyError(400, u"invalid_json", u"the body must be a JSON object");
        return std::nullopt;
    }
    return doc.object();
}

void HttpExchange::reply(int status, const QByteArray &body, const QByteArray &contentType,
                         const HeaderList &headers)
{
    Q_ASSERT(!d->replied);
    if (d->replied)
        return;
    d->replied = true;
    if (!d->connection)
        return; // the client left before the answer was ready
    QByteArray out = head(status, headers);
    if (!bodyless(status)) {
        if (!contentType.isEmpty())
            out += "Content-Type: " + contentType + "\r\n";
        out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    }
    out += "\r\n";
    if (!isHead() && !bodyless(status))
        out += body;
    d->connection->respond(d->seq, out);
}

void HttpExchange::replyHead(int status, const HeaderList &headers)
{
    Q_ASSERT(!d->replied);
    if (d->replied)
        return;
    d->replied = true;
    if (d->connection)
        d->connection->respond(d->seq, head(status, headers) + "\r\n");
}

void HttpExchange::replyJson(int status, const QJsonObject &body, const HeaderList &headers)
{
    reply(status, QJsonDocument(body).toJson(QJsonDocument::Compact), "application/json",
          headers);
}

void HttpExchange::replyError(int status, QStringView code, QStringView message,
                              const HeaderList &headers)
{
    reply(status, Json::errorBody(code, message), "application/json", headers);
}

QTcpSocket *HttpExchange::takeSocket()
{
    if (d->replied || !d->connection)
        return nullptr;
    d->replied = true;
    return d->connection->release(d->seq);
}

// ---------------------------------------------------------------------------------------------

HttpServer::HttpServer(const HttpLimits &limits, QObject *parent)
    : QObject(parent), m_limits(limits)
{
    // One timer for every connection's deadlines; a quarter of a second is fine enough for
    // timeouts counted in seconds.
    m_sweep.setInterval(250);
    connect(&m_sweep, &QTimer::timeout, this, &HttpServer::sweep);
}

HttpServer::~HttpServer()
{
    for (const Parked &p : m_parked)
        ::close(p.fd);
    const auto connections = m_connections;
    for (HttpConnection *c : connections)
        delete c;
}

void HttpServer::route(Method method, const QString &pattern, Handler handler,
                       HttpRouter::BodyLimit maxBodyBytes)
{
    m_router.add(method, pattern, std::move(handler), std::move(maxBodyBytes));
}

QStringList HttpServer::routeList() const
{
    QStringList out;
    for (const HttpRouter::Route &r : m_router.routes())
        out.append(QString::fromLatin1(HttpRequest::methodName(r.method)) + QStringLiteral(" /")
                   + r.segments.join(u'/'));
    return out;
}

bool HttpServer::listenOn(const QHostAddress &address, quint16 port, QString *error)
{
    auto *listener = new HttpListener(
        [this](int fd, const QHostAddress &peer) { onAccepted(fd, peer); }, this);
    if (!listener->listen(address, port, error)) {
        delete listener;
        return false;
    }
    m_listeners.append(listener);
    m_closing = false;
    updateAccepting();
    return true;
}

void HttpServer::stopListening()
{
    m_closing = true;
    for (HttpListener *l : std::as_const(m_listeners))
        l->close();
}

quint16 HttpServer::serverPort() const
{
    return m_listeners.isEmpty() ? 0 : m_listeners.first()->port();
}

void HttpServer::updateAccepting()
{
    const bool full = openConnections() >= m_limits.maxConnections;
    if (full && (!m_lastFullWarning.isValid() || m_lastFullWarning.hasExpired(10'000))) {
        m_lastFullWarning.start();
        qCWarning(lcHttp) << "the server holds its maximum of" << m_limits.maxConnections
                          << "connections (HERMES_HTTP_MAX_CONNECTIONS); new ones wait";
    }
    for (HttpListener *l : std::as_const(m_listeners))
        l->setPaused(full);
    const bool busy = !m_connections.isEmpty() || !m_parked.empty();
    if (busy && !m_sweep.isActive())
        m_sweep.start();
    else if (!busy)
        m_sweep.stop();
}

void HttpServer::onAccepted(int fd, const QHostAddress &peer)
{
    const int cap = m_limits.maxConnectionsPerAddress;
    if (cap > 0 && m_perAddress.value(peer) >= cap) {
        // Parked: not read, so it costs a descriptor and nothing else. At most as many as the
        // address may have open, and as the server may have open in all.
        const auto sameAddress = std::count_if(m_parked.begin(), m_parked.end(),
                                               [&](const Parked &p) { return p.peer == peer; });
        if (sameAddress >= cap || int(m_parked.size()) >= m_limits.maxConnections) {
            qCDebug(lcHttp).noquote() << "refused a connection from" << peer.toString()
                                      << "(HERMES_HTTP_MAX_CONNECTIONS_PER_IP)";
            ::close(fd);
        } else {
            m_parked.push_back({fd, peer, HttpConnection::now()});
        }
        updateAccepting();
        return;
    }
    open(fd, peer, HttpConnection::now());
}

void HttpServer::open(int fd, const QHostAddress &peer, qint64 acceptedAt)
{
    auto *c = new HttpConnection(fd, peer, acceptedAt, this);
    if (!c->start()) {
        delete c;
        return;
    }
    m_connections.insert(c);
    ++m_perAddress[peer];
    connect(c, &HttpConnection::finished, this, [this, c] { forget(c); });
    updateAccepting();
}

void HttpServer::forget(HttpConnection *connection)
{
    if (!m_connections.remove(connection))
        return;
    const QHostAddress peer = connection->peer();
    auto it = m_perAddress.find(peer);
    if (it != m_perAddress.end() && --*it <= 0)
        m_perAddress.erase(it);
    // A slot of this address is free: its longest-waiting parked connection gets it.
    for (auto p = m_parked.begin(); p != m_parked.end(); ++p) {
        if (p->peer == peer) {
            const Parked parked = *p;
            m_parked.erase(p);
            open(parked.fd, parked.peer, parked.acceptedAt);
            break;
        }
    }
    trimAfterBurst();
    updateAccepting();
}

// After a burst of connections (a flood, a reconnect storm) has gone, give the freed heap back
// to the system: glibc would otherwise keep it for the life of the process.
void HttpServer::trimAfterBurst()
{
    m_burst = qMax(m_burst, openConnections());
    if (m_burst >= 64 && openConnections() < 8 && m_parked.empty()) {
        ::malloc_trim(0);
        m_burst = openConnections();
    }
}

void HttpServer::sweep()
{
    const qint64 now = HttpConnection::now();
    while (!m_parked.empty() && now >= m_parked.front().acceptedAt + m_limits.headerTimeoutMs) {
        ::close(m_parked.front().fd); // waited its whole header timeout for a slot
        m_parked.pop_front();
    }
    const auto connections = m_connections; // checkTimeouts() may close some
    for (HttpConnection *c : connections) {
        if (m_connections.contains(c))
            c->checkTimeouts(now);
    }
    trimAfterBurst();
    updateAccepting();
}

qint64 HttpServer::bodyLimit(const HttpRequest &request) const
{
    return m_router.bodyLimit(request.method(), request.pathSegments(), m_limits.maxBodyBytes);
}

QString HttpServer::redactedUrl(const QUrl &url)
{
    QUrlQuery query(url);
    for (const QString &secret : {QStringLiteral("token"), QStringLiteral("api_key")}) {
        if (query.hasQueryItem(secret)) {
            query.removeAllQueryItems(secret);
            query.addQueryItem(secret, QStringLiteral("REDACTED"));
        }
    }
    const QString q = query.toString(QUrl::FullyEncoded);
    return url.path() + (q.isEmpty() ? QString() : u'?' + q);
}

HeaderList HttpServer::corsHeaders(const HttpRequest &request) const
{
    const QByteArray origin = request.value("origin");
    if (origin.isEmpty() || m_allowedOrigins.isEmpty())
        return {};
    const QString o = QString::fromUtf8(origin);
    if (!m_allowedOrigins.contains(QStringLiteral("*")) && !m_allowedOrigins.contains(o))
        return {};
    return {{"Access-Control-Allow-Origin", origin},
            {"Vary", "Origin"},
            {"Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate"}};
}

void HttpServer::dispatch(HttpConnection *connection, quint64 seq,
                          const std::shared_ptr<const HttpRequest> &request)
{
    qCDebug(lcHttp).noquote() << HttpRequest::methodName(request->method())
                              << redactedUrl(request->url());
    const HttpRouter::Match match = m_router.resolve(request->method(), request->pathSegments());
    HttpExchange exchange(connection, seq, request, match.params, corsHeaders(*request));
    if (match.route) {
        match.route->handler(exchange);
        return;
    }
    if (match.allowed.isEmpty()) {
        exchange.replyError(404, u"not_found",
                            QStringLiteral("no such endpoint: %1").arg(request->url().path()));
        return;
    }
    QStringList allowed = match.allowed;
    allowed.append(QStringLiteral("OPTIONS"));
    const QByteArray allow = allowed.join(QStringLiteral(", ")).toLatin1();
    if (request->method() == Method::Options) {
        // CORS preflight. An origin that is not allowed gets no CORS headers; the browser
        // then refuses the real request itself.
        HeaderList headers{{"Allow", allow}};
        if (!exchange.corsHeaders().isEmpty()) {
            headers += {{"Access-Control-Allow-Methods", allow},
                        {"Access-Control-Allow-Headers",
                         "Authorization, Content-Type, Last-Event-ID, Cache-Control"},
                        {"Access-Control-Max-Age", "600"}};
        }
        exchange.reply(204, {}, {}, headers);
        return;
    }
    exchange.replyError(405, u"method_not_allowed",
                        QStringLiteral("%1 is not allowed here; use %2")
                            .arg(QString::fromLatin1(HttpRequest::methodName(request->method())),
                                 QString::fromLatin1(allow)),
                        {{"Allow", allow}});
}

} // namespace Hermes
