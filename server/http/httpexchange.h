#pragma once

#include "http/httprequest.h"
#include "result.h"

#include <QJsonObject>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>

class QObject;
class QTcpSocket;

namespace Hermes {

class HttpConnection;

/// One answer of the front door, for whoever counts them (the metrics). `route` is the
/// route's pattern or a fixed word, never a raw path; `reason`: a 4xx/5xx answer's error code.
struct HttpAnswer
{
    QByteArrayView route;
    QByteArrayView method;
    int status = 0;
    QByteArrayView reason;
};
using HttpAnswerObserver = std::function<void(const HttpAnswer &)>;

/**
 * One request and the connection its answer goes to. Handlers answer with one of the reply
 * functions, or take the socket over for a stream. Copies share one state and may answer
 * later (after an asynchronous publish); when the last copy goes without an answer, the
 * client gets a 500 instead of waiting forever.
 *
 * Answers are serialized by HttpResponse. An exchange is answered on the front door's thread
 * (HttpConnection asserts it).
 */
class HttpExchange final
{
public:
    HttpExchange(HttpConnection *connection, quint64 seq,
                 std::shared_ptr<const HttpRequest> request, QStringList params,
                 HeaderList corsHeaders);

    const HttpRequest &request() const;
    /// The client's socket, or null once it left. For streams, see takeSocket().
    QTcpSocket *socket() const;
    /// The `{}` captures of the route pattern, in order.
    const QStringList &params() const;
    /// A request header (case-insensitive name), or empty.
    QByteArray header(QByteArrayView name) const { return request().value(name); }
    /// CORS headers for this request's origin (empty when it is not allowed).
    const HeaderList &corsHeaders() const;
    bool isHead() const { return request().method() == HttpRequest::Method::Head; }
    /// The connection closes after this answer (`Connection: close`, HTTP/1.0, shutdown).
    bool closesConnection() const;
    /// The client is still connected and waiting for this answer.
    bool isPending() const;
    /// An object that lives as long as this exchange can be answered (for timers); may be null.
    QObject *context() const;

    /// The request body as a JSON object, or nothing after answering 400 `invalid_json`.
    std::optional<QJsonObject> jsonBody();

    void reply(int status, const QByteArray &body, const QByteArray &contentType,
               const HeaderList &headers = {});
    void replyJson(int status, const QJsonObject &body, const HeaderList &headers = {});
    /// `{"error":{"code","message"}}` with `status`.
    void replyError(int status, QStringView code, QStringView message,
                    const HeaderList &headers = {});
    /// The error's code and message, with the status of its kind (httpStatusOf()): how every
    /// route answers an Error.
    void replyError(const Error &error, const HeaderList &headers = {});
    bool replied() const;
    /// A HEAD answer for a resource whose GET response has no Content-Length (a stream):
    /// `status` and `headers`, then nothing.
    void replyHead(int status, const HeaderList &headers);

    /// The status line and headers of a response (CORS included, and `Connection: close` when
    /// the connection ends after it), without the blank line: for streams, which write their
    /// own body, and for HEAD answers on them.
    QByteArray head(int status, const HeaderList &headers) const;
    /// Tells `observer` (which outlives the exchange; may be null) of the answer, as `route`.
    void observeWith(const HttpAnswerObserver *observer, QByteArray route);

    /// Hands the connection over (a stream): the front door forgets it — no more reads,
    /// limits or timeouts. Null when the client left. Counts as the answer.
    QTcpSocket *takeSocket();

private:
    struct State;
    std::shared_ptr<State> d;
};

} // namespace Hermes
