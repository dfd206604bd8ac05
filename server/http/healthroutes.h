#pragma once

#include "threadaffinity.h"

namespace Hermes {

class Broker;
class DownloadStore;
class HttpExchange;
class HttpServer;

/**
 * Health for machines (load balancers, orchestrators, systemd-less supervisors):
 *
 * - `GET /livez`: 200 while the process answers HTTP (its event loop runs). Restart it when
 *   this fails.
 * - `GET /readyz`: 200 when the node can do its work, 503 while the broker is down, the
 *   download store is unreachable, or the server is shutting down. Send it no traffic then.
 *
 * Both need no credential and reveal nothing beyond up/down. The seed's richer
 * `/api/v1/events/health` (always 200) stays for people and the Python Hermes' clients.
 *
 * Runs on the front door's thread: the probes and setShuttingDown() (from the shutdown
 * signal's handler) assert it.
 */
class HealthRoutes final
{
public:
    HealthRoutes(const Broker *broker, const DownloadStore *store);

    void registerOn(HttpServer *server);
    /// From now on readiness fails: a supervisor stops sending new requests.
    void setShuttingDown();

private:
    void live(HttpExchange &ex);
    void ready(HttpExchange &ex);

    const Broker *m_broker;
    const DownloadStore *m_store;
    bool m_shuttingDown = false;
    ThreadAffinity m_thread;
};

} // namespace Hermes
