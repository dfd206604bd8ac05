#include "broker/journalfiles.h"

#include "logging.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Hermes::JournalFiles {

static QString lastError()
{
    return QString::fromLocal8Bit(std::strerror(errno));
}

static Error unavailable(QString message)
{
    return Error::failed("history_unavailable", std::move(message));
}

bool writeAll(int fd, QByteArrayView bytes)
{
    qsizetype done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, size_t(bytes.size() - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += n;
    }
    return true;
}

JournalChain::File readSegment(const QString &path, int number, int maxRecordBytes, Channel channel,
                               quint32 epoch)
{
    JournalChain::File file;
    file.number = number;
    QByteArray bytes;
    bool regular = false;
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st = {};
    if (fd >= 0 && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        regular = true;
        QFile f;
        if (f.open(fd, QIODevice::ReadOnly, QFileDevice::DontCloseHandle))
            bytes = f.readAll();
    }
    if (fd >= 0)
        ::close(fd);
    file.size = bytes.size();
    file.scan = JournalSegment::scan(bytes, channel, epoch, maxRecordBytes);
    if (!regular) {
        file.scan.headerProblem = QStringLiteral("not a regular file");
        file.scan.damageWhat = file.scan.headerProblem;
    }
    return file;
}

Result<void> replace(const QString &path, QByteArrayView bytes, bool sync)
{
    const QString temporary = path + QStringLiteral(".tmp");
    const int fd = ::open(QFile::encodeName(temporary).constData(),
                          O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    const bool written = fd >= 0 && writeAll(fd, bytes) && (!sync || ::fdatasync(fd) == 0);
    const QString why = lastError();
    const bool closed = fd >= 0 && ::close(fd) == 0;
    if (!written || !closed
        || ::rename(QFile::encodeName(temporary).constData(), QFile::encodeName(path).constData()) != 0) {
        const QString message = QStringLiteral("cannot write %1: %2").arg(path, written && closed ? lastError() : why);
        QFile::remove(temporary);
        return unavailable(message);
    }
    return {};
}

QStringList Quarantine::moveAside(const QStringList &paths)
{
    if (m_dir.isEmpty()) {
        m_dir = QStringLiteral("%1/damaged/%2").arg(
            m_root, QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss-zzz")));
    }
    QStringList moved;
    for (const QString &path : paths) {
        const QString target = m_dir + u'/' + QDir(m_root).relativeFilePath(path);
        QDir().mkpath(QFileInfo(target).absolutePath());
        if (::rename(QFile::encodeName(path).constData(), QFile::encodeName(target).constData()) == 0)
            moved.append(target);
        else if (errno != ENOENT)
            qCCritical(lcBroker).noquote() << "history: cannot move" << path << "aside:" << lastError();
    }
    return moved;
}

Result<QString> replaceWithRecovered(const QString &path, const JournalChain::File &file, quint32 epoch,
                                     EventId floor, Quarantine &quarantine)
{
    QFile original(path);
    if (!original.open(QIODevice::ReadOnly) || !original.seek(file.scan.recoveredFrom))
        return unavailable(QStringLiteral("cannot reread %1").arg(path));
    const QByteArray records = original.read(file.scan.recoveredTo - file.scan.recoveredFrom);
    original.close();
    QByteArray bytes;
    JournalSegment::appendRecord(bytes, JournalSegment::headerPayload(epoch, floor, file.number, 0));
    bytes += records;
    // Written whole under the temporary name before the original moves: a crash in between
    // leaves either the damaged file (found again next time) or a gap (a floor), never less.
    const QString temporary = path + QStringLiteral(".tmp");
    const int fd = ::open(QFile::encodeName(temporary).constData(),
                          O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || !writeAll(fd, bytes) || ::fdatasync(fd) != 0) {
        const QString why = lastError();
        if (fd >= 0)
            ::close(fd);
        QFile::remove(temporary);
        return unavailable(QStringLiteral("cannot rewrite %1: %2").arg(path, why));
    }
    ::close(fd);
    const QStringList moved = quarantine.moveAside({path});
    if (::rename(QFile::encodeName(temporary).constData(), QFile::encodeName(path).constData()) != 0)
        return unavailable(QStringLiteral("cannot rename %1: %2").arg(temporary, lastError()));
    return moved.value(0);
}

} // namespace Hermes::JournalFiles
