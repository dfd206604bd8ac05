// Sha256 (libcrypto) against QCryptographicHash: any split of the input gives the same digest,
// reset() starts over, hex() leaves the running state alone, a file's range is read whole or
// not at all. Prints both implementations' speed (the reason libcrypto was chosen).

#include "downloads/sha256.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTemporaryFile>
#include <QTest>

using namespace Hermes;

class tst_Sha256 : public QObject
{
    Q_OBJECT

private slots:
    void knownDigests();
    void anySplitGivesTheSameDigest();
    void resetAndMove();
    void fileRanges();
    void speed();
};

static QString qtHex(const QByteArray &bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

void tst_Sha256::knownDigests()
{
    Sha256 empty;
    QCOMPARE(empty.hex(), QStringLiteral("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    Sha256 abc;
    abc.add("abc", 3);
    QCOMPARE(abc.hex(), QStringLiteral("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

void tst_Sha256::anySplitGivesTheSameDigest()
{
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED")
        ? quint32(qEnvironmentVariableIntValue("HERMES_TEST_SEED")) : QRandomGenerator::global()->generate();
    qInfo("seed %u (HERMES_TEST_SEED=%u reproduces it)", seed, seed);
    QRandomGenerator rng(seed);
    for (int round = 0; round < 20; ++round) {
        QByteArray bytes(int(rng.bounded(200000)), Qt::Uninitialized);
        for (char &c : bytes)
            c = char(rng.bounded(256));
        Sha256 hash;
        qsizetype at = 0;
        while (at < bytes.size()) {
            const qsizetype n = qMin<qsizetype>(bytes.size() - at, 1 + rng.bounded(70000));
            hash.add(bytes.constData() + at, n);
            at += n;
            if (rng.bounded(4) == 0) // a look on the way changes nothing
                QCOMPARE(hash.hex(), qtHex(bytes.left(at)));
        }
        QVERIFY2(hash.hex() == qtHex(bytes), qPrintable(QStringLiteral("seed %1 round %2").arg(seed).arg(round)));
    }
}

void tst_Sha256::resetAndMove()
{
    Sha256 hash;
    hash.add("something else", 14);
    hash.reset();
    hash.add("abc", 3);
    Sha256 moved(std::move(hash));
    QCOMPARE(moved.hex(), qtHex("abc"));
    Sha256 assigned;
    assigned = std::move(moved);
    assigned.add("d", 1);
    QCOMPARE(assigned.hex(), qtHex("abcd"));
}

void tst_Sha256::fileRanges()
{
    QTemporaryFile file;
    QVERIFY(file.open());
    const QByteArray bytes = QByteArray(3 * 1024 * 1024 + 5, 'x') + "tail";
    QCOMPARE(file.write(bytes), bytes.size());
    QVERIFY(file.flush());
    const int fd = int(file.handle());
    QCOMPARE(Sha256::ofFile(fd, bytes.size()), qtHex(bytes));
    QCOMPARE(Sha256::ofFile(fd, 1000), qtHex(bytes.left(1000)));
    QCOMPARE(Sha256::ofFile(fd, 0), qtHex({}));
    QVERIFY(Sha256::ofFile(fd, bytes.size() + 1).isEmpty()); // past the end: not all there
    Sha256 hash;
    hash.add(bytes.constData(), 10);
    QVERIFY(Sha256::addFile(hash, fd, 10, bytes.size()));
    QCOMPARE(hash.hex(), qtHex(bytes));
}

void tst_Sha256::speed()
{
    const QByteArray block(1024 * 1024, 'b');
    const int blocks = 32;
    QElapsedTimer timer;
    timer.start();
    Sha256 ours;
    for (int i = 0; i < blocks; ++i)
        ours.add(block.constData(), block.size());
    const QString a = ours.hex();
    const qint64 oursNs = qMax<qint64>(1, timer.nsecsElapsed());
    timer.restart();
    QCryptographicHash qt(QCryptographicHash::Sha256);
    for (int i = 0; i < blocks; ++i)
        qt.addData(block);
    const QString b = QString::fromLatin1(qt.result().toHex());
    const qint64 qtNs = qMax<qint64>(1, timer.nsecsElapsed());
    QCOMPARE(a, b);
    qInfo("SHA-256 of %d MiB: libcrypto %.0f MB/s, QCryptographicHash %.0f MB/s", blocks,
          blocks * 1048.576 / (double(oursNs) / 1e6), blocks * 1048.576 / (double(qtNs) / 1e6));
}

QTEST_MAIN(tst_Sha256)
#include "tst_sha256.moc"
