#include "stream/eventhistory.h"

#include <QTest>

using namespace Hermes;

class tst_EventHistory : public QObject
{
    Q_OBJECT

private slots:
    void replaysExactlyTheEventsAfterAnId_data();
    void replaysExactlyTheEventsAfterAnId();
    void evictionRequiresResync();
    void newestAndSize();
};

static EncodedEventPtr makeEvent(quint64 ms, quint64 seq, Channel channel)
{
    auto e = std::make_shared<EncodedEvent>();
    e->id = EventId(ms, seq);
    e->channel = channel;
    e->type = QStringLiteral("t");
    return e;
}

static QList<QByteArray> ids(const std::vector<EncodedEventPtr> &events)
{
    QList<QByteArray> out;
    for (const auto &e : events)
        out.append(e->id.toByteArray());
    return out;
}

void tst_EventHistory::replaysExactlyTheEventsAfterAnId_data()
{
    QTest::addColumn<QByteArray>("after");
    QTest::addColumn<int>("mask");
    QTest::addColumn<QList<QByteArray>>("expected");
    const QList<QByteArray> all{"10-0", "10-1", "11-0", "12-0", "12-1"};
    QTest::newRow("from the start") << QByteArray("0-0") << int(Channel::AllMask) << all;
    QTest::newRow("after the first") << QByteArray("10-0") << int(Channel::AllMask) << all.mid(1);
    QTest::newRow("between ids") << QByteArray("11-5") << int(Channel::AllMask) << all.mid(3);
    QTest::newRow("after the newest") << QByteArray("12-1") << int(Channel::AllMask) << QList<QByteArray>();
    QTest::newRow("in the future") << QByteArray("99-0") << int(Channel::AllMask) << QList<QByteArray>();
    QTest::newRow("one channel") << QByteArray("0-0") << int(Channel::bitOf(Channel::Queue)) << QList<QByteArray>{"10-1", "12-0"};
    QTest::newRow("two channels merged") << QByteArray("10-0") << int(Channel::bitOf(Channel::Queue) | Channel::bitOf(Channel::System))
                                         << QList<QByteArray>{"10-1", "11-0", "12-0"};
}

void tst_EventHistory::replaysExactlyTheEventsAfterAnId()
{
    QFETCH(QByteArray, after);
    QFETCH(int, mask);
    QFETCH(QList<QByteArray>, expected);
    EventHistory history(100);
    history.append(makeEvent(10, 0, Channel::Downloads));
    history.append(makeEvent(10, 1, Channel::Queue));
    history.append(makeEvent(11, 0, Channel::System));
    history.append(makeEvent(12, 0, Channel::Queue));
    history.append(makeEvent(12, 1, Channel::Downloads));
    std::vector<EncodedEventPtr> out;
    QVERIFY(history.eventsAfter(*EventId::parse(after), quint8(mask), &out));
    QCOMPARE(ids(out), expected);
}

void tst_EventHistory::evictionRequiresResync()
{
    EventHistory history(2);
    for (quint64 i = 1; i <= 5; ++i)
        history.append(makeEvent(i, 0, Channel::Downloads));
    history.append(makeEvent(6, 0, Channel::System));
    std::vector<EncodedEventPtr> out;
    // 1, 2, 3 were evicted from the downloads channel; 4 and 5 are kept.
    QVERIFY(!history.eventsAfter(EventId(2, 0), Channel::AllMask, &out));
    QVERIFY(history.eventsAfter(EventId(3, 0), Channel::AllMask, &out));
    QCOMPARE(ids(out), (QList<QByteArray>{"4-0", "5-0", "6-0"}));
    // A client of the system channel alone lost nothing.
    out.clear();
    QVERIFY(history.eventsAfter(EventId(1, 0), Channel::bitOf(Channel::System), &out));
    QCOMPARE(ids(out), QList<QByteArray>{"6-0"});
}

void tst_EventHistory::newestAndSize()
{
    EventHistory history(3);
    QVERIFY(history.newest().isNull());
    for (quint64 i = 1; i <= 10; ++i)
        history.append(makeEvent(i, 0, *Channel::fromIndex(int(i % 3))));
    QCOMPARE(history.newest(), EventId(10, 0));
    QCOMPARE(history.size(), 9);
}

QTEST_MAIN(tst_EventHistory)
#include "tst_eventhistory.moc"
