#include "http/httpserver.h"

#include "http/httplistener.h"
#include "logging.h"
#include "threadaffinity.h"

#include <QUrlQuery>

namespace Hermes {

HttpServer::HttpServer(const HttpLimits &limits, QObject *parent)
    : QObject(parent), m_limits(limits),
      m_admission(
          m_limits,
          [this](int fd, const QHostAddress &peer, qint64 acceptedAt) {
              return open(fd, peer, acceptedAt);
          },
          [this] { updateAccepting(); })
{
    // One timer for every connection's deadlines; a quarter of a second is fine enough for
    // timeouts counted in seconds.
    m_sweep.setInterval(250);
    connect(&m_sweep, &QTimer::timeout, this, &HttpServer::sweep);
}

HttpServer::~HttpServer()
{
    const auto connections = m_connections;
    for (HttpConnection *c : connections)
        delete c;
}

void HttpServer::route(Method method, const QString &pattern, Handler handler,
                       HttpRouter::BodyLimit maxBodyBytes)
{
    HERMES_ASSERT_THREAD(this);
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

void HttpServer::setAllowedOrigins(const QStringList &origins)
{
    HERMES_ASSERT_THREAD(this); // SettingsReload, on SIGHUP
    m_cors.setAllowedOrigins(origins);
}

Result<void> HttpServer::listenOn(const QHostAddress &address, quint16 port)
{
    HERMES_ASSERT_THREAD(this);
    auto *listener = new HttpListener(
        [this](int fd, const QHostAddress &peer) {
            m_admission.admit(fd, peer, HttpConnection::now());
        },
        this);
    if (Result<void> listening = listener->listen(address, port); !listening) {
        delete listener;
        return listening;
    }
    m_listeners.append(listener);
    m_closing = false;
    updateAccepting();
    return {};
}

void HttpServer::stopListening()
{
    HERMES_ASSERT_THREAD(this);
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
    const bool full = m_admission.isFull();
    for (HttpListener *l : std::as_const(m_listeners))
        l->setPaused(full);
    const bool busy = !m_admission.isIdle();
    if (busy && !m_sweep.isActive())
        m_sweep.start();
    else if (!busy)
        m_sweep.stop();
}

bool HttpServer::open(int fd, const QHostAddress &peer, qint64 acceptedAt)
{
    auto *c = new HttpConnection(fd, peer, acceptedAt, this, this);
    if (!c->start()) {
        delete c;
        return false;
    }
    m_connections.insert(c);
    connect(c, &HttpConnection::finished, this, [this, c] { forget(c); });
    return true;
}

void HttpServer::forget(HttpConnection *connection)
{
    HERMES_ASSERT_THREAD(this);
    if (m_connections.remove(connection))
        m_admission.release(connection->peer());
}

void HttpServer::sweep()
{
    HERMES_ASSERT_THREAD(this);
    const qint64 now = HttpConnection::now();
    m_admission.expireParked(now);
    const auto connections = m_connections; // checkTimeouts() may close some
    for (HttpConnection *c : connections) {
        if (m_connections.contains(c))
            c->checkTimeouts(now);
    }
    m_admission.tidy();
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

void HttpServer::dispatch(HttpConnection *connection, quint64 seq,
                          const std::shared_ptr<const HttpRequest> &request)
{
    HERMES_ASSERT_THREAD(this);
    qCDebug(lcHttp).noquote() << HttpRequest::methodName(request->method())
                              << redactedUrl(request->url());
    const HttpRouter::Match match = m_router.resolve(request->method(), request->pathSegments());
    HttpExchange exchange(connection, seq, request, match.params, m_cors.headersFor(*request));
    // Counted by route pattern, never by raw path: a fixed set of series whatever clients ask.
    exchange.observeWith(&m_observer, match.route ? match.route->pattern.toLatin1() : QByteArray("unrouted"));
    if (match.route)
        match.route->handler(exchange);
    else
        replyUnrouted(exchange, match);
}

void HttpServer::refused(int status, const QByteArray &code)
{
    if (m_observer)
        m_observer({"none", "none", status, code});
}

void HttpServer::replyUnrouted(HttpExchange &exchange, const HttpRouter::Match &match)
{
    const HttpRequest &request = exchange.request();
    if (match.allowed.isEmpty()) {
        exchange.replyError(Error::notFound(
            "not_found", QStringLiteral("no such endpoint: %1").arg(request.url().path())));
        return;
    }
    QStringList allowed = match.allowed;
    // Every GET route answers HEAD too (HttpRouter::resolve), so Allow says so.
    if (const qsizetype get = allowed.indexOf(QStringLiteral("GET")); get >= 0 && !allowed.contains(u"HEAD"))
        allowed.insert(get + 1, QStringLiteral("HEAD"));
    allowed.append(QStringLiteral("OPTIONS"));
    const QByteArray allow = allowed.join(QStringLiteral(", ")).toLatin1();
    if (request.method() == Method::Options) {
        exchange.reply(204, {}, {}, CorsPolicy::preflight(allow, exchange.corsHeaders()));
        return;
    }
    exchange.replyError(405, u"method_not_allowed",
                        QStringLiteral("%1 is not allowed here; use %2")
                            .arg(QString::fromLatin1(HttpRequest::methodName(request.method())),
                                 QString::fromLatin1(allow)),
                        {{"Allow", allow}});
}

} // namespace Hermes
