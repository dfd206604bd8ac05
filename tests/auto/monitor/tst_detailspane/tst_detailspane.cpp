// DetailsPane agrees with the row it shows: the status text is the table's, the size is not
// set beside bytes and a percentage that disagree with the bar, a completed download took at
// least one attempt and a failed one was never completed ("never", not "not yet"), and the
// server's note is there.

#include "detailspane.h"
#include "downloadlistmodel.h"

#include <QJsonObject>
#include <QLocale>
#include <QTest>

using namespace Hermes;

class tst_DetailsPane : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase() { QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedStates)); }
    void checksumFailure();
    void completed();
    void retrying();
};

static QJsonObject download(const QString &status, double percent, qint64 bytes, const QJsonObject &extra = {})
{
    QJsonObject d{{QStringLiteral("id"), QStringLiteral("a")},
                  {QStringLiteral("url"), QStringLiteral("http://h/a.bin")},
                  {QStringLiteral("filename"), QStringLiteral("a.bin")},
                  {QStringLiteral("status"), status},
                  {QStringLiteral("attempts"), 0},
                  {QStringLiteral("created_at"), QStringLiteral("2026-01-01T00:00:00.000Z")},
                  {QStringLiteral("updated_at"), QStringLiteral("2026-01-01T00:00:01.000Z")},
                  {QStringLiteral("progress"), QJsonObject{{QStringLiteral("percentage"), percent},
                                                          {QStringLiteral("downloaded_bytes"), bytes},
                                                          {QStringLiteral("total_bytes"), 3040870}}}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
        d.insert(it.key(), it.value());
    return d;
}

void tst_DetailsPane::checksumFailure()
{
    DownloadListModel model;
    // The server empties a download whose checksum did not match: 0 bytes, 0 %.
    model.mergeSnapshot({download(QStringLiteral("failed"), 0, 0,
                                  {{QStringLiteral("error_message"), QStringLiteral("SHA-256 mismatch: expected 00, got 11")}})});
    DetailsPane pane(&model);
    pane.showDownload(QStringLiteral("a"));
    QCOMPARE(pane.fieldText(QStringLiteral("status")), QStringLiteral("Failed: SHA-256 mismatch"));
    QCOMPARE(pane.fieldText(QStringLiteral("status")), model.index(0, DownloadListModel::Status).data().toString());
    QCOMPARE(pane.fieldText(QStringLiteral("size")), QStringLiteral("2.9 MiB"));
    // The same figure as the bar (PercentRole).
    QCOMPARE(model.index(0, DownloadListModel::Progress).data(DownloadListModel::PercentRole).toDouble(), 0.0);
    QCOMPARE(pane.fieldText(QStringLiteral("downloaded")), QStringLiteral("0 bytes (0.0%)"));
    QCOMPARE(pane.fieldText(QStringLiteral("attempts")), QStringLiteral("1"));
    QCOMPARE(pane.fieldText(QStringLiteral("completedAt")), QStringLiteral("never"));
    QCOMPARE(pane.fieldText(QStringLiteral("error")), QStringLiteral("SHA-256 mismatch: expected 00, got 11"));
}

void tst_DetailsPane::completed()
{
    DownloadListModel model;
    model.mergeSnapshot({download(QStringLiteral("completed"), 100, 3040870,
                                  {{QStringLiteral("completed_at"), QStringLiteral("2026-01-01T00:01:00.000Z")},
                                   {QStringLiteral("note"), QStringLiteral("the server does not support resuming (HTTP Range); restarted from zero")}})});
    DetailsPane pane(&model);
    pane.showDownload(QStringLiteral("a"));
    QCOMPARE(pane.fieldText(QStringLiteral("attempts")), QStringLiteral("1")); // not "0"
    QCOMPARE(pane.fieldText(QStringLiteral("downloaded")), QStringLiteral("all"));
    QVERIFY(pane.fieldText(QStringLiteral("completedAt")) != QStringLiteral("not yet"));
    QVERIFY(pane.fieldText(QStringLiteral("completedAt")).contains(QStringLiteral("2026")));
    QCOMPARE(pane.fieldText(QStringLiteral("note")),
             QStringLiteral("the server does not support resuming (HTTP Range); restarted from zero"));
}

void tst_DetailsPane::retrying()
{
    DownloadListModel model;
    model.mergeSnapshot({download(QStringLiteral("pending"), 12.5, 380108,
                                  {{QStringLiteral("attempts"), 1}, {QStringLiteral("phase"), QStringLiteral("retrying")},
                                   {QStringLiteral("attempt"), 2}, {QStringLiteral("max_attempts"), 5},
                                   {QStringLiteral("next_attempt_at"),
                                    QDateTime::currentDateTimeUtc().addSecs(60).toString(Qt::ISODateWithMs)}})});
    DetailsPane pane(&model);
    pane.showDownload(QStringLiteral("a"));
    QVERIFY2(pane.fieldText(QStringLiteral("status")).startsWith(QStringLiteral("Retrying 2/5 in ")),
             qPrintable(pane.fieldText(QStringLiteral("status"))));
    QCOMPARE(pane.fieldText(QStringLiteral("attempts")), QStringLiteral("1 of at most 5"));
    QCOMPARE(pane.fieldText(QStringLiteral("downloaded")), QStringLiteral("371.2 KiB (12.5%)"));
    QCOMPARE(pane.fieldText(QStringLiteral("completedAt")), QStringLiteral("not yet"));
    QCOMPARE(pane.fieldText(QStringLiteral("note")), QStringLiteral("none"));
}

QTEST_MAIN(tst_DetailsPane)
#include "tst_detailspane.moc"
