#include "storagedirs.h"

#include "settings/serversettings.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Hermes {

int StorageDirs::finishedFileMode(const ServerSettings &settings)
{
    return 0666 & ~settings.ops.downloadUmask & ~0022; // only the owner writes
}

static bool isInside(const QString &dir, const QString &parent)
{
    const QString d = QDir::cleanPath(QDir(dir).absolutePath());
    const QString p = QDir::cleanPath(QDir(parent).absolutePath());
    return d.startsWith(p + u'/');
}

static Result<void> setMode(const QString &path, int mode)
{
    if (::chmod(QFile::encodeName(path).constData(), mode_t(mode)) != 0)
        return Error::failed("cannot_set_mode", QStringLiteral("cannot set the mode of %1: %2")
                                                    .arg(path, QString::fromLocal8Bit(strerror(errno))));
    return {};
}

Result<void> StorageDirs::prepare(const ServerSettings &settings)
{
    if (!QDir().mkpath(settings.general.dataDir))
        return Error::failed("cannot_create_dir", QStringLiteral("HERMES_DATA_DIR: cannot create %1").arg(settings.general.dataDir));
    if (!QDir().mkpath(settings.downloads.downloadDir))
        return Error::failed("cannot_create_dir", QStringLiteral("HERMES_DOWNLOAD_DIR: cannot create %1").arg(settings.downloads.downloadDir));
    int dirMode = 0777 & ~settings.ops.downloadUmask & ~0222; // only the owner writes
    dirMode |= 0700;
    if (!settings.ops.downloadGroup.isEmpty()) {
        const group *g = ::getgrnam(settings.ops.downloadGroup.toLocal8Bit().constData());
        if (!g)
            return Error::invalid("unknown_group", QStringLiteral("HERMES_DOWNLOAD_GROUP: no group \"%1\"").arg(settings.ops.downloadGroup));
        if (::chown(QFile::encodeName(settings.downloads.downloadDir).constData(), uid_t(-1), g->gr_gid) != 0) {
            return Error::failed("cannot_set_group",
                                 QStringLiteral("HERMES_DOWNLOAD_GROUP: cannot give %1 to group %2 (the server must "
                                                "be a member of it): %3")
                                     .arg(settings.downloads.downloadDir, settings.ops.downloadGroup,
                                          QString::fromLocal8Bit(strerror(errno))));
        }
        dirMode |= S_ISGID; // part files, and so finished files, inherit the group
    }
    if (Result<void> set = setMode(settings.downloads.downloadDir, dirMode); !set)
        return set;
    // The data dir is private; readers of the download dir inside it may pass through it
    // (x) without listing it (r): its secrets are 0600 anyway.
    int dataMode = 0700;
    if (isInside(settings.downloads.downloadDir, settings.general.dataDir))
        dataMode |= dirMode & 0011;
    return setMode(settings.general.dataDir, dataMode);
}

} // namespace Hermes
