#pragma once

#include "http/httprequest.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <functional>

namespace Hermes {

class HttpExchange;

/**
 * Method + path routing: patterns are paths whose `{}` segments match any one segment. Knows
 * each route's body limit, so the front door can refuse a body before reading it.
 */
class HttpRouter final
{
public:
    using Method = HttpRequest::Method;
    using Handler = std::function<void(HttpExchange &)>;
    /// A route's body limit, asked for each request (settings may be reloaded); null: the
    /// server's default.
    using BodyLimit = std::function<qint64()>;

    struct Route
    {
        Method method;
        QString pattern;
        QStringList segments;
        Handler handler;
        BodyLimit maxBodyBytes;
    };
    struct Match
    {
        const Route *route = nullptr; ///< null: 404 (allowed empty) or 405 (allowed not)
        QStringList params;           ///< the `{}` captures, in order
        QStringList allowed;          ///< methods the path has, when `route` is null
    };

    void add(Method method, const QString &pattern, Handler handler, BodyLimit maxBodyBytes = {});
    void add(Method method, const QString &pattern, Handler handler, qint64 maxBodyBytes)
    {
        add(method, pattern, std::move(handler), [maxBodyBytes] { return maxBodyBytes; });
    }
    /// The route for a request; HEAD is served by a GET route.
    Match resolve(Method method, const QStringList &pathSegments) const;
    /// The body limit for a request whose head just arrived.
    qint64 bodyLimit(Method method, const QStringList &pathSegments, qint64 defaultLimit) const;
    const QList<Route> &routes() const { return m_routes; }

private:
    static bool match(const QStringList &pattern, const QStringList &path, QStringList *params);

    QList<Route> m_routes;
};

} // namespace Hermes
