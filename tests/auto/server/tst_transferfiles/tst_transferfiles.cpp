// Transfer and its part file: each claim writes its own file (never the saved one), resumes
// only bytes the saved file vouches for (junk in front, a flipped bit, a short file, a link:
// from zero, with the note), fails at once naming the path when something was planted under
// its part file's name (a FIFO never blocks, a link is never followed), lowers the percentage
// when it restarts from zero, and never takes a reserved name from the origin.

#include "transferfixture.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>

#include <sys/stat.h>

using namespace Hermes;
using namespace Hermes::Test;

class tst_TransferFiles : public QObject, protected TransferFixture
{
    Q_OBJECT

private slots:
    void init() { setUp(); }
    void cleanup() { tearDown(); }
    void resumeNeverWritesIntoTheSavedFile();
    void partFileThatDoesNotVouchIsNotResumed_data();
    void partFileThatDoesNotVouchIsNotResumed();
    void plantedEntryAtItsPartNameFailsNamingIt_data();
    void plantedEntryAtItsPartNameFailsNamingIt();
    void restartFromZeroLowersThePercentage();
    void reservedNamesFromTheOriginAreIgnored();
};

void tst_TransferFiles::resumeNeverWritesIntoTheSavedFile()
{
    // The saved bytes are copied into this claim's own file; the saved file is only read, so a
    // writer still holding it (paused past its lease) and this claim never share an inode.
    const QByteArray content = FileServer::makeContent(300 * 1024, 21);
    m_files->addFile("/own.bin", {content});
    Download d = download(m_files->url("/own.bin"), 100 * 1024, content.size());
    writePart(d.id, content.left(100 * 1024));
    const auto r = run(d);
    QCOMPARE(r->results.size(), 1);
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Finished);
    QCOMPARE(part(d.id), content);
    QCOMPARE(part(d.id, 0), content.left(100 * 1024)); // untouched
    QCOMPARE(m_files->rangeHeaders("/own.bin"), QList<QByteArray>{"bytes=102400-"});
}

void tst_TransferFiles::partFileThatDoesNotVouchIsNotResumed_data()
{
    QTest::addColumn<QString>("damage");
    QTest::addColumn<QString>("note");
    QTest::newRow("64 KiB of junk in front") << "junk" << "does not hold the bytes saved";
    QTest::newRow("one flipped bit") << "flip" << "does not hold the bytes saved";
    QTest::newRow("shorter than saved") << "short" << "is shorter than the";
    QTest::newRow("a link to the right bytes") << "link" << "is not there or not a regular file";
}

void tst_TransferFiles::partFileThatDoesNotVouchIsNotResumed()
{
    QFETCH(QString, damage);
    QFETCH(QString, note);
    const QByteArray content = FileServer::makeContent(256 * 1024, 22);
    m_files->addFile("/v.bin", {content});
    const qint64 saved = 128 * 1024;
    // What the saving generation recorded: SHA-256 of its bytes' last 64 KiB.
    Download d = download(m_files->url("/v.bin"));
    d.partCheck = QString::fromLatin1(QCryptographicHash::hash(content.mid(saved - 64 * 1024, 64 * 1024),
                                                               QCryptographicHash::Sha256).toHex());
    // Now the saved file is damaged before this claim resumes it.
    QByteArray bytes = content.left(saved);
    if (damage == u"junk")
        bytes = FileServer::makeContent(64 * 1024, 99) + bytes;
    else if (damage == u"flip")
        bytes[saved - 10] = char(bytes[saved - 10] ^ 0x01);
    else if (damage == u"short")
        bytes.chop(1);
    if (damage == u"link") {
        const QString elsewhere = m_dir->filePath(QStringLiteral("elsewhere"));
        QFile f(elsewhere);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(bytes);
        f.close();
        QFile::remove(partPath(d.id, 0));
        QVERIFY(QFile::link(elsewhere, partPath(d.id, 0)));
    } else {
        writePart(d.id, bytes);
    }
    d.downloadedBytes = saved;
    d.totalBytes = content.size();
    d.partGeneration = 0;
    d.percent = 50;
    d.leaseGeneration = 8;
    const auto r = run(d);
    QCOMPARE(r->results.size(), 1);
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Finished);
    QVERIFY2(r->transfer->download().note.contains(note), qPrintable(r->transfer->download().note));
    QCOMPARE(part(d.id, 8), content); // from zero: right, not spliced onto the damage
    QCOMPARE(m_files->rangeHeaders("/v.bin").last(), QByteArray());
}

void tst_TransferFiles::plantedEntryAtItsPartNameFailsNamingIt_data()
{
    QTest::addColumn<QString>("planted");
    QTest::newRow("FIFO") << "fifo";
    QTest::newRow("link to a key file") << "link";
    QTest::newRow("dangling link") << "dangling";
    QTest::newRow("directory") << "dir";
}

void tst_TransferFiles::plantedEntryAtItsPartNameFailsNamingIt()
{
    QFETCH(QString, planted);
    m_files->addFile("/p.bin", {FileServer::makeContent(10000, 23)});
    const Download d = download(m_files->url("/p.bin"));
    const QString name = partPath(d.id);
    const QString key = m_dir->filePath(QStringLiteral("key"));
    {
        QFile k(key);
        QVERIFY(k.open(QIODevice::WriteOnly));
        k.write("secret");
    }
    if (planted == u"fifo")
        QCOMPARE(::mkfifo(QFile::encodeName(name).constData(), 0600), 0);
    else if (planted == u"link")
        QVERIFY(QFile::link(key, name));
    else if (planted == u"dangling")
        QVERIFY(QFile::link(m_dir->filePath(QStringLiteral("nowhere")), name));
    else
        QVERIFY(QDir().mkdir(name));
    QElapsedTimer timer;
    timer.start();
    const auto r = run(d);
    QVERIFY(timer.elapsed() < 5000); // nothing blocked
    QCOMPARE(r->results.size(), 1);
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Failed);
    QVERIFY(!r->results[0].retryable);
    QVERIFY2(r->results[0].message.contains(name), qPrintable(r->results[0].message));
    QCOMPARE(m_files->requests("/p.bin"), 0);
    QFile k(key);
    QVERIFY(k.open(QIODevice::ReadOnly));
    QCOMPARE(k.readAll(), QByteArray("secret"));
    QVERIFY(!QFileInfo::exists(m_dir->filePath(QStringLiteral("nowhere"))));
}

void tst_TransferFiles::restartFromZeroLowersThePercentage()
{
    const QByteArray now = FileServer::makeContent(200 * 1024, 24);
    FileServer::File f{now};
    f.etag = "\"v2\"";
    f.bytesPerSecond = 200 * 1024; // progress in several reports, not one at 100 %
    m_files->addFile("/down.bin", f);
    Download d = download(m_files->url("/down.bin"), 80 * 1024, 200 * 1024);
    d.etag = QStringLiteral("\"v1\"");
    d.percent = 40;
    writePart(d.id, FileServer::makeContent(80 * 1024, 25));
    auto r = start(d);
    QList<double> reported;
    connect(r->transfer.get(), &Transfer::progressed, this, [&] { reported.append(r->transfer->download().percent); });
    QVERIFY(waitEnded(*r));
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Finished);
    QVERIFY(!reported.isEmpty());
    QVERIFY2(reported.first() < 40, qPrintable(QString::number(reported.first())));
    QVERIFY(r->transfer->download().note.contains(QStringLiteral("restarted from zero")));
}

void tst_TransferFiles::reservedNamesFromTheOriginAreIgnored()
{
    FileServer::File f{"x"};
    f.contentDisposition = "attachment; filename=\"other-id.part\"";
    m_files->addFile("/dir/real.bin", f);
    const auto r = run(download(m_files->url("/dir/real.bin")));
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Finished);
    QCOMPARE(r->transfer->download().filename, QStringLiteral("real.bin")); // the URL's instead
}

QTEST_MAIN(tst_TransferFiles)
#include "tst_transferfiles.moc"
