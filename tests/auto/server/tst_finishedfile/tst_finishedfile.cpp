// FinishedFile: the SHA-256 check (off the event loop, answered on the caller's thread, not at
// all once the caller is gone), from the file or from the digest taken while it arrived; the
// syncs of files that finished together wait together, not a CPU's count at a time. Moving
// into place is DownloadDir's (tst_downloaddir).

#include "downloads/finishedfile.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>

using namespace Hermes;

class tst_FinishedFile : public QObject
{
    Q_OBJECT

private slots:
    void verifies_data();
    void verifies();
    void answersNobodyOnceTheCallerIsGone();
    void syncsOfFilesFinishedTogetherWaitTogether();
    void failedSyncIsReported();

private:
    QString write(const QString &name, const QByteArray &bytes)
    {
        const QString path = QDir(m_dir.path()).filePath(name);
        QFile f(path);
        if (f.open(QIODevice::WriteOnly))
            f.write(bytes);
        return path;
    }
    QTemporaryDir m_dir;
};

void tst_FinishedFile::verifies_data()
{
    QTest::addColumn<QString>("expected");
    QTest::addColumn<QString>("hashed"); // Transfer::sha256(): empty, the file is read
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QString>("got");
    const QByteArray content = "the whole file";
    const QString digest = QString::fromLatin1(QCryptographicHash::hash(content, QCryptographicHash::Sha256).toHex());
    QTest::newRow("matches") << digest << QString() << true << digest;
    QTest::newRow("no hash asked") << QString() << QString() << true << QString();
    QTest::newRow("differs") << QString(64, u'0') << QString() << false << digest;
    // The digest taken while the bytes arrived stands for the file: it is not read again.
    QTest::newRow("hashed, matches") << QString(64, u'2') << QString(64, u'2') << true << QString();
    QTest::newRow("hashed, differs") << digest << QString(64, u'3') << false << QString(64, u'3');
}

void tst_FinishedFile::verifies()
{
    QFETCH(QString, expected);
    QFETCH(QString, hashed);
    QFETCH(bool, ok);
    QFETCH(QString, got);
    const QString path = write(QStringLiteral("x.part"), "the whole file");
    std::optional<Result<void>> verdict;
    QThread *answeredOn = nullptr;
    FinishedFile::verify(this, path, expected, hashed, [&](Result<void> r) {
        verdict.emplace(r);
        answeredOn = QThread::currentThread();
    });
    QVERIFY(!verdict); // later, not from the call
    QTRY_VERIFY_WITH_TIMEOUT(verdict.has_value(), 5000);
    QCOMPARE(answeredOn, thread());
    QCOMPARE(verdict->ok(), ok);
    if (!ok) {
        QCOMPARE(verdict->error().code, QByteArray("checksum_mismatch"));
        QCOMPARE(verdict->error().message, QStringLiteral("SHA-256 mismatch: expected %1, got %2").arg(expected, got));
    }
}

void tst_FinishedFile::answersNobodyOnceTheCallerIsGone()
{
    const QString path = write(QStringLiteral("y.part"), QByteArray(1 << 20, 'y'));
    bool answered = false;
    auto *caller = new QObject;
    FinishedFile::verify(caller, path, QString(64, u'1'), QString(), [&](Result<void>) { answered = true; });
    delete caller;
    QTest::qWait(300);
    QVERIFY(!answered);
}

void tst_FinishedFile::syncsOfFilesFinishedTogetherWaitTogether()
{
    // More files than the machine has CPUs (the global pool's size) finish at once: every sync
    // is under way before any of them returns (each waits, bounded, until all are in, then
    // syncs its real file). On a pool sized for CPU work the first ones would wait out their
    // bound and the rest run after them.
    const int files = QThread::idealThreadCount() + 4;
    auto inside = std::make_shared<std::atomic<int>>(0);
    auto mostAtOnce = std::make_shared<std::atomic<int>>(0);
    const FinishedFile::Syncer sync = [inside, mostAtOnce, files](int fd) {
        const int now = ++*inside;
        for (int seen = mostAtOnce->load(); now > seen && !mostAtOnce->compare_exchange_weak(seen, now);) {
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
        while (mostAtOnce->load() < files && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        const int error = FinishedFile::fdatasync(fd);
        --*inside;
        return error;
    };
    int ok = 0;
    for (int i = 0; i < files; ++i) {
        const QString path = write(QStringLiteral("together%1.part").arg(i), QByteArray(64 * 1024, char('a' + i % 26)));
        FinishedFile::verify(this, path, QString(), QString(), [&ok](Result<void> r) { ok += r.ok(); }, sync);
    }
    QTRY_COMPARE_WITH_TIMEOUT(ok, files, 20000);
    QCOMPARE(mostAtOnce->load(), files);
}

void tst_FinishedFile::failedSyncIsReported()
{
    const QString path = write(QStringLiteral("eio.part"), "bytes the disk lost");
    std::optional<Result<void>> verdict;
    FinishedFile::verify(this, path, QString(), QString(), [&](Result<void> r) { verdict.emplace(r); },
                         [](int) { return EIO; });
    QTRY_VERIFY_WITH_TIMEOUT(verdict.has_value(), 5000);
    QVERIFY(!verdict->ok());
    QCOMPARE(verdict->error().code, QByteArray("sync_failed"));
    QVERIFY(verdict->error().message.contains(path));
}

QTEST_MAIN(tst_FinishedFile)
#include "tst_finishedfile.moc"
