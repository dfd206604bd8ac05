#include "downloads/writebackpacer.h"

#include <cerrno>
#include <fcntl.h>

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

} // namespace Hermes
