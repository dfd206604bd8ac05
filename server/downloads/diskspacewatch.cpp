#include "downloads/diskspacewatch.h"

#include <QFile>
#include <QStorageInfo>

#include <sys/statvfs.h>

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

qint64 DiskSpaceWatch::freeBytes(const QString &dir)
{
    struct statvfs fs{};
    return ::statvfs(QFile::encodeName(dir).constData(), &fs) == 0 ? qint64(fs.f_bavail) * qint64(fs.f_frsize) : -1;
}

} // namespace Hermes
