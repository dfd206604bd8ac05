#include "downloads/writebackpacer.h"

#include "pooltask.h"

#include <QThreadPool>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace Hermes {

WritebackPacer::WritebackPacer(qint64 stepBytes) : m_step(qMax<qint64>(1, stepBytes))
{
}

void WritebackPacer::restart(qint64 offset)
{
    m_started = qMax<qint64>(0, offset);
}

std::optional<WritebackPacer::Range> WritebackPacer::written(qint64 end)
{
    if (end < m_started) // the file was cut below what was started: start over from its end
        m_started = end;
    if (end - m_started < m_step)
        return std::nullopt;
    const Range range{m_started, end - m_started};
    m_started = end;
    return range;
}

int WritebackPacer::start(int fd, Range range)
{
    return ::sync_file_range(fd, range.offset, range.length, SYNC_FILE_RANGE_WRITE) == 0 ? 0 : errno;
}

// One thread for every file's write-back: the device queues them anyway, and a slow disk
// holds up only this thread. Never destroyed: a task still waiting on a slow disk at exit must
// not hold the process's exit up (the final fdatasyncs are on the global pool).
static QThreadPool &writebackThread()
{
    static QThreadPool *pool = newLastingPool(QStringLiteral("hermes-writeback"), 1);
    return *pool;
}

bool WritebackPacer::startDetached(int fd, Range range, const std::shared_ptr<std::atomic<bool>> &busy)
{
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0)
        return false;
    busy->store(true, std::memory_order_release);
    startPoolTask(writebackThread(), [copy, range, busy] {
        start(copy, range);
        ::close(copy);
        busy->store(false, std::memory_order_release);
    });
    return true;
}

} // namespace Hermes
