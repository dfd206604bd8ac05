#include "downloads/datadirlock.h"

#include <QDir>
#include <QFile>
#include <QSysInfo>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace Hermes {

DataDirLock::~DataDirLock()
{
    if (m_fd >= 0)
        ::close(m_fd); // releases the lock; the file stays (removing it would race a new holder)
}

Result<void> DataDirLock::lock(const QString &dir)
{
    const QString path = QDir(dir).absoluteFilePath(fileName());
    const QByteArray native = QFile::encodeName(path);
    m_fd = ::open(native.constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m_fd < 0)
        return Error::failed("data_dir_lock", QStringLiteral("cannot create the lock file %1: %2")
                                                  .arg(path, QString::fromLocal8Bit(std::strerror(errno))));
    if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        char buffer[256] = {};
        const ssize_t n = ::pread(m_fd, buffer, sizeof buffer - 1, 0);
        const QString holder = n > 0 ? QString::fromUtf8(buffer, n).trimmed() : QString();
        ::close(m_fd);
        m_fd = -1;
        if (err != EWOULDBLOCK)
            return Error::failed("data_dir_lock", QStringLiteral("cannot lock %1: %2")
                                                      .arg(path, QString::fromLocal8Bit(std::strerror(err))));
        return Error::conflict("data_dir_in_use",
                               QStringLiteral("the data dir %1 is in use by another hermes-server%2; stop it, or give "
                                              "this one its own HERMES_DATA_DIR (several nodes share one queue "
                                              "through PostgreSQL, see HERMES_DATABASE_URL)")
                                   .arg(QDir(dir).absolutePath(),
                                        holder.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(holder)));
    }
    const QByteArray who = "pid " + QByteArray::number(qint64(::getpid())) + " on "
        + QSysInfo::machineHostName().toUtf8() + '\n';
    if (::ftruncate(m_fd, 0) == 0)
        (void)::pwrite(m_fd, who.constData(), size_t(who.size()), 0);
    return Result<void>::success();
}

} // namespace Hermes
