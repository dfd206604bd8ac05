#include "processmetrics.h"

#include "metrics.h"

#include <QDateTime>
#include <QDir>
#include <QFile>

#include <sys/resource.h>
#include <unistd.h>

namespace Hermes {

ProcessMetrics::ProcessMetrics()
{
    // /proc/self/stat has the start time in clock ticks since boot, but the boot time is in
    // /proc/stat, which the hardened unit hides (ProcSubset=pid): take the time the server
    // started, from its own clock, minus how long the process ran before this object existed.
    double ranBefore = 0;
    QFile stat(QStringLiteral("/proc/self/stat"));
    QFile uptime(QStringLiteral("/proc/uptime"));
    if (stat.open(QIODevice::ReadOnly) && uptime.open(QIODevice::ReadOnly)) {
        const QByteArray text = stat.readAll();
        const QList<QByteArray> fields = text.mid(text.lastIndexOf(')') + 2).split(' ');
        const double startTicks = fields.value(19).toDouble(); // field 22 of stat(5)
        const double sinceBoot = uptime.readAll().split(' ').value(0).toDouble();
        if (startTicks > 0 && sinceBoot > 0)
            ranBefore = qMax(0.0, sinceBoot - startTicks / double(::sysconf(_SC_CLK_TCK)));
    }
    m_startTime = double(QDateTime::currentMSecsSinceEpoch()) / 1000.0 - ranBefore;
}

void ProcessMetrics::collect(MetricsWriter &w) const
{
    rusage usage{};
    if (::getrusage(RUSAGE_SELF, &usage) == 0) {
        const double cpu = double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
        w.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
        w.sampleReal("process_cpu_seconds_total", cpu);
    }
    const qsizetype fds = QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::System).size();
    w.family("process_open_fds", "gauge", "Number of open file descriptors.");
    w.sample("process_open_fds", quint64(fds));
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        w.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
        w.sample("process_max_fds", limit.rlim_cur == RLIM_INFINITY ? quint64(-1) : quint64(limit.rlim_cur));
    }
    QFile statm(QStringLiteral("/proc/self/statm"));
    if (statm.open(QIODevice::ReadOnly)) {
        const QList<QByteArray> pages = statm.readAll().split(' ');
        const quint64 pageSize = quint64(::sysconf(_SC_PAGESIZE));
        w.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
        w.sample("process_virtual_memory_bytes", pages.value(0).toULongLong() * pageSize);
        w.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        w.sample("process_resident_memory_bytes", pages.value(1).toULongLong() * pageSize);
    }
    w.family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
    w.sampleReal("process_start_time_seconds", m_startTime);
}

} // namespace Hermes
