// WritebackPacer: which ranges of a growing part file get their write-back started, and that
// starting one on a real file leaves its bytes and its size alone.
#include "downloads/writebackpacer.h"

#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <unistd.h>

using namespace Hermes;
using Range = WritebackPacer::Range;

class tst_WritebackPacer : public QObject
{
    Q_OBJECT
private slots:
    void aStepAtATime();
    void randomWritesAreCoveredOnceInOrder();
    void restartStartsOverFromItsOffset();
    void startsOnARealFile();
    void startsDetachedOnItsOwnThread();
};

void tst_WritebackPacer::aStepAtATime()
{
    WritebackPacer pacer(100);
    QCOMPARE(pacer.written(60), std::nullopt);
    QCOMPARE(pacer.written(99), std::nullopt);
    QCOMPARE(pacer.written(100), (Range{0, 100}));
    QCOMPARE(pacer.written(150), std::nullopt);
    // Writes larger than a step start all they brought at once.
    QCOMPARE(pacer.written(420), (Range{100, 320}));
    QCOMPARE(pacer.written(420), std::nullopt);
    QCOMPARE(WritebackPacer().written(WritebackPacer::StepBytes - 1), std::nullopt);
}

void tst_WritebackPacer::randomWritesAreCoveredOnceInOrder()
{
    // Seeded: any sequence of writes gets ranges that follow each other without a hole or an
    // overlap, each at least a step, and leave less than a step unstarted at the end.
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED")
        ? qEnvironmentVariable("HERMES_TEST_SEED").toUInt() : QRandomGenerator::global()->generate();
    QRandomGenerator rng(seed);
    for (int round = 0; round < 200; ++round) {
        const qint64 step = 1 + rng.bounded(5000);
        WritebackPacer pacer(step);
        qint64 end = 0;
        qint64 covered = 0;
        const int writes = 1 + int(rng.bounded(300));
        for (int i = 0; i < writes; ++i) {
            end += rng.bounded(3 * int(step));
            if (const auto r = pacer.written(end)) {
                QVERIFY2(r->offset == covered, qPrintable(QStringLiteral("seed %1").arg(seed)));
                QVERIFY2(r->length >= step && r->offset + r->length == end,
                         qPrintable(QStringLiteral("seed %1").arg(seed)));
                covered = end;
            }
        }
        QVERIFY2(end - covered < step, qPrintable(QStringLiteral("seed %1").arg(seed)));
    }
}

void tst_WritebackPacer::restartStartsOverFromItsOffset()
{
    WritebackPacer pacer(100);
    QCOMPARE(pacer.written(250), (Range{0, 250}));
    pacer.restart(0); // restarted from zero: the new bytes are new
    QCOMPARE(pacer.written(80), std::nullopt);
    QCOMPARE(pacer.written(120), (Range{0, 120}));
    pacer.restart(5000); // a resume: the bytes below were written before
    QCOMPARE(pacer.written(5050), std::nullopt);
    QCOMPARE(pacer.written(5100), (Range{5000, 100}));
    // Cut below what was started without a restart(): it starts over from the cut.
    QCOMPARE(pacer.written(30), std::nullopt);
    QCOMPARE(pacer.written(130), (Range{30, 100}));
}

// A part file in `dir` holding `bytes` (written, not yet synced): its descriptor, -1 on failure.
static int writtenFile(const QTemporaryDir &dir, const QByteArray &bytes)
{
    const QByteArray path = QFile::encodeName(dir.filePath(QStringLiteral("f.part")));
    const int fd = ::open(path.constData(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 && ::pwrite(fd, bytes.constData(), size_t(bytes.size()), 0) != ssize_t(bytes.size())) {
        ::close(fd);
        return -1;
    }
    return fd;
}

void tst_WritebackPacer::startsOnARealFile()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QByteArray bytes(3 * 1024 * 1024, 'h');
    const int fd = writtenFile(dir, bytes);
    QVERIFY(fd >= 0);
    QCOMPARE(WritebackPacer::start(fd, {0, bytes.size()}), 0);
    QCOMPARE(::fdatasync(fd), 0);
    QByteArray back(bytes.size(), Qt::Uninitialized);
    QCOMPARE(::pread(fd, back.data(), size_t(back.size()), 0), ssize_t(back.size()));
    QCOMPARE(back, bytes);
    QCOMPARE(WritebackPacer::start(-1, {0, 1}), EBADF);
    ::close(fd);
}

void tst_WritebackPacer::startsDetachedOnItsOwnThread()
{
    // The caller closes its descriptor at once (a transfer that ends): the write-back thread
    // works on its own duplicate, and says when it is done.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QByteArray bytes(2 * 1024 * 1024, 'w');
    const int fd = writtenFile(dir, bytes);
    QVERIFY(fd >= 0);
    auto busy = std::make_shared<std::atomic<bool>>(false);
    QVERIFY(WritebackPacer::startDetached(fd, {0, bytes.size()}, busy));
    ::close(fd);
    QTRY_VERIFY_WITH_TIMEOUT(!busy->load(), 5000);
    QFile file(dir.filePath(QStringLiteral("f.part")));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), bytes);
    QVERIFY(!WritebackPacer::startDetached(-1, {0, 1}, busy)); // nothing to duplicate
    QVERIFY(!busy->load());
}

QTEST_GUILESS_MAIN(tst_WritebackPacer)
#include "tst_writebackpacer.moc"
