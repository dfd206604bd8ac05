#include "downloadlistmodel.h"

#include <QJsonDocument>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTest>

using namespace Hermes;

class tst_DownloadListModel : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase() { QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedStates)); }
    void snapshotFillsTheTable();
    void mergeKeepsRowsInPlace();
    void randomMergesAgainstAModel();
    void statusChangesAreReportedOnce();
    void countsAndTotalSpeedFollowEvents();
    void speedIsUnknownWhileNotLive();
    void queuePositionsFollowPriorityThenArrival();
    void aDownloadKnownOnlyFromItsEventKeepsItsPlace();
    void detailsDoNotUndoNewerState();
    void progressUpdatesARowAndNeverGoesBack();
    void olderEventsDoNotUndoNewerState();
    void unknownDownloadsAreAdded();
    void removalDropsTheRow();
    void updatesAreCoalesced();
    void theCountdownTicksOnlyWhileARowRetries();
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
    model.mergeSnapshot({download(QStringLiteral("a"), QStringLiteral("downloading"), 10, QStringLiteral("2026-01-01T00:00:01.000Z")),
                             download(QStringLiteral("b"), QStringLiteral("completed"), 100, QStringLiteral("2026-01-01T00:00:02.000Z"))});
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.columnCount(), int(DownloadListModel::ColumnCount));
    QCOMPARE(model.index(0, DownloadListModel::Name).data().toString(), QStringLiteral("a.bin"));
    QCOMPARE(model.index(0, DownloadListModel::Progress).data(DownloadListModel::PercentRole).toDouble(), 10.0);
    QCOMPARE(model.index(1, DownloadListModel::Status).data().toString(), QStringLiteral("Completed"));
    QCOMPARE(model.index(1, DownloadListModel::Status).data(DownloadListModel::StatusRole).toString(), QStringLiteral("completed"));
    QCOMPARE(model.index(0, DownloadListModel::Size).data().toString(), QStringLiteral("100 bytes"));
}

void tst_DownloadListModel::progressUpdatesARowAndNeverGoesBack()
{
    DownloadListModel model;
    model.mergeSnapshot({download(QStringLiteral("a"), QStringLiteral("downloading"), 10, QStringLiteral("2026-01-01T00:00:01.000Z"))});
    model.applyProgress(progress(QStringLiteral("a"), QStringLiteral("downloading"), 40), QStringLiteral("2026-01-01T00:00:02.000Z"));
    QCOMPARE(model.row(QStringLiteral("a"))->percent, 40.0);
    model.applyProgress(progress(QStringLiteral("a"), QStringLiteral("downloading"), 30), QStringLiteral("2026-01-01T00:00:03.000Z"));
    QCOMPARE(model.row(QStringLiteral("a"))->percent, 40.0);
}

void tst_DownloadListModel::olderEventsDoNotUndoNewerState()
{
    DownloadListModel model;
    model.mergeSnapshot({download(QStringLiteral("a"), QStringLiteral("completed"), 100, QStringLiteral("2026-01-01T00:00:05.000Z"))});
    model.applyProgress(progress(QStringLiteral("a"), QStringLiteral("downloading"), 50), QStringLiteral("2026-01-01T00:00:04.000Z"));
    QCOMPARE(model.row(QStringLiteral("a"))->status.text, QStringLiteral("completed"));
    model.applyQueueUpdate({{QStringLiteral("action"), QStringLiteral("status_changed")},
                            {QStringLiteral("download_id"), QStringLiteral("a")},
                            {QStringLiteral("status"), QStringLiteral("downloading")}},
                           QStringLiteral("2026-01-01T00:00:04.500Z"));
    QCOMPARE(model.row(QStringLiteral("a"))->status.text, QStringLiteral("completed"));
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
    model.mergeSnapshot({download(QStringLiteral("a"), QStringLiteral("paused"), 1, {}),
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
    model.mergeSnapshot(rows);
    model.flushChanges();
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

void tst_DownloadListModel::theCountdownTicksOnlyWhileARowRetries()
{
    DownloadListModel model;
    model.setCountdownInterval(20);
    QJsonArray rows;
    for (int i = 0; i < 100; ++i)
        rows.append(download(QString::number(i), QStringLiteral("pending"), 0, QStringLiteral("2026-01-01T00:00:00.000Z")));
    model.mergeSnapshot(rows);
    model.flushChanges();
    QVERIFY(!model.isCountingDown()); // nothing retries: no tick scanning the rows
    const auto retry = [&](int row, bool retrying, int second) {
        DownloadProgressEvent e;
        e.downloadId = QString::number(row);
        e.status = ReceivedStatus::of(DownloadStatus::Pending);
        e.phase = retrying ? DownloadPhaseInfo::of(DownloadPhase::Retrying) : DownloadPhaseInfo();
        model.applyProgress(e, QStringLiteral("2026-01-01T00:00:%1.000Z").arg(second, 2, 10, QChar(u'0')));
    };
    retry(10, true, 1);
    retry(40, true, 1);
    QVERIFY(model.isCountingDown());
    model.flushChanges();
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QTRY_VERIFY_WITH_TIMEOUT(changed.size() >= 1, 5000);
    // One signal over the Status cells of rows 10..40, not one per row nor the whole table.
    QCOMPARE(changed[0][0].toModelIndex(), model.index(10, DownloadListModel::Status));
    QCOMPARE(changed[0][1].toModelIndex(), model.index(40, DownloadListModel::Status));
    retry(10, false, 2);
    QVERIFY(model.isCountingDown());
    model.applyQueueUpdate({{QStringLiteral("action"), QStringLiteral("removed")},
                            {QStringLiteral("download_id"), QStringLiteral("40")}}, QStringLiteral("2026-01-01T00:00:03.000Z"));
    QVERIFY(!model.isCountingDown()); // the last one left
    model.flushChanges();
    changed.clear();
    QTest::qWait(100);
    QCOMPARE(changed.size(), 0);
}

void tst_DownloadListModel::formatting_data()
{
    QTest::addColumn<double>("bytes");
    QTest::addColumn<QString>("text");
    QTest::newRow("bytes") << 512.0 << "512 bytes";
    QTest::newRow("KiB") << 1536.0 << "1.5 KiB";
    QTest::newRow("MiB") << 10.5 * 1024 * 1024 << "10.5 MiB";
    QTest::newRow("unknown") << -1.0 << "unknown";
}

void tst_DownloadListModel::formatting()
{
    QFETCH(double, bytes);
    QFETCH(QString, text);
    QCOMPARE(DownloadListModel::formatBytes(bytes), text);
    QCOMPARE(DownloadListModel::formatDuration(3725), QStringLiteral("1 h 2 min"));
    QCOMPARE(DownloadListModel::formatDuration(67), QStringLiteral("1 min 7 s"));
    QCOMPARE(DownloadListModel::formatDuration(9), QStringLiteral("9 s"));
    QCOMPARE(DownloadListModel::formatDuration(2 * 86400 + 3 * 3600), QStringLiteral("2 d 3 h"));
}

void tst_DownloadListModel::mergeKeepsRowsInPlace()
{
    // A reload must not reset the model: selection, scroll and sort of a view depend on it.
    DownloadListModel model;
    model.mergeSnapshot({download("a", "downloading", 10, "2026-01-01T00:00:01.000Z"),
                         download("b", "paused", 20, "2026-01-01T00:00:01.000Z"),
                         download("c", "pending", 0, "2026-01-01T00:00:01.000Z")});
    model.flushChanges();
    const QPersistentModelIndex b(model.index(model.rowOf("b"), DownloadListModel::Name));
    const QPersistentModelIndex c(model.index(model.rowOf("c"), DownloadListModel::Name));
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    model.mergeSnapshot({download("b", "downloading", 30, "2026-01-01T00:00:02.000Z"),
                         download("c", "pending", 0, "2026-01-01T00:00:02.000Z"),
                         download("d", "pending", 0, "2026-01-01T00:00:02.000Z")});
    QCOMPARE(reset.size(), 0);
    QCOMPARE(removed.size(), 1);
    QCOMPARE(inserted.size(), 1);
    QVERIFY(!model.row("a"));
    QVERIFY(b.isValid() && c.isValid());
    QCOMPARE(b.data(DownloadListModel::IdRole).toString(), QStringLiteral("b"));
    QCOMPARE(c.data(DownloadListModel::IdRole).toString(), QStringLiteral("c"));
    QCOMPARE(model.row("b")->status.text, QStringLiteral("downloading"));
    QCOMPARE(model.row("b")->percent, 30.0);
    QCOMPARE(model.rowCount(), 3);
}

void tst_DownloadListModel::randomMergesAgainstAModel()
{
    // Random snapshots, each merged into the last: afterwards the rows are exactly the
    // snapshot's, rows that survive keep their persistent indexes, and nothing is reset.
    const quint32 seed = QRandomGenerator::global()->generate();
    QRandomGenerator rng(seed);
    DownloadListModel model;
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    const QList<DownloadStatus> statuses = allDownloadStatuses();
    for (int round = 0; round < 60; ++round) {
        QHash<QString, QPersistentModelIndex> before;
        for (int i = 0; i < model.rowCount(); ++i)
            before.insert(model.rowAt(i).id, QPersistentModelIndex(model.index(i, 0)));
        QJsonArray snapshot;
        QHash<QString, QString> expected;
        const int n = int(rng.bounded(0, 40));
        for (int i = 0; i < n; ++i) {
            const QString id = QString::number(rng.bounded(0, 60));
            if (expected.contains(id))
                continue;
            const QString status = wireName(statuses.at(rng.bounded(int(statuses.size()))));
            expected.insert(id, status);
            snapshot.append(download(id, status, rng.bounded(100), QStringLiteral("2026-01-01T00:00:%1.000Z").arg(round, 2, 10, QChar(u'0'))));
        }
        model.mergeSnapshot(snapshot);
        const QString why = QStringLiteral("seed %1 round %2").arg(seed).arg(round);
        QVERIFY2(model.rowCount() == expected.size(), qPrintable(why));
        QHash<QString, int> counts;
        for (int i = 0; i < model.rowCount(); ++i) {
            const DownloadRow &r = model.rowAt(i);
            QVERIFY2(expected.value(r.id) == r.status.text, qPrintable(why));
            QVERIFY2(model.rowOf(r.id) == i, qPrintable(why));
            ++counts[r.status.text];
        }
        for (DownloadStatus status : statuses)
            QVERIFY2(model.count(status) == counts.value(wireName(status)), qPrintable(why + u' ' + wireName(status)));
        for (auto it = before.cbegin(); it != before.cend(); ++it) {
            if (expected.contains(it.key()))
                QVERIFY2(it.value().isValid() && it.value().data(DownloadListModel::IdRole).toString() == it.key(), qPrintable(why));
            else
                QVERIFY2(!it.value().isValid(), qPrintable(why));
        }
    }
    QCOMPARE(reset.size(), 0);
}

void tst_DownloadListModel::statusChangesAreReportedOnce()
{
    DownloadListModel model;
    QStringList changes;
    connect(&model, &DownloadListModel::statusChanged, this, [&](const QString &id, const ReceivedStatus &from, const ReceivedStatus &to) {
        changes.append(id + u':' + from.text + u'>' + to.text);
    });
    model.mergeSnapshot({download("a", "downloading", 10, "2026-01-01T00:00:01.000Z"),
                         download("done", "completed", 100, "2026-01-01T00:00:01.000Z")});
    QVERIFY(changes.isEmpty()); // appearing is not a transition
    model.applyProgress(progress("a", "completed", 100), "2026-01-01T00:00:02.000Z");
    model.applyProgress(progress("a", "completed", 100), "2026-01-01T00:00:02.000Z"); // a replay
    model.applyProgress(progress("a", "downloading", 90), "2026-01-01T00:00:01.500Z"); // a late one
    model.mergeSnapshot({download("a", "completed", 100, "2026-01-01T00:00:03.000Z"),
                         download("done", "completed", 100, "2026-01-01T00:00:03.000Z")});
    QCOMPARE(changes, QStringList{"a:downloading>completed"});
}

void tst_DownloadListModel::countsAndTotalSpeedFollowEvents()
{
    DownloadListModel model;
    model.mergeSnapshot({download("a", "downloading", 10, "2026-01-01T00:00:01.000Z"),
                         download("b", "downloading", 10, "2026-01-01T00:00:01.000Z"),
                         download("c", "paused", 10, "2026-01-01T00:00:01.000Z")});
    model.setLive(true);
    model.flushChanges();
    QCOMPARE(model.count(DownloadStatus::Downloading), 2);
    QCOMPARE(model.totalSpeed(), 10.0);
    QSignalSpy counts(&model, &DownloadListModel::countsChanged);
    QJsonObject fast = progress("a", "downloading", 20);
    fast.insert("progress", QJsonObject{{"percentage", 20}, {"speed", 1000.0}, {"downloaded_bytes", 20}, {"total_bytes", 100}});
    model.applyProgress(fast, "2026-01-01T00:00:02.000Z");
    model.applyProgress(progress("b", "completed", 100), "2026-01-01T00:00:02.000Z");
    QTRY_VERIFY_WITH_TIMEOUT(!counts.isEmpty(), 5000);
    QCOMPARE(model.totalSpeed(), 1000.0);
    QCOMPARE(model.count(DownloadStatus::Downloading), 1);
    QCOMPARE(model.count(DownloadStatus::Completed), 1);
}

void tst_DownloadListModel::speedIsUnknownWhileNotLive()
{
    DownloadListModel model;
    model.mergeSnapshot({download("a", "downloading", 10, "2026-01-01T00:00:01.000Z")});
    model.setLive(true);
    const QModelIndex speed = model.index(0, DownloadListModel::Speed);
    QCOMPARE(speed.data().toString(), QStringLiteral("5 bytes/s"));
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setLive(false);
    QCOMPARE(changed.size(), 1);
    QCOMPARE(speed.data().toString(), QStringLiteral("—"));
    QCOMPARE(model.index(0, DownloadListModel::Eta).data().toString(), QStringLiteral("—"));
    QVERIFY(speed.data(Qt::ToolTipRole).toString().contains(u"not connected"));
}

void tst_DownloadListModel::aDownloadKnownOnlyFromItsEventKeepsItsPlace()
{
    // "early" is known from its first event only (its details, with created_at, are still on
    // their way); "later" was created after it and its details are in. Ties go by arrival on
    // the server's clock: the event's time stands in for created_at, not this client's clock
    // (which would put "early" last, and a move planned on that order would go wrong).
    QJsonObject later = download("later", "pending", 0, "2026-01-01T00:00:02.000Z");
    later.insert("created_at", "2026-01-01T00:00:02.000Z");
    DownloadListModel fresh;
    fresh.upsertDownload(later);
    fresh.applyProgress(progress("early", "pending", 0), "2026-01-01T00:00:01.000Z");
    fresh.flushChanges();
    QCOMPARE(fresh.queueOrder(), (QStringList{"early", "later"}));
    // The queue_update "added" brings created_at and the priority (Hermes' additions): the
    // order is the server's before any details come.
    fresh.applyProgress(progress("urgent", "pending", 0), "2026-01-01T00:00:03.000Z");
    fresh.applyQueueUpdate({{"action", "added"}, {"download_id", "urgent"}, {"status", "pending"},
                            {"priority", 5}, {"created_at", "2026-01-01T00:00:02.500Z"}},
                           "2026-01-01T00:00:03.000Z");
    fresh.flushChanges();
    QCOMPARE(fresh.queueOrder(), (QStringList{"urgent", "early", "later"}));
    QCOMPARE(fresh.row("urgent")->added, QDateTime::fromString("2026-01-01T00:00:02.500Z", Qt::ISODateWithMs));
    // Attempts come with progress events too.
    QJsonObject retried = progress("early", "downloading", 10);
    retried.insert("attempts", 3);
    fresh.applyProgress(retried, "2026-01-01T00:00:04.000Z");
    QCOMPARE(fresh.row("early")->attempts, 3);
    fresh.applyQueueUpdate({{"action", "status_changed"}, {"download_id", "urgent"}, {"status", "paused"}},
                           "2026-01-01T00:00:05.000Z");
    QCOMPARE(fresh.row("urgent")->status.text, QStringLiteral("paused"));
    QCOMPARE(fresh.row("urgent")->priority, 5); // no priority in it: kept
    // A naive timestamp (a Python worker's utcnow().isoformat()) is UTC too.
    fresh.applyProgress(progress("naive", "pending", 0), "2026-01-01T00:00:01.500");
    fresh.flushChanges();
    QCOMPARE(fresh.queueOrder(), (QStringList{"urgent", "early", "naive", "later"}));
}

void tst_DownloadListModel::queuePositionsFollowPriorityThenArrival()
{
    DownloadListModel model;
    auto at = [](const char *id, int priority, int second, const char *status = "pending") {
        QJsonObject d = download(id, status, 0, "2026-01-01T00:00:00.000Z");
        d.insert("priority", priority);
        d.insert("created_at", QStringLiteral("2026-01-01T00:00:%1.000Z").arg(second, 2, 10, QChar(u'0')));
        return d;
    };
    model.mergeSnapshot({at("old", 0, 1), at("new", 0, 2), at("urgent", 5, 3), at("done", 9, 0, "completed")});
    model.flushChanges();
    QCOMPARE(model.queueOrder(), (QStringList{"urgent", "old", "new"}));
    QCOMPARE(model.row("urgent")->position, 1);
    QCOMPARE(model.row("new")->position, 3);
    QCOMPARE(model.row("done")->position, 0);
    QJsonObject raised = at("new", 6, 2);
    model.upsertDownload(raised);
    model.flushChanges();
    QCOMPARE(model.row("new")->position, 1);
}

void tst_DownloadListModel::detailsDoNotUndoNewerState()
{
    DownloadListModel model;
    model.mergeSnapshot({download("a", "downloading", 10, "2026-01-01T00:00:01.000Z")});
    model.applyProgress(progress("a", "paused", 50), "2026-01-01T00:00:05.000Z");
    QJsonObject older = download("a", "downloading", 20, "2026-01-01T00:00:02.000Z");
    older.insert("priority", 7);
    model.upsertDownload(older);
    QCOMPARE(model.row("a")->status.text, QStringLiteral("paused"));
    QCOMPARE(model.row("a")->percent, 50.0);
    QCOMPARE(model.row("a")->priority, 7);
}

QTEST_MAIN(tst_DownloadListModel)
#include "tst_downloadlistmodel.moc"
