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
    ConnectionSlots pool(2);
    QList<int> granted;
    const QString o = QStringLiteral("http://a:80");
    const quint64 a = pool.join(o, [&](int) { granted << 1; });
    const quint64 b = pool.join(o, [&](int) { granted << 2; });
    const quint64 c = pool.join(o, [&](int s) { granted << 3 * 100 + s; });
    const quint64 d = pool.join(o, [&](int s) { granted << 4 * 100 + s; });
    QCOMPARE(pool.slotOf(a), 0);
    QCOMPARE(pool.slotOf(b), 1);
    QCOMPARE(pool.slotOf(c), -1);
    QCOMPARE(pool.slotOf(d), -1);
    QCOMPARE(pool.inUse(o), 2);
    QCOMPARE(pool.waiting(o), 2);
    QVERIFY(granted.isEmpty()); // no callback for a slot had at once
    pool.leave(b);
    QCOMPARE(granted, QList<int>{301}); // the oldest waiter, b's slot
    QCOMPARE(pool.slotOf(c), 1);
    pool.leave(a);
    QCOMPARE(granted, (QList<int>{301, 400}));
    pool.leave(c);
    pool.leave(d);
    pool.leave(d); // twice: ignored
    QCOMPARE(pool.inUse(o), 0);
    QCOMPARE(pool.waiting(o), 0);
}

void tst_ConnectionSlots::originsAreSeparate()
{
    ConnectionSlots pool(1);
    int granted = 0;
    const quint64 a = pool.join(QStringLiteral("http://a:80"), [&](int) { ++granted; });
    const quint64 b = pool.join(QStringLiteral("http://b:80"), [&](int) { ++granted; });
    QCOMPARE(pool.slotOf(a), 0);
    QCOMPARE(pool.slotOf(b), 0);
    const quint64 a2 = pool.join(QStringLiteral("http://a:80"), [&](int) { ++granted; });
    pool.leave(b); // frees b's origin only
    QCOMPARE(granted, 0);
    QCOMPARE(pool.slotOf(a2), -1);
    pool.leave(a);
    QCOMPARE(granted, 1);
    QCOMPARE(pool.slotOf(a2), 0);
}

void tst_ConnectionSlots::waiterThatLeaves()
{
    ConnectionSlots pool(1);
    const QString o = QStringLiteral("http://a:80");
    QList<int> granted;
    const quint64 a = pool.join(o, [&](int) { granted << 1; });
    const quint64 b = pool.join(o, [&](int) { granted << 2; });
    const quint64 c = pool.join(o, [&](int) { granted << 3; });
    pool.leave(b); // gave up waiting
    QCOMPARE(pool.waiting(o), 1);
    pool.leave(a);
    QCOMPARE(granted, QList<int>{3});
    QCOMPARE(pool.slotOf(c), 0);
    // A newcomer does not jump the queue while others wait.
    const quint64 d = pool.join(o, {});
    const quint64 e = pool.join(o, {});
    pool.leave(c);
    QCOMPARE(pool.slotOf(d), 0);
    QCOMPARE(pool.slotOf(e), -1);
}

void tst_ConnectionSlots::slotNumbersAreReused()
{
    ConnectionSlots pool(8);
    const QString o = QStringLiteral("http://a:80");
    QList<quint64> tickets;
    for (int i = 0; i < 8; ++i)
        tickets << pool.join(o, {});
    for (int i = 0; i < 8; ++i)
        QCOMPARE(pool.slotOf(tickets.at(i)), i); // 0–5 on the first manager, 6–7 on the second
    pool.leave(tickets.at(2));
    const quint64 again = pool.join(o, {});
    QCOMPARE(pool.slotOf(again), 2); // the lowest free: the first manager fills up first
}

QTEST_GUILESS_MAIN(tst_ConnectionSlots)
#include "tst_connectionslots.moc"
