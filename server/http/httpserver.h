#pragma once

#include "http/admission.h"
#include "http/corspolicy.h"
#include "http/httpconnection.h"
#include "http/httpexchange.h"
#include "http/httplimits.h"
#include "http/httprequest.h"
#include "http/httprouter.h"
#include "result.h"

#include <QObject>
#include <QSet>
#include <QStringList>
#include <QTimer>

#include <memory>

namespace Hermes {

class HttpListener;

/**
 * The HTTP front door: listening sockets, every client connection until it becomes a stream,
 * and a method + path router with CORS and JSON errors for everything it does not route.
 *
 * Built on QtNetwork only (see README "Supported Qt versions"): each connection is read by an
 * HttpConnection with an HttpRequestParser that enforces HttpLimits as the bytes arrive.
 * Admission caps the connections that are not streams, in total (beyond, clients wait in the
 * backlog) and per client address (beyond, they wait parked, unread, until one of that
 * address's connections ends or their header timeout passes). CorsPolicy gives the CORS
 * headers; HttpResponse serializes every answer.
 *
 * It runs on the thread it was created on (the main thread in hermes-server); its entry
 * points assert it.
 */
class HttpServer final : public QObject, public HttpConnectionOwner
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
    /// HERMES_ALLOWED_ORIGINS (CorsPolicy); may change at run time (SIGHUP).
    void setAllowedOrigins(const QStringList &origins);
    const HttpLimits &limits() const override { return m_limits; }

    /// Told of every answer (the metrics); set before listening.
    void setAnswerObserver(HttpAnswerObserver observer) { m_observer = std::move(observer); }

    /// Fails with `cannot_listen` (HttpListener::listen()).
    Result<void> listenOn(const QHostAddress &address, quint16 port);
    /// Stops accepting; open connections finish their current request and close.
    void stopListening();
    quint16 serverPort() const;
    bool isClosing() const override { return m_closing; }

    /// Connections open now (not streams), and waiting for a per-address slot.
    int openConnections() const { return int(m_connections.size()); }
    int parkedConnections() const { return m_admission.parkedCount(); }
    /// Connections Admission closed unread: at once, or after parking a whole header timeout.
    quint64 refusedConnections() const { return m_admission.refusedCount(); }
    quint64 expiredConnections() const { return m_admission.expiredCount(); }

    /// A URL for logs: path plus query with secrets (`token`, `api_key`) replaced.
    static QString redactedUrl(const QUrl &url);

    // HttpConnectionOwner
    qint64 bodyLimit(const HttpRequest &request) const override;
    void dispatch(HttpConnection *connection, quint64 seq,
                  const std::shared_ptr<const HttpRequest> &request) override;
    void refused(int status, const QByteArray &code) override;

private:
    bool open(int fd, const QHostAddress &peer, qint64 acceptedAt);
    void forget(HttpConnection *connection);
    void sweep();
    void updateAccepting();
    /// What no route answers: 404, 405, and OPTIONS (a CORS preflight).
    void replyUnrouted(HttpExchange &exchange, const HttpRouter::Match &match);

    HttpLimits m_limits;
    HttpRouter m_router;
    HttpAnswerObserver m_observer;
    CorsPolicy m_cors;
    QList<HttpListener *> m_listeners;
    QSet<HttpConnection *> m_connections;
    Admission m_admission;
    QTimer m_sweep;
    bool m_closing = false;
};

} // namespace Hermes
