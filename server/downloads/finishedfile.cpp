#include "downloads/finishedfile.h"

#include "downloads/diskwaits.h"
#include "downloads/sha256.h"
#include "logging.h"
#include "pooltask.h"

#include <QCoreApplication>
#include <QFile>
#include <QPointer>
#include <QThreadPool>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Hermes::FinishedFile {

int fdatasync(int fd)
{
    return ::fdatasync(fd) == 0 ? 0 : errno;
}

namespace {

// The verdict, handed to `done` on the application's thread, where `guard` is checked (and its
// owner lives).
void answer(const QPointer<QObject> &guard, const QString &partPath, const QString &expected,
            const QString &actual, int syncError, const std::function<void(Result<void>)> &done)
{
    QMetaObject::invokeMethod(qApp, [guard, expected, actual, syncError, partPath, done] {
        if (!guard)
            return;
        if (syncError != 0)
            return done(Error::unavailable("sync_failed", QStringLiteral("cannot sync %1 to the disk: %2")
                                                              .arg(partPath, QString::fromLocal8Bit(std::strerror(syncError)))));
        if (!expected.isEmpty() && actual != expected)
            return done(Error::failed("checksum_mismatch",
                                      QStringLiteral("SHA-256 mismatch: expected %1, got %2").arg(expected, actual)));
        done(Result<void>::success());
    }, Qt::QueuedConnection);
}

} // namespace

void verify(QObject *context, const QString &partPath, const QString &expected, const QString &hashed,
            std::function<void(Result<void>)> done, Syncer sync)
{
    QPointer<QObject> guard(context);
    startPoolTask(DiskWaits::threads(), [guard, partPath, expected, hashed, done = std::move(done), sync = std::move(sync)] {
        const int fd = ::open(QFile::encodeName(partPath).constData(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) // gone: the hash (empty) says so when one is expected
            return answer(guard, partPath, expected, hashed, 0, done);
        // The one sync of a download: its bytes on the disk before its final name appears
        // (a power loss then leaves a whole file or a part file, never a short file under
        // the final name). Once per file, here, instead of per write: curl and aria2c do
        // none; a sync per block would make the disk's latency the transfer's pace.
        // A failed sync (EIO: the write-back of some page failed) means bytes the hash saw
        // in memory may not be the file's: the download is not finished.
        const int syncError = sync(fd);
        if (syncError != 0 || expected.isEmpty() || !hashed.isEmpty()) {
            ::close(fd);
            return answer(guard, partPath, expected, hashed, syncError, done);
        }
        // Not hashed while it arrived: read, on the global pool (CPU, not a wait).
        startPoolTask(*QThreadPool::globalInstance(), [fd, guard, partPath, expected, done] {
            struct stat st{};
            const QString actual = ::fstat(fd, &st) == 0 ? Sha256::ofFile(fd, st.st_size) : QString();
            ::close(fd);
            answer(guard, partPath, expected, actual, 0, done);
        });
    });
}

} // namespace Hermes::FinishedFile
