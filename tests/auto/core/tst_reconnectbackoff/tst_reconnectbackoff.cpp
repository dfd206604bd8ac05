// ReconnectBackoff: the delays the stream clients (equal jitter, fast and slow attempts,
// `retry:`, Retry-After) and RedisBroker (full jitter) wait between attempts.

#include "reconnectbackoff.h"

#include <QRandomGenerator>
#include <QSet>
#include <QTest>

using namespace Hermes;

class tst_ReconnectBackoff : public QObject
{
    Q_OBJECT

private slots:
    // Full jitter (RedisBroker).
    void boundsDoubleUpToTheCap_data();
    void boundsDoubleUpToTheCap();
    void fullJitterStaysWithinTheBound();
    void retryReplacesTheBase();
    void hugeAttemptsDoNotOverflow();
    void fullJitterHasNoSlowPhase();
    // Equal jitter (the stream clients).
    void fastAttemptsDoubleWithEqualJitter();
    void slowAttemptsStayAtTheCap();
    void givingUp_data();
    void givingUp();
    void serverRetryIsClamped_data();
    void serverRetryIsClamped();
    void retryAfterIsClampedAndJittered();
    void parseRetryAfter_data();
    void parseRetryAfter();
};

void tst_ReconnectBackoff::boundsDoubleUpToTheCap_data()
{
    QTest::addColumn<int>("base");
    QTest::addColumn<int>("cap");
    QTest::addColumn<QList<int>>("bounds");
    QTest::newRow("defaults") << 1000 << 30000
                              << QList<int>{1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000};
    QTest::newRow("small") << 10 << 40 << QList<int>{10, 20, 40, 40};
    // The base wins over a smaller cap (a server's `retry:` floor may be above a low cap):
    // the monitor's rule before the merge; RedisBroker, the user of full jitter, never sets it.
    QTest::newRow("cap below base") << 500 << 100 << QList<int>{500, 500};
}

void tst_ReconnectBackoff::boundsDoubleUpToTheCap()
{
    QFETCH(int, base);
    QFETCH(int, cap);
    QFETCH(QList<int>, bounds);
    ReconnectBackoff backoff = ReconnectBackoff::fullJitter([] { return 1.0; });
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
    ReconnectBackoff backoff = ReconnectBackoff::fullJitter([&] { return next; });
    QCOMPARE(backoff.delayMs(3), 0);
    next = 0.5;
    QCOMPARE(backoff.delayMs(3), 2000);
    next = 7.0; // a broken source is clamped, never beyond the bound
    QCOMPARE(backoff.delayMs(3), 4000);

    ReconnectBackoff real = ReconnectBackoff::fullJitter();
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
    ReconnectBackoff backoff = ReconnectBackoff::fullJitter([] { return 1.0; });
    backoff.setBaseMs(250);
    QCOMPARE(backoff.delayMs(1), 250);
    QCOMPARE(backoff.delayMs(2), 500);
    backoff.setServerRetryMs(3000); // a `retry: 3000`
    QCOMPARE(backoff.delayMs(1), 3000);
    QCOMPARE(backoff.delayMs(2), 6000);
}

void tst_ReconnectBackoff::hugeAttemptsDoNotOverflow()
{
    ReconnectBackoff backoff = ReconnectBackoff::fullJitter([] { return 1.0; });
    QCOMPARE(backoff.boundMs(1000), 30000);
    QCOMPARE(backoff.boundMs(0), 1000);
}

void tst_ReconnectBackoff::fullJitterHasNoSlowPhase()
{
    // RedisBroker's timing: 500 ms doubling to 10 s, every attempt full jitter, for ever.
    double r = 1.0;
    ReconnectBackoff backoff = ReconnectBackoff::fullJitter([&] { return r; });
    backoff.setBaseMs(500);
    backoff.setCapMs(10000);
    QCOMPARE(backoff.jitter(), ReconnectBackoff::Jitter::Full);
    QCOMPARE(backoff.maxAttempts(), 0);
    for (int attempt : {11, 50, 100000}) {
        QVERIFY(!backoff.isSlow(attempt));
        QVERIFY(!backoff.givesUpBefore(attempt));
        r = 1.0;
        QCOMPARE(backoff.delayMs(attempt), 10000);
        r = 0.0;
        QCOMPARE(backoff.delayMs(attempt), 0); // not the slow phase's cap − 20 %
    }
    QCOMPARE(ReconnectBackoff().jitter(), ReconnectBackoff::Jitter::Equal);
}

void tst_ReconnectBackoff::fastAttemptsDoubleWithEqualJitter()
{
    double r = 1.0;
    ReconnectBackoff backoff([&] { return r; });
    const QList<int> bounds{1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000};
    for (int i = 0; i < bounds.size(); ++i) {
        QCOMPARE(backoff.boundMs(i + 1), bounds[i]);
        r = 1.0;
        QCOMPARE(backoff.delayMs(i + 1), bounds[i]);
        r = 0.0; // never below half the bound: no attempt is burnt at once
        QCOMPARE(backoff.delayMs(i + 1), bounds[i] / 2);
    }
    // The real source spreads the delays over the whole range.
    ReconnectBackoff real;
    QSet<int> seen;
    for (int i = 0; i < 300; ++i) {
        const int d = real.delayMs(4);
        QVERIFY(d >= 4000 && d <= 8000);
        seen.insert(d / 100);
    }
    QVERIFY2(seen.size() > 25, "jitter must spread the delays");
}

void tst_ReconnectBackoff::slowAttemptsStayAtTheCap()
{
    double r = 0;
    ReconnectBackoff backoff([&] { return r; });
    backoff.setCapMs(30000);
    QVERIFY(!backoff.isSlow(10));
    QVERIFY(backoff.isSlow(11));
    for (int attempt : {11, 50, 100000}) {
        r = 0;
        QCOMPARE(backoff.delayMs(attempt), 24000);
        r = 1;
        QCOMPARE(backoff.delayMs(attempt), 36000);
        QVERIFY(!backoff.givesUpBefore(attempt)); // unlimited by default
    }
}

void tst_ReconnectBackoff::givingUp_data()
{
    QTest::addColumn<int>("max");
    QTest::addColumn<int>("attempt");
    QTest::addColumn<bool>("givesUp");
    QTest::newRow("unlimited") << 0 << 1000000 << false;
    QTest::newRow("within") << 3 << 3 << false;
    QTest::newRow("past") << 3 << 4 << true;
    QTest::newRow("negative means unlimited") << -5 << 99 << false;
}

void tst_ReconnectBackoff::givingUp()
{
    QFETCH(int, max);
    QFETCH(int, attempt);
    QFETCH(bool, givesUp);
    ReconnectBackoff backoff;
    backoff.setMaxAttempts(max);
    QCOMPARE(backoff.givesUpBefore(attempt), givesUp);
}

void tst_ReconnectBackoff::serverRetryIsClamped_data()
{
    QTest::addColumn<int>("retry");
    QTest::addColumn<int>("base");
    QTest::newRow("retry: 0") << 0 << 500;
    QTest::newRow("retry: 1") << 1 << 500;
    QTest::newRow("retry: 3000") << 3000 << 3000;
    QTest::newRow("beyond the cap") << 600000 << 30000;
    QTest::newRow("forgotten") << -1 << 1000;
}

void tst_ReconnectBackoff::serverRetryIsClamped()
{
    QFETCH(int, retry);
    QFETCH(int, base);
    ReconnectBackoff backoff([] { return 1.0; });
    backoff.setServerRetryMs(retry);
    QCOMPARE(backoff.baseMs(), base);
    QCOMPARE(backoff.configuredBaseMs(), 1000);
    QCOMPARE(backoff.delayMs(1), base);
}

void tst_ReconnectBackoff::retryAfterIsClampedAndJittered()
{
    double r = 0;
    ReconnectBackoff backoff([&] { return r; });
    QCOMPARE(backoff.retryAfterDelayMs(7), 7000);
    r = 1;
    QCOMPARE(backoff.retryAfterDelayMs(7), 10500);
    QCOMPARE(backoff.retryAfterDelayMs(0), 1500);   // at least a second (+ jitter)
    QCOMPARE(backoff.retryAfterDelayMs(1000000), ReconnectBackoff::MaxRetryAfterMs);
    // Many clients told "Retry-After: 10" come back spread over 10-15 s.
    ReconnectBackoff real;
    int minimum = INT_MAX, maximum = 0;
    for (int i = 0; i < 500; ++i) {
        const int d = real.retryAfterDelayMs(10);
        minimum = qMin(minimum, d);
        maximum = qMax(maximum, d);
    }
    QVERIFY(minimum >= 10000 && maximum <= 15000);
    QVERIFY2(maximum - minimum > 3000, "Retry-After must be jittered");
}

void tst_ReconnectBackoff::parseRetryAfter_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<qint64>("seconds"); ///< -1: not understood
    QTest::newRow("seconds") << QByteArray("120") << qint64(120);
    QTest::newRow("spaces") << QByteArray(" 5 ") << qint64(5);
    QTest::newRow("zero") << QByteArray("0") << qint64(0);
    QTest::newRow("huge") << QByteArray("99999999999999999999") << qint64(3600);
    QTest::newRow("date") << QByteArray("Sat, 28 Nov 2026 12:01:30 GMT") << qint64(90);
    QTest::newRow("date in the past") << QByteArray("Sat, 28 Nov 2026 11:00:00 GMT") << qint64(0);
    QTest::newRow("negative") << QByteArray("-5") << qint64(-1);
    QTest::newRow("garbage") << QByteArray("soon") << qint64(-1);
    QTest::newRow("empty") << QByteArray() << qint64(-1);
}

void tst_ReconnectBackoff::parseRetryAfter()
{
    QFETCH(QByteArray, value);
    QFETCH(qint64, seconds);
    const QDateTime now(QDate(2026, 11, 28), QTime(12, 0), Qt::UTC);
    const auto parsed = ReconnectBackoff::parseRetryAfter(value, now);
    QCOMPARE(parsed.value_or(-1), seconds);
}

QTEST_MAIN(tst_ReconnectBackoff)
#include "tst_reconnectbackoff.moc"
