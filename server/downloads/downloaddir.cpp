#include "downloads/downloaddir.h"

#include "downloads/filenames.h"

#include <QDir>
#include <QFile>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Hermes {

struct DownloadDir::Handle
{
    int fd = -1;
    ~Handle()
    {
        if (fd >= 0)
            ::close(fd);
    }
};

static QByteArray encoded(const QString &name)
{
    return QFile::encodeName(name);
}

DownloadDir::DownloadDir(QString path) : m_path(std::move(path)), m_handle(std::make_shared<Handle>())
{
}

Result<void> DownloadDir::open()
{
    if (m_handle->fd >= 0)
        return Result<void>::success();
    if (!QDir().mkpath(m_path))
        return Error::failed("download_dir", QStringLiteral("cannot create the download dir %1").arg(m_path));
    const int fd = ::open(encoded(m_path).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return Error::failed("download_dir", QStringLiteral("cannot open the download dir %1: %2")
                                                 .arg(m_path, QString::fromLocal8Bit(std::strerror(errno))));
    m_handle->fd = fd;
    return Result<void>::success();
}

QString DownloadDir::partName(const QString &id, qint64 generation)
{
    return generation > 0 ? QStringLiteral("%1.%2.part").arg(id).arg(generation) : id + QStringLiteral(".part");
}

bool DownloadDir::isReservedName(const QString &name)
{
    return name.endsWith(QStringLiteral(".part"), Qt::CaseInsensitive);
}

QString DownloadDir::pathOf(const QString &name) const
{
    return QDir(m_path).filePath(name);
}

// The error for `name`, from errno, naming the path.
static Error fileError(const DownloadDir &dir, const char *what, const QString &name, int error)
{
    const QString message = QStringLiteral("cannot %1 %2: %3")
                                .arg(QLatin1StringView(what), dir.pathOf(name), QString::fromLocal8Bit(std::strerror(error)));
    return error == EEXIST ? Error::conflict("file_exists", message)
        : error == ENOSPC || error == EDQUOT ? Error::unavailable("disk_full", message)
                                             : Error::failed("file_error", message);
}

Result<int> DownloadDir::createFile(const QString &name) const
{
    if (m_handle->fd < 0)
        return fileError(*this, "create", name, EBADF);
    // O_NONBLOCK: were a FIFO there, EEXIST already refuses it; it only keeps the rule simple.
    const int fd = ::openat(m_handle->fd, encoded(name).constData(),
                            O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0)
        return fileError(*this, "create", name, errno);
    return fd;
}

Result<int> DownloadDir::openRegular(const QString &name) const
{
    if (m_handle->fd < 0)
        return fileError(*this, "open", name, EBADF);
    // O_NONBLOCK: opening a FIFO planted under the name must not wait for a writer (it would
    // block the main thread for good); O_NOFOLLOW: a link is refused, not followed.
    const int fd = ::openat(m_handle->fd, encoded(name).constData(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return fileError(*this, "open", name, errno == ELOOP ? EMLINK : errno);
    struct stat st{};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return Error::failed("not_a_file", QStringLiteral("%1 is not a regular file (a FIFO, a device or a "
                                                          "directory was put there); it is left alone")
                                               .arg(pathOf(name)));
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

bool DownloadDir::exists(const QString &name) const
{
    struct stat st{};
    return m_handle->fd >= 0 && ::fstatat(m_handle->fd, encoded(name).constData(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

bool DownloadDir::isRegularFile(const QString &name) const
{
    struct stat st{};
    return m_handle->fd >= 0 && ::fstatat(m_handle->fd, encoded(name).constData(), &st, AT_SYMLINK_NOFOLLOW) == 0
        && S_ISREG(st.st_mode);
}

bool DownloadDir::remove(const QString &name) const
{
    return m_handle->fd >= 0 && ::unlinkat(m_handle->fd, encoded(name).constData(), 0) == 0;
}

QStringList DownloadDir::partsOf(const QString &id) const
{
    QStringList out;
    if (m_handle->fd < 0)
        return out;
    const int fd = ::dup(m_handle->fd);
    DIR *d = fd >= 0 ? ::fdopendir(fd) : nullptr;
    if (!d) {
        if (fd >= 0)
            ::close(fd);
        return out;
    }
    ::rewinddir(d);
    const QString prefix = id + u'.';
    while (const dirent *e = ::readdir(d)) {
        const QString name = QFile::decodeName(e->d_name);
        if (name.startsWith(prefix) && isReservedName(name))
            out.append(name);
    }
    ::closedir(d);
    return out;
}

Result<void> DownloadDir::renameNoReplace(const QString &from, const QString &to) const
{
    if (m_handle->fd < 0)
        return fileError(*this, "rename", from, EBADF);
    const QByteArray a = encoded(from), b = encoded(to);
    if (::renameat2(m_handle->fd, a.constData(), m_handle->fd, b.constData(), RENAME_NOREPLACE) == 0)
        return Result<void>::success();
    if (errno != EINVAL && errno != ENOSYS)
        return fileError(*this, "rename", from, errno);
    // A filesystem without RENAME_NOREPLACE (NFS, some FUSE): a hard link never replaces
    // either, and never follows a link; then the old name goes.
    if (::linkat(m_handle->fd, a.constData(), m_handle->fd, b.constData(), 0) != 0)
        return fileError(*this, "rename", from, errno);
    ::unlinkat(m_handle->fd, a.constData(), 0);
    return Result<void>::success();
}

QString DownloadDir::freeName(const QString &name) const
{
    for (int n = 0; n < 10000; ++n) {
        const QString candidate = FileNames::numbered(name, n);
        if (!isReservedName(candidate) && !exists(candidate))
            return candidate;
    }
    return {};
}

Result<QString> DownloadDir::place(const QString &from, const QString &name) const
{
    // Another node may take a name between the look and the rename: the rename refuses, and
    // the next free name is tried.
    for (int tries = 0; tries < 5; ++tries) {
        const QString target = freeName(name);
        if (target.isEmpty())
            break;
        const Result<void> renamed = renameNoReplace(from, target);
        if (renamed)
            return target;
        if (renamed.error().kind != Error::Kind::Conflict)
            return renamed.error();
    }
    return Error::failed("move_failed", QStringLiteral("cannot move %1 into place: no free name like %2")
                                            .arg(pathOf(from), name));
}

int DownloadDir::sync() const
{
    if (m_handle->fd < 0)
        return EBADF;
    return ::fsync(m_handle->fd) == 0 ? 0 : errno;
}

bool DownloadDir::setMode(const QString &name, int mode) const
{
    const Result<int> fd = openRegular(name);
    if (!fd)
        return false;
    const bool ok = ::fchmod(*fd, mode_t(mode)) == 0;
    ::close(*fd);
    return ok;
}

} // namespace Hermes
