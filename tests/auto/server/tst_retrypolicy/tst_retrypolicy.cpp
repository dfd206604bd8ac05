// RetryPolicy: the one table of what is retried (statuses, transport errors), the retry window
// (a resolver down for minutes fails nothing; past the window it fails), the optional attempt
// cap, the jittered doubling wait capped at a minute and never below Retry-After, and
// Retry-After in both of its forms.

#include "downloads/retrypolicy.h"

#include <QRandomGenerator>
#include <QTest>

using namespace Hermes;

class tst_RetryPolicy : public QObject
{
    Q_OBJECT

private slots:
    void transientStatuses();
    void transientNetworkErrors();
    void windowNotAttemptsLimits();
    void attemptCapWhenSet();
    void delaysAreJitteredDoublingCapped();
    void retryAfterIsAFloor();
    void retryAfterForms();
    void message();
};

void tst_RetryPolicy::transientStatuses()
{
    for (int s : {500, 502, 503, 504, 408, 429})
        QVERIFY2(RetryPolicy::isTransientStatus(s), qPrintable(QString::number(s)));
    for (int s : {400, 401, 403, 404, 410, 416 /* handled before: a restart */, 451})
        QVERIFY2(!RetryPolicy::isTransientStatus(s), qPrintable(QString::number(s)));
}

void tst_RetryPolicy::transientNetworkErrors()
{
    // A resolver outage is HostNotFound to Qt (it cannot tell EAI_AGAIN from NXDOMAIN): retried.
    for (auto e : {QNetworkReply::HostNotFoundError, QNetworkReply::ConnectionRefusedError,
                   QNetworkReply::RemoteHostClosedError, QNetworkReply::TimeoutError,
                   QNetworkReply::SslHandshakeFailedError, QNetworkReply::TemporaryNetworkFailureError,
                   QNetworkReply::NetworkSessionFailedError, QNetworkReply::ProxyConnectionRefusedError,
                   QNetworkReply::UnknownNetworkError})
        QVERIFY2(RetryPolicy::isTransientNetworkError(e), qPrintable(QString::number(int(e))));
    for (auto e : {QNetworkReply::TooManyRedirectsError, QNetworkReply::InsecureRedirectError,
                   QNetworkReply::ProtocolUnknownError, QNetworkReply::OperationCanceledError})
        QVERIFY2(!RetryPolicy::isTransientNetworkError(e), qPrintable(QString::number(int(e))));
}

void tst_RetryPolicy::windowNotAttemptsLimits()
{
    const RetryPolicy policy{3600000, 0, 1000};
    // A resolver down for five minutes, failing every second: nothing fails.
    for (int attempt = 1; attempt <= 300; ++attempt)
        QVERIFY(policy.allowsAnother(0, attempt * 1000, attempt));
    QVERIFY(policy.allowsAnother(0, 3599999, 100000));
    QVERIFY(!policy.allowsAnother(0, 3600000, 2)); // the window is over, however few attempts
    const RetryPolicy none{0, 0, 1000};
    QVERIFY(!none.allowsAnother(0, 0, 1)); // a window of 0: never retried
}

void tst_RetryPolicy::attemptCapWhenSet()
{
    const RetryPolicy policy{3600000, 3, 1000};
    QVERIFY(policy.allowsAnother(0, 10, 1));
    QVERIFY(policy.allowsAnother(0, 10, 2));
    QVERIFY(!policy.allowsAnother(0, 10, 3)); // the third failure is the last
}

void tst_RetryPolicy::delaysAreJitteredDoublingCapped()
{
    const RetryPolicy policy{3600000, 0, 1000};
    const quint32 seed = QRandomGenerator::global()->generate();
    QRandomGenerator random(seed);
    for (int i = 0; i < 2000; ++i) {
        const int attempts = 1 + int(random.bounded(40));
        const double r = random.generateDouble();
        const qint64 ceiling = qMin<qint64>(60000, qint64(1000) << qMin(attempts - 1, 16));
        const qint64 delay = policy.delayAfter(attempts, -1, r);
        QVERIFY2(delay >= ceiling / 2 && delay <= ceiling,
                 qPrintable(QStringLiteral("seed %1: attempt %2 r %3: %4 ms").arg(seed).arg(attempts).arg(r).arg(delay)));
    }
    QCOMPARE(policy.delayAfter(1, -1, 0.0), qint64(500));
    QCOMPARE(policy.delayAfter(99, -1, 0.0), qint64(30000)); // no overflow past the cap
}

void tst_RetryPolicy::retryAfterIsAFloor()
{
    const RetryPolicy policy{3600000, 0, 1000};
    QCOMPARE(policy.delayAfter(1, 120000, 0.5), qint64(120000));
    QCOMPARE(policy.delayAfter(7, 10, 0.0), qint64(30000));
}

void tst_RetryPolicy::retryAfterForms()
{
    const QDateTime now = QDateTime::fromString(QStringLiteral("2026-12-07T10:00:00Z"), Qt::ISODate);
    QCOMPARE(RetryPolicy::retryAfterMs("120", now), qint64(120000));
    QCOMPARE(RetryPolicy::retryAfterMs(" 0 ", now), qint64(0));
    QCOMPARE(RetryPolicy::retryAfterMs("Mon, 07 Dec 2026 10:00:30 GMT", now), qint64(30000));
    QCOMPARE(RetryPolicy::retryAfterMs("Mon, 07 Dec 2026 09:00:00 GMT", now), qint64(0)); // past
    QCOMPARE(RetryPolicy::retryAfterMs("99999999", now), qint64(86400000));            // a day at most
    QCOMPARE(RetryPolicy::retryAfterMs("", now), qint64(-1));
    QCOMPARE(RetryPolicy::retryAfterMs("soon", now), qint64(-1));
    QCOMPARE(RetryPolicy::retryAfterMs("-5", now), qint64(-1));
}

void tst_RetryPolicy::message()
{
    QCOMPARE(RetryPolicy::retryMessage(QStringLiteral("HTTP 503 Service Unavailable"), 3000, 2),
             QStringLiteral("HTTP 503 Service Unavailable; retrying in 3 s (attempt 3)"));
    QCOMPARE(RetryPolicy::retryMessage(QStringLiteral("x"), 1500, 1), QStringLiteral("x; retrying in 1.5 s (attempt 2)"));
}

QTEST_APPLESS_MAIN(tst_RetryPolicy)
#include "tst_retrypolicy.moc"
