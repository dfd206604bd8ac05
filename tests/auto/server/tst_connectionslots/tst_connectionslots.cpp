// ConnectionSlots: at most N transfers per origin, the others waiting in order; a slot's
// number picks its network access manager (6 each); leaving hands the slot to the oldest
// waiter of the same origin only; a waiter that gives up leaves no trace.

#include "downloads/connectionslots.h"

#include <QTest>
#include <QUrl>

using namespace Hermes;

class tst_ConnectionSlots : public QObject
{
    Q_OBJECT
private slots:
    void origins();
    void managers();
    void limitThenInOrder();
    void originsAreSeparate();
    void waiterThatLeaves();
    void slotNumbersAreReused();
};

void tst_ConnectionSlots::origins()
{
    QCOMPARE(ConnectionSlots::originOf(QUrl(QStringLiteral("http://Example.org/a"))), QStringLiteral("http://example.org:80"));
    QCOMPARE(ConnectionSlots::originOf(QUrl(QStringLiteral("https://example.org/a"))), QStringLiteral("https://example.org:443"));
    QCOMPARE(ConnectionSlots::originOf(QUrl(QStringLiteral("http://u:p@example.org:8080/a"))), QStringLiteral("http://example.org:8080"));
}

void tst_ConnectionSlots::managers()
{
    QCOMPARE(ConnectionSlots::managersFor(1), 1);
    QCOMPARE(ConnectionSlots::managersFor(6), 1);
    QCOMPARE(ConnectionSlots::managersFor(7), 2);
    QCOMPARE(ConnectionSlots::managersFor(13), 3);
}

void tst_ConnectionSlots::limitThenInOrder()
{
    ConnectionSlots slots(2);
    QList<int> granted;
    const QString o = QStringLiteral("http://a:80");
    const quint64 a = slots.join(o, [&](int) { granted << 1; });
    const quint64 b = slots.join(o, [&](int) { granted << 2; });
    const quint64 c = slots.join(o, [&](int s) { granted << 3 * 100 + s; });
    const quint64 d = slots.join(o, [&](int s) { granted << 4 * 100 + s; });
    QCOMPARE(slots.slotOf(a), 0);
    QCOMPARE(slots.slotOf(b), 1);
    QCOMPARE(slots.slotOf(c), -1);
    QCOMPARE(slots.slotOf(d), -1);
    QCOMPARE(slots.inUse(o), 2);
    QCOMPARE(slots.waiting(o), 2);
    QVERIFY(granted.isEmpty()); // no callback for a slot had at once
    slots.leave(b);
    QCOMPARE(granted, QList<int>{301}); // the oldest waiter, b's slot
    QCOMPARE(slots.slotOf(c), 1);
    slots.leave(a);
    QCOMPARE(granted, (QList<int>{301, 400}));
    slots.leave(c);
    slots.leave(d);
    slots.leave(d); // twice: ignored
    QCOMPARE(slots.inUse(o), 0);
    QCOMPARE(slots.waiting(o), 0);
}

void tst_ConnectionSlots::originsAreSeparate()
{
    ConnectionSlots slots(1);
    int granted = 0;
    const quint64 a = slots.join(QStringLiteral("http://a:80"), [&](int) { ++granted; });
    const quint64 b = slots.join(QStringLiteral("http://b:80"), [&](int) { ++granted; });
    QCOMPARE(slots.slotOf(a), 0);
    QCOMPARE(slots.slotOf(b), 0);
    const quint64 a2 = slots.join(QStringLiteral("http://a:80"), [&](int) { ++granted; });
    slots.leave(b); // frees b's origin only
    QCOMPARE(granted, 0);
    QCOMPARE(slots.slotOf(a2), -1);
    slots.leave(a);
    QCOMPARE(granted, 1);
    QCOMPARE(slots.slotOf(a2), 0);
}

void tst_ConnectionSlots::waiterThatLeaves()
{
    ConnectionSlots slots(1);
    const QString o = QStringLiteral("http://a:80");
    QList<int> granted;
    const quint64 a = slots.join(o, [&](int) { granted << 1; });
    const quint64 b = slots.join(o, [&](int) { granted << 2; });
    const quint64 c = slots.join(o, [&](int) { granted << 3; });
    slots.leave(b); // gave up waiting
    QCOMPARE(slots.waiting(o), 1);
    slots.leave(a);
    QCOMPARE(granted, QList<int>{3});
    QCOMPARE(slots.slotOf(c), 0);
    // A newcomer does not jump the queue while others wait.
    const quint64 d = slots.join(o, {});
    const quint64 e = slots.join(o, {});
    slots.leave(c);
    QCOMPARE(slots.slotOf(d), 0);
    QCOMPARE(slots.slotOf(e), -1);
}

void tst_ConnectionSlots::slotNumbersAreReused()
{
    ConnectionSlots slots(8);
    const QString o = QStringLiteral("http://a:80");
    QList<quint64> tickets;
    for (int i = 0; i < 8; ++i)
        tickets << slots.join(o, {});
    for (int i = 0; i < 8; ++i)
        QCOMPARE(slots.slotOf(tickets.at(i)), i); // 0–5 on the first manager, 6–7 on the second
    slots.leave(tickets.at(2));
    const quint64 again = slots.join(o, {});
    QCOMPARE(slots.slotOf(again), 2); // the lowest free: the first manager fills up first
}

QTEST_GUILESS_MAIN(tst_ConnectionSlots)
#include "tst_connectionslots.moc"
