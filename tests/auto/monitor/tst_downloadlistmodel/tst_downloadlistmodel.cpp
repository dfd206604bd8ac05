#include "downloadlistmodel.h"

#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>

using namespace Hermes;

class tst_DownloadListModel : public QObject
{
    Q_OBJECT

private slots:
    void snapshotFillsTheTable();
    void progressUpdatesARowAndNeverGoesBack();
    void olderEventsDoNotUndoNewerState();
    void unknownDownloadsAreAdded();
    void removalDropsTheRow();
    void updatesAreCoalesced();
    void formatting_data();
    void formatting();
};

static QJsonObject download(const QString &id, const QString &status, double percent, const QString &updated)
{
    return {{QStringLiteral("id"), id},
            {QStringLiteral("url"), QStringLiteral("http://h/") + id + QStringLiteral(".bin")},
            {QStringLiteral("filename"), id + QStringLiteral(".bin")},
            {QStringLiteral("status"), status},
            {QStringLiteral("created_at"), QStringLiteral("2026-01-01T00:00:00.000Z")},
            {QStringLiteral("updated_at"), updated},
            {QStringLiteral("progress"), QJsonObject{{QStringLiteral("percentage"), percent},
                                                    {QStringLiteral("downloaded_bytes"), 10},
                                                    {QStringLiteral("total_bytes"), 100},
                                                    {QStringLiteral("speed"), 5.0},
                                                    {QStringLiteral("eta"), 18}}}};
}

static QJsonObject progress(const QString &id, const QString &status, double percent)
{
    QJsonObject d = download(id, status, percent, {});
    d.insert(QStringLiteral("download_id"), id);
    d.remove(QStringLiteral("id"));
    return d;
}

void tst_DownloadListModel::snapshotFillsTheTable()
{
    DownloadListModel model;
    model.resetFromSnapshot({download(QStringLiteral("a"), QStringLiteral("downloading"), 10, QStringLiteral("2026-01-01T00:00:01.000Z")),
                             download(QStringLiteral("b"), QStringLiteral("completed"), 100, QStringLiteral("2026-01-01T00:00:02.000Z"))});
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.columnCount(), int(DownloadListModel::ColumnCount));
    QCOMPARE(model.index(0, DownloadListModel::Name).data().toString(), QStringLiteral("a.bin"));
    QCOMPARE(model.index(0, DownloadListModel::Progress).data(DownloadListModel::PercentRole).toDouble(), 10.0);
    QCOMPARE(model.index(1, DownloadListModel::Status).data().toString(), QStringLiteral("completed"));
    QCOMPARE(model.index(0, DownloadListModel::Size).data().toString(), QStringLiteral("100 B"));
}

void tst_DownloadListModel::progressUpdatesARowAndNeverGoesBack()
{
    DownloadListModel model;
    model.resetFromSnapshot({download(QStringLiteral("a"), QStringLiteral("downloading"), 10, QStringLiteral("2026-01-01T00:00:01.000Z"))});
    model.applyProgress(progress(QStringLiteral("a"), QStringLiteral("downloading"), 40), QStringLiteral("2026-01-01T00:00:02.000Z"));
    QCOMPARE(model.row(QStringLiteral("a"))->percent, 40.0);
    model.applyProgress(progress(QStringLiteral("a"), QStringLiteral("downloading"), 30), QStringLiteral("2026-01-01T00:00:03.000Z"));
    QCOMPARE(model.row(QStringLiteral("a"))->percent, 40.0);
}

void tst_DownloadListModel::olderEventsDoNotUndoNewerState()
{
    DownloadListModel model;
    model.resetFromSnapshot({download(QStringLiteral("a"), QStringLiteral("completed"), 100, QStringLiteral("2026-01-01T00:00:05.000Z"))});
    model.applyProgress(progress(QStringLiteral("a"), QStringLiteral("downloading"), 50), QStringLiteral("2026-01-01T00:00:04.000Z"));
    QCOMPARE(model.row(QStringLiteral("a"))->status, QStringLiteral("completed"));
    model.applyQueueUpdate({{QStringLiteral("action"), QStringLiteral("status_changed")},
                            {QStringLiteral("download_id"), QStringLiteral("a")},
                            {QStringLiteral("status"), QStringLiteral("downloading")}},
                           QStringLiteral("2026-01-01T00:00:04.500Z"));
    QCOMPARE(model.row(QStringLiteral("a"))->status, QStringLiteral("completed"));
}

void tst_DownloadListModel::unknownDownloadsAreAdded()
{
    DownloadListModel model;
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    model.applyProgress(progress(QStringLiteral("new"), QStringLiteral("pending"), 0), QStringLiteral("2026-01-01T00:00:01.000Z"));
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.row(QStringLiteral("new"))->name, QStringLiteral("new.bin"));
}

void tst_DownloadListModel::removalDropsTheRow()
{
    DownloadListModel model;
    model.resetFromSnapshot({download(QStringLiteral("a"), QStringLiteral("paused"), 1, {}),
                             download(QStringLiteral("b"), QStringLiteral("paused"), 2, {}),
                             download(QStringLiteral("c"), QStringLiteral("paused"), 3, {})});
    model.applyQueueUpdate({{QStringLiteral("action"), QStringLiteral("removed")},
                            {QStringLiteral("download_id"), QStringLiteral("b")}}, QStringLiteral("2026-01-01T00:00:09.000Z"));
    QCOMPARE(model.rowCount(), 2);
    QVERIFY(!model.row(QStringLiteral("b")));
    QCOMPARE(model.row(QStringLiteral("c"))->percent, 3.0); // the index was rebuilt
}

void tst_DownloadListModel::updatesAreCoalesced()
{
    DownloadListModel model;
    QJsonArray rows;
    for (int i = 0; i < 1000; ++i)
        rows.append(download(QString::number(i), QStringLiteral("downloading"), 0, QStringLiteral("2026-01-01T00:00:00.000Z")));
    model.resetFromSnapshot(rows);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    for (int round = 1; round <= 10; ++round) {
        for (int i = 0; i < 1000; ++i)
            model.applyProgress(progress(QString::number(i), QStringLiteral("downloading"), round),
                                QStringLiteral("2026-01-01T00:00:%1.000Z").arg(round, 2, 10, QChar(u'0')));
    }
    QCOMPARE(changed.size(), 0); // nothing yet: one signal per interval, not per update
    QTRY_COMPARE_WITH_TIMEOUT(changed.size(), 1, 5000);
    QCOMPARE(changed[0][0].toModelIndex().row(), 0);
    QCOMPARE(changed[0][1].toModelIndex().row(), 999);
    QCOMPARE(model.row(QStringLiteral("500"))->percent, 10.0);
}

void tst_DownloadListModel::formatting_data()
{
    QTest::addColumn<double>("bytes");
    QTest::addColumn<QString>("text");
    QTest::newRow("bytes") << 512.0 << "512 B";
    QTest::newRow("KiB") << 1536.0 << "1.5 KiB";
    QTest::newRow("MiB") << 10.0 * 1024 * 1024 << "10.0 MiB";
    QTest::newRow("unknown") << -1.0 << "?";
}

void tst_DownloadListModel::formatting()
{
    QFETCH(double, bytes);
    QFETCH(QString, text);
    QCOMPARE(DownloadListModel::formatBytes(bytes), text);
    QCOMPARE(DownloadListModel::formatDuration(3725), QStringLiteral("1 h 2 min"));
}

QTEST_MAIN(tst_DownloadListModel)
#include "tst_downloadlistmodel.moc"
