#pragma once

#include "downloads/download.h"
#include "downloads/downloadservice.h"
#include "http/httpserver.h"
#include "result.h"

namespace Hermes {

class ApiKeyStore;
class DownloadService;
class HttpExchange;
class HttpServer;
class Metrics;

/// The REST API of the downloads: `/api/v1/downloads…` and `/api/v1/queue`, over
/// DownloadService. Every route needs the API key; errors are the JSON errors of every other
/// route, their status chosen here from the Error's kind. Answers come when the store has
/// answered (any node serves any download: the store is the truth); a store out of reach
/// gives 503 with Retry-After.
class DownloadRoutes final
{
public:
    /// A list page stops adding rows when its body would pass this (see listBody()).
    static constexpr qsizetype ListPageBytes = 1 << 20;

    DownloadRoutes(DownloadService *service, const ApiKeyStore &keys, Metrics *metrics);
    void registerOn(HttpServer *server);

private:
    void create(HttpExchange &ex);
    void list(HttpExchange &ex);
    /// The JSON body of a list page: at most ListPageBytes of rows (at least one).
    QByteArray listBody(const DownloadService::Page &page, const DownloadService::ListRequest &request) const;
    /// Appends `rows` to `body` as a JSON array, up to ListPageBytes (one row at least);
    /// `nextCursor` gets the JSON of the cursor after the last row written, or null when
    /// nothing follows.
    void appendRows(QByteArray *body, const QList<Download> &rows, bool more, QByteArray *nextCursor,
                    qsizetype *written) const;
    void get(HttpExchange &ex);
    void queue(HttpExchange &ex);
    void setPriority(HttpExchange &ex);
    /// `POST /api/v1/downloads/actions`: one action on many downloads (DownloadService::actOnMany).
    void actOnMany(HttpExchange &ex);
    /// Answers with the download the service hands back (status 200 or 201), or its error.
    std::function<void(Result<Download>)> rowReply(HttpExchange &ex, int status);
    static void replyWith(HttpExchange &ex, const Error &error);

    DownloadService *m_service;
    const ApiKeyStore &m_keys;
    Metrics *m_metrics;
};

} // namespace Hermes
