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
    void generatorIsStrictlyIncreasing();
    void advanceTo();
};

void tst_EventId::parse_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<quint64>("ms");
    QTest::addColumn<quint64>("seq");
    QTest::newRow("ms-seq") << QByteArray("1795560047588-3") << true << quint64(1795560047588) << quint64(3);
    QTest::newRow("bare ms") << QByteArray("42") << true << quint64(42) << quint64(0);
    QTest::newRow("zero") << QByteArray("0-0") << true << quint64(0) << quint64(0);
    QTest::newRow("max") << QByteArray("18446744073709551615-18446744073709551615") << true
                         << quint64(18446744073709551615ULL) << quint64(18446744073709551615ULL);
    QTest::newRow("empty") << QByteArray() << false << quint64(0) << quint64(0);
    QTest::newRow("dash") << QByteArray("-") << false << quint64(0) << quint64(0);
    QTest::newRow("no seq") << QByteArray("1-") << false << quint64(0) << quint64(0);
    QTest::newRow("no ms") << QByteArray("-1") << false << quint64(0) << quint64(0);
    QTest::newRow("letters") << QByteArray("a-1") << false << quint64(0) << quint64(0);
    QTest::newRow("three parts") << QByteArray("1-2-3") << false << quint64(0) << quint64(0);
    QTest::newRow("space") << QByteArray(" 1-2") << false << quint64(0) << quint64(0);
    QTest::newRow("plus") << QByteArray("+1-2") << false << quint64(0) << quint64(0);
    QTest::newRow("overflow") << QByteArray("99999999999999999999999") << false << quint64(0) << quint64(0);
    QTest::newRow("overflow 20 digits") << QByteArray("18446744073709551616") << false << quint64(0) << quint64(0);
}

void tst_EventId::parse()
{
    QFETCH(QByteArray, text);
    QFETCH(bool, valid);
    QFETCH(quint64, ms);
    QFETCH(quint64, seq);
    const auto id = EventId::parse(text);
    QCOMPARE(id.has_value(), valid);
    if (!valid)
        return;
    QCOMPARE(id->ms(), ms);
    QCOMPARE(id->seq(), seq);
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
}

QTEST_MAIN(tst_EventId)
#include "tst_eventid.moc"
