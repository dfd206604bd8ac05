// Transfer's SHA-256, taken while the bytes arrive (TrailingHash, a step behind the writes;
// the Finished result waits for it, so verifying reads nothing again): it covers the whole part
// file from zero, after a resume (the saved prefix hashed while the rest is asked for), after a
// restart from zero (a 200 to a Range, or a file changed behind If-Range: the hash starts
// over), across many small reads and large ones; none is kept when no checksum is expected, or
// when every byte was there before the transfer started (then the finished file is read). A
// transfer stopped or destroyed while its prefix is hashed ends quietly.

#include "transferfixture.h"

#include <QCryptographicHash>
#include <QRandomGenerator>

using namespace Hermes;
using namespace Hermes::Test;

class tst_TransferHash : public QObject, protected TransferFixture
{
    Q_OBJECT

private slots:
    void init() { setUp(); }
    void cleanup() { tearDown(); }
    void fromZero();
    void resumedHashesThePrefixOnce();
    void restartFromZeroStartsTheHashOver_data();
    void restartFromZeroStartsTheHashOver();
    void noneWithoutAChecksum();
    void noneWhenEveryByteWasThere();
    void stoppedWhileThePrefixIsHashed();
    void randomSizesAndPaces();

private:
    static QString hex(const QByteArray &bytes)
    {
        return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
    }
    Download checked(const QString &url, qint64 have = 0, qint64 total = -1)
    {
        Download d = download(url, have, total);
        d.sha256 = QString(64, u'a'); // expected: whatever it is, the transfer hashes
        return d;
    }
};

void tst_TransferHash::fromZero()
{
    const QByteArray content = FileServer::makeContent(3 * 1024 * 1024 + 11, 41); // several 1 MiB reads
    m_files->addFile("/z.bin", {content});
    const auto r = run(checked(m_files->url("/z.bin")));
    QCOMPARE(r->results.value(0).kind, TransferResult::Kind::Finished);
    QCOMPARE(part(r->transfer->download().id), content);
    QCOMPARE(r->transfer->sha256(), hex(content));
}

void tst_TransferHash::resumedHashesThePrefixOnce()
{
    const QByteArray content = FileServer::makeContent(2 * 1024 * 1024 + 7, 42);
    m_files->addFile("/r.bin", {content});
    const qint64 have = 1536 * 1024 + 1;
    Download d = checked(m_files->url("/r.bin"), have, content.size());
    writePart(d.id, content.left(have));
    const auto r = run(d);
    QCOMPARE(r->results.value(0).kind, TransferResult::Kind::Finished);
    QCOMPARE(m_files->bytesServed("/r.bin"), content.size() - have); // only the rest was asked for
    QCOMPARE(part(d.id), content);
    QCOMPARE(r->transfer->sha256(), hex(content));
}

void tst_TransferHash::restartFromZeroStartsTheHashOver_data()
{
    QTest::addColumn<bool>("ranges");
    QTest::newRow("no Range support: 200") << false;
    QTest::newRow("changed behind If-Range") << true;
}

void tst_TransferHash::restartFromZeroStartsTheHashOver()
{
    QFETCH(bool, ranges);
    const QByteArray content = FileServer::makeContent(600 * 1024, 43);
    FileServer::File f{content};
    f.ranges = ranges;
    f.etag = "\"v2\"";
    m_files->addFile("/s.bin", f);
    const qint64 have = 100 * 1024;
    Download d = checked(m_files->url("/s.bin"), have, content.size());
    d.etag = QStringLiteral("\"v1\""); // the saved bytes are of another version
    writePart(d.id, QByteArray(int(have), 'x'));
    const auto r = run(d);
    QCOMPARE(r->results.value(0).kind, TransferResult::Kind::Finished);
    QVERIFY(r->transfer->download().note.contains(QStringLiteral("restarted from zero")));
    QCOMPARE(part(d.id), content);
    QCOMPARE(r->transfer->sha256(), hex(content)); // not the x's in front
}

void tst_TransferHash::noneWithoutAChecksum()
{
    m_files->addFile("/n.bin", {FileServer::makeContent(10 * 1024, 44)});
    const auto r = run(download(m_files->url("/n.bin")));
    QCOMPARE(r->results.value(0).kind, TransferResult::Kind::Finished);
    QVERIFY(r->transfer->sha256().isEmpty());
}

void tst_TransferHash::noneWhenEveryByteWasThere()
{
    const QByteArray content = FileServer::makeContent(10 * 1024, 45);
    m_files->addFile("/e.bin", {content});
    Download d = checked(m_files->url("/e.bin"), content.size(), content.size());
    writePart(d.id, content);
    const auto r = run(d);
    QCOMPARE(r->results.value(0).kind, TransferResult::Kind::Finished);
    QCOMPARE(m_files->requests("/e.bin"), 0);
    QVERIFY(r->transfer->sha256().isEmpty()); // FinishedFile reads the file instead
}

void tst_TransferHash::stoppedWhileThePrefixIsHashed()
{
    const QByteArray content = FileServer::makeContent(4 * 1024 * 1024, 46);
    m_files->addFile("/p.bin", {content});
    Download d = checked(m_files->url("/p.bin"), content.size() - 10, content.size());
    writePart(d.id, content.left(d.downloadedBytes));
    auto r = start(d);
    r->transfer->stop(false); // the prefix's hash is on the hash threads: it stops, unanswered
    QTest::qWait(500);
    QCOMPARE(r->results.size(), 1);
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Stopped);
    // And when the transfer is gone before the hash is done: nothing of it is touched (ASan).
    Download again = d;
    again.leaseGeneration = 2;
    auto gone = start(again);
    gone.reset();
    QTest::qWait(500);
}

void tst_TransferHash::randomSizesAndPaces()
{
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED")
        ? quint32(qEnvironmentVariableIntValue("HERMES_TEST_SEED")) : QRandomGenerator::global()->generate();
    qInfo("seed %u (HERMES_TEST_SEED=%u reproduces it)", seed, seed);
    QRandomGenerator rng(seed);
    for (int round = 0; round < 6; ++round) {
        const QByteArray content = FileServer::makeContent(1 + rng.bounded(1500 * 1024), seed + quint32(round));
        FileServer::File f{content};
        if (rng.bounded(2))
            f.bytesPerSecond = 2 * 1024 * 1024 + rng.bounded(8 * 1024 * 1024); // many small reads
        const QByteArray path = "/q" + QByteArray::number(round);
        m_files->addFile(path, f);
        const qint64 have = rng.bounded(2) ? qint64(rng.bounded(quint64(content.size()))) : 0;
        Download d = checked(m_files->url(path), have, have > 0 ? content.size() : -1);
        if (have > 0)
            writePart(d.id, content.left(have));
        const auto r = run(d);
        const QString context = QStringLiteral("seed %1 round %2: size %3, from %4, %5 B/s")
                                    .arg(seed).arg(round).arg(content.size()).arg(have).arg(f.bytesPerSecond);
        QVERIFY2(r->results.value(0).kind == TransferResult::Kind::Finished, qPrintable(context));
        QVERIFY2(part(d.id) == content, qPrintable(context));
        QVERIFY2(r->transfer->sha256() == hex(content), qPrintable(context));
    }
}

QTEST_MAIN(tst_TransferHash)
#include "tst_transferhash.moc"
