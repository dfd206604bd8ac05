// RedisMark and its file: what a node delivered, kept across restarts — round trips, earlier
// epochs, a missing or damaged file, throttled writes, the stop's flush. And RedisProbe's
// reading of INFO.

#include "broker/redismark.h"
#include "broker/redisprobe.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace Hermes;

class tst_RedisMark : public QObject
{
    Q_OBJECT

private slots:
    void deliverKeepsNewestPerChannel();
    void earlierEpochsAreKeptBounded();
    void recalledEpochStaysAndMerges();
    void jsonRoundTrip();
    void missingFileIsNoMark();
    void damagedFileIsSetAside_data();
    void damagedFileIsSetAside();
    void writesAreThrottledAndFlushed();
    void infoFieldsAndPolicies();
};

static Event makeEvent(Channel channel, quint64 ms, quint32 epoch)
{
    Event e;
    e.id = EventId(ms, 0, epoch);
    e.channel = channel;
    e.type = QStringLiteral("t");
    return e;
}

void tst_RedisMark::deliverKeepsNewestPerChannel()
{
    RedisMark mark;
    QVERIFY(mark.isNull());
    mark.deliver(makeEvent(Channel::Downloads, 10, 7));
    mark.deliver(makeEvent(Channel::System, 12, 7));
    mark.deliver(makeEvent(Channel::Downloads, 15, 7));
    QCOMPARE(mark.epoch, 7u);
    QCOMPARE(mark.position, EventId(15, 0, 7));
    QCOMPARE(mark.channels[Channel::Downloads], EventId(15, 0, 7));
    QVERIFY(mark.channels[Channel::Queue].isNull());
    QCOMPARE(mark.channels[Channel::System], EventId(12, 0, 7));
}

void tst_RedisMark::earlierEpochsAreKeptBounded()
{
    RedisMark mark;
    for (quint32 epoch = 1; epoch <= 12; ++epoch)
        mark.deliver(makeEvent(Channel::Queue, 100 + epoch, epoch));
    QCOMPARE(mark.epoch, 12u);
    QCOMPARE(mark.earlier.size(), RedisMark::KeptEpochs);
    QCOMPARE(mark.earlier.first().epoch, 11u); // newest first
    QCOMPARE(mark.earlier.first().position, EventId(111, 0, 11));
    // Back to an epoch it had left: that one leaves the earlier list (it is current again),
    // taken up where it was — what was delivered there still counts.
    mark.beginEpoch(9);
    QCOMPARE(mark.epoch, 9u);
    QCOMPARE(mark.position, EventId(109, 0, 9));
    QCOMPARE(mark.channels[Channel::Queue], EventId(109, 0, 9));
    for (const auto &e : mark.earlier)
        QVERIFY(e.epoch != 9u);
    QCOMPARE(mark.earlier.first().epoch, 12u);
    mark.deliver(makeEvent(Channel::System, 200, 9));
    QCOMPARE(mark.channels[Channel::Queue], EventId(109, 0, 9));
    QCOMPARE(mark.position, EventId(200, 0, 9));
}

void tst_RedisMark::recalledEpochStaysAndMerges()
{
    // Epoch 1 is the one a snapshot holds: Redis comes back in it after each of many later
    // epochs, and every load of the epoch that replaced it recalls it (the origin).
    RedisMark mark;
    mark.deliver(makeEvent(Channel::Queue, 100, 1));
    RedisMark::Epoch origin{1, EventId(150, 0, 1), {}};
    origin.channels[Channel::System] = EventId(150, 0, 1);
    for (quint32 epoch = 2; epoch <= 2 + 3 * RedisMark::KeptEpochs; ++epoch) {
        mark.deliver(makeEvent(Channel::Downloads, 1000 + epoch, epoch));
        mark.recall(origin);
    }
    QCOMPARE(mark.earlier.size(), RedisMark::KeptEpochs);
    const RedisMark::Epoch &first = mark.earlier.first();
    QCOMPARE(first.epoch, 1u);
    // Merged: what this node delivered there and what the origin says another one did.
    QCOMPARE(first.position, EventId(150, 0, 1));
    QCOMPARE(first.channels[Channel::Queue], EventId(100, 0, 1));
    QCOMPARE(first.channels[Channel::System], EventId(150, 0, 1));
    // Its own current epoch, or nothing delivered: nothing to recall.
    const RedisMark before = mark;
    mark.recall(RedisMark::Epoch{mark.epoch, EventId(1, 0, mark.epoch), {}});
    mark.recall(RedisMark::Epoch{77, EventId(), {}});
    QVERIFY(mark == before);
    // Round trip of a recalled epoch.
    const Result<RedisMark> back = RedisMark::fromJson(mark.toJson());
    QVERIFY(back && *back == mark);
}

void tst_RedisMark::jsonRoundTrip()
{
    RedisMark mark;
    mark.keyPrefix = QStringLiteral("hermes:");
    mark.runId = "abc123";
    mark.deliver(makeEvent(Channel::Downloads, 10, 5));
    mark.deliver(makeEvent(Channel::System, 20, 6));
    mark.deliver(makeEvent(Channel::Queue, 30, 6));
    const Result<RedisMark> back = RedisMark::fromJson(mark.toJson());
    QVERIFY2(back, qPrintable(back ? QString() : back.error().message));
    QVERIFY(*back == mark);
}

void tst_RedisMark::missingFileIsNoMark()
{
    QTemporaryDir dir;
    RedisMarkFile file(dir.filePath(QStringLiteral("redis-mark.json")));
    const Result<RedisMark> mark = file.load();
    QVERIFY(mark);
    QVERIFY(mark->isNull());
}

void tst_RedisMark::damagedFileIsSetAside_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("truncated") << QByteArray("{\"version\":1,\"epoch\":\"abc");
    QTest::newRow("binary") << QByteArray("\x00\xff\x10garbage", 10);
    QTest::newRow("other version") << QByteArray("{\"version\":2}");
    QTest::newRow("no epoch") << QByteArray("{\"version\":1,\"position\":\"1-0\",\"channels\":[\"\",\"\",\"\"]}");
    QTest::newRow("channel above position")
        << QByteArray("{\"version\":1,\"epoch\":\"abcdef\",\"position\":\"1-0\",\"channels\":[\"5-0\",\"\",\"\"]}");
    QTest::newRow("two channels")
        << QByteArray("{\"version\":1,\"epoch\":\"abcdef\",\"position\":\"1-0\",\"channels\":[\"\",\"\"]}");
    QTest::newRow("bad earlier")
        << QByteArray("{\"version\":1,\"epoch\":\"abcdef\",\"position\":\"1-0\",\"channels\":[\"\",\"\",\"\"],"
                      "\"earlier\":[{\"epoch\":\"x!\"}]}");
}

void tst_RedisMark::damagedFileIsSetAside()
{
    QFETCH(QByteArray, content);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("redis-mark.json"));
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(content);
    }
    RedisMarkFile file(path);
    const Result<RedisMark> mark = file.load();
    QVERIFY(!mark);
    QVERIFY(mark.error().message.contains(QStringLiteral("damaged")));
    QVERIFY(!QFile::exists(path));
    QVERIFY(QFile::exists(path + QStringLiteral(".damaged")));
    // The next save writes a good one again.
    RedisMark fresh;
    fresh.deliver(makeEvent(Channel::System, 3, 9));
    file.update(fresh);
    file.flush();
    RedisMarkFile again(path);
    QVERIFY(again.load());
}

void tst_RedisMark::writesAreThrottledAndFlushed()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("redis-mark.json"));
    RedisMarkFile file(path, 200);
    RedisMark mark;
    mark.keyPrefix = QStringLiteral("p:");
    QElapsedTimer clock;
    clock.start();
    // 600 ms of events, one a millisecond: a handful of writes, never one per event.
    quint64 ms = 1;
    while (clock.elapsed() < 600) {
        mark.deliver(makeEvent(Channel::Downloads, ms++, 4));
        file.update(mark);
        QTest::qWait(1);
    }
    QTRY_VERIFY_WITH_TIMEOUT(file.writes() >= 2, 2000);
    QVERIFY2(file.writes() <= 5, qPrintable(QString::number(file.writes())));
    file.flush();
    RedisMarkFile reader(path);
    const Result<RedisMark> saved = reader.load();
    QVERIFY(saved);
    QVERIFY(*saved == mark); // the stop saves the newest
}

void tst_RedisMark::infoFieldsAndPolicies()
{
    const QByteArray info = "# Server\r\nredis_version:7.0.15\r\nrun_id:0123abc\r\n"
                            "# Memory\r\nmaxmemory_policy:allkeys-lru\r\n";
    QCOMPARE(RedisProbe::infoField(info, "run_id"), QByteArray("0123abc"));
    QCOMPARE(RedisProbe::infoField(info, "maxmemory_policy"), QByteArray("allkeys-lru"));
    QCOMPARE(RedisProbe::infoField(info, "missing"), QByteArray());
    for (const char *p : {"allkeys-lru", "allkeys-lfu", "allkeys-random"})
        QVERIFY(RedisProbe::evictsHermesKeys(p));
    for (const char *p : {"noeviction", "volatile-lru", "volatile-ttl", ""})
        QVERIFY(!RedisProbe::evictsHermesKeys(p));
}

QTEST_MAIN(tst_RedisMark)
#include "tst_redismark.moc"
