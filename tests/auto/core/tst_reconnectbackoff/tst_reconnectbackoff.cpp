#include "reconnectbackoff.h"

#include <QTest>

using namespace Hermes;

class tst_ReconnectBackoff : public QObject
{
    Q_OBJECT

private slots:
    void boundsDoubleUpToTheCap_data();
    void boundsDoubleUpToTheCap();
    void fullJitterStaysWithinTheBound();
    void retryReplacesTheBase();
    void hugeAttemptsDoNotOverflow();
};

void tst_ReconnectBackoff::boundsDoubleUpToTheCap_data()
{
    QTest::addColumn<int>("base");
    QTest::addColumn<int>("cap");
    QTest::addColumn<QList<int>>("bounds");
    QTest::newRow("defaults") << 1000 << 30000
                              << QList<int>{1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000};
    QTest::newRow("small") << 10 << 40 << QList<int>{10, 20, 40, 40};
    QTest::newRow("cap below base") << 500 << 100 << QList<int>{100, 100};
}

void tst_ReconnectBackoff::boundsDoubleUpToTheCap()
{
    QFETCH(int, base);
    QFETCH(int, cap);
    QFETCH(QList<int>, bounds);
    ReconnectBackoff backoff([] { return 1.0; });
    backoff.setBaseMs(base);
    backoff.setCapMs(cap);
    for (int i = 0; i < bounds.size(); ++i) {
        QCOMPARE(backoff.boundMs(i + 1), bounds[i]);
        QCOMPARE(backoff.delayMs(i + 1), bounds[i]); // random 1.0 → the bound itself
    }
}

void tst_ReconnectBackoff::fullJitterStaysWithinTheBound()
{
    double next = 0;
    ReconnectBackoff backoff([&] { return next; });
    QCOMPARE(backoff.delayMs(3), 0);
    next = 0.5;
    QCOMPARE(backoff.delayMs(3), 2000);
    next = 7.0; // a broken source is clamped, never beyond the bound
    QCOMPARE(backoff.delayMs(3), 4000);

    ReconnectBackoff real;
    QSet<int> seen;
    for (int i = 0; i < 200; ++i) {
        const int d = real.delayMs(4);
        QVERIFY(d >= 0 && d <= 8000);
        seen.insert(d);
    }
    QVERIFY2(seen.size() > 50, "full jitter must spread the delays");
}

void tst_ReconnectBackoff::retryReplacesTheBase()
{
    ReconnectBackoff backoff([] { return 1.0; });
    backoff.setBaseMs(250); // what a `retry: 250` does
    QCOMPARE(backoff.delayMs(1), 250);
    QCOMPARE(backoff.delayMs(2), 500);
}

void tst_ReconnectBackoff::hugeAttemptsDoNotOverflow()
{
    ReconnectBackoff backoff([] { return 1.0; });
    QCOMPARE(backoff.boundMs(1000), 30000);
    QCOMPARE(backoff.boundMs(0), 1000);
}

QTEST_MAIN(tst_ReconnectBackoff)
#include "tst_reconnectbackoff.moc"
