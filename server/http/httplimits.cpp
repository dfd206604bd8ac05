#include "http/httplimits.h"

#include "serversettings.h"

namespace Hermes {

HttpLimits HttpLimits::fromSettings(const ServerSettings &s)
{
    HttpLimits l;
    l.maxRequestLine = s.httpMaxRequestLine;
    l.maxHeaderBytes = s.httpMaxHeaderBytes;
    l.maxHeaderFields = s.httpMaxHeaderFields;
    l.maxBodyBytes = s.httpMaxBodyBytes;
    l.headerTimeoutMs = s.httpHeaderTimeout * 1000;
    l.bodyTimeoutMs = s.httpBodyTimeout * 1000;
    l.idleTimeoutMs = s.httpIdleTimeout * 1000;
    l.maxConnections = s.httpMaxConnections;
    l.maxConnectionsPerAddress = s.httpMaxConnectionsPerAddress;
    l.minBodyBytesPerSecond = s.httpMinBodyRate;
    l.lingerMs = s.httpLingerMs;
    return l;
}

} // namespace Hermes
