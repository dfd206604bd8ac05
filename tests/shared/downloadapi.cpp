#include "downloadapi.h"

#include "serverprocess.h"

#include <QDebug>
#include <QJsonDocument>
#include <QTest>

namespace Hermes::Test::DownloadApi {

HttpReply call(const ServerProcess &server, const QByteArray &method, const QByteArray &path, const QByteArray &body)
{
    return httpRequest(server.port(), method, path,
                       {{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey},
                        {"Content-Type", "application/json"}},
                       body);
}

QJsonObject json(const QByteArray &body)
{
    return QJsonDocument::fromJson(body).object();
}

QJsonObject add(const ServerProcess &server, const QJsonObject &request)
{
    const HttpReply r = call(server, "POST", "/api/v1/downloads", QJsonDocument(request).toJson(QJsonDocument::Compact));
    if (r.status != 201)
        qWarning() << "add failed" << r.status << r.body;
    return json(r.body);
}

QJsonObject get(const ServerProcess &server, const QString &id)
{
    return json(call(server, "GET", "/api/v1/downloads/" + id.toUtf8()).body);
}

bool waitStatus(const ServerProcess &server, const QString &id, const QString &status, int timeoutMs)
{
    return QTest::qWaitFor([&] { return get(server, id).value(QStringLiteral("status")).toString() == status; },
                           timeoutMs);
}

} // namespace Hermes::Test::DownloadApi
