#pragma once

#include <QByteArray>

namespace Hermes {

class HttpServer;

/**
 * `GET /api/v1/openapi.json`: the OpenAPI 3 description of every endpoint (docs/openapi.json,
 * compiled in), for client generators and API browsers, as the Python Hermes serves its own.
 * No credential: it describes the API, it holds nothing secret.
 */
class ApiDocRoute final
{
public:
    ApiDocRoute();
    void registerOn(HttpServer *server);
    /// The document, with the running version filled in.
    const QByteArray &document() const { return m_document; }

private:
    QByteArray m_document;
};

} // namespace Hermes
