// EventJournal under damage between runs: a segment removed, cut, reordered, a flipped bit, a
// torn tail after a clean stop, a missing state file, strangers in the directory, a disk that
// fills at a rotation. The rule: damage is moved aside (never deleted), the epoch and the rest
// are kept, and every resume across what may be lost is below a floor (resync), never a gap.
// The same under a byte budget that makes the load leave old events out. Ends with a seeded
// random walk of batches, stops and damage checked against a model, with and without one.

#include "broker/eventjournal.h"

#include "../journalfixture/journalfixture.h"
#include "damagefiles.h"
#include "broker/historybudget.h"
#include "broker/journalsegment.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>

#include <map>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Hermes;

class tst_JournalDamage : public QObject
{
    Q_OBJECT

private slots:
    void tornTailAfterACleanStopIsDamage();
    void middleSegmentRemovedRaisesTheFloor();
    void middleSegmentCutAtARecordBoundary();
    void reorderedSegmentsAreDetected();
    void flippedBitKeepsWhatFollowsIt_data();
    void flippedBitKeepsWhatFollowsIt();
    void newestSegmentRemovedAfterACleanStop();
    void stateFileMissingMovesEverythingAside();
    void strangerFilesAreNotFollowed();
    void fullDiskAtRotationLosesNothing();
    void damageUnderAByteBudget_data();
    void damageUnderAByteBudget();
    void randomDamageIsNeverASilentGap_data();
    void randomDamageIsNeverASilentGap();
};


void tst_JournalDamage::tornTailAfterACleanStopIsDamage()
{
    QTemporaryDir dir;
    const QList<Event> written = writeChannel(dir.path(), 10);
    QVERIFY(!written.isEmpty());
    const QString newest = segments(dir.path(), 2).last();
    QFile f(newest);
    QVERIFY(f.open(QIODevice::Append));
    f.write(QByteArray("\x40\x00\x00\x00\x12\x34", 6)); // no write can be torn by a clean stop
    f.close();
    EventJournal journal(dir.path(), 64, EventJournal::Fsync::Never);
    OPEN_JOURNAL(loaded, journal, "boot-1");
    QVERIFY(!loaded.newEpoch);
    QCOMPARE(loaded.damage.size(), 1);
    QCOMPARE(loaded.floors[2], written.last().id); // the recorded newest event: nothing is vouched for
    QCOMPARE(movedAside(dir.path()).size(), 1);
    VERIFY_EVERY_RESUME(loaded, written, 2);
}

void tst_JournalDamage::middleSegmentRemovedRaisesTheFloor()
{
    QTemporaryDir dir;
    const QList<Event> written = writeChannel(dir.path(), 60); // segments of 16: 1..4
    const QStringList files = segments(dir.path(), 2);
    QCOMPARE(files.size(), 4);
    QVERIFY(QFile::remove(files[1]));
    {
        EventJournal journal(dir.path(), 64, EventJournal::Fsync::Never);
        OPEN_JOURNAL(loaded, journal, "boot-1");
        QVERIFY(!loaded.newEpoch);
        QCOMPARE(loaded.damage.size(), 1);
        QVERIFY(loaded.damage.first().contains(QStringLiteral("missing")));
        QCOMPARE(loaded.floors[2], written[31].id); // the last event of the removed segment
        QCOMPARE(idsOf(loaded.events), idsOf(written.mid(32)));
        QCOMPARE(movedAside(dir.path()).size(), 1); // segment 1, now below the floor
        VERIFY_EVERY_RESUME(loaded, written, 2);
        journal.close();
    }
    // Stable: the next start finds a whole chain.
    EventJournal journal(dir.path(), 64, EventJournal::Fsync::Never);
    OPEN_JOURNAL(loaded, journal, "boot-1");
    QVERIFY(loaded.damage.isEmpty());
    QCOMPARE(loaded.floors[2], written[31].id);
    QCOMPARE(idsOf(loaded.events), idsOf(written.mid(32)));
}

void tst_JournalDamage::middleSegmentCutAtARecordBoundary()
{
    QTemporaryDir dir;
    const QList<Event> written = writeChannel(dir.path(), 60);
    const QStringList files = segments(dir.path(), 2);
    const QByteArray bytes = readAll(files[1]);
    const QList<qsizetype> offsets = recordOffsets(bytes);
    QCOMPARE(offsets.size(), 17); // the header and 16 events
    QVERIFY(writeAll(files[1], bytes.first(offsets[12])));
    EventJournal journal(dir.path(), 64, EventJournal::Fsync::Never);
    OPEN_JOURNAL(loaded, journal, "boot-1");
    QVERIFY(!loaded.newEpoch);
    QCOMPARE(loaded.floors[2], written[31].id);
    QCOMPARE(idsOf(loaded.events), idsOf(written.mid(32)));
    QCOMPARE(movedAside(dir.path()).size(), 2);
    VERIFY_EVERY_RESUME(loaded, written, 2);
}

void tst_JournalDamage::reorderedSegmentsAreDetected()
{
    QTemporaryDir dir;
    const QList<Event> written = writeChannel(dir.path(), 60);
    const QStringList files = segments(dir.path(), 2);
    const QByteArray one = readAll(files[1]);
    const QByteArray two = readAll(files[2]);
    QVERIFY(writeAll(files[1], two));
    QVERIFY(writeAll(files[2], one));
    EventJournal journal(dir.path(), 64, EventJournal::Fsync::Never);
    OPEN_JOURNAL(loaded, journal, "boot-1");
    QVERIFY(!loaded.damage.isEmpty());
    VERIFY_EVERY_RESUME(loaded, written, 2);
    QCOMPARE(idsOf(loaded.events), idsOf(written.mid(48))); // only segment 4 is still in its place
}

void tst_JournalDamage::flippedBitKeepsWhatFollowsIt_data()
{
    QTest::addColumn<bool>("clean");
    QTest::addColumn<int>("field"); // byte within the record: 1 = length, 5 = CRC, 12 = payload
    QTest::newRow("length, clean stop") << true << 1;
    QTest::newRow("length, crash") << false << 1;
    QTest::newRow("crc, clean stop") << true << 5;
    QTest::newRow("payload, crash") << false << 12;
}

void tst_JournalDamage::flippedBitKeepsWhatFollowsIt()
{
    QFETCH(bool, clean);
    QFETCH(int, field);
    QTemporaryDir dir;
    const QList<Event> written = writeChannel(dir.path(), 60, clean); // the newest segment: 48..59
    const QString newest = segments(dir.path(), 2).last();
    const QByteArray original = readAll(newest);
    QByteArray bytes = original;
    const QList<qsizetype> offsets = recordOffsets(bytes);
    QCOMPARE(offsets.size(), 13);
    bytes[offsets[6] + field] = char(bytes[offsets[6] + field] ^ 0x10); // event 53
    QVERIFY(writeAll(newest, bytes));
    EventJournal journal(dir.path(), 64, EventJournal::Fsync::Never);
    OPEN_JOURNAL(loaded, journal, "boot-1");
    QVERIFY(!loaded.newEpoch);
    QCOMPARE(loaded.damage.size(), 1);
    // Not mistaken for a torn tail: what follows the damage is kept, the evidence moved aside.
    QCOMPARE(idsOf(loaded.events), idsOf(written.mid(54)));
    QCOMPARE(loaded.floors[2], written[54].id.previous());
    VERIFY_EVERY_RESUME(loaded, written, 2);
    const QStringList aside = movedAside(dir.path());
    QVERIFY(std::any_of(aside.begin(), aside.end(), [&](const QString &p) { return readAll(p) == bytes; }));
}

void tst_JournalDamage::newestSegmentRemovedAfterACleanStop()
{
    QTemporaryDir dir;
    const QList<Event> written = writeChannel(dir.path(), 60);
    QVERIFY(QFile::remove(segments(dir.path(), 2).last()));
    EventJournal journal(dir.path(), 64, EventJournal::Fsync::Never);
    OPEN_JOURNAL(loaded, journal, "boot-1");
    QCOMPARE(loaded.damage.size(), 1);
    QCOMPARE(loaded.floors[2], written.last().id);
    QVERIFY(idsOf(loaded.events).isEmpty());
    VERIFY_EVERY_RESUME(loaded, written, 2);
}

void tst_JournalDamage::stateFileMissingMovesEverythingAside()
{
    QTemporaryDir dir;
    const QList<Event> written = writeChannel(dir.path(), 20);
    int files = 0;
    for (int c = 0; c < Channel::Count; ++c)
        files += int(segments(dir.path(), c).size());
    QVERIFY(QFile::remove(dir.path() + QStringLiteral("/state.json")));
    EventJournal journal(dir.path(), 64, EventJournal::Fsync::Never);
    OPEN_JOURNAL(loaded, journal, "boot-1");
    QVERIFY(loaded.newEpoch); // nothing says which epoch these were: every resume resyncs
    QVERIFY(!loaded.whyNew.isEmpty());
    QVERIFY(loaded.events.isEmpty());
    QCOMPARE(movedAside(dir.path()).size(), files);
}

void tst_JournalDamage::strangerFilesAreNotFollowed()
{
    QTemporaryDir dir;
    QTemporaryDir outside;
    const QList<Event> written = writeChannel(dir.path(), 40); // segments 1..3
    const QStringList files = segments(dir.path(), 2);
    QVERIFY(QFile::remove(files[1]));
    QVERIFY(QFile::link(outside.filePath(QStringLiteral("target")), files[1]));
    QVERIFY(writeAll(outside.filePath(QStringLiteral("target")), readAll(files[0])));
    const QString fifo = channelDir(dir.path(), 0) + QStringLiteral("/00000001.log");
    QVERIFY(QFile::remove(fifo));
    QCOMPARE(::mkfifo(QFile::encodeName(fifo).constData(), 0600), 0);
    EventJournal journal(dir.path(), 64, EventJournal::Fsync::Never); // must not block on the FIFO
    OPEN_JOURNAL(loaded, journal, "boot-1");
    QCOMPARE(loaded.damage.size(), 2);
    QCOMPARE(idsOf(loaded.events), idsOf(written.mid(32)));
    VERIFY_EVERY_RESUME(loaded, written, 2);
    QVERIFY(QFile::exists(outside.filePath(QStringLiteral("target")))); // moved the link, not its target
    journal.close();
}

void tst_JournalDamage::fullDiskAtRotationLosesNothing()
{
    QTemporaryDir base;
    const QString mnt = base.filePath(QStringLiteral("tmpfs"));
    QVERIFY(QDir().mkpath(mnt));
    if (::mount("tmpfs", QFile::encodeName(mnt).constData(), "tmpfs", 0, "size=256k") != 0)
        QSKIP("cannot mount a tmpfs (not root): the full disk is tested in CI");
    const auto unmount = qScopeGuard([&] { ::umount2(QFile::encodeName(mnt).constData(), MNT_DETACH); });
    const QString dir = mnt + QStringLiteral("/journal");
    QList<Event> written;
    EventIdGenerator ids;
    {
        EventJournal journal(dir, 64, EventJournal::Fsync::Always);
        OPEN_JOURNAL(loaded, journal, "boot-1");
        ids.setEpoch(loaded.epoch);
        for (int i = 0; i < 16; ++i) { // the first segment, full: the next append rotates
            written.append(makeJournalEvent(ids, 2, i));
            QVERIFY(journal.append({written.last()}));
        }
        // Fill the disk to the last byte.
        QFile filler(mnt + QStringLiteral("/filler"));
        QVERIFY(filler.open(QIODevice::WriteOnly));
        const QByteArray block(4096, 'x');
        while (filler.write(block) == block.size() && filler.flush()) {
        }
        while (filler.write("x", 1) == 1 && filler.flush()) {
        }
        filler.close();
        const Event refused = makeJournalEvent(ids, 2, 99);
        QVERIFY(!journal.append({refused})); // refused: never delivered
        QVERIFY(QDir(channelDir(dir, 2)).entryList({QStringLiteral("*.tmp")}, QDir::Files).isEmpty());
        QCOMPARE(segments(dir, 2).size(), 1); // no empty segment left behind
        QVERIFY(QFile::remove(mnt + QStringLiteral("/filler")));
        written.append(makeJournalEvent(ids, 2, 100));
        QVERIFY(journal.append({written.last()})); // space again: the rotation happens now
        journal.close();
    }
    EventJournal journal(dir, 64, EventJournal::Fsync::Always);
    OPEN_JOURNAL(loaded, journal, "boot-1");
    QVERIFY(!loaded.newEpoch);
    QVERIFY(loaded.damage.isEmpty());
    QCOMPARE(idsOf(loaded.events), idsOf(written));
    journal.close();
}

// A byte budget that keeps exactly `n` of makeJournalEvent's events (HistoryBudget: kept while
// the ones kept weigh less than the budget).
static qint64 budgetFor(int n)
{
    EventIdGenerator ids;
    ids.setEpoch(1);
    return n * HistoryBudget::weight(makeJournalEvent(ids, 2, 10)) - 1;
}

void tst_JournalDamage::damageUnderAByteBudget_data()
{
    QTest::addColumn<int>("damage");
    QTest::addColumn<int>("keptFrom"); // the events kept: written.mid(keptFrom); -1: not exact
    QTest::addColumn<int>("floor");    // written[floor] is the floor
    // 60 events in segments of 16; a budget of 5 events. What the damage leaves (see the tests
    // above) is cut to its newest 5, and the newest one left out is the floor.
    QTest::newRow("middle segment removed") << 0 << 55 << 54;
    QTest::newRow("middle segment cut") << 1 << 55 << 54;
    QTest::newRow("segments reordered") << 2 << 55 << 54;
    QTest::newRow("flipped bit in the newest") << 3 << 55 << 54;
    QTest::newRow("newest removed after a clean stop") << 4 << 60 << 59;
    QTest::newRow("torn tail after a clean stop") << 5 << -1 << 59;
}

void tst_JournalDamage::damageUnderAByteBudget()
{
    QFETCH(int, damage);
    QFETCH(int, keptFrom);
    QFETCH(int, floor);
    const qint64 bytes = budgetFor(5);
    QTemporaryDir dir;
    const QList<Event> written = writeChannel(dir.path(), 60, true, 2, bytes);
    QCOMPARE(written.size(), 60);
    const QStringList files = segments(dir.path(), 2);
    QCOMPARE(files.size(), 4); // the byte budget does not change the files, only the load
    switch (damage) {
    case 0:
        QVERIFY(QFile::remove(files[1]));
        break;
    case 1: {
        const QByteArray bytes1 = readAll(files[1]);
        QVERIFY(writeAll(files[1], bytes1.first(recordOffsets(bytes1)[12])));
        break;
    }
    case 2: {
        const QByteArray one = readAll(files[1]);
        QVERIFY(writeAll(files[1], readAll(files[2])) && writeAll(files[2], one));
        break;
    }
    case 3: {
        QByteArray newest = readAll(files.last());
        newest[recordOffsets(newest)[6] + 1] = char(newest[recordOffsets(newest)[6] + 1] ^ 0x10);
        QVERIFY(writeAll(files.last(), newest));
        break;
    }
    case 4:
        QVERIFY(QFile::remove(files.last()));
        break;
    default: {
        QFile f(files.last());
        QVERIFY(f.open(QIODevice::Append));
        f.write(QByteArray("\x40\x00\x00\x00\x12\x34", 6));
        break;
    }
    }
    EventJournal journal(dir.path(), 64, EventJournal::Fsync::Never, bytes);
    OPEN_JOURNAL(loaded, journal, "boot-1");
    QVERIFY(!loaded.newEpoch);
    QVERIFY(!loaded.damage.isEmpty());
    QVERIFY(idsOf(loaded.events).size() <= 5);
    if (keptFrom >= 0)
        QCOMPARE(idsOf(loaded.events), idsOf(written.mid(keptFrom)));
    QCOMPARE(loaded.floors[2], written[floor].id);
    VERIFY_EVERY_RESUME(loaded, written, 2);
}

// The model's check in one comparison: every resume from at or above the floor is given the
// same suffix, so it is enough that the history above the floor is exactly what was written.
static QString aboveFloorMismatch(const EventJournal::Loaded &loaded, const QList<Event> &written, int channel)
{
    const EventId floor = loaded.floors[size_t(channel)].isNull() ? EventId(0, 0, loaded.epoch)
                                                                  : loaded.floors[size_t(channel)];
    QString why;
    return resumeIsWhole(loaded, written, channel, floor, &why) ? QString() : why;
}

void tst_JournalDamage::randomDamageIsNeverASilentGap_data()
{
    QTest::addColumn<qint64>("bytes");
    QTest::newRow("count bound") << EventJournal::Unbounded;
    // About 8 events a channel fit, of the 24 the count keeps: most loads leave some out.
    QTest::newRow("byte budget") << budgetFor(8);
}

void tst_JournalDamage::randomDamageIsNeverASilentGap()
{
    QFETCH(qint64, bytes);
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED")
        ? quint32(qEnvironmentVariableIntValue("HERMES_TEST_SEED"))
        : QRandomGenerator::global()->generate();
    const int rounds = qEnvironmentVariableIsSet("HERMES_TEST_ROUNDS") ? qEnvironmentVariableIntValue("HERMES_TEST_ROUNDS") : 60;
    QRandomGenerator rng(seed);
    QStringList log;
    const auto context = qScopeGuard([&] {
        if (QTest::currentTestFailed())
            qWarning("seed %u (HERMES_TEST_SEED=%u reproduces it); rounds:\n%s", seed, seed, qPrintable(log.join(u'\n')));
    });
    QTemporaryDir dir;
    const int capacity = 24;
    QList<Event> written; // every event appended in the current epoch
    quint32 epoch = 0;
    EventId floors[Channel::Count];
    EventIdGenerator ids;
    bool injected = false; // damage since the last open that the journal must report
    bool clean = true;
    int damaged = 0, resets = 0, crashes = 0, leftOut = 0;
    for (int round = 0; round < rounds; ++round) {
        EventJournal journal(dir.path(), capacity, EventJournal::Fsync::Never, bytes);
        OPEN_JOURNAL(loaded, journal, "boot-1");
        if (loaded.newEpoch) {
            QVERIFY2(round == 0 || injected, "a new epoch without a reason");
            written.clear();
            epoch = loaded.epoch;
            ids = EventIdGenerator();
            ids.setEpoch(epoch);
            for (EventId &f : floors)
                f = EventId();
        }
        QCOMPARE(loaded.epoch, epoch);
        if (!injected)
            QVERIFY2(loaded.damage.isEmpty(), qPrintable(loaded.damage.join(u'\n')));
        damaged += int(loaded.damage.size());
        for (int c = 0; c < Channel::Count; ++c) {
            const QString mismatch = aboveFloorMismatch(loaded, written, c);
            QVERIFY2(mismatch.isEmpty(), qPrintable(QStringLiteral("round %1 channel %2: %3").arg(round).arg(c).arg(mismatch)));
            if (!injected) {
                // Without damage the floor rises by trimming and the byte budget only: the
                // newest `capacity` stay, or as many of them as fit the bytes.
                qsizetype above = 0;
                qint64 held = 0;
                qsizetype fit = 0;
                for (auto e = written.crbegin(); e != written.crend(); ++e) {
                    if (e->channel.index() != c || (!floors[c].isNull() && e->id <= floors[c]))
                        continue;
                    ++above;
                    if (held < bytes && fit < capacity) {
                        held += HistoryBudget::weight(*e);
                        ++fit;
                    }
                }
                const qsizetype kept = idsOf(loaded.events, c).size();
                QVERIFY2(kept >= fit, qPrintable(QStringLiteral("round %1 channel %2: %3 kept, %4 fit").arg(round).arg(c).arg(kept).arg(fit)));
                leftOut += kept < qMin<qsizetype>(capacity, above) ? 1 : 0;
            }
            floors[c] = loaded.floors[size_t(c)];
        }
        ids.advanceTo(loaded.newest);
        injected = false;
        const int batches = int(rng.bounded(0, 12));
        for (int b = 0; b < batches; ++b) {
            QList<Event> batch;
            const int size = int(rng.bounded(1, 10));
            for (int i = 0; i < size; ++i)
                batch.append(makeJournalEvent(ids, int(rng.bounded(Channel::Count)), i));
            QVERIFY(journal.append(batch));
            written += batch;
        }
        clean = rng.bounded(2) == 0;
        if (clean)
            journal.close();
        else
            ++crashes;
        if (rng.bounded(100) >= 45)
            continue;
        // Damage between runs.
        const int c = int(rng.bounded(Channel::Count));
        const QStringList files = segments(dir.path(), c);
        const int kind = int(rng.bounded(6));
        const qsizetype pick = files.isEmpty() ? -1 : rng.bounded(files.size());
        const bool newest = pick == files.size() - 1;
        if (pick < 0)
            continue;
        QByteArray bytes = readAll(files[pick]);
        const QList<qsizetype> offsets = recordOffsets(bytes);
        switch (kind) {
        case 0: // a segment removed
            QVERIFY(QFile::remove(files[pick]));
            injected = true;
            log << QStringLiteral("%1: removed %2").arg(round).arg(files[pick]);
            break;
        case 1: { // cut at a record boundary: after a crash, the newest's cut cannot be told
            if ((newest && !clean) || offsets.size() < 2)
                continue;
            const qsizetype at = offsets[rng.bounded(1, int(offsets.size()))];
            QVERIFY(writeAll(files[pick], bytes.first(at)));
            injected = true;
            log << QStringLiteral("%1: cut %2 at %3").arg(round).arg(files[pick]).arg(at);
            break;
        }
        case 2: { // a flipped bit: after a crash, one in the newest's last record looks torn
            if (bytes.isEmpty() || (newest && !clean && offsets.size() < 3))
                continue;
            const qsizetype limit = newest && !clean ? offsets.last() : bytes.size();
            const qsizetype at = rng.bounded(int(limit));
            bytes[at] = char(bytes[at] ^ (1 << rng.bounded(8)));
            QVERIFY(writeAll(files[pick], bytes));
            injected = true;
            log << QStringLiteral("%1: flipped a bit of %2 at %3").arg(round).arg(files[pick]).arg(at);
            break;
        }
        case 3: { // a torn tail: normal after a crash, damage after a clean stop
            QFile f(files.last());
            QVERIFY(f.open(QIODevice::Append));
            f.write(QByteArray("\x40\x00\x00\x00\x12", 5));
            f.close();
            injected = clean;
            log << QStringLiteral("%1: a torn tail on %2 (%3 stop)").arg(round).arg(files.last(), clean ? "clean" : "unclean");
            break;
        }
        case 4: // two segments swapped
            if (files.size() < 2 || pick == 0)
                continue;
            {
                const QByteArray other = readAll(files[pick - 1]);
                QVERIFY(writeAll(files[pick - 1], bytes) && writeAll(files[pick], other));
            }
            injected = true;
            log << QStringLiteral("%1: swapped %2 and the one before").arg(round).arg(files[pick]);
            break;
        default: // the state file lost: a new epoch
            if (rng.bounded(4) != 0)
                continue;
            QVERIFY(QFile::remove(dir.filePath(QStringLiteral("state.json"))));
            injected = true;
            ++resets;
            log << QStringLiteral("%1: state.json removed").arg(round);
            break;
        }
    }
    qInfo("seed %u: %d rounds, %lld events, %d crashes, %d damage reports, %d new epochs, %lld files moved aside, "
          "%d loads of a channel that left events out for the bytes",
          seed, rounds, qlonglong(written.size()), crashes, damaged, resets, qlonglong(movedAside(dir.path()).size()), leftOut);
    if (bytes != EventJournal::Unbounded)
        QVERIFY2(leftOut > 0, "the byte budget never left an event out: the row tests nothing");
}

QTEST_MAIN(tst_JournalDamage)
#include "tst_journaldamage.moc"
