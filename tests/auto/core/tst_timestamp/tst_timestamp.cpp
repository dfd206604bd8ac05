// isoTimestamp() and parseIsoTimestamp() write and read UTC times by hand: they must give what
// QDateTime::toString / fromString(Qt::ISODateWithMs) give, for every time and every text.

#include "protocol/timestamp.h"

#include <QRandomGenerator>
#include <QTest>
#include <QTimeZone>

using namespace Hermes;

class tst_Timestamp : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void writesAsQt();
    void readsAsQt_data();
    void readsAsQt();
    void randomTexts();

private:
    quint32 m_seed = 0;
};

void tst_Timestamp::initTestCase()
{
    // HERMES_TEST_SEED=<number> repeats a run; a failure names its seed.
    bool ok = false;
    m_seed = qEnvironmentVariable("HERMES_TEST_SEED").toUInt(&ok);
    if (!ok)
        m_seed = QRandomGenerator::global()->generate();
    qInfo("seed %u", m_seed);
}

static bool sameAsQt(const QString &text, QString *why)
{
    const QDateTime ours = parseIsoTimestamp(text);
    const QDateTime qt = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (ours.isValid() == qt.isValid() && (!qt.isValid() || (ours == qt && ours.timeSpec() == qt.timeSpec()
                                                             && ours.offsetFromUtc() == qt.offsetFromUtc())))
        return true;
    *why = QStringLiteral("%1: ours %2, Qt's %3").arg(text, ours.toString(Qt::ISODateWithMs), qt.toString(Qt::ISODateWithMs));
    return false;
}

void tst_Timestamp::writesAsQt()
{
    QRandomGenerator rng(m_seed);
    // Year 1 to 9999 by hand, around them through Qt.
    const qint64 first = QDateTime(QDate(1, 1, 1), QTime(0, 0), Qt::UTC).toMSecsSinceEpoch();
    const qint64 last = QDateTime(QDate(9999, 12, 31), QTime(23, 59, 59, 999), Qt::UTC).toMSecsSinceEpoch();
    QList<QDateTime> times{QDateTime(), QDateTime(QDate(), QTime(), Qt::UTC), QDateTime(QDate(2026, 2, 30), QTime(1, 0), Qt::UTC),
                           QDateTime::fromMSecsSinceEpoch(0, Qt::UTC),
                           QDateTime::fromMSecsSinceEpoch(-1, Qt::UTC), QDateTime::fromMSecsSinceEpoch(first, Qt::UTC),
                           QDateTime::fromMSecsSinceEpoch(first - 1, Qt::UTC), QDateTime::fromMSecsSinceEpoch(last, Qt::UTC),
                           QDateTime::fromMSecsSinceEpoch(last + 1, Qt::UTC), QDateTime(QDate(2000, 2, 29), QTime(12, 0), Qt::UTC),
                           QDateTime(QDate(2026, 12, 7), QTime(18, 0, 0, 123), Qt::LocalTime),
                           QDateTime(QDate(2026, 12, 7), QTime(18, 0), Qt::OffsetFromUTC, 3600),
                           QDateTime(QDate(2026, 12, 7), QTime(18, 0), Qt::OffsetFromUTC, 0),
                           QDateTime(QDate(2026, 12, 7), QTime(18, 0), QTimeZone("Europe/Paris"))};
    for (int i = 0; i < 20000; ++i) {
        const qint64 span = i % 2 ? last - first : qint64(86400000) * 366 * 60; // any year; recent ones
        const qint64 from = i % 2 ? first : QDateTime(QDate(1990, 1, 1), QTime(0, 0), Qt::UTC).toMSecsSinceEpoch();
        times.append(QDateTime::fromMSecsSinceEpoch(from + qint64(rng.bounded(quint64(span))), Qt::UTC));
    }
    for (const QDateTime &t : std::as_const(times)) {
        const QString ours = isoTimestamp(t);
        QVERIFY2(ours == t.toString(Qt::ISODateWithMs),
                 qPrintable(QStringLiteral("seed %1: %2 (ms %3)").arg(m_seed).arg(ours).arg(t.toMSecsSinceEpoch())));
        QString why;
        QVERIFY2(sameAsQt(ours, &why), qPrintable(QStringLiteral("seed %1: %2").arg(m_seed).arg(why)));
    }
}

void tst_Timestamp::readsAsQt_data()
{
    QTest::addColumn<QString>("text");
    for (const char *text : {"2026-12-07T18:00:00.123Z", "0001-01-01T00:00:00.000Z", "0000-01-01T00:00:00.000Z",
                             "9999-12-31T23:59:59.999Z", "2000-02-29T00:00:00.000Z", "1900-02-29T00:00:00.000Z",
                             "2026-02-29T00:00:00.000Z", "2026-04-31T00:00:00.000Z", "2026-13-01T00:00:00.000Z",
                             "2026-00-01T00:00:00.000Z", "2026-01-00T00:00:00.000Z", "2026-12-07T24:00:00.000Z",
                             "2026-12-07T23:60:00.000Z", "2026-12-07T23:59:60.000Z", "2026-12-07T18:00:00.123+01:00",
                             "2026-12-07T18:00:00.123", "2026-12-07T18:00:00Z", "2026-12-07 18:00:00.123Z",
                             "2026-12-07T18:00:00.1234Z", "2026-12-07T18:00:00.12Z", "+026-12-07T18:00:00.123Z",
                             "2026-1a-07T18:00:00.123Z", "", "x"})
        QTest::newRow(text) << QString::fromLatin1(text);
}

void tst_Timestamp::readsAsQt()
{
    QFETCH(QString, text);
    QString why;
    QVERIFY2(sameAsQt(text, &why), qPrintable(why));
}

void tst_Timestamp::randomTexts()
{
    // A valid text with one character changed: every way the fast path may wrongly accept.
    QRandomGenerator rng(m_seed);
    const QString alphabet = QStringLiteral("0123456789-:.TZ+ z");
    for (int i = 0; i < 20000; ++i) {
        QString text = isoTimestamp(QDateTime::fromMSecsSinceEpoch(qint64(rng.bounded(quint64(4102444800000))), Qt::UTC));
        text[rng.bounded(text.size())] = alphabet[rng.bounded(alphabet.size())];
        QString why;
        QVERIFY2(sameAsQt(text, &why), qPrintable(QStringLiteral("seed %1: %2").arg(m_seed).arg(why)));
    }
}

QTEST_APPLESS_MAIN(tst_Timestamp)
#include "tst_timestamp.moc"
