#include "http/healthroutes.h"

#include "broker/broker.h"
#include "downloads/downloadstore.h"
#include "http/httpserver.h"

#include <QJsonObject>

namespace Hermes {

using Method = HttpServer::Method;

HealthRoutes::HealthRoutes(const Broker *broker, const DownloadStore *store)
    : m_broker(broker), m_store(store)
{
}

void HealthRoutes::setShuttingDown()
{
    m_thread.check(Q_FUNC_INFO);
    m_shuttingDown = true;
}

void HealthRoutes::registerOn(HttpServer *server)
{
    server->route(Method::Get, QStringLiteral("/livez"), [this](HttpExchange &ex) { live(ex); });
    server->route(Method::Get, QStringLiteral("/readyz"), [this](HttpExchange &ex) { ready(ex); });
}

// Probes are polled every few seconds by machines: never cached, never kept in a proxy.
static const HeaderList NoStore{{"Cache-Control", "no-store"}};

void HealthRoutes::live(HttpExchange &ex)
{
    m_thread.check(Q_FUNC_INFO);
    ex.replyJson(200, {{QStringLiteral("status"), QStringLiteral("alive")}}, NoStore);
}

void HealthRoutes::ready(HttpExchange &ex)
{
    m_thread.check(Q_FUNC_INFO);
    const bool brokerUp = m_broker->isUp();
    const bool storeUp = m_store->isReachable();
    const QJsonObject checks{
        {QStringLiteral("broker"), brokerUp ? QStringLiteral("up") : QStringLiteral("down")},
        {QStringLiteral("database"), storeUp ? QStringLiteral("up") : QStringLiteral("down")},
        {QStringLiteral("shutting_down"), m_shuttingDown},
    };
    if (brokerUp && storeUp && !m_shuttingDown) {
        ex.replyJson(200, {{QStringLiteral("status"), QStringLiteral("ready")},
                           {QStringLiteral("checks"), checks}}, NoStore);
        return;
    }
    const QString why = m_shuttingDown ? QStringLiteral("the server is shutting down")
        : !brokerUp ? (m_broker->statusDetail().isEmpty()
                           ? QStringLiteral("the %1 broker is down").arg(m_broker->name())
                           : QStringLiteral("the %1 broker is down: %2").arg(m_broker->name(),
                                                                              m_broker->statusDetail()))
                    : QStringLiteral("the download store is unreachable");
    HeaderList headers = NoStore;
    headers.append(qMakePair(QByteArray("Retry-After"), QByteArray("2")));
    ex.replyJson(503, {{QStringLiteral("status"), QStringLiteral("not_ready")},
                       {QStringLiteral("checks"), checks},
                       {QStringLiteral("error"), QJsonObject{{QStringLiteral("code"), QStringLiteral("not_ready")},
                                                             {QStringLiteral("message"), why}}}},
                 headers);
}

} // namespace Hermes
