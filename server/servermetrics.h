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
/// hermes_open_connections by kind.
void collectConnections(qint64 streams, qint64 rest, qint64 metrics, MetricsWriter &w);

} // namespace ServerMetrics
} // namespace Hermes
