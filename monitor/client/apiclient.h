#pragma once

#include "protocol/downloadstatus.h"
#include "result.h"

#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QObject>
#include <QUrl>

#include <functional>
#include <optional>

namespace Hermes {

/// The hermes-server REST API (downloads and queue), asynchronous, with a timeout per request.
/// Lives on the thread that created it (the GUI thread); callbacks run there.
class ApiClient final : public QObject
{
    Q_OBJECT
public:
    explicit ApiClient(QObject *parent = nullptr);

    /// The server root, e.g. http://127.0.0.1:8000.
    void setBaseUrl(const QUrl &url) { m_base = url; }
    QUrl baseUrl() const { return m_base; }
    void setApiKey(const QByteArray &key) { m_key = key; }

    /// The answer's JSON body on a 2xx status; otherwise an Error whose message is the server's
    /// (`{"error":{"code","message"}}`), else the network's, else "HTTP <status>", and whose
    /// kind follows the status (no answer at all: Unavailable).
    using Callback = std::function<void(Result<QJsonObject> body)>;

    /// One page of `GET /api/v1/downloads` (the server allows 1-1000 per page).
    void listDownloads(int offset, int limit, Callback done);
    /// The page after `cursor` (a `next_cursor` the server answered).
    void listDownloadsAfter(const QString &cursor, int limit, Callback done);
    void download(const QString &id, Callback done);
    void queue(Callback done);
    /// `priority` is sent only when set; `sha256` only when not empty.
    void addDownload(const QString &url, const QString &filename, Callback done,
                     const QString &sha256 = {}, std::optional<int> priority = {});
    /// One download's body for addDownloads(), as addDownload() sends it.
    static QJsonObject downloadRequest(const QString &url, const QString &filename,
                                       const QString &sha256 = {}, std::optional<int> priority = {});
    /// `POST /api/v1/downloads` with `{"downloads": [...]}`: a piece of at most MaxAddList
    /// requests and MaxAddBytes of body (the server's default limit is 64 KiB) is one request
    /// and one transaction, all added or none; pieces go one after the other and the first
    /// refusal ends it, its message starting `downloads[i]:` (i over the whole list) and
    /// saying how many earlier ones were added. The answer is `{"downloads": [the rows, in
    /// order]}`. A server older than lists answers `invalid_url` naming no item: then each is
    /// sent alone, one after the other (those before a failure stay added).
    void addDownloads(const QList<QJsonObject> &requests, Callback done);
    static constexpr int MaxAddList = 1000;
    /// A list refusal's item: its index and the reason, from a message `downloads[i]: reason`;
    /// nothing for any other message.
    struct RefusedItem
    {
        qsizetype index;
        QString reason;
    };
    static std::optional<RefusedItem> refusedItem(const QString &message);
    static constexpr qsizetype MaxAddBytes = 48 * 1024;
    /// `POST /api/v1/downloads/{id}/priority`: higher runs first (-1000..1000).
    void setPriority(const QString &id, int priority, Callback done);
    /// `POST /api/v1/downloads/{id}/<action>`.
    void act(const QString &id, DownloadAction action, Callback done);
    void remove(const QString &id, bool deleteFile, Callback done);
    /// `POST /api/v1/downloads/actions` on `ids`, one request: the answer is
    /// `{"changed", "skipped", "more"}`. At most MaxBulkIds, which fit the server's default
    /// body limit (64 KiB) with room to spare.
    void actOnMany(DownloadAction action, const QStringList &ids, Callback done);
    /// The same on every download in one of `statuses` (Pause All).
    void actOnStatuses(DownloadAction action, const QList<DownloadStatus> &statuses, Callback done);
    static constexpr int MaxBulkIds = 1000;
    /// Whether a failed bulk call says the server has no such route: an older one answers
    /// 405 (it has `GET /api/v1/downloads/{id}`), and the route itself never answers 404/405.
    static bool isMissingRoute(const Error &error)
    {
        return error.code == "method_not_allowed" || error.code == "http_405" || error.code == "http_404";
    }

private:
    void send(const QByteArray &verb, const QString &path, const QByteArray &body, Callback done);

    QNetworkAccessManager m_network;
    QUrl m_base;
    QByteArray m_key;
};

} // namespace Hermes
