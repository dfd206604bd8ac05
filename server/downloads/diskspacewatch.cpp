#include "downloads/diskspacewatch.h"

#include <QStorageInfo>

namespace Hermes {

QString DiskSpaceWatch::check()
{
    return checkFree(QStorageInfo(m_dir).bytesAvailable());
}

QString DiskSpaceWatch::checkFree(qint64 free)
{
    if (free < 0)
        return {};
    if (free < m_warningBytes && !m_warned) {
        m_warned = true;
        return QStringLiteral("Disk almost full: %1 MB free for downloads in %2").arg(free >> 20).arg(m_dir);
    }
    if (free >= m_warningBytes)
        m_warned = false;
    return {};
}

} // namespace Hermes
