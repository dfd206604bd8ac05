// Transfer against a real local origin (FileServer, ScriptedServer): resuming with Range and
// If-Range, a 200 that restarts from zero with the note, 416, a short transfer, the file-size
// limit, names from the origin, stopping, and the pace of progress reports by step and by
// interval (with an injected clock, checked report by report; seeded-random sizes and paces).

#include "scriptedserver.h"
#include "transferfixture.h"

#include "downloads/transfer.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <sys/stat.h>
#include <memory>

using namespace Hermes;
using namespace Hermes::Test;

class tst_Transfer : public QObject, protected TransferFixture
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void wholeFileFromZero();
    void resumesWithRangeAndIfRange_data();
    void resumesWithRangeAndIfRange();
    void twoHundredRestartsFromZeroWithTheNote_data();
    void twoHundredRestartsFromZeroWithTheNote();
    void missingPartFileRestartsFromZeroWithTheNote();
    void rangeNotSatisfiableFailsRetryablyAndEmptiesThePart();
    void everyByteAlreadyThereFinishesAtOnce();
    void shortTransferFailsRetryably();
    void droppedConnectionFailsRetryablyKeepingTheBytes();
    void errorStatuses_data();
    void errorStatuses();
    void fileSizeLimitAnnounced();
    void fileSizeLimitCounted();
    void namesFromTheOrigin();
    void unwritableDirFails();
    void stopReportsStoppedOnceAndMayDeleteThePart();
    void progressByStep();
    void progressStepsExactly();
    void progressByInterval();
    void progressPaceRandomized();
};

void tst_Transfer::init()
{
    setUp();
}

void tst_Transfer::cleanup()
{
    tearDown();
}

void tst_Transfer::wholeFileFromZero()
{
    const QByteArray content = FileServer::makeContent(300 * 1024 + 5);
    m_files->addFile("/a.bin", {content});
    const auto r = run(download(m_files->url("/a.bin")));
    QCOMPARE(r->results.size(), 1);
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Finished);
    QCOMPARE(r->started, 1);
    const Download &d = r->transfer->download();
    QCOMPARE(d.downloadedBytes, content.size());
    QCOMPARE(d.totalBytes, content.size());
    QCOMPARE(d.percent, 100.0);
    QCOMPARE(r->received, content.size());
    QVERIFY(d.note.isEmpty());
    QCOMPARE(part(d.id), content);
    QCOMPARE(m_files->rangeHeaders("/a.bin"), QList<QByteArray>{QByteArray()});
    QVERIFY(r->transfer->hasEnded());
}

void tst_Transfer::resumesWithRangeAndIfRange_data()
{
    QTest::addColumn<QByteArray>("etag");
    QTest::addColumn<QByteArray>("lastModified");
    QTest::addColumn<QByteArray>("expectedIfRange");
    const QByteArray date = "Tue, 01 Dec 2026 10:00:00 GMT";
    QTest::newRow("strong etag") << QByteArray("\"v1\"") << date << QByteArray("\"v1\"");
    // A weak ETag may not validate a range (RFC 9110 13.1.5): the date does.
    QTest::newRow("weak etag: the date") << QByteArray("W/\"w1\"") << date << date;
    QTest::newRow("only a date") << QByteArray() << date << date;
    QTest::newRow("no validator: plain Range") << QByteArray() << QByteArray() << QByteArray();
}

void tst_Transfer::resumesWithRangeAndIfRange()
{
    QFETCH(QByteArray, etag);
    QFETCH(QByteArray, lastModified);
    QFETCH(QByteArray, expectedIfRange);
    const QByteArray content = FileServer::makeContent(200 * 1024, 3);
    FileServer::File f{content};
    f.etag = etag;
    f.lastModified = lastModified;
    m_files->addFile("/r.bin", f);
    const qint64 have = 70 * 1024 + 3;
    Download d = download(m_files->url("/r.bin"), have, content.size());
    d.etag = QString::fromLatin1(etag);
    d.lastModified = QString::fromLatin1(lastModified);
    writePart(d.id, content.left(have));
    const auto r = run(d);
    QCOMPARE(r->results.size(), 1);
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Finished);
    QCOMPARE(part(d.id), content);
    QCOMPARE(m_files->rangeHeaders("/r.bin"), QList<QByteArray>{"bytes=" + QByteArray::number(have) + '-'});
    QCOMPARE(m_files->ifRangeHeaders("/r.bin"), QList<QByteArray>{expectedIfRange});
    QCOMPARE(m_files->bytesServed("/r.bin"), content.size() - have); // only what was missing
    QCOMPARE(r->received, content.size() - have);
    QCOMPARE(r->transfer->download().downloadedBytes, content.size());
    QCOMPARE(r->transfer->download().totalBytes, content.size());
    QVERIFY(r->transfer->download().note.isEmpty());
}

void tst_Transfer::twoHundredRestartsFromZeroWithTheNote_data()
{
    QTest::addColumn<bool>("ranges");
    QTest::addColumn<bool>("changed");
    QTest::addColumn<QString>("note");
    QTest::newRow("no Range support") << false << false << "the server does not support resuming (HTTP Range); restarted from zero";
    QTest::newRow("changed (If-Range)") << true << true << "the file changed on the server since the part was written (If-Range); restarted from zero";
}

void tst_Transfer::twoHundredRestartsFromZeroWithTheNote()
{
    QFETCH(bool, ranges);
    QFETCH(bool, changed);
    QFETCH(QString, note);
    const QByteArray old = FileServer::makeContent(100 * 1024, 5);
    const QByteArray now = changed ? FileServer::makeContent(90 * 1024, 6) : old;
    FileServer::File f{now};
    f.ranges = ranges;
    f.etag = changed ? "\"v2\"" : "\"v1\"";
    m_files->addFile("/c.bin", f);
    Download d = download(m_files->url("/c.bin"), 40 * 1024, old.size());
    d.etag = QStringLiteral("\"v1\"");
    writePart(d.id, old.left(40 * 1024));
    const auto r = run(d);
    QCOMPARE(r->results.size(), 1);
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Finished);
    QCOMPARE(part(d.id), now); // never spliced
    QCOMPARE(r->transfer->download().note, note);
    QCOMPARE(r->transfer->download().totalBytes, now.size());
    QCOMPARE(r->transfer->download().etag, QString::fromLatin1(f.etag)); // the new validators
}

void tst_Transfer::missingPartFileRestartsFromZeroWithTheNote()
{
    const QByteArray content = FileServer::makeContent(50 * 1024, 8);
    m_files->addFile("/m.bin", {content});
    Download d = download(m_files->url("/m.bin"), 20 * 1024, content.size());
    d.etag = QStringLiteral("\"elsewhere\"");
    const auto r = run(d);
    QCOMPARE(r->results.size(), 1);
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Finished);
    QVERIFY2(r->transfer->download().note.startsWith(QStringLiteral("the part file %1 is not there").arg(partPath(d.id, 0))),
             qPrintable(r->transfer->download().note));
    QVERIFY(r->transfer->download().note.endsWith(QStringLiteral("; restarted from zero")));
    QCOMPARE(m_files->rangeHeaders("/m.bin"), QList<QByteArray>{QByteArray()}); // from zero
    QCOMPARE(m_files->ifRangeHeaders("/m.bin"), QList<QByteArray>{QByteArray()}); // validators forgotten
    QCOMPARE(part(d.id), content);
}

void tst_Transfer::rangeNotSatisfiableFailsRetryablyAndEmptiesThePart()
{
    const QByteArray content = FileServer::makeContent(1000, 9);
    m_files->addFile("/s.bin", {content});
    Download d = download(m_files->url("/s.bin"), 2000, -1); // more than the origin has
    writePart(d.id, FileServer::makeContent(2000, 10));
    const auto r = run(d);
    QCOMPARE(r->results.size(), 1);
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Failed);
    QCOMPARE(r->results[0].message, QStringLiteral("the server refused to resume (HTTP 416); starting over"));
    QVERIFY(r->results[0].retryable);
    QCOMPARE(QFileInfo(partPath(d.id)).size(), 0); // the part file is not what we thought
}

void tst_Transfer::everyByteAlreadyThereFinishesAtOnce()
{
    const QByteArray content = FileServer::makeContent(4096, 11);
    m_files->addFile("/done.bin", {content});
    Download d = download(m_files->url("/done.bin"), content.size(), content.size());
    writePart(d.id, content);
    auto r = start(d);
    // Reported before start() returned: only verifying was left.
    QCOMPARE(r->started, 1);
    QCOMPARE(r->results.size(), 1);
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Finished);
    QTest::qWait(50);
    QCOMPARE(m_files->requests("/done.bin"), 0);
    QCOMPARE(part(d.id), content);
}

void tst_Transfer::shortTransferFailsRetryably()
{
    FileServer::File liar{FileServer::makeContent(1000, 12)};
    liar.declaredLength = 5000;
    m_files->addFile("/liar", liar);
    const auto r = run(download(m_files->url("/liar")));
    QCOMPARE(r->results.size(), 1);
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Failed);
    QVERIFY2(r->results[0].message.startsWith(u"the transfer ended after 1000 of 5000 bytes"), qPrintable(r->results[0].message));
    QVERIFY(r->results[0].retryable);
    QCOMPARE(part(r->transfer->download().id).size(), 1000); // kept for the next attempt
}

void tst_Transfer::droppedConnectionFailsRetryablyKeepingTheBytes()
{
    const QByteArray content = FileServer::makeContent(64 * 1024, 13);
    FileServer::File f{content};
    f.dropTimes = 1;
    f.dropAfter = 10 * 1024;
    m_files->addFile("/drop", f);
    const Download d = download(m_files->url("/drop"));
    const auto r = run(d);
    QCOMPARE(r->results.size(), 1);
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Failed);
    QVERIFY(r->results[0].retryable);
    QCOMPARE(part(d.id), content.left(10 * 1024));
    // The next attempt (the next claim: the next generation) resumes from there.
    Download next = r->transfer->download();
    QCOMPARE(next.partGeneration, qint64(1));
    QVERIFY(!next.partCheck.isEmpty());
    next.leaseGeneration = 2;
    const auto again = run(next);
    QCOMPARE(again->results[0].kind, TransferResult::Kind::Finished);
    QCOMPARE(part(d.id), content.left(10 * 1024)); // the next claim's own file …
    QCOMPARE(part(d.id, 2), content);              // … is another one
    QCOMPARE(m_files->rangeHeaders("/drop").last(), QByteArray("bytes=10240-"));
}

void tst_Transfer::errorStatuses_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<bool>("retryable");
    QTest::newRow("404") << 404 << false;
    QTest::newRow("403") << 403 << false;
    QTest::newRow("408") << 408 << true;
    QTest::newRow("429") << 429 << true;
    QTest::newRow("500") << 500 << true;
    QTest::newRow("503") << 503 << true;
}

void tst_Transfer::errorStatuses()
{
    QFETCH(int, status);
    QFETCH(bool, retryable);
    FileServer::File f{"x"};
    f.status = status;
    m_files->addFile("/e", f);
    const auto r = run(download(m_files->url("/e")));
    QCOMPARE(r->results.size(), 1);
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Failed);
    QCOMPARE(r->results[0].message, QStringLiteral("HTTP %1 Error").arg(status));
    QCOMPARE(r->results[0].retryable, retryable);
    QCOMPARE(r->received, 0); // an error page is not the file
    QCOMPARE(part(r->transfer->download().id), QByteArray());
}

void tst_Transfer::fileSizeLimitAnnounced()
{
    m_files->addFile("/big", {FileServer::makeContent(10000, 14)});
    Transfer::Limits limits = defaultLimits();
    limits.maxFileSize = 9999;
    const auto r = run(download(m_files->url("/big")), limits);
    QCOMPARE(r->results.size(), 1);
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Failed);
    QCOMPARE(r->results[0].message, QStringLiteral("the file is 10000 bytes, more than the allowed 9999"));
    QVERIFY(!r->results[0].retryable);
    QCOMPARE(r->received, 0);
}

void tst_Transfer::fileSizeLimitCounted()
{
    // No Content-Length: the limit is found by counting.
    ScriptedServer origin([](int, const QByteArray &) {
        return ScriptedServer::Response{"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream",
                                        {QByteArray(3000, 'a'), QByteArray(3000, 'b'), QByteArray(3000, 'c')}, false, true};
    });
    Transfer::Limits limits = defaultLimits();
    limits.maxFileSize = 5000;
    const auto r = run(download(origin.url(QStringLiteral("/stream"))), limits);
    QCOMPARE(r->results.size(), 1);
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Failed);
    QCOMPARE(r->results[0].message, QStringLiteral("the file is larger than the allowed 5000 bytes"));
    QVERIFY(!r->results[0].retryable);
    QVERIFY(r->received > 5000 && r->received <= 9000);

    // Within the limit, a body without a length is whole when the origin closes.
    limits.maxFileSize = 0;
    const auto whole = run(download(origin.url(QStringLiteral("/stream"))), limits);
    QCOMPARE(whole->results[0].kind, TransferResult::Kind::Finished);
    QCOMPARE(whole->transfer->download().totalBytes, 9000);
}

void tst_Transfer::namesFromTheOrigin()
{
    FileServer::File cd{"named"};
    cd.contentDisposition = "attachment; filename=\"../../report 2026.pdf\"";
    m_files->addFile("/cd", cd);
    FileServer::File moved;
    moved.redirectTo = "/files/target.txt";
    m_files->addFile("/moved", moved);
    m_files->addFile("/files/target.txt", {"redirected"});

    const auto named = run(download(m_files->url("/cd")));
    QCOMPARE(named->transfer->download().filename, QStringLiteral("report 2026.pdf"));
    const auto redirected = run(download(m_files->url("/moved")));
    QCOMPARE(redirected->results[0].kind, TransferResult::Kind::Finished);
    QCOMPARE(redirected->transfer->download().filename, QStringLiteral("target.txt")); // after the redirect
    // A name the client chose is kept.
    Download chosen = download(m_files->url("/cd"));
    chosen.filename = QStringLiteral("mine.pdf");
    chosen.filenameFromRequest = true;
    QCOMPARE(run(chosen)->transfer->download().filename, QStringLiteral("mine.pdf"));
}

void tst_Transfer::unwritableDirFails()
{
    m_files->addFile("/a", {"a"});
    // A file where the download dir should be.
    const QString notADir = m_dir->filePath(QStringLiteral("file"));
    QFile blocker(notADir);
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    Transfer transfer(download(m_files->url("/a")), DownloadDir(notADir), defaultLimits(), &m_network);
    QList<TransferResult> results;
    int started = 0;
    connect(&transfer, &Transfer::started, this, [&] { ++started; });
    connect(&transfer, &Transfer::ended, this, [&](const TransferResult &r) { results.append(r); });
    transfer.start();
    QCOMPARE(results.size(), 1); // at once
    QCOMPARE(results[0].kind, TransferResult::Kind::Failed);
    QVERIFY2(results[0].message.contains(notADir), qPrintable(results[0].message));
    QVERIFY(!results[0].retryable);
    QCOMPARE(started, 0);
    QCOMPARE(m_files->requests("/a"), 0);
}

void tst_Transfer::stopReportsStoppedOnceAndMayDeleteThePart()
{
    FileServer::File slow{FileServer::makeContent(400 * 1024, 15)};
    slow.bytesPerSecond = 100 * 1024;
    m_files->addFile("/slow", slow);
    for (const bool deletePart : {false, true}) {
        auto r = start(download(m_files->url("/slow")));
        const QString id = r->transfer->download().id;
        QVERIFY(QTest::qWaitFor([&] { return r->received > 10 * 1024; }, 10000));
        r->transfer->stop(deletePart);
        QCOMPARE(r->results.size(), 1);
        QCOMPARE(r->results[0].kind, TransferResult::Kind::Stopped);
        QCOMPARE(QFile::exists(partPath(id)), !deletePart);
        const qint64 received = r->received;
        r->transfer->stop(deletePart); // nothing more
        QTest::qWait(100);
        QCOMPARE(r->results.size(), 1);
        QCOMPARE(r->received, received);
    }
    QTRY_COMPARE_WITH_TIMEOUT(m_files->activeTransfers(), 0, 5000); // the requests were aborted
}

// The pace rule: a report when the percentage grew by the step since the last report, or the
// interval passed, or it reached 100 % — and only then. Checked read by read, both ways,
// against what the transfer saw: each read's percent (computed as the transfer does) and the
// clock it read (the injected clock is read once per read, after `received`).
struct Pace
{
    struct Read
    {
        qint64 now = -1;
        double percent = 0;
        bool reported = false;
    };
    QList<Read> reads;
    qint64 clock = 0;
    qint64 tick = 0;

    Transfer::Clock makeClock()
    {
        return [this] {
            clock += tick;
            if (!reads.isEmpty() && reads.last().now < 0)
                reads.last().now = clock;
            return clock;
        };
    }
    void watch(Transfer *transfer)
    {
        QObject::connect(transfer, &Transfer::received, transfer, [this, transfer] {
            Download d = transfer->download();
            d.updatePercent(); // what the transfer is about to compute
            reads.append({-1, d.percent, false});
        });
        QObject::connect(transfer, &Transfer::progressed, transfer, [this] { reads.last().reported = true; });
    }
    int reports() const
    {
        return int(std::count_if(reads.cbegin(), reads.cend(), [](const Read &r) { return r.reported; }));
    }
    /// Empty when every read was reported exactly when the rule says.
    QString check(double step, int intervalMs) const
    {
        double lastPercent = -1;
        qint64 lastMs = 0;
        for (int i = 0; i < reads.size(); ++i) {
            const Read &read = reads[i];
            const bool stepped = read.percent - lastPercent >= step;
            const bool due = read.now - lastMs >= intervalMs;
            const bool full = read.percent >= 100 && lastPercent < 100;
            if (read.reported != (stepped || due || full))
                return QStringLiteral("read %1 (%2 %, %3 ms) %4 after the report at %5 % / %6 ms")
                    .arg(i).arg(read.percent).arg(read.now)
                    .arg(read.reported ? QStringLiteral("reported") : QStringLiteral("not reported"))
                    .arg(lastPercent).arg(lastMs);
            if (read.reported) {
                lastPercent = read.percent;
                lastMs = read.now;
            }
        }
        if (lastPercent != 100)
            return QStringLiteral("the last report was at %1 %, not 100").arg(lastPercent);
        return {};
    }
};

void tst_Transfer::progressByStep()
{
    FileServer::File f{FileServer::makeContent(500 * 1024, 16)};
    f.bytesPerSecond = 2 * 1024 * 1024; // ≈ 50 slices of 20 KB
    m_files->addFile("/step", f);
    Pace pace; // the clock stands still: only the step (and reaching 100 %) may report
    auto r = start(download(m_files->url("/step")), {10, 0, 10.0, 1000000}, pace.makeClock());
    pace.watch(r->transfer.get());
    QVERIFY(waitEnded(*r));
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Finished);
    const QString problem = pace.check(10.0, 1000000);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY2(pace.reports() >= 2 && pace.reports() <= 11, qPrintable(QString::number(pace.reports())));
    QVERIFY2(pace.reads.size() > pace.reports(), "every read was reported");
}

void tst_Transfer::progressStepsExactly()
{
    // Ten reads of 10 % each (the origin sends 100 bytes every 20 ms), the clock standing still:
    // with a step of 20 the reports fall on 20, 40, 60, 80 and 100 % — a step reached exactly
    // counts, and the first read (10 % after nothing) does not reach it.
    ScriptedServer origin([](int, const QByteArray &) {
        QList<QByteArray> parts;
        for (int i = 0; i < 10; ++i)
            parts.append(QByteArray(100, char('a' + i)));
        return ScriptedServer::Response{"HTTP/1.1 200 OK\r\nContent-Length: 1000", parts, false, true};
    });
    Pace pace;
    auto r = start(download(origin.url(QStringLiteral("/tenths"))), {10, 0, 20.0, 1000000}, pace.makeClock());
    pace.watch(r->transfer.get());
    QVERIFY(waitEnded(*r));
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Finished);
    QCOMPARE(pace.reads.size(), 10);
    QList<double> reported;
    for (const auto &read : std::as_const(pace.reads)) {
        if (read.reported)
            reported.append(read.percent);
    }
    QCOMPARE(reported, (QList<double>{20, 40, 60, 80, 100}));
    QVERIFY(pace.check(20.0, 1000000).isEmpty());
}

void tst_Transfer::progressByInterval()
{
    FileServer::File f{FileServer::makeContent(300 * 1024, 17)};
    f.bytesPerSecond = 1024 * 1024; // ≈ 30 slices
    m_files->addFile("/interval", f);
    Pace pace;
    pace.tick = 25; // each read 25 ms later; the step never triggers: a report every 100 ms, to the ms
    auto r = start(download(m_files->url("/interval")), {10, 0, 1000.0, 100}, pace.makeClock());
    pace.watch(r->transfer.get());
    QVERIFY(waitEnded(*r));
    QCOMPARE(r->results[0].kind, TransferResult::Kind::Finished);
    const QString problem = pace.check(1000.0, 100);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY2(pace.reads.size() >= 5, qPrintable(QString::number(pace.reads.size())));
    QVERIFY2(pace.reads.size() > pace.reports(), "every read was reported");
    QVERIFY(pace.reports() >= 2);
}

void tst_Transfer::progressPaceRandomized()
{
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED")
        ? quint32(qEnvironmentVariableIntValue("HERMES_TEST_SEED")) : QRandomGenerator::global()->generate();
    qInfo("seed %u (HERMES_TEST_SEED=%u reproduces it)", seed, seed);
    QRandomGenerator rng(seed);
    for (int round = 0; round < 6; ++round) {
        const qint64 size = 1 + rng.bounded(300 * 1024);
        const double step = 0.1 + rng.bounded(30.0);
        int interval = 1 + int(rng.bounded(200));
        const QByteArray path = "/p" + QByteArray::number(round);
        FileServer::File f{FileServer::makeContent(size, seed + quint32(round))};
        f.bytesPerSecond = 256 * 1024 + rng.bounded(4 * 1024 * 1024);
        m_files->addFile(path, f);
        Pace pace;
        pace.tick = rng.bounded(60);
        if (pace.tick > 0 && rng.bounded(2)) // on the boundary: reports exactly one interval apart
            interval = int(pace.tick) * (1 + int(rng.bounded(5)));
        auto r = start(download(m_files->url(path)), {10, 0, step, interval}, pace.makeClock());
        pace.watch(r->transfer.get());
        QVERIFY(waitEnded(*r));
        const QString context = QStringLiteral("seed %1 round %2: size %3, step %4, interval %5, tick %6")
                                    .arg(seed).arg(round).arg(size).arg(step).arg(interval).arg(pace.tick);
        QVERIFY2(r->results[0].kind == TransferResult::Kind::Finished, qPrintable(context));
        QVERIFY2(part(r->transfer->download().id) == f.content, qPrintable(context));
        const QString problem = pace.check(step, interval);
        QVERIFY2(problem.isEmpty(), qPrintable(context + QStringLiteral(": ") + problem));
    }
}

QTEST_MAIN(tst_Transfer)
#include "tst_transfer.moc"
