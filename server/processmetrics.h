#pragma once

namespace Hermes {

class MetricsWriter;

/**
 * The standard process metrics of Prometheus client libraries, read from /proc/self:
 * process_cpu_seconds_total, process_open_fds, process_max_fds, process_virtual_memory_bytes,
 * process_resident_memory_bytes, process_start_time_seconds. Streams are file descriptors, so
 * open against max fds is the figure that warns before `ulimit -n` bites.
 */
class ProcessMetrics final
{
public:
    ProcessMetrics();
    void collect(MetricsWriter &w) const;

private:
    double m_startTime = 0; ///< Unix seconds
};

} // namespace Hermes
