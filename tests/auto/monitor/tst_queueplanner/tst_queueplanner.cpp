// QueuePlanner: queue moves become priorities that give exactly the wanted order under the
// server's rule (priority, then arrival), checked against that rule for random queues; and
// the notification throttle.

#include "notificationthrottle.h"
#include "queueplanner.h"

#include <QRandomGenerator>
#include <QTest>

using namespace Hermes;
using Move = QueuePlanner::Move;

class tst_QueuePlanner : public QObject
{
    Q_OBJECT

private slots:
    void reorder_data();
    void reorder();
    void singleMovesChangeLittle();
    void randomQueuesAgainstTheServersRule();
    void throttle();
};

void tst_QueuePlanner::reorder_data()
{
    QTest::addColumn<QStringList>("selected");
    QTest::addColumn<int>("move");
    QTest::addColumn<QStringList>("after");
    const QStringList base{"a", "b", "c", "d", "e"};
    QTest::newRow("top") << QStringList{"c", "e"} << int(Move::Top) << QStringList{"c", "e", "a", "b", "d"};
    QTest::newRow("bottom") << QStringList{"a", "c"} << int(Move::Bottom) << QStringList{"b", "d", "e", "a", "c"};
    QTest::newRow("up") << QStringList{"c"} << int(Move::Up) << QStringList{"a", "c", "b", "d", "e"};
    QTest::newRow("up a block") << QStringList{"c", "d"} << int(Move::Up) << QStringList{"a", "c", "d", "b", "e"};
    QTest::newRow("up at the top") << QStringList{"a", "c"} << int(Move::Up) << QStringList{"a", "c", "b", "d", "e"};
    QTest::newRow("down") << QStringList{"b"} << int(Move::Down) << QStringList{"a", "c", "b", "d", "e"};
    QTest::newRow("down at the bottom") << QStringList{"e", "c"} << int(Move::Down) << QStringList{"a", "b", "d", "c", "e"};
}

void tst_QueuePlanner::reorder()
{
    QFETCH(QStringList, selected);
    QFETCH(int, move);
    QFETCH(QStringList, after);
    const QSet<QString> set(selected.cbegin(), selected.cend());
    QCOMPARE(QueuePlanner::reorder({"a", "b", "c", "d", "e"}, set, Move(move)), after);
}

static QList<QueuePlanner::Entry> queue(const QList<int> &priorities)
{
    QList<QueuePlanner::Entry> out;
    const QDateTime t0(QDate(2026, 1, 1), QTime(0, 0), Qt::UTC);
    for (int i = 0; i < priorities.size(); ++i)
        out.append({QString(QChar(u'a' + i)), priorities[i], t0.addSecs(i)});
    return out;
}

void tst_QueuePlanner::singleMovesChangeLittle()
{
    // All at the default priority: to the top or bottom is one change.
    const auto entries = queue({0, 0, 0, 0, 0});
    const QStringList order = QueuePlanner::order(entries);
    QCOMPARE(order, (QStringList{"a", "b", "c", "d", "e"}));
    auto plan = [&](const QString &id, Move move) {
        return QueuePlanner::priorities(entries, QueuePlanner::reorder(order, {id}, move), {id});
    };
    QCOMPARE(plan("d", Move::Top), (QHash<QString, int>{{"d", 1}}));
    QCOMPARE(plan("b", Move::Bottom), (QHash<QString, int>{{"b", -1}}));
    QCOMPARE(plan("e", Move::Down), (QHash<QString, int>{}));
    // With distinct priorities, a move up between two is one change.
    const auto spaced = queue({30, 20, 10, 0});
    QCOMPARE(QueuePlanner::priorities(spaced, {"a", "c", "b", "d"}, {"c"}), (QHash<QString, int>{{"c", 21}}));
}

void tst_QueuePlanner::randomQueuesAgainstTheServersRule()
{
    const quint32 seed = QRandomGenerator::global()->generate();
    QRandomGenerator rng(seed);
    for (int round = 0; round < 2000; ++round) {
        const int n = int(rng.bounded(1, 12));
        QList<int> priorities;
        const bool crowded = rng.bounded(10) == 0; // near the server's limits
        for (int i = 0; i < n; ++i)
            priorities.append(crowded ? 1000 - int(rng.bounded(3)) : int(rng.bounded(-3, 4)));
        QList<QueuePlanner::Entry> entries = queue(priorities);
        for (QueuePlanner::Entry &e : entries) {
            if (rng.bounded(4) == 0)
                e.added = entries.first().added; // created in the same millisecond
        }
        const QStringList order = QueuePlanner::order(entries);
        QSet<QString> selected;
        for (const QString &id : order) {
            if (rng.bounded(3) == 0)
                selected.insert(id);
        }
        const Move move = Move(rng.bounded(4));
        const QStringList wanted = QueuePlanner::reorder(order, selected, move);
        const QHash<QString, int> changes = QueuePlanner::priorities(entries, wanted, selected);
        for (QueuePlanner::Entry &e : entries) {
            e.priority = changes.value(e.id, e.priority);
            QVERIFY(e.priority >= QueuePlanner::MinPriority && e.priority <= QueuePlanner::MaxPriority);
        }
        const QString why = QStringLiteral("seed %1 round %2: wanted %3 got %4")
                                .arg(seed).arg(round).arg(wanted.join(u','), QueuePlanner::order(entries).join(u','));
        // Whatever the server does with equal creation times, it runs them in the wanted order:
        // each download has a higher priority than the next, or the same and an earlier time.
        QHash<QString, QueuePlanner::Entry> byId;
        for (const QueuePlanner::Entry &e : std::as_const(entries))
            byId.insert(e.id, e);
        for (int i = 0; i + 1 < wanted.size(); ++i) {
            const QueuePlanner::Entry &a = byId[wanted[i]], &b = byId[wanted[i + 1]];
            QVERIFY2(a.priority > b.priority || (a.priority == b.priority && a.added < b.added), qPrintable(why));
        }
    }
}

void tst_QueuePlanner::throttle()
{
    NotificationThrottle t;
    t.setPerMinute(3);
    int shown = 0;
    for (int i = 0; i < 10; ++i)
        shown += t.allow(1000 + i);
    QCOMPARE(shown, 3);
    QCOMPARE(t.takeSuppressed(), 7);
    QCOMPARE(t.takeSuppressed(), 0);
    QVERIFY(!t.allow(50000));
    QVERIFY(t.allow(61000)); // a new minute
    t.setPerMinute(0);
    QVERIFY(!t.allow(200000));
}

QTEST_MAIN(tst_QueuePlanner)
#include "tst_queueplanner.moc"
