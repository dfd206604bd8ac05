#pragma once

#include <QtGlobal>

namespace Hermes {

class DownloadEngine;
class DownloadStore;
class MetricsWriter;
struct QueueSummary;

/**
 * The families /metrics gathers from the parts main() owns, on every scrape (main thread).
 *
 * Downloads by status carry a `scope`: `node` figures are this node's own (sum them over the
 * nodes), `cluster` figures are the shared queue's, the same on every node (take max, never
 * sum) — so an aggregation cannot over-count by accident.
 */
namespace ServerMetrics {

/// `queue`: the queue summary over every node, refreshed in the background (a scrape never
/// waits on the database).
void collectDownloads(const DownloadEngine &engine, const QueueSummary &queue, MetricsWriter &w);
/// hermes_store_up, its query latency and failures.
void collectStore(const DownloadStore &store, bool postgres, MetricsWriter &w);
/// The front door's connections, besides the requests Metrics counts.
struct Connections
{
    qint64 streams = 0;
    qint64 rest = 0;     ///< the main listener's connections that are not streams
    qint64 metrics = 0;  ///< HERMES_METRICS_ADDRESS's listener
    qint64 parked = 0;   ///< over HERMES_HTTP_MAX_CONNECTIONS_PER_IP, waiting unread
    quint64 refused = 0; ///< closed unread at once: the address's parking was full too
    quint64 expired = 0; ///< closed unread after parking a whole header timeout
};
/// hermes_open_connections by kind, hermes_http_refused_connections_total by reason.
void collectConnections(const Connections &c, MetricsWriter &w);

} // namespace ServerMetrics
} // namespace Hermes
