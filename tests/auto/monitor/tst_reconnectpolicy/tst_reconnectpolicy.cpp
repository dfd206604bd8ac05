// ReconnectPolicy: the delays the monitor and hermes-events wait between attempts.

#include "reconnectpolicy.h"

#include <QRandomGenerator>
#include <QTest>

using namespace Hermes;

class tst_ReconnectPolicy : public QObject
{
    Q_OBJECT

private slots:
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

void tst_ReconnectPolicy::fastAttemptsDoubleWithEqualJitter()
{
    double r = 1.0;
    ReconnectPolicy policy([&] { return r; });
    const QList<int> bounds{1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000};
    for (int i = 0; i < bounds.size(); ++i) {
        QCOMPARE(policy.boundMs(i + 1), bounds[i]);
        r = 1.0;
        QCOMPARE(policy.delayMs(i + 1), bounds[i]);
        r = 0.0; // never below half the bound: no attempt is burnt at once
        QCOMPARE(policy.delayMs(i + 1), bounds[i] / 2);
    }
    // The real source spreads the delays over the whole range.
    ReconnectPolicy real;
    QSet<int> seen;
    for (int i = 0; i < 300; ++i) {
        const int d = real.delayMs(4);
        QVERIFY(d >= 4000 && d <= 8000);
        seen.insert(d / 100);
    }
    QVERIFY2(seen.size() > 25, "jitter must spread the delays");
}

void tst_ReconnectPolicy::slowAttemptsStayAtTheCap()
{
    double r = 0;
    ReconnectPolicy policy([&] { return r; });
    policy.setCapMs(30000);
    QVERIFY(!policy.isSlow(10));
    QVERIFY(policy.isSlow(11));
    for (int attempt : {11, 50, 100000}) {
        r = 0;
        QCOMPARE(policy.delayMs(attempt), 24000);
        r = 1;
        QCOMPARE(policy.delayMs(attempt), 36000);
        QVERIFY(!policy.givesUpBefore(attempt)); // unlimited by default
    }
}

void tst_ReconnectPolicy::givingUp_data()
{
    QTest::addColumn<int>("max");
    QTest::addColumn<int>("attempt");
    QTest::addColumn<bool>("givesUp");
    QTest::newRow("unlimited") << 0 << 1000000 << false;
    QTest::newRow("within") << 3 << 3 << false;
    QTest::newRow("past") << 3 << 4 << true;
    QTest::newRow("negative means unlimited") << -5 << 99 << false;
}

void tst_ReconnectPolicy::givingUp()
{
    QFETCH(int, max);
    QFETCH(int, attempt);
    QFETCH(bool, givesUp);
    ReconnectPolicy policy;
    policy.setMaxAttempts(max);
    QCOMPARE(policy.givesUpBefore(attempt), givesUp);
}

void tst_ReconnectPolicy::serverRetryIsClamped_data()
{
    QTest::addColumn<int>("retry");
    QTest::addColumn<int>("base");
    QTest::newRow("retry: 0") << 0 << 500;
    QTest::newRow("retry: 1") << 1 << 500;
    QTest::newRow("retry: 3000") << 3000 << 3000;
    QTest::newRow("beyond the cap") << 600000 << 30000;
    QTest::newRow("forgotten") << -1 << 1000;
}

void tst_ReconnectPolicy::serverRetryIsClamped()
{
    QFETCH(int, retry);
    QFETCH(int, base);
    ReconnectPolicy policy([] { return 1.0; });
    policy.setServerRetryMs(retry);
    QCOMPARE(policy.baseMs(), base);
    QCOMPARE(policy.configuredBaseMs(), 1000);
    QCOMPARE(policy.delayMs(1), base);
}

void tst_ReconnectPolicy::retryAfterIsClampedAndJittered()
{
    double r = 0;
    ReconnectPolicy policy([&] { return r; });
    QCOMPARE(policy.retryAfterDelayMs(7), 7000);
    r = 1;
    QCOMPARE(policy.retryAfterDelayMs(7), 10500);
    QCOMPARE(policy.retryAfterDelayMs(0), 1500);   // at least a second (+ jitter)
    QCOMPARE(policy.retryAfterDelayMs(1000000), ReconnectPolicy::MaxRetryAfterMs);
    // Many clients told "Retry-After: 10" come back spread over 10-15 s.
    ReconnectPolicy real;
    int minimum = INT_MAX, maximum = 0;
    for (int i = 0; i < 500; ++i) {
        const int d = real.retryAfterDelayMs(10);
        minimum = qMin(minimum, d);
        maximum = qMax(maximum, d);
    }
    QVERIFY(minimum >= 10000 && maximum <= 15000);
    QVERIFY2(maximum - minimum > 3000, "Retry-After must be jittered");
}

void tst_ReconnectPolicy::parseRetryAfter_data()
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

void tst_ReconnectPolicy::parseRetryAfter()
{
    QFETCH(QByteArray, value);
    QFETCH(qint64, seconds);
    const QDateTime now(QDate(2026, 11, 28), QTime(12, 0), Qt::UTC);
    const auto parsed = ReconnectPolicy::parseRetryAfter(value, now);
    QCOMPARE(parsed.value_or(-1), seconds);
}

QTEST_MAIN(tst_ReconnectPolicy)
#include "tst_reconnectpolicy.moc"
