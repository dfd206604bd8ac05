#pragma once

#include "http/httplimits.h"
#include "http/httprequest.h"
#include "http/httprouter.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QStringList>
#include <QTimer>

#include <deque>
#include <memory>
#include <optional>

class QTcpSocket;

namespace Hermes {

class HttpConnection;
class HttpListener;

/// The reason phrase of a status code ("Not Found").
QByteArray httpReasonPhrase(int status);

/// One request and the connection its answer goes to. Handlers answer with one of the reply
/// functions, or take the socket over for a stream. Copies share one state and may answer
/// later (after an asynchronous publish); when the last copy goes without an answer, the
/// client gets a 500 instead of waiting forever.
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
    bool replied() const;
    /// A HEAD answer for a resource whose GET response has no Content-Length (a stream):
    /// `status` and `headers`, then nothing.
    void replyHead(int status, const HeaderList &headers);

    /// The status line and headers of a response (CORS included, and `Connection: close` when
    /// the connection ends after it), without the blank line: for streams, which write their
    /// own body, and for HEAD answers on them.
    QByteArray head(int status, const HeaderList &headers) const;
    /// Hands the connection over (a stream): the front door forgets it — no more reads,
    /// limits or timeouts. Null when the client left. Counts as the answer.
    QTcpSocket *takeSocket();

private:
    struct State;
    std::shared_ptr<State> d;
};

/**
 * The HTTP front door: listening sockets, every client connection until it becomes a stream,
 * and a method + path router with CORS and JSON errors for everything it does not route.
 *
 * Built on QtNetwork only (see README "Supported Qt versions"): each connection is read by an
 * HttpConnection with an HttpRequestParser that enforces HttpLimits as the bytes arrive.
 * Connections that are not streams are capped in total (beyond, clients wait in the backlog)
 * and per client address (beyond, they wait parked, unread, until one of that address's
 * connections ends or their header timeout passes).
 */
class HttpServer final : public QObject
{
    Q_OBJECT
public:
    using Method = HttpRequest::Method;
    using Handler = HttpRouter::Handler;

    explicit HttpServer(const HttpLimits &limits = {}, QObject *parent = nullptr);
    ~HttpServer() override;

    /// `pattern` is a path whose `{}` segments match any one segment. `maxBodyBytes` (null:
    /// HttpLimits::maxBodyBytes) is enforced before the body is read.
    void route(Method method, const QString &pattern, Handler handler,
               HttpRouter::BodyLimit maxBodyBytes = {});
    const HttpRouter &router() const { return m_router; }
    /// Every route as "METHOD /path/{}" in registration order (for the OpenAPI drift test).
    QStringList routeList() const;
    void setAllowedOrigins(const QStringList &origins) { m_allowedOrigins = origins; }
    const HttpLimits &limits() const { return m_limits; }

    bool listenOn(const QHostAddress &address, quint16 port, QString *error);
    /// Stops accepting; open connections finish their current request and close.
    void stopListening();
    quint16 serverPort() const;
    bool isClosing() const { return m_closing; }

    /// Connections open now (not streams), and waiting for a per-address slot.
    int openConnections() const { return int(m_connections.size()); }
    int parkedConnections() const { return int(m_parked.size()); }

    /// A URL for logs: path plus query with secrets (`token`, `api_key`) replaced.
    static QString redactedUrl(const QUrl &url);
    /// A complete JSON error response.
    static QByteArray errorResponse(int status, QByteArrayView code, const QString &message,
                                    const HeaderList &headers, bool close);

    // For HttpConnection.
    qint64 bodyLimit(const HttpRequest &request) const;
    void dispatch(HttpConnection *connection, quint64 seq,
                  const std::shared_ptr<const HttpRequest> &request);

private:
    struct Parked
    {
        int fd;
        QHostAddress peer;
        qint64 acceptedAt;
    };
    void onAccepted(int fd, const QHostAddress &peer);
    void open(int fd, const QHostAddress &peer, qint64 acceptedAt);
    void forget(HttpConnection *connection);
    void sweep();
    void trimAfterBurst();
    void updateAccepting();
    HeaderList corsHeaders(const HttpRequest &request) const;

    HttpLimits m_limits;
    HttpRouter m_router;
    QStringList m_allowedOrigins;
    QList<HttpListener *> m_listeners;
    QSet<HttpConnection *> m_connections;
    QHash<QHostAddress, int> m_perAddress;
    std::deque<Parked> m_parked;
    QTimer m_sweep;
    QElapsedTimer m_lastFullWarning;
    bool m_closing = false;
    int m_burst = 0; ///< most connections open since the heap was last trimmed
};

} // namespace Hermes
