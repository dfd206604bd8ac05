#pragma once

#include <QString>
#include <QtGlobal>

namespace Hermes {

/**
 * Whether the download volume is almost full: once below `warningBytes` free it says so (a
 * notice for people), and not again until there was enough room in between.
 */
class DiskSpaceWatch final
{
public:
    DiskSpaceWatch(QString dir, qint64 warningBytes) : m_dir(std::move(dir)), m_warningBytes(warningBytes) {}

    /// The warning to give now, or an empty string.
    QString check();
    /// The same, for `freeBytes` free (-1: unknown).
    QString checkFree(qint64 freeBytes);
    /// The bytes free for an unprivileged user in `dir`'s volume, or -1. statvfs, not
    /// QStorageInfo: this is asked before every claim, and QStorageInfo reads the whole mount
    /// table each time.
    static qint64 freeBytes(const QString &dir);

private:
    QString m_dir;
    qint64 m_warningBytes;
    bool m_warned = false;
};

} // namespace Hermes
