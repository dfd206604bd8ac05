#include "broker/redisaddress.h"

#include <QUrl>
#include <QUrlQuery>

namespace Hermes {

Result<RedisAddress> RedisAddress::parse(const QString &text)
{
    const QUrl url(text, QUrl::StrictMode);
    auto bad = [](const QString &why) {
        return Error::invalid("invalid_redis_url",
                              QStringLiteral("HERMES_REDIS_URL: %1 (expected redis://[:password@]host:port/db "
                                             "or unix:///path/to/redis.sock)").arg(why));
    };
    if (!url.isValid())
        return bad(QStringLiteral("not a valid URL"));
    RedisAddress a;
    a.username = url.userName();
    a.password = url.password();
    const QUrlQuery query(url);
    if (query.hasQueryItem(QStringLiteral("password")))
        a.password = query.queryItemValue(QStringLiteral("password"));
    QString dbText;
    if (url.scheme() == u"redis") {
        a.host = url.host();
        if (a.host.isEmpty())
            return bad(QStringLiteral("no host"));
        a.port = url.port(6379);
        if (a.port <= 0 || a.port > 65535)
            return bad(QStringLiteral("bad port"));
        dbText = url.path().mid(1);
    } else if (url.scheme() == u"unix") {
        a.socketPath = url.path();
        if (a.socketPath.isEmpty())
            return bad(QStringLiteral("no socket path"));
    } else {
        return bad(QStringLiteral("unsupported scheme \"%1\"").arg(url.scheme()));
    }
    if (query.hasQueryItem(QStringLiteral("db")))
        dbText = query.queryItemValue(QStringLiteral("db"));
    if (!dbText.isEmpty()) {
        bool ok = false;
        a.db = dbText.toInt(&ok);
        if (!ok || a.db < 0)
            return bad(QStringLiteral("the database must be a number"));
    }
    return a;
}

QString RedisAddress::display() const
{
    const QString where = socketPath.isEmpty() ? QStringLiteral("redis://%1:%2").arg(host).arg(port)
                                               : QStringLiteral("unix://%1").arg(socketPath);
    return db ? QStringLiteral("%1/%2").arg(where).arg(db) : where;
}

} // namespace Hermes
