#include "apiclient.h"

#include "threadaffinity.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>

namespace Hermes {

// What a failed answer means to the caller.
static Error::Kind kindOf(int status)
{
    switch (status) {
    case 0: case 429: case 502: case 503: case 504: return Error::Kind::Unavailable;
    case 400: case 422: return Error::Kind::Invalid;
    case 404: return Error::Kind::NotFound;
    case 409: return Error::Kind::Conflict;
    default: return Error::Kind::Failed;
    }
}

ApiClient::ApiClient(QObject *parent) : QObject(parent) {}

void ApiClient::send(const QByteArray &verb, const QString &path, const QByteArray &body,
                     Callback done)
{
    HERMES_ASSERT_THREAD(this);
    QUrl url = m_base;
    const qsizetype query = path.indexOf(u'?');
    url.setPath(m_base.path().chopped(m_base.path().endsWith(u'/') ? 1 : 0)
                + (query < 0 ? path : path.left(query)));
    if (query >= 0)
        url.setQuery(path.mid(query + 1));
    QNetworkRequest request(url);
    request.setRawHeader("Authorization", "Bearer " + m_key);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setTransferTimeout(15000); // every REST call has a bound
    QNetworkReply *reply = m_network.sendCustomRequest(request, verb, body);
    connect(reply, &QNetworkReply::finished, this, [reply, done] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        QJsonObject json = QJsonDocument::fromJson(reply->readAll()).object();
        if (status >= 200 && status < 300) {
            done(std::move(json));
            return;
        }
        // The JSON error body every Hermes error has: {"error":{"code","message"}}.
        const QJsonObject body = json.value(QStringLiteral("error")).toObject();
        QString message = body.value(QStringLiteral("message")).toString();
        if (status == 0 || (message.isEmpty() && reply->error() != QNetworkReply::NoError))
            message = reply->errorString();
        if (message.isEmpty())
            message = QStringLiteral("HTTP %1").arg(status);
        QByteArray code = body.value(QStringLiteral("code")).toString().toUtf8();
        if (code.isEmpty())
            code = status == 0 ? QByteArrayLiteral("no_answer") : "http_" + QByteArray::number(status);
        done(Error{kindOf(status), std::move(code), std::move(message)});
    });
}

void ApiClient::listDownloads(int offset, int limit, Callback done)
{
    send("GET", QStringLiteral("/api/v1/downloads?limit=%1&offset=%2").arg(limit).arg(offset), {}, std::move(done));
}

void ApiClient::listDownloadsAfter(const QString &cursor, int limit, Callback done)
{
    send("GET", QStringLiteral("/api/v1/downloads?limit=%1&cursor=%2").arg(limit).arg(QString::fromLatin1(QUrl::toPercentEncoding(cursor))),
         {}, std::move(done));
}

void ApiClient::download(const QString &id, Callback done)
{
    send("GET", QStringLiteral("/api/v1/downloads/%1").arg(QString::fromLatin1(QUrl::toPercentEncoding(id))), {},
         std::move(done));
}

void ApiClient::setPriority(const QString &id, int priority, Callback done)
{
    send("POST", QStringLiteral("/api/v1/downloads/%1/priority").arg(QString::fromLatin1(QUrl::toPercentEncoding(id))),
         QJsonDocument(QJsonObject{{QStringLiteral("priority"), priority}}).toJson(QJsonDocument::Compact),
         std::move(done));
}

void ApiClient::queue(Callback done)
{
    send("GET", QStringLiteral("/api/v1/queue"), {}, std::move(done));
}

void ApiClient::addDownload(const QString &url, const QString &filename, Callback done,
                            const QString &sha256, std::optional<int> priority)
{
    QJsonObject body{{QStringLiteral("url"), url}};
    if (!filename.isEmpty())
        body.insert(QStringLiteral("filename"), filename);
    if (!sha256.isEmpty())
        body.insert(QStringLiteral("sha256"), sha256);
    if (priority)
        body.insert(QStringLiteral("priority"), *priority);
    send("POST", QStringLiteral("/api/v1/downloads"), QJsonDocument(body).toJson(QJsonDocument::Compact),
         std::move(done));
}

void ApiClient::act(const QString &id, DownloadAction action, Callback done)
{
    send("POST", QStringLiteral("/api/v1/downloads/%1/%2").arg(id, wireName(action)), {}, std::move(done));
}

void ApiClient::remove(const QString &id, bool deleteFile, Callback done)
{
    send("DELETE", QStringLiteral("/api/v1/downloads/%1%2").arg(id, deleteFile ? QStringLiteral("?delete_file=true") : QString()),
         {}, std::move(done));
}

static QByteArray bulkBody(DownloadAction action, const char *key, const QJsonValue &which)
{
    return QJsonDocument(QJsonObject{{QStringLiteral("action"), QString(wireName(action))},
                                     {QString::fromLatin1(key), which}})
        .toJson(QJsonDocument::Compact);
}

void ApiClient::actOnMany(DownloadAction action, const QStringList &ids, Callback done)
{
    send("POST", QStringLiteral("/api/v1/downloads/actions"), bulkBody(action, "ids", QJsonArray::fromStringList(ids)),
         std::move(done));
}

void ApiClient::actOnStatuses(DownloadAction action, const QList<DownloadStatus> &statuses, Callback done)
{
    QJsonArray names;
    for (DownloadStatus s : statuses)
        names.append(QString(wireName(s)));
    send("POST", QStringLiteral("/api/v1/downloads/actions"), bulkBody(action, "status", names), std::move(done));
}

} // namespace Hermes
