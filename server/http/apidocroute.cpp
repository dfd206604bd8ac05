#include "http/apidocroute.h"

#include "http/httpserver.h"

#include <QCoreApplication>
#include <QFile>

namespace Hermes {

ApiDocRoute::ApiDocRoute()
{
    QFile file(QStringLiteral(":/hermes/openapi.json"));
    if (file.open(QIODevice::ReadOnly))
        m_document = file.readAll();
    // The document names no version of its own: the binary serving it is the truth.
    m_document.replace("\"version\": \"0.0.0\"",
                       "\"version\": \"" + QCoreApplication::applicationVersion().toUtf8() + '"');
}

void ApiDocRoute::registerOn(HttpServer *server)
{
    server->route(HttpServer::Method::Get, QStringLiteral("/api/v1/openapi.json"), [this](HttpExchange &ex) {
        ex.reply(200, m_document, "application/json", {{"Cache-Control", "no-cache"}});
    });
}

} // namespace Hermes
