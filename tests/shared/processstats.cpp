#include "processstats.h"

#include <QFile>

#include <dirent.h>
#include <unistd.h>

namespace Hermes::Test {

// A "Name:   123 kB" line of /proc/<pid>/status, in KB.
static qint64 statusKb(qint64 pid, QByteArrayView name)
{
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith(name) && line.size() > name.size() && line[name.size()] == ':')
            return line.mid(name.size() + 1).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

qint64 rssKb(qint64 pid)
{
    return statusKb(pid, "VmRSS");
}

qint64 peakRssKb(qint64 pid)
{
    return statusKb(pid, "VmHWM");
}

qint64 cpuMs(qint64 pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray all = stat.readAll();
    // After "(comm)": state is field 3, utime 14 and stime 15.
    const QList<QByteArray> fields = all.mid(all.lastIndexOf(')') + 2).split(' ');
    const qint64 ticks = fields.value(11).toLongLong() + fields.value(12).toLongLong();
    return ticks * 1000 / ::sysconf(_SC_CLK_TCK);
}

int openDescriptors(qint64 pid)
{
    DIR *dir = ::opendir(QStringLiteral("/proc/%1/fd").arg(pid).toLocal8Bit().constData());
    if (!dir)
        return -1;
    int count = 0;
    while (const dirent *entry = ::readdir(dir))
        count += entry->d_name[0] != '.';
    ::closedir(dir);
    return count;
}

int memoryFactor(qint64 pid)
{
    QFile maps(QStringLiteral("/proc/%1/maps").arg(pid));
    const QByteArray mapped = maps.open(QIODevice::ReadOnly) ? maps.readAll() : QByteArray();
    return mapped.contains("libasan") ? 4 : mapped.contains("libtsan") ? 16 : 1;
}

void measureOwnMemory(QProcessEnvironment &env)
{
    env.insert(QStringLiteral("ASAN_OPTIONS"),
               qEnvironmentVariable("ASAN_OPTIONS")
                   + QStringLiteral(":quarantine_size_mb=4:allocator_release_to_os_interval_ms=200"));
}

} // namespace Hermes::Test
