#pragma once

#include "downloads/downloadengine.h"
#include "http/httpserver.h"

namespace Hermes {

class ApiKeyStore;
class DownloadEngine;
class HttpExchange;
class HttpServer;
class Metrics;

/// The REST API of the downloads: `/api/v1/downloads…` and `/api/v1/queue`. Every route
/// needs the API key; errors are the JSON errors of every other route. Answers come when the
/// store has answered (any node serves any download: the store is the truth); a store out of
/// reach gives 503 with Retry-After.
class DownloadRoutes final
{
public:
    DownloadRoutes(DownloadEngine *engine, const ApiKeyStore &keys, Metrics *metrics);
    void registerOn(HttpServer *server);

private:
    void create(HttpExchange &ex);
    void list(HttpExchange &ex);
    void get(HttpExchange &ex);
    void queue(HttpExchange &ex);
    void setPriority(HttpExchange &ex);
    /// Answers with the download the engine hands back (status 200 or 201), or its error.
    DownloadEngine::RowCallback rowReply(HttpExchange &ex, int status, const HeaderList &headers = {});
    static void replyWith(HttpExchange &ex, const DownloadEngine::Error &error);

    DownloadEngine *m_engine;
    const ApiKeyStore &m_keys;
    Metrics *m_metrics;
};

} // namespace Hermes
