#include "http/corspolicy.h"

namespace Hermes {

HeaderList CorsPolicy::headersFor(const HttpRequest &request) const
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

HeaderList CorsPolicy::preflight(const QByteArray &allow, const HeaderList &corsHeaders)
{
    // An origin that is not allowed gets no CORS headers; the browser then refuses the real
    // request itself.
    HeaderList headers{{"Allow", allow}};
    if (!corsHeaders.isEmpty()) {
        headers += {{"Access-Control-Allow-Methods", allow},
                    {"Access-Control-Allow-Headers",
                     "Authorization, Content-Type, Last-Event-ID, Cache-Control"},
                    {"Access-Control-Max-Age", "600"}};
    }
    return headers;
}

} // namespace Hermes
