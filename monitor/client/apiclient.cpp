#include "apiclient.h"

#include "protocol/payloads.h"
#include "threadaffinity.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QRegularExpression>

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

QJsonObject ApiClient::downloadRequest(const QString &url, const QString &filename, const QString &sha256,
                                       std::optional<int> priority)
{
    QJsonObject body{{QStringLiteral("url"), url}};
    if (!filename.isEmpty())
        body.insert(QStringLiteral("filename"), filename);
    if (!sha256.isEmpty())
        body.insert(QStringLiteral("sha256"), sha256);
    if (priority)
        body.insert(QStringLiteral("priority"), *priority);
    return body;
}

void ApiClient::addDownload(const QString &url, const QString &filename, Callback done,
                            const QString &sha256, std::optional<int> priority)
{
    send("POST", QStringLiteral("/api/v1/downloads"),
         QJsonDocument(downloadRequest(url, filename, sha256, priority)).toJson(QJsonDocument::Compact), std::move(done));
}

// One POST per request, in order, for a server without lists; the rows gathered as a list's,
// a failure named `downloads[i]:` as a list's is (those before it stay added).
static void addOneByOne(ApiClient *api, QList<QJsonObject> requests, QJsonArray added, ApiClient::Callback done)
{
    if (added.size() == requests.size())
        return done(QJsonObject{{QString(DownloadListMember), added}});
    const QJsonObject next = requests.at(added.size());
    api->addDownload(next.value(QStringLiteral("url")).toString(), next.value(QStringLiteral("filename")).toString(),
                     [api, requests, added, done](Result<QJsonObject> row) mutable {
        if (!row) {
            Error e = row.error();
            e.message = QStringLiteral("downloads[%1]: ").arg(added.size()) + e.message;
            return done(e);
        }
        added.append(*row);
        addOneByOne(api, std::move(requests), std::move(added), std::move(done));
    }, next.value(QStringLiteral("sha256")).toString(),
       next.contains(QStringLiteral("priority")) ? std::optional<int>(next.value(QStringLiteral("priority")).toInt()) : std::nullopt);
}

// The list from `first` on, a piece at a time (MaxAddList requests and MaxAddBytes of body at
// most: the server's default body limit is 64 KiB), one after the other; the rows gathered,
// a refusal's `downloads[i]` counted over the whole list.
static void addPieces(ApiClient *api, QList<QJsonObject> requests, qsizetype first, QJsonArray added,
                      ApiClient::Callback done, const std::function<void(const QList<QJsonObject> &, ApiClient::Callback)> &send)
{
    if (first >= requests.size())
        return done(QJsonObject{{QString(DownloadListMember), added}});
    QList<QJsonObject> piece;
    qsizetype bytes = 0;
    for (qsizetype i = first; i < requests.size() && piece.size() < ApiClient::MaxAddList; ++i) {
        const qsizetype size = QJsonDocument(requests.at(i)).toJson(QJsonDocument::Compact).size() + 1;
        if (!piece.isEmpty() && bytes + size > ApiClient::MaxAddBytes)
            break;
        piece.append(requests.at(i));
        bytes += size;
    }
    send(piece, [api, requests, first, added, done, send, count = piece.size()](Result<QJsonObject> answer) mutable {
        if (!answer) {
            Error e = answer.error();
            if (const auto item = ApiClient::refusedItem(e.message))
                e.message = QStringLiteral("downloads[%1]: %2").arg(first + item->index).arg(item->reason);
            if (first > 0) // said, so that nobody sends the whole list again
                e.message += QStringLiteral(" (the %1 before this piece were added)").arg(first);
            return done(e);
        }
        for (const QJsonValue &row : answer->value(QString(DownloadListMember)).toArray())
            added.append(row);
        addPieces(api, std::move(requests), first + count, std::move(added), std::move(done), send);
    });
}

std::optional<ApiClient::RefusedItem> ApiClient::refusedItem(const QString &message)
{
    static const QRegularExpression item(QRegularExpression::anchoredPattern(QStringLiteral("downloads\\[(\\d+)\\]: (.*)")),
                                         QRegularExpression::DotMatchesEverythingOption);
    const QRegularExpressionMatch m = item.match(message);
    if (!m.hasMatch())
        return std::nullopt;
    return RefusedItem{m.captured(1).toLongLong(), m.captured(2)};
}

void ApiClient::addDownloads(const QList<QJsonObject> &requests, Callback done)
{
    addPieces(this, requests, 0, {}, std::move(done), [this](const QList<QJsonObject> &piece, Callback pieceDone) {
        QJsonArray list;
        for (const QJsonObject &r : piece)
            list.append(r);
        send("POST", QStringLiteral("/api/v1/downloads"),
             QJsonDocument(QJsonObject{{QString(DownloadListMember), list}}).toJson(QJsonDocument::Compact),
             [this, piece, pieceDone](Result<QJsonObject> answer) {
            // A server that reads only `url` refuses the list as a download without one.
            if (!answer && answer.error().code == "invalid_url" && !answer.error().message.startsWith(u"downloads["))
                return addOneByOne(this, piece, {}, pieceDone);
            pieceDone(std::move(answer));
        });
    });
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
