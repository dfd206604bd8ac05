#include "http/httpserver.h"

#include "json.h"
#include "logging.h"

#include <QJsonDocument>
#include <QJsonParseError>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrlQuery>

namespace Hermes {

static QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

static QByteArray methodName(QHttpServerRequest::Method method)
{
    using M = QHttpServerRequest::Method;
    switch (method) {
    case M::Get: return "GET";
    case M::Post: return "POST";
    case M::Put: return "PUT";
    case M::Delete: return "DELETE";
    case M::Patch: return "PATCH";
    case M::Head: return "HEAD";
    case M::Options: return "OPTIONS";
    default: return "OTHER";
    }
}

HttpExchange::HttpExchange(const QHttpServerRequest &request, QTcpSocket *socket,
                           QStringList params, HeaderList corsHeaders)
    : m_request(request), m_socket(socket),
      m_head(request.method() == QHttpServerRequest::Method::Head), m_params(std::move(params)),
      m_cors(std::move(corsHeaders))
{
}

QByteArray HttpExchange::header(QByteArrayView name) const
{
    for (const auto &h : m_request.headers()) {
        if (name.compare(h.first, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

QByteArray HttpExchange::head(int status, const HeaderList &headers) const
{
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    for (const HeaderList *list : {&m_cors, &headers}) {
        for (const auto &h : *list)
            out += h.first + ": " + h.second + "\r\n";
    }
    return out;
}

std::optional<QJsonObject> HttpExchange::jsonBody()
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(m_request.body(), &error);
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
    Q_ASSERT(!m_replied);
    m_replied = true;
    if (!m_socket)
        return; // the client left before the answer was ready
    QByteArray out = head(status, headers);
    if (!contentType.isEmpty())
        out += "Content-Type: " + contentType + "\r\n";
    out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n";
    if (!m_head)
        out += body;
    m_socket->write(out);
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

HttpServer::HttpServer(QObject *parent) : QAbstractHttpServer(parent) {}

QStringList HttpServer::routeList() const
{
    QStringList out;
    for (const Route &r : m_routes)
        out.append(QString::fromLatin1(methodName(r.method)) + QStringLiteral(" /") + r.segments.join(u'/'));
    return out;
}

void HttpServer::route(Method method, const QString &pattern, Handler handler)
{
    m_routes.append({method, pattern.split(u'/', Qt::SkipEmptyParts), std::move(handler)});
}

bool HttpServer::listenOn(const QHostAddress &address, quint16 port, QString *error)
{
    auto *server = new QTcpServer(this);
    server->setListenBacklogSize(4096);
    if (!server->listen(address, port)) {
        *error = QStringLiteral("cannot listen on %1:%2: %3")
                     .arg(address.toString())
                     .arg(port)
                     .arg(server->errorString());
        delete server;
        return false;
    }
    bind(server);
    return true;
}

void HttpServer::stopListening()
{
    for (QTcpServer *server : servers())
        server->close();
}

quint16 HttpServer::serverPort() const
{
    const auto list = servers();
    return list.isEmpty() ? 0 : list.first()->serverPort();
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

bool HttpServer::match(const QStringList &pattern, const QStringList &path, QStringList *params)
{
    if (pattern.size() != path.size())
        return false;
    for (qsizetype i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == u"{}")
            params->append(path[i]);
        else if (pattern[i] != path[i])
            return false;
    }
    return true;
}

HeaderList HttpServer::corsHeaders(const QHttpServerRequest &request) const
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

bool HttpServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    const QStringList path = request.url().path().split(u'/', Qt::SkipEmptyParts);
    qCDebug(lcHttp).noquote() << methodName(request.method()) << redactedUrl(request.url());

    QStringList allowed;
    for (const Route &route : m_routes) {
        QStringList params;
        if (!match(route.segments, path, &params))
            continue;
        if (route.method == request.method()
            || (route.method == Method::Get && request.method() == Method::Head)) {
            HttpExchange exchange(request, socket, std::move(params), corsHeaders(request));
            route.handler(exchange);
            return true;
        }
        allowed.append(QString::fromLatin1(methodName(route.method)));
    }
    if (allowed.isEmpty())
        return false; // → missingHandler: 404

    HttpExchange exchange(request, socket, {}, corsHeaders(request));
    allowed.append(QStringLiteral("OPTIONS"));
    const QByteArray allow = allowed.join(QStringLiteral(", ")).toLatin1();
    if (request.method() == Method::Options) {
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
        return true;
    }
    exchange.replyError(405, u"method_not_allowed",
                        QStringLiteral("%1 is not allowed here; use %2")
                            .arg(QString::fromLatin1(methodName(request.method())),
                                 QString::fromLatin1(allow)),
                        {{"Allow", allow}});
    return true;
}

void HttpServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    HttpExchange exchange(request, socket, {}, corsHeaders(request));
    exchange.replyError(404, u"not_found",
                        QStringLiteral("no such endpoint: %1").arg(request.url().path()));
}

} // namespace Hermes
