#include "downloads/finishedfile.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QFile>
#include <QPointer>
#include <QThreadPool>


namespace Hermes::FinishedFile {

void verify(QObject *context, const QString &partPath, const QString &expected,
            std::function<void(Result<void>)> done)
{
    QPointer<QObject> guard(context);
    QThreadPool::globalInstance()->start([guard, partPath, expected, done = std::move(done)] {
        QString actual;
        if (!expected.isEmpty()) {
            QFile file(partPath);
            QCryptographicHash hash(QCryptographicHash::Sha256);
            if (file.open(QIODevice::ReadOnly) && hash.addData(&file))
                actual = QString::fromLatin1(hash.result().toHex());
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
