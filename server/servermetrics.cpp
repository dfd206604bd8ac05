#include "servermetrics.h"

#include "downloads/downloadengine.h"
#include "downloads/downloadstore.h"
#include "metricswriter.h"
#include "protocol/payloads.h"

#include <QStorageInfo>

namespace Hermes::ServerMetrics {

void collectDownloads(const DownloadEngine &engine, const QueueSummary &queue, MetricsWriter &w)
{
    w.family("hermes_downloads", "gauge",
             "Downloads by status; scope=\"node\": this node's own (sum over nodes), "
             "scope=\"cluster\": the shared queue's, the same on every node (take max).");
    w.sample("hermes_downloads", quint64(engine.runningCount()), "scope=\"node\",status=\"active\"");
    w.sample("hermes_downloads", quint64(queue.active), "scope=\"cluster\",status=\"active\"");
    w.sample("hermes_downloads", quint64(queue.queued), "scope=\"cluster\",status=\"queued\"");
    w.sample("hermes_downloads", quint64(queue.paused), "scope=\"cluster\",status=\"paused\"");
    const DownloadEngine::Stats &stats = engine.stats();
    w.family("hermes_downloads_completed_total", "counter", "Downloads this node finished and verified.");
    w.sample("hermes_downloads_completed_total", stats.completed);
    w.family("hermes_downloads_failed_total", "counter", "Downloads that failed for good on this node.");
    w.sample("hermes_downloads_failed_total", stats.failed);
    w.family("hermes_downloads_retried_total", "counter", "Retries after network errors and 5xx answers on this node.");
    w.sample("hermes_downloads_retried_total", stats.retried);
    w.family("hermes_downloaded_bytes_total", "counter", "Bytes this node received for downloads.");
    w.sample("hermes_downloaded_bytes_total", stats.bytes);
    const QStorageInfo volume(engine.downloadDir());
    if (volume.isValid() && volume.bytesTotal() > 0) {
        w.family("hermes_download_volume_free_bytes", "gauge", "Bytes available to the server on the download volume.");
        w.sample("hermes_download_volume_free_bytes", quint64(std::max<qint64>(volume.bytesAvailable(), 0)));
        w.family("hermes_download_volume_size_bytes", "gauge", "Size of the download volume in bytes.");
        w.sample("hermes_download_volume_size_bytes", quint64(volume.bytesTotal()));
    }
}

void collectStore(const DownloadStore &store, bool postgres, MetricsWriter &w)
{
    const QByteArray backend = postgres ? "backend=\"postgresql\"" : "backend=\"sqlite\"";
    w.family("hermes_store_up", "gauge", "1 when the download store's own connection answered its last query (a failed read makes it check).");
    w.sample("hermes_store_up", store.isReachable() ? 1 : 0, backend);
    store.queryLatency().render(w, "hermes_store_query_duration_seconds",
                                "Time from a store query to its answer (the wait for the store's "
                                "thread included).");
    w.family("hermes_store_failed_queries_total", "counter",
             "Store queries that failed or were not answered within their timeout.");
    w.sample("hermes_store_failed_queries_total", store.failedQueries());
}

void collectConnections(const Connections &c, MetricsWriter &w)
{
    w.family("hermes_open_connections", "gauge",
             "Open client connections, by kind (stream: event streams; rest: the main "
             "listener's other connections; metrics: HERMES_METRICS_ADDRESS's listener; parked: "
             "over HERMES_HTTP_MAX_CONNECTIONS_PER_IP, waiting unread for a slot).");
    w.sample("hermes_open_connections", quint64(c.streams), "kind=\"stream\"");
    w.sample("hermes_open_connections", quint64(c.rest), "kind=\"rest\"");
    w.sample("hermes_open_connections", quint64(c.metrics), "kind=\"metrics\"");
    w.sample("hermes_open_connections", quint64(c.parked), "kind=\"parked\"");
    w.family("hermes_http_refused_connections_total", "counter",
             "Connections closed without reading a request, by reason (per_address_limit: "
             "HERMES_HTTP_MAX_CONNECTIONS_PER_IP and its parking were full; parked_timeout: "
             "parked a whole HERMES_HTTP_HEADER_TIMEOUT without a slot).");
    w.sample("hermes_http_refused_connections_total", c.refused, "reason=\"per_address_limit\"");
    w.sample("hermes_http_refused_connections_total", c.expired, "reason=\"parked_timeout\"");
}

} // namespace Hermes::ServerMetrics
