#include "http/httpexchange.h"

#include "http/httpconnection.h"
#include "http/httperror.h"
#include "http/httpresponse.h"
#include "json.h"

#include <QJsonDocument>
#include <QJsonParseError>
#include <QPointer>

namespace Hermes {

struct HttpExchange::State
{
    QPointer<HttpConnection> connection;
    quint64 seq;
    std::shared_ptr<const HttpRequest> request;
    QStringList params;
    HeaderList cors;
    bool replied = false;
    const HttpAnswerObserver *observer = nullptr;
    QByteArray route;
    QByteArray errorCode; // of the answer being sent, when it is an error

    State(HttpConnection *c, quint64 s, std::shared_ptr<const HttpRequest> r, QStringList p,
          HeaderList h)
        : connection(c), seq(s), request(std::move(r)), params(std::move(p)), cors(std::move(h))
    {
    }
    Q_DISABLE_COPY_MOVE(State)
    ~State()
    {
        if (!replied && connection) {
            errorCode = "internal_error";
            answered(500);
            connection->abandoned(seq);
        }
    }
    // Only while the connection lives: its server (which holds the observer) lives then too.
    void answered(int status) const
    {
        if (observer && *observer)
            (*observer)({route, HttpRequest::methodName(request->method()), status, errorCode});
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
    return HttpResponse::head(status, {&d->cors, &headers}, closesConnection());
}

std::optional<QJsonObject> HttpExchange::jsonBody()
{
    // Every JSON body comes through here: the one place its depth is capped.
    if (!Json::depthWithin(request().body())) {
        replyError(Error::invalid("json_too_deep",
                                  QStringLiteral("the body nests arrays and objects more than %1 deep")
                                      .arg(Json::MaxDepth)));
        return std::nullopt;
    }
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(request().body(), &error);
    if (error.error != QJsonParseError::NoError) {
        replyError(Error::invalid("invalid_json",
                                  QStringLiteral("the body is not valid JSON: %1 at offset %2")
                                      .arg(error.errorString())
                                      .arg(error.offset)));
        return std::nullopt;
    }
    if (!doc.isObject()) {
        replyError(Error::invalid("invalid_json", QStringLiteral("the body must be a JSON object")));
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
    d->answered(status);
    // The body goes out as it is, shared (a static document is not copied per request).
    const bool withBody = !isHead() && !HttpResponse::isBodyless(status);
    d->connection->respond(d->seq,
                           HttpResponse::completeHead(status, {&d->cors, &headers},
                                                      closesConnection(), contentType, body.size()),
                           withBody ? body : QByteArray());
}

void HttpExchange::replyHead(int status, const HeaderList &headers)
{
    Q_ASSERT(!d->replied);
    if (d->replied)
        return;
    d->replied = true;
    if (d->connection) {
        d->answered(status);
        d->connection->respond(d->seq, head(status, headers) + "\r\n");
    }
}

void HttpExchange::replyJson(int status, const QJsonObject &body, const HeaderList &headers)
{
    // A body that carries its own error (/readyz's 503 beside its checks) is counted by that
    // code, as replyError's are, not as "unspecified".
    if (status >= 400)
        d->errorCode = body.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString().toLatin1();
    reply(status, QJsonDocument(body).toJson(QJsonDocument::Compact), "application/json",
          headers);
}

void HttpExchange::replyError(int status, QStringView code, QStringView message,
                              const HeaderList &headers)
{
    d->errorCode = code.toLatin1();
    reply(status, Json::errorBody(code, message), "application/json", headers);
}

void HttpExchange::replyError(const Error &error, const HeaderList &headers)
{
    replyError(httpStatusOf(error.kind), QString::fromLatin1(error.code), error.message, headers);
}

void HttpExchange::observeWith(const HttpAnswerObserver *observer, QByteArray route)
{
    d->observer = observer;
    d->route = std::move(route);
}

QTcpSocket *HttpExchange::takeSocket()
{
    if (d->replied || !d->connection)
        return nullptr;
    d->replied = true;
    d->answered(200); // a stream's head says 200
    return d->connection->release(d->seq);
}

} // namespace Hermes
