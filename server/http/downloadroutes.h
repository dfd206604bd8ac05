#pragma once

namespace Hermes {

class ApiKeyStore;
class DownloadEngine;
class HttpExchange;
class HttpServer;
class Metrics;

/// The REST API of the downloads: `/api/v1/downloads…` and `/api/v1/queue`. Every route
/// needs the API key; errors are the JSON errors of every other route.
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
    /// Runs an engine action on the download in the path, answering 200 with it, or the error.
    template<typename Action>
    void act(HttpExchange &ex, Action action);

    DownloadEngine *m_engine;
    const ApiKeyStore &m_keys;
    Metrics *m_metrics;
};

} // namespace Hermes
