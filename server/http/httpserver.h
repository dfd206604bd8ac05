#pragma once

#include <QAbstractHttpServer>
#include <QHttpServerRequest>
#include <QJsonObject>
#include <QPointer>
#include <QTcpSocket>
#include <QStringList>

#include <functional>
#include <optional>

namespace Hermes {

using HeaderList = QList<QPair<QByteArray, QByteArray>>;

/// One request and the socket its answer goes to. Handlers answer with one of the reply
/// functions, or take the socket over for a stream (see StreamWorker). A copy may answer
/// later (after an asynchronous publish); request() is valid only inside the handler.
class HttpExchange final
{
public:
    HttpExchange(const QHttpServerRequest &request, QTcpSocket *socket, QStringList params,
                 HeaderList corsHeaders);

    const QHttpServerRequest &request() const { return m_request; }
    QTcpSocket *socket() const { return m_socket; }
    /// The `{}` captures of the route pattern, in order.
    const QStringList &params() const { return m_params; }
    /// A request header (case-insensitive name), or empty.
    QByteArray header(QByteArrayView name) const;
    /// CORS headers for this request's origin (empty when it is not allowed).
    const HeaderList &corsHeaders() const { return m_cors; }

    /// The request body as a JSON object, or nothing after answering 400 `invalid_json`.
    std::optional<QJsonObject> jsonBody();

    void reply(int status, const QByteArray &body, const QByteArray &contentType,
               const HeaderList &headers = {});
    void replyJson(int status, const QJsonObject &body, const HeaderList &headers = {});
    /// `{"error":{"code","message"}}` with `status`.
    void replyError(int status, QStringView code, QStringView message,
                    const HeaderList &headers = {});
    bool replied() const { return m_replied; }

    /// The status line and headers of a response (CORS included), without the blank line's
    /// body: for streams, which write their own body.
    QByteArray head(int status, const HeaderList &headers) const;

private:
    const QHttpServerRequest &m_request;
    QPointer<QTcpSocket> m_socket;
    bool m_head = false;
    QStringList m_params;
    HeaderList m_cors;
    bool m_replied = false;
};

/**
 * The HTTP front: a QAbstractHttpServer with a small method + path router, CORS and JSON
 * errors for everything it does not route.
 *
 * It writes responses to the socket itself (no QHttpServerResponder per request): a stream
 * then costs no more than its socket and one small object.
 */
class HttpServer final : public QAbstractHttpServer
{
    Q_OBJECT
public:
    using Method = QHttpServerRequest::Method;
    using Handler = std::function<void(HttpExchange &)>;

    explicit HttpServer(QObject *parent = nullptr);

    /// `pattern` is a path whose `{}` segments match any one non-empty segment.
    void route(Method method, const QString &pattern, Handler handler);
    void setAllowedOrigins(const QStringList &origins) { m_allowedOrigins = origins; }
    /// Every route as "METHOD /path/{}" in registration order (for the OpenAPI drift test).
    QStringList routeList() const;

    /// Listens with a large accept backlog (QTcpServer's default of 50 drops bursts).
    bool listenOn(const QHostAddress &address, quint16 port, QString *error);
    /// Stops accepting; open connections are untouched.
    void stopListening();
    quint16 serverPort() const;

    /// A URL for logs: path plus query with secrets (`token`, `api_key`) replaced.
    static QString redactedUrl(const QUrl &url);

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    struct Route
    {
        Method method;
        QStringList segments;
        Handler handler;
    };
    HeaderList corsHeaders(const QHttpServerRequest &request) const;
    static bool match(const QStringList &pattern, const QStringList &path, QStringList *params);

    QList<Route> m_routes;
    QStringList m_allowedOrigins;
};

} // namespace Hermes
