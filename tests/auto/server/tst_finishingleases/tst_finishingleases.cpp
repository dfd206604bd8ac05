// LeaseKeeper's finishing leases, against the in-memory store: a download whose transfer is
// over (its file being synced, its completion saved) keeps its lease but no longer counts
// toward the node's transfers, so the next one is claimed at once — and at most
// `maxConcurrent` of them go uncounted, so a slow disk holds the claims back.

#include "memorydownloadstore.h"

#include "downloads/leasekeeper.h"

#include <QTest>

#include <memory>

using namespace Hermes;
using namespace Hermes::Test;

class tst_FinishingLeases : public QObject
{
    Q_OBJECT

private slots:
    void finishingLeaseMakesRoomForTheNextTransfer();

private:
    static void settle()
    {
        for (int i = 0; i < 5; ++i)
            QCoreApplication::processEvents();
    }
};

void tst_FinishingLeases::finishingLeaseMakesRoomForTheNextTransfer()
{
    MemoryDownloadStore store;
    store.nowMs = 100000;
    for (int i = 0; i < 5; ++i) {
        Download d;
        d.id = QStringLiteral("d%1").arg(i);
        d.url = QStringLiteral("http://origin/") + d.id;
        d.status = DownloadStatus::Pending;
        store.put(d);
    }
    LeaseKeeper keeper({3000, 1000, 2, 0}, &store, QStringLiteral("node-a"));
    keeper.setClock([&store] { return store.nowMs; });
    QStringList claimed;
    connect(&keeper, &LeaseKeeper::claimed, this, [&](const Download &row) {
        claimed.append(row.id);
        store.row(row.id)->d.status = DownloadStatus::Downloading;
        keeper.written(row.id);
    });
    keeper.claimSoon();
    settle();
    QCOMPARE(claimed, (QStringList{QStringLiteral("d0"), QStringLiteral("d1")}));
    QCOMPARE(keeper.counted(), 2);

    // d0's transfer is over: it keeps its lease (renewed, fenced), and d2 is claimed at once.
    keeper.finishing(QStringLiteral("d0"));
    settle();
    QCOMPARE(claimed.size(), 3);
    QVERIFY(keeper.holds(QStringLiteral("d0")));
    QCOMPARE(store.row(QStringLiteral("d0"))->d.owner, QStringLiteral("node-a"));
    QCOMPARE(keeper.count(), 3);
    QCOMPARE(keeper.counted(), 2);
    keeper.finishing(QStringLiteral("d0")); // said twice: counted once
    settle();
    QCOMPARE(claimed.size(), 3);

    // d1 finishes too: two finishing (the limit), d3 claimed; a third finishing one is counted
    // again, so nothing more is claimed until one of them is released.
    keeper.finishing(QStringLiteral("d1"));
    settle();
    QCOMPARE(claimed.size(), 4);
    keeper.finishing(QStringLiteral("d2"));
    settle();
    QCOMPARE(claimed.size(), 4);
    QCOMPARE(keeper.count(), 4);
    QCOMPARE(keeper.counted(), 2);

    // d0 completed: its lease goes, and with it the room d4 takes.
    store.row(QStringLiteral("d0"))->d.status = DownloadStatus::Completed;
    keeper.release(QStringLiteral("d0"), true);
    keeper.claimSoon();
    settle();
    QCOMPARE(claimed.size(), 5);
    QCOMPARE(claimed.last(), QStringLiteral("d4"));
    QCOMPARE(keeper.counted(), 2);
}

QTEST_MAIN(tst_FinishingLeases)
#include "tst_finishingleases.moc"
