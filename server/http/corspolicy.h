#pragma once

#include "http/httprequest.h"

#include <QStringList>

namespace Hermes {

/**
 * Which browser origins may call the API (HERMES_ALLOWED_ORIGINS), as response headers.
 *
 * An allowed origin (or any, with `*`) gets `Access-Control-Allow-Origin` with its own origin
 * echoed (so `Vary: Origin`) and the headers a script may read; any other origin, and a request
 * without one, gets no CORS header at all: the browser then refuses the response itself.
 * Nothing is refused here — CORS protects the browser's user, not the server.
 */
class CorsPolicy final
{
public:
    /// Empty: no origin is allowed. May change at run time (SIGHUP).
    void setAllowedOrigins(const QStringList &origins) { m_allowedOrigins = origins; }
    const QStringList &allowedOrigins() const { return m_allowedOrigins; }

    /// The CORS headers of every response to `request` (empty when its origin is not allowed).
    HeaderList headersFor(const HttpRequest &request) const;
    /// The headers of the answer (204) to an OPTIONS request on a path whose methods are
    /// `allow`: `Allow`, and the preflight's permissions when the origin is allowed (its
    /// `corsHeaders`, from headersFor(), are not empty).
    static HeaderList preflight(const QByteArray &allow, const HeaderList &corsHeaders);

private:
    QStringList m_allowedOrigins;
};

} // namespace Hermes
