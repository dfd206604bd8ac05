// DownloadRowTable: the rules by which REST snapshots and events change the rows (merges, the
// timestamp rule, what a partial event keeps, counts, speed and queue places), and what an
// observer hears of, without a Qt model in between.

#include "downloadrowtable.h"

#include <QTest>

using namespace Hermes;
using S = DownloadStatus;

namespace {

/// Writes down what the table tells its observer.
class Recorder final : public DownloadRowTable::Observer
{
public:
    QStringList log;
    void beginInsert(int first, int last) override { log << QStringLiteral("insert %1-%2").arg(first).arg(last); }
    void endInsert() override {}
    void aboutToRemove() override { log << QStringLiteral("aboutToRemove"); }
    void beginRemove(int first, int last) override { log << QStringLiteral("remove %1-%2").arg(first).arg(last); }
    void endRemove() override {}
    void rowChanged(int row) override { log << QStringLiteral("changed %1").arg(row); }
    void rowStatusChanged(const DownloadRow &row, const ReceivedStatus &from) override
    {
        log << QStringLiteral("status %1 %2>%3").arg(row.id, from.text, row.status.text);
    }
    QStringList take() { return std::exchange(log, {}); }
};

DownloadResource resource(const QString &id, S status, int second = 0, int priority = 0)
{
    DownloadResource d;
    d.id = id;
    d.url = QStringLiteral("http://h/") + id + QStringLiteral(".bin");
    d.filename = id + QStringLiteral(".bin");
    d.status = ReceivedStatus::of(status);
    d.priority = priority;
    d.createdAt = QDateTime(QDate(2026, 1, 1), QTime(0, 0, second), Qt::UTC);
    d.updatedAt = QStringLiteral("2026-01-01T00:00:%1.000Z").arg(second, 2, 10, QChar(u'0'));
    DownloadProgressInfo p;
    p.percentage = status == S::Completed ? 100 : 10;
    p.downloadedBytes = 10;
    p.totalBytes = 100;
    p.speed = 5;
    p.eta = 18;
    d.progress = p;
    return d;
}

DownloadProgressEvent progress(const QString &id, std::optional<S> status, std::optional<double> percent = {})
{
    DownloadProgressEvent e;
    e.downloadId = id;
    if (status)
        e.status = ReceivedStatus::of(*status);
    if (percent) {
        DownloadProgressInfo p;
        p.percentage = percent;
        p.speed = 7;
        e.progress = p;
    }
    return e;
}

QString at(int second)
{
    return QStringLiteral("2026-01-01T00:00:%1.000Z").arg(second, 2, 10, QChar(u'0'));
}

} // namespace

class tst_DownloadRowTable : public QObject
{
    Q_OBJECT

private slots:
    void aSnapshotIsMergedNotReset();
    void anIncompleteSnapshotRemovesNothing();
    void aSnapshotsRepeatedIdCountsOnce();
    void olderEventsAreIgnored();
    void aPartialEventKeepsWhatItLacks();
    void aRetryStartsAgainFromZero();
    void fewerBytesFromANewerEventAreARestart();
    void anUnknownStatusIsKeptAsItsWord();
    void eventsForUnknownDownloadsAddThem();
    void queueUpdatesRemoveOrReorder();
    void detailsFillOnlyWhatEventsLack();
    void statusChangesAreTransitionsOnly();
    void countsAndTotalSpeed();
    void queuePlacesFollowPriorityThenArrival();
};

void tst_DownloadRowTable::aSnapshotIsMergedNotReset()
{
    Recorder observer;
    DownloadRowTable table(&observer);
    table.insert(table.mergeKnown({resource("a", S::Downloading), resource("b", S::Paused), resource("c", S::Pending),
                                   resource("d", S::Pending)},
                                  true));
    QCOMPARE(observer.take(), QStringList{"insert 0-3"});
    // a and c vanish (two blocks, one announcement), b changes, e is new.
    const QList<DownloadResource> fresh =
        table.mergeKnown({resource("b", S::Downloading, 2), resource("d", S::Pending, 2), resource("e", S::Pending, 2)}, true);
    QCOMPARE(observer.take(), (QStringList{"aboutToRemove", "remove 2-2", "remove 0-0", "changed 0",
                                           "status b paused>downloading", "changed 1"}));
    QCOMPARE(fresh.size(), 1);
    QCOMPARE(fresh.first().id, QStringLiteral("e"));
    table.insert(fresh);
    QCOMPARE(observer.take(), QStringList{"insert 2-2"});
    QCOMPARE(table.size(), 3);
    QCOMPARE(table.indexOf("b"), 0);
    QCOMPARE(table.indexOf("d"), 1);
    QCOMPARE(table.indexOf("e"), 2);
    QVERIFY(!table.find("a"));
    QCOMPARE(table.find("b")->status.text, QStringLiteral("downloading"));
    QCOMPARE(table.find("b")->updated, at(2));
}

void tst_DownloadRowTable::anIncompleteSnapshotRemovesNothing()
{
    // A list that moved while it was paged: what it lacks may only have been missed.
    Recorder observer;
    DownloadRowTable table(&observer);
    table.insert(table.mergeKnown({resource("a", S::Downloading, 1, 4), resource("b", S::Pending)}, true));
    observer.take();
    table.insert(table.mergeKnown({resource("b", S::Paused, 3), resource("c", S::Pending, 3)}, false));
    QCOMPARE(table.size(), 3);
    QCOMPARE(table.find("b")->status.text, QStringLiteral("paused"));
    // Nor does it blank them: a row it lacks keeps all it had, and nobody hears of a change.
    QCOMPARE(observer.take(), (QStringList{"changed 1", "status b pending>paused", "insert 2-2"}));
    const DownloadRow *a = table.find("a");
    QVERIFY(a);
    QCOMPARE(a->url, QStringLiteral("http://h/a.bin"));
    QCOMPARE(a->name, QStringLiteral("a.bin"));
    QCOMPARE(a->status.text, QStringLiteral("downloading"));
    QCOMPARE(a->priority, 4);
    QCOMPARE(a->added, QDateTime(QDate(2026, 1, 1), QTime(0, 0, 1), Qt::UTC));
    QCOMPARE(a->updated, at(1));
    QCOMPARE(a->downloaded, qint64(10));
    QCOMPARE(a->size, qint64(100));
    QCOMPARE(table.count(S::Downloading), 1);
}

void tst_DownloadRowTable::aSnapshotsRepeatedIdCountsOnce()
{
    DownloadRowTable table;
    DownloadResource nameless = resource("", S::Pending);
    table.insert(table.mergeKnown({resource("a", S::Pending), resource("a", S::Completed), nameless}, true));
    QCOMPARE(table.size(), 1);
    QCOMPARE(table.find("a")->status.text, QStringLiteral("pending")); // the first one
}

void tst_DownloadRowTable::olderEventsAreIgnored()
{
    DownloadRowTable table;
    table.insert(table.mergeKnown({resource("a", S::Completed, 5)}, true));
    table.applyProgress(progress("a", S::Downloading, 50), at(4));
    QCOMPARE(table.find("a")->status.text, QStringLiteral("completed"));
    // Of the same moment: applied (ISO-8601 timestamps of one server compare as text).
    table.applyProgress(progress("a", S::Failed), at(5));
    QCOMPARE(table.find("a")->status.text, QStringLiteral("failed"));
    // A late queue_update still brings the creation time, never changes; not the status.
    QueueUpdateEvent late;
    late.action = QueueAction::StatusChanged;
    late.downloadId = QStringLiteral("a");
    late.status = ReceivedStatus::of(S::Pending);
    late.priority = 9;
    late.createdAt = QDateTime(QDate(2025, 12, 31), QTime(23, 0), Qt::UTC);
    table.applyQueueUpdate(late, at(1));
    QCOMPARE(table.find("a")->status.text, QStringLiteral("failed"));
    QCOMPARE(table.find("a")->priority, 0);
    QCOMPARE(table.find("a")->added, late.createdAt);
}

void tst_DownloadRowTable::aPartialEventKeepsWhatItLacks()
{
    DownloadRowTable table;
    DownloadResource d = resource("a", S::Downloading, 1);
    d.errorMessage = QStringLiteral("slow");
    d.attempts = 2;
    table.insert(table.mergeKnown({d}, true));
    table.applyProgress(progress("a", std::nullopt), at(2)); // nothing but the id
    const DownloadRow *r = table.find("a");
    QCOMPARE(r->status.text, QStringLiteral("downloading"));
    QCOMPARE(r->name, QStringLiteral("a.bin"));
    QCOMPARE(r->url, QStringLiteral("http://h/a.bin"));
    QCOMPARE(r->error, QStringLiteral("slow"));
    QCOMPARE(r->attempts, 2);
    QCOMPARE(r->percent, 10.0);
    QCOMPARE(r->speed, 5.0);
    // A progress object without a percentage or sizes keeps them; speed and ETA are current.
    table.applyProgress(progress("a", S::Downloading, 40), at(3));
    QCOMPARE(r->percent, 40.0);
    QCOMPARE(r->size, qint64(100));
    QCOMPARE(r->downloaded, qint64(10));
    QCOMPARE(r->speed, 7.0);
    QCOMPARE(r->eta, qint64(-1));
    // Members it has, even empty, are taken; so is a name from the URL when it has none.
    DownloadProgressEvent e = progress("a", S::Downloading);
    e.errorMessage = QString();
    e.filename = QString();
    e.attempts = 3;
    table.applyProgress(e, at(4));
    QCOMPARE(r->error, QString());
    QCOMPARE(r->name, QStringLiteral("a.bin"));
    QCOMPARE(r->attempts, 3);
    // The percentage never goes down while the status stays.
    table.applyProgress(progress("a", S::Downloading, 30), at(5));
    QCOMPARE(r->percent, 40.0);
}

void tst_DownloadRowTable::aRetryStartsAgainFromZero()
{
    DownloadRowTable table;
    table.insert(table.mergeKnown({resource("a", S::Downloading, 1)}, true));
    table.applyProgress(progress("a", S::Downloading, 80), at(2));
    table.applyProgress(progress("a", S::Failed), at(3));
    table.applyProgress(progress("a", S::Pending, 0), at(4)); // a new status: the progress as it is
    QCOMPARE(table.find("a")->percent, 0.0);
}

void tst_DownloadRowTable::fewerBytesFromANewerEventAreARestart()
{
    DownloadRowTable table;
    table.insert(table.mergeKnown({resource("a", S::Downloading, 1)}, true));
    const auto bytes = [](qint64 n, std::optional<double> percent = {}) {
        DownloadProgressEvent e = progress("a", S::Downloading, percent);
        if (!e.progress)
            e.progress = DownloadProgressInfo();
        e.progress->downloadedBytes = n;
        return e;
    };
    table.applyProgress(bytes(80), at(2));
    const DownloadRow *r = table.find("a");
    QCOMPARE(r->percent, 80.0); // from the bytes (100 in all) when the event has no percentage
    // Of the same moment as the row's state: maybe seen out of order, so it only ever raises.
    table.applyProgress(bytes(20), at(2));
    QCOMPARE(r->percent, 80.0);
    QCOMPARE(r->downloaded, qint64(80));
    // Newer, the same status and attempt, no note: the transfer started again.
    table.applyProgress(bytes(5), at(3));
    QCOMPARE(r->downloaded, qint64(5));
    QCOMPARE(r->percent, 5.0);
    // An older one is still ignored.
    table.applyProgress(bytes(90), at(2));
    QCOMPARE(r->downloaded, qint64(5));
    // A percentage it carries wins over the bytes; more bytes never lower it.
    table.applyProgress(bytes(30, 31.5), at(4));
    QCOMPARE(r->percent, 31.5);
    table.applyProgress(bytes(31), at(5));
    QCOMPARE(r->percent, 31.5);
}

void tst_DownloadRowTable::anUnknownStatusIsKeptAsItsWord()
{
    // A newer server's status: shown as its word, counted under no known status, and not
    // finished (it keeps its place in the queue).
    DownloadRowTable table;
    DownloadResource d = resource("a", S::Pending);
    d.status = ReceivedStatus{std::nullopt, QStringLiteral("throttled")};
    table.insert(table.mergeKnown({d, resource("b", S::Pending, 1)}, true));
    const DownloadRow *r = table.find("a");
    QCOMPARE(r->status.text, QStringLiteral("throttled"));
    QVERIFY(!r->status.known);
    QVERIFY(!r->isFinished());
    QCOMPARE(table.count(S::Pending), 1);
    QVERIFY(table.updatePositions());
    QCOMPARE(table.find("a")->position, 1);
}

void tst_DownloadRowTable::eventsForUnknownDownloadsAddThem()
{
    Recorder observer;
    DownloadRowTable table(&observer);
    DownloadProgressEvent e = progress("new", S::Pending, 0);
    e.url = QStringLiteral("http://h/files/new.iso");
    table.applyProgress(e, at(7));
    QCOMPARE(observer.take(), QStringList{"insert 0-0"}); // appearing is not a status change
    const DownloadRow *r = table.find("new");
    QCOMPARE(r->name, QStringLiteral("new.iso"));
    // Until the details come, the event's time (on the server's clock) stands for created_at.
    QCOMPARE(r->added, QDateTime(QDate(2026, 1, 1), QTime(0, 0, 7), Qt::UTC));
    QCOMPARE(r->updated, at(7));
    table.applyProgress(progress("naive", S::Pending), QStringLiteral("2026-01-01T00:00:08.000")); // a Python worker's
    QCOMPARE(table.find("naive")->added, QDateTime(QDate(2026, 1, 1), QTime(0, 0, 8), Qt::UTC));
    table.applyProgress(progress("", S::Pending), at(9)); // no id: nothing
    QCOMPARE(table.size(), 2);
}

void tst_DownloadRowTable::queueUpdatesRemoveOrReorder()
{
    DownloadRowTable table;
    table.insert(table.mergeKnown({resource("a", S::Pending), resource("b", S::Pending, 1)}, true));
    QueueUpdateEvent raised;
    raised.action = QueueAction::Reordered;
    raised.downloadId = QStringLiteral("b");
    raised.priority = 5;
    table.applyQueueUpdate(raised, at(2));
    QCOMPARE(table.find("b")->priority, 5);
    QCOMPARE(table.find("b")->status.text, QStringLiteral("pending")); // none sent: kept
    QCOMPARE(table.queueOrder(), (QStringList{"b", "a"}));
    QueueUpdateEvent removed;
    removed.action = QueueAction::Removed;
    removed.downloadId = QStringLiteral("a");
    table.applyQueueUpdate(removed, at(3));
    QCOMPARE(table.size(), 1);
    QCOMPARE(table.indexOf("b"), 0); // the index follows
    raised.downloadId = QStringLiteral("unknown"); // a download not listed: nothing
    table.applyQueueUpdate(raised, at(4));
    QCOMPARE(table.size(), 1);
}

void tst_DownloadRowTable::detailsFillOnlyWhatEventsLack()
{
    DownloadRowTable table;
    table.insert(table.mergeKnown({resource("a", S::Downloading, 1)}, true));
    table.applyProgress(progress("a", S::Paused, 50), at(5));
    DownloadResource older = resource("a", S::Downloading, 2, 7);
    older.sha256 = QString(64, u'f');
    older.attempts = 4;
    table.upsert(older);
    const DownloadRow *r = table.find("a");
    QCOMPARE(r->status.text, QStringLiteral("paused"));
    QCOMPARE(r->percent, 50.0);
    QCOMPARE(r->priority, 7);
    QCOMPARE(r->sha256, older.sha256);
    QCOMPARE(r->attempts, 4);
    QCOMPARE(r->added, older.createdAt);
    table.upsert(resource("b", S::Pending, 3)); // unknown: a new row
    QCOMPARE(table.size(), 2);
}

void tst_DownloadRowTable::statusChangesAreTransitionsOnly()
{
    Recorder observer;
    DownloadRowTable table(&observer);
    table.insert(table.mergeKnown({resource("a", S::Downloading, 1)}, true));
    observer.take();
    table.applyProgress(progress("a", S::Completed, 100), at(2));
    table.applyProgress(progress("a", S::Completed, 100), at(2)); // a replay
    table.applyProgress(progress("a", S::Downloading, 90), at(1)); // a late one
    QCOMPARE(observer.take(), (QStringList{"changed 0", "status a downloading>completed", "changed 0"}));
    QVERIFY(table.find("a")->completed.isValid()); // completed now, until the details say when
}

void tst_DownloadRowTable::countsAndTotalSpeed()
{
    DownloadRowTable table;
    QVERIFY(!table.takeCountsChanged());
    table.insert(table.mergeKnown({resource("a", S::Downloading), resource("b", S::Downloading),
                                   resource("c", S::Paused)},
                                  true));
    QVERIFY(table.takeCountsChanged());
    QVERIFY(!table.takeCountsChanged());
    QCOMPARE(table.count(S::Downloading), 2);
    QCOMPARE(table.count(S::Paused), 1);
    QCOMPARE(table.totalSpeed(), 10.0); // only what is downloading
    table.applyProgress(progress("a", S::Downloading, 20), at(2));
    table.applyProgress(progress("b", S::Completed), at(2));
    QVERIFY(table.takeCountsChanged());
    QCOMPARE(table.totalSpeed(), 7.0);
    QCOMPARE(table.count(S::Downloading), 1);
    QCOMPARE(table.count(S::Completed), 1);
    for (S s : allDownloadStatuses()) {
        int n = 0;
        for (int i = 0; i < table.size(); ++i)
            n += table.at(i).is(s);
        QCOMPARE(table.count(s), n);
    }
}

void tst_DownloadRowTable::queuePlacesFollowPriorityThenArrival()
{
    DownloadRowTable table;
    table.insert(table.mergeKnown({resource("old", S::Pending, 1), resource("new", S::Pending, 2),
                                   resource("urgent", S::Paused, 3, 5), resource("done", S::Completed, 0, 9),
                                   resource("tie-b", S::Pending, 4), resource("tie-a", S::Pending, 4)},
                                  true));
    QCOMPARE(table.queueOrder(), (QStringList{"urgent", "old", "new", "tie-a", "tie-b"}));
    QVERIFY(table.updatePositions());
    QCOMPARE(table.find("urgent")->position, 1);
    QCOMPARE(table.find("tie-b")->position, 5);
    QCOMPARE(table.find("done")->position, 0); // finished: no place
    QVERIFY(!table.updatePositions());         // nothing it depends on changed
    table.applyProgress(progress("old", S::Downloading, 5), at(9));
    QVERIFY(!table.updatePositions()); // still unfinished, same priority
    table.upsert(resource("new", S::Pending, 2, 6));
    QVERIFY(table.updatePositions());
    QCOMPARE(table.find("new")->position, 1);
    table.applyProgress(progress("urgent", S::Cancelled), at(10));
    QVERIFY(table.updatePositions());
    QCOMPARE(table.find("urgent")->position, 0);
}

QTEST_APPLESS_MAIN(tst_DownloadRowTable)
#include "tst_downloadrowtable.moc"
