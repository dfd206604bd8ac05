#include "http/httprouter.h"

namespace Hermes {

void HttpRouter::add(Method method, const QString &pattern, Handler handler, BodyLimit maxBodyBytes)
{
    m_routes.append({method, pattern, pattern.split(u'/', Qt::SkipEmptyParts), std::move(handler),
                     std::move(maxBodyBytes)});
}

bool HttpRouter::match(const QStringList &pattern, const QStringList &path, QStringList *params)
{
    if (pattern.size() != path.size())
        return false;
    for (qsizetype i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == u"{}")
            params->append(path[i]);
        else if (pattern[i] != path[i])
            return false;
    }
    return true;
}

HttpRouter::Match HttpRouter::resolve(Method method, const QStringList &pathSegments) const
{
    Match result;
    for (const Route &route : m_routes) {
        QStringList params;
        if (!match(route.segments, pathSegments, &params))
            continue;
        if (route.method == method || (route.method == Method::Get && method == Method::Head)) {
            result.route = &route;
            result.params = std::move(params);
            result.allowed.clear();
            return result;
        }
        const QString name = QString::fromLatin1(HttpRequest::methodName(route.method));
        if (!result.allowed.contains(name))
            result.allowed.append(name);
    }
    return result;
}

qint64 HttpRouter::bodyLimit(Method method, const QStringList &pathSegments,
                             qint64 defaultLimit) const
{
    const Match m = resolve(method, pathSegments);
    return m.route && m.route->maxBodyBytes ? m.route->maxBodyBytes() : defaultLimit;
}

} // namespace Hermes
