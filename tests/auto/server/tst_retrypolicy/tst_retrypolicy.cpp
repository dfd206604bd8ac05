// RetryPolicy: how many attempts, the doubling wait capped at a minute, and the message a
// download carries while it waits.

#include "downloads/retrypolicy.h"

#include <QTest>

using namespace Hermes;

class tst_RetryPolicy : public QObject
{
    Q_OBJECT

private slots:
    void attempts();
    void delaysDoubleUpToAMinute();
    void message();
};

void tst_RetryPolicy::attempts()
{
    const RetryPolicy policy{3, 1000};
    QVERIFY(policy.allowsAnother(1));
    QVERIFY(policy.allowsAnother(2));
    QVERIFY(!policy.allowsAnother(3)); // the third failure is the last
    const RetryPolicy once{1, 1000};
    QVERIFY(!once.allowsAnother(1));
}

void tst_RetryPolicy::delaysDoubleUpToAMinute()
{
    const RetryPolicy policy{100, 1000};
    QCOMPARE(policy.delayAfter(1), qint64(1000));
    QCOMPARE(policy.delayAfter(2), qint64(2000));
    QCOMPARE(policy.delayAfter(3), qint64(4000));
    QCOMPARE(policy.delayAfter(6), qint64(32000));
    QCOMPARE(policy.delayAfter(7), qint64(60000));
    QCOMPARE(policy.delayAfter(99), qint64(60000)); // no overflow past the cap
    const RetryPolicy quick{5, 50};
    QCOMPARE(quick.delayAfter(2), qint64(100));
}

void tst_RetryPolicy::message()
{
    const RetryPolicy policy{5, 1500};
    QCOMPARE(policy.retryMessage(QStringLiteral("HTTP 503 Service Unavailable"), 2),
             QStringLiteral("HTTP 503 Service Unavailable; retrying in 3 s (attempt 3 of 5)"));
    QCOMPARE(RetryPolicy(policy).retryMessage(QStringLiteral("x"), 1), QStringLiteral("x; retrying in 1.5 s (attempt 2 of 5)"));
}

QTEST_APPLESS_MAIN(tst_RetryPolicy)
#include "tst_retrypolicy.moc"
