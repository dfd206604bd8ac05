#include "eventid.h"

#include <QTest>

using namespace Hermes;

class tst_EventId : public QObject
{
    Q_OBJECT

private slots:
    void parse_data();
    void parse();
    void ordering();
    void epochs();
    void generatorIsStrictlyIncreasing();
    void advanceTo();
};

void tst_EventId::parse_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<quint64>("ms");
    QTest::addColumn<quint64>("seq");
    QTest::addColumn<quint32>("epoch");
    QTest::newRow("epoch-ms-seq") << QByteArray("k3x9q2-1795560047588-3") << true
                                  << quint64(1795560047588) << quint64(3)
                                  << EventId::parseEpoch("k3x9q2");
    QTest::newRow("epoch zero-position") << QByteArray("k3x9q2-0-0") << true << quint64(0)
                                         << quint64(0) << EventId::parseEpoch("k3x9q2");
    QTest::newRow("epoch max") << QByteArray("1z141z3-1-1") << true << quint64(1) << quint64(1)
                               << quint32(0xFFFFFFFFu);
    QTest::newRow("epoch over 32 bits") << QByteArray("1z141z4-1-1") << false << quint64(0) << quint64(0) << quint32(0);
    QTest::newRow("epoch zero") << QByteArray("0-1-1") << false << quint64(0) << quint64(0) << quint32(0);
    QTest::newRow("epoch upper case") << QByteArray("K3X9Q2-1-1") << false << quint64(0) << quint64(0) << quint32(0);
    QTest::newRow("epoch too long") << QByteArray("abcdefgh-1-1") << false << quint64(0) << quint64(0) << quint32(0);
    QTest::newRow("epoch empty") << QByteArray("-1-1") << false << quint64(0) << quint64(0) << quint32(0);
    QTest::newRow("four parts") << QByteArray("a-1-2-3") << false << quint64(0) << quint64(0) << quint32(0);
    QTest::newRow("epoch, no seq") << QByteArray("a-1-") << false << quint64(0) << quint64(0) << quint32(0);
    QTest::newRow("ms-seq") << QByteArray("1795560047588-3") << true << quint64(1795560047588) << quint64(3) << quint32(0);
    QTest::newRow("bare ms") << QByteArray("42") << true << quint64(42) << quint64(0) << quint32(0);
    QTest::newRow("zero") << QByteArray("0-0") << true << quint64(0) << quint64(0) << quint32(0);
    QTest::newRow("max") << QByteArray("18446744073709551615-18446744073709551615") << true
                         << quint64(18446744073709551615ULL) << quint64(18446744073709551615ULL)
                         << quint32(0);
    QTest::newRow("empty") << QByteArray() << false << quint64(0) << quint64(0) << quint32(0);
    QTest::newRow("dash") << QByteArray("-") << false << quint64(0) << quint64(0) << quint32(0);
    QTest::newRow("no seq") << QByteArray("1-") << false << quint64(0) << quint64(0) << quint32(0);
    QTest::newRow("no ms") << QByteArray("-1") << false << quint64(0) << quint64(0) << quint32(0);
    QTest::newRow("letters") << QByteArray("a-1") << false << quint64(0) << quint64(0) << quint32(0);
    QTest::newRow("three parts") << QByteArray("1-2-3") << true << quint64(2) << quint64(3) << quint32(1);
    QTest::newRow("space") << QByteArray(" 1-2") << false << quint64(0) << quint64(0) << quint32(0);
    QTest::newRow("plus") << QByteArray("+1-2") << false << quint64(0) << quint64(0) << quint32(0);
    QTest::newRow("overflow") << QByteArray("99999999999999999999999") << false << quint64(0) << quint64(0) << quint32(0);
    QTest::newRow("overflow 20 digits") << QByteArray("18446744073709551616") << false << quint64(0) << quint64(0) << quint32(0);
}

void tst_EventId::parse()
{
    QFETCH(QByteArray, text);
    QFETCH(bool, valid);
    QFETCH(quint64, ms);
    QFETCH(quint64, seq);
    QFETCH(quint32, epoch);
    const auto id = EventId::parse(text);
    QCOMPARE(id.has_value(), valid);
    if (!valid)
        return;
    QCOMPARE(id->ms(), ms);
    QCOMPARE(id->seq(), seq);
    QCOMPARE(id->epoch(), epoch);
    if (text.contains('-'))
        QCOMPARE(id->toByteArray(), text);
}

void tst_EventId::ordering()
{
    QVERIFY(EventId(1, 5) < EventId(2, 0));
    QVERIFY(EventId(2, 0) < EventId(2, 1));
    QVERIFY(EventId(10, 0) > EventId(9, 99));
    QVERIFY(EventId(3, 3) == EventId(3, 3));
    QVERIFY(EventId().isNull());
    // Numeric, not lexicographic: "9-0" < "10-0".
    QVERIFY(*EventId::parse("9-0") < *EventId::parse("10-0"));
    // Within an epoch, by position; the epoch's start is not null.
    QVERIFY(EventId(9, 0, 7) < EventId(10, 0, 7));
    QVERIFY(!EventId(0, 0, 7).isNull());
    QCOMPARE(EventId(5, 2, 7).previous(), EventId(5, 1, 7));
    QCOMPARE(EventId(5, 0, 7).previous().epoch(), 7u);
}

void tst_EventId::epochs()
{
    for (int i = 0; i < 1000; ++i) {
        const quint32 e = EventId::randomEpoch();
        QVERIFY(e != 0);
        QCOMPARE(EventId::epochText(e).size(), 6);
        QCOMPARE(EventId::parseEpoch(EventId::epochText(e)), e);
    }
    const EventId id(1795560047588, 3, EventId::parseEpoch("k3x9q2"));
    QCOMPARE(id.toByteArray(), QByteArray("k3x9q2-1795560047588-3"));
    QCOMPARE(id.position(), QByteArray("1795560047588-3"));
    QCOMPARE(EventId::fromPosition("5-6", 9), EventId(5, 6, 9));
    QVERIFY(!EventId::fromPosition("k-5-6", 9));
}

void tst_EventId::generatorIsStrictlyIncreasing()
{
    EventIdGenerator gen;
    QCOMPARE(gen.next(100), EventId(100, 0));
    QCOMPARE(gen.next(100), EventId(100, 1)); // same millisecond
    QCOMPARE(gen.next(99), EventId(100, 2));  // the clock stepped back
    QCOMPARE(gen.next(101), EventId(101, 0));
    EventId previous = gen.last();
    for (int i = 0; i < 10000; ++i) {
        const EventId id = gen.next();
        QVERIFY(previous < id);
        previous = id;
    }
}

void tst_EventId::advanceTo()
{
    EventIdGenerator gen;
    gen.advanceTo(EventId(500, 7));
    QCOMPARE(gen.next(400), EventId(500, 8));
    gen.advanceTo(EventId(1, 0)); // never backwards
    QCOMPARE(gen.next(400), EventId(500, 9));
    // The epoch goes with the ids.
    gen.setEpoch(42);
    QCOMPARE(gen.next(400), EventId(500, 10, 42));
    gen.advanceTo(EventId(600, 0, 42));
    QCOMPARE(gen.next(400), EventId(600, 1, 42));
}

QTEST_MAIN(tst_EventId)
#include "tst_eventid.moc"
