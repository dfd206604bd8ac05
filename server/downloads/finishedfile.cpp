#include "downloads/finishedfile.h"

#include "downloads/sha256.h"
#include "logging.h"

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

void verify(QObject *context, const QString &partPath, const QString &expected, const QString &hashed,
            std::function<void(Result<void>)> done)
{
    QPointer<QObject> guard(context);
    QThreadPool::globalInstance()->start([guard, partPath, expected, hashed, done = std::move(done)] {
        QString actual = hashed;
        const int fd = ::open(QFile::encodeName(partPath).constData(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
            // The one sync of a download: its bytes on the disk before its final name appears
            // (a power loss then leaves a whole file or a part file, never a short file under
            // the final name). Once per file, here, instead of per write: curl and aria2c do
            // none; a sync per block would make the disk's latency the transfer's pace.
            if (::fdatasync(fd) != 0)
                qCWarning(lcHub).noquote() << "cannot sync" << partPath << ":" << std::strerror(errno);
            struct stat st{};
            if (!expected.isEmpty() && actual.isEmpty() && ::fstat(fd, &st) == 0)
                actual = Sha256::ofFile(fd, st.st_size); // not hashed while it arrived
            ::close(fd);
        }
        // Back on the application's thread, where `guard` is checked (and its owner lives).
        QMetaObject::invokeMethod(qApp, [guard, expected, actual, done] {
            if (!guard)
                return;
            if (!expected.isEmpty() && actual != expected)
                return done(Error::failed("checksum_mismatch",
                                          QStringLiteral("SHA-256 mismatch: expected %1, got %2").arg(expected, actual)));
            done(Result<void>::success());
        }, Qt::QueuedConnection);
    });
}

} // namespace Hermes::FinishedFile
