// LeaseKeeper against the in-memory store, with an injected clock shared by the node and the
// store, so renewal and expiry are tested without sleeping: claims in queue order and within
// the limits, renewal of what it runs only, stopping before the lease elapses when the store
// does not answer, a download changed, deleted or taken over elsewhere (heard through a
// notification or a renewal), answers older than the node's last write, and a seeded-random
// model of nodes, clocks and an unreachable store in which a download never runs on two nodes.

#include "memorydownloadstore.h"

#include "downloads/leasekeeper.h"

#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QScopeGuard>
#include <QTest>

#include <algorithm>
#include <memory>

using namespace Hermes;
using namespace Hermes::Test;

static constexpr int Lease = 3000;
static constexpr int Renew = 1000;
static const QString Node = QStringLiteral("node-a");

class tst_LeaseKeeper : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void claimsInQueueOrderUpToTheLimit();
    void clusterLimitCountsEveryNode();
    void claimsWhileClaimingAreNotLost();
    void takesOverWhatAnotherNodeLetExpire();
    void retryTimeWakesAClaim();
    void renewsOnlyWhatItRuns();
    void renewalKeepsTheLeaseValid();
    void stopsBeforeTheLeaseElapsesWhenTheStoreDoesNotAnswer();
    void safetyMarginIsAQuarterOfTheLeaseAtMostTwoSeconds();
    void changedElsewhere_data();
    void changedElsewhere();
    void renewalFindsWhatChangedElsewhere_data();
    void renewalFindsWhatChangedElsewhere();
    void answersOlderThanTheLastWriteAreIgnored();
    void startVoidsOldLeasesOnOneNodeAndReleaseAllHandsThemBack();
    void neverRunsADownloadTwiceRandomized();

private:
    struct Loss
    {
        QString id;
        bool handBack;
        bool deletePart;
        QString why;
    };
    LeaseKeeper *makeKeeper(int maxConcurrent = 3, int clusterMax = 0, const QString &node = Node);
    Download pending(int priority = 0);
    /// Lets the store's answers arrive.
    static void settle()
    {
        for (int i = 0; i < 5; ++i)
            QCoreApplication::processEvents();
    }

    std::unique_ptr<MemoryDownloadStore> m_store;
    std::unique_ptr<LeaseKeeper> m_keeper;
    qint64 m_now = 0;
    QStringList m_claimed;
    QList<Loss> m_lost;
    int m_ids = 0;
};

void tst_LeaseKeeper::init()
{
    m_store = std::make_unique<MemoryDownloadStore>();
    m_now = 100000;
    m_store->nowMs = m_now;
    m_claimed.clear();
    m_lost.clear();
}

void tst_LeaseKeeper::cleanup()
{
    m_keeper.reset();
    m_store.reset();
}

// What the engine does first with a claimed download: writes it as downloading.
static void startsRunning(MemoryDownloadStore *store, LeaseKeeper *keeper, const QString &id)
{
    store->row(id)->d.status = DownloadStatus::Downloading;
    keeper->written(id);
}

LeaseKeeper *tst_LeaseKeeper::makeKeeper(int maxConcurrent, int clusterMax, const QString &node)
{
    m_keeper = std::make_unique<LeaseKeeper>(LeaseKeeper::Policy{Lease, Renew, maxConcurrent, clusterMax},
                                             m_store.get(), node);
    m_keeper->setClock([this] { return m_now; });
    connect(m_keeper.get(), &LeaseKeeper::claimed, this, [this](const Download &row) {
        m_claimed.append(row.id);
        startsRunning(m_store.get(), m_keeper.get(), row.id);
    });
    connect(m_keeper.get(), &LeaseKeeper::lost, this, [this](const QString &id, bool handBack, bool deletePart, const QString &why) {
        m_lost.append({id, handBack, deletePart, why});
    });
    return m_keeper.get();
}

Download tst_LeaseKeeper::pending(int priority)
{
    Download d;
    d.id = QStringLiteral("d%1").arg(m_ids++, 2, 10, QLatin1Char('0'));
    d.url = QStringLiteral("http://origin/") + d.id;
    d.priority = priority;
    d.status = DownloadStatus::Pending;
    return m_store->put(d);
}

void tst_LeaseKeeper::claimsInQueueOrderUpToTheLimit()
{
    const Download low = pending(0);
    const Download high = pending(5);
    const Download mid = pending(1);
    const Download later = pending(0);
    Download paused = pending(9);
    m_store->row(paused.id)->d.status = DownloadStatus::Paused;
    LeaseKeeper *keeper = makeKeeper(3);
    keeper->claimSoon();
    settle();
    QCOMPARE(m_claimed, (QStringList{high.id, mid.id, low.id}));
    QCOMPARE(keeper->count(), 3);
    for (const QString &id : std::as_const(m_claimed)) {
        QVERIFY(keeper->holds(id));
        QCOMPARE(m_store->row(id)->d.owner, Node);
        QCOMPARE(m_store->row(id)->leaseUntil, m_now + Lease);
    }
    QVERIFY(m_store->row(later.id)->d.owner.isEmpty());
    // Full: no claim is even asked.
    const int claims = m_store->calls(QStringLiteral("claim"));
    keeper->claimSoon();
    settle();
    QCOMPARE(m_store->calls(QStringLiteral("claim")), claims);
    // A slot frees: the next one in order.
    keeper->release(high.id, true);
    QVERIFY(m_store->row(high.id)->d.owner.isEmpty());
    keeper->claimSoon();
    settle();
    QCOMPARE(m_claimed.last(), high.id); // still pending and first in the queue: claimed again
}

void tst_LeaseKeeper::clusterLimitCountsEveryNode()
{
    for (int i = 0; i < 4; ++i)
        pending();
    // Two run elsewhere under valid leases.
    auto &rows = m_store->rows();
    int elsewhere = 0;
    for (auto &row : rows) {
        if (elsewhere == 2)
            break;
        row.d.owner = QStringLiteral("node-b");
        row.leaseUntil = m_now + Lease;
        row.d.status = DownloadStatus::Downloading;
        ++elsewhere;
    }
    makeKeeper(3, 3)->claimSoon();
    settle();
    QCOMPARE(m_claimed.size(), 1);
}

void tst_LeaseKeeper::claimsWhileClaimingAreNotLost()
{
    pending();
    LeaseKeeper *keeper = makeKeeper(3);
    keeper->claimSoon();
    const Download second = pending(); // arrives while the first claim is out
    keeper->claimSoon();
    QCOMPARE(m_store->calls(QStringLiteral("claim")), 1); // one at a time
    settle();
    QVERIFY(m_store->calls(QStringLiteral("claim")) >= 2); // and again once it answered
    QVERIFY(m_claimed.contains(second.id));
}

void tst_LeaseKeeper::takesOverWhatAnotherNodeLetExpire()
{
    const Download d = pending();
    auto *row = m_store->row(d.id);
    row->d.owner = QStringLiteral("dead-node");
    row->d.status = DownloadStatus::Downloading;
    row->leaseUntil = m_now + 10;
    LeaseKeeper *keeper = makeKeeper();
    keeper->claimSoon();
    settle();
    QVERIFY(m_claimed.isEmpty()); // its lease still holds
    QCOMPARE(keeper->takeovers(), 0u);
    m_now += 11;
    m_store->nowMs = m_now;
    keeper->claimSoon();
    settle();
    QCOMPARE(m_claimed, QStringList{d.id});
    QCOMPARE(keeper->takeovers(), 1u);
    QCOMPARE(m_store->row(d.id)->d.owner, Node);
}

void tst_LeaseKeeper::retryTimeWakesAClaim()
{
    const Download d = pending();
    m_store->row(d.id)->notBefore = m_now + 20; // a retry waits
    LeaseKeeper *keeper = makeKeeper();
    keeper->claimSoon();
    settle();
    QVERIFY(m_claimed.isEmpty());
    m_store->nowMs = m_now += 20;
    // The claim's answer said when the retry becomes claimable: the keeper claims again then.
    QTRY_COMPARE_WITH_TIMEOUT(m_claimed, QStringList{d.id}, 5000);
    Q_UNUSED(keeper);
}

void tst_LeaseKeeper::renewsOnlyWhatItRuns()
{
    const Download a = pending();
    const Download b = pending();
    const Download stale = pending();
    LeaseKeeper *keeper = makeKeeper(2);
    keeper->claimSoon();
    settle();
    QCOMPARE(m_claimed, (QStringList{a.id, b.id}));
    // A row this node owns but no longer runs (its lease lapsed here) is not renewed.
    auto *row = m_store->row(stale.id);
    row->d.owner = Node;
    row->leaseUntil = m_now + 5;
    m_now += 500;
    m_store->nowMs = m_now;
    keeper->renew();
    settle();
    QStringList renewed = m_store->lastRenewed();
    std::sort(renewed.begin(), renewed.end());
    QCOMPARE(renewed, (QStringList{a.id, b.id}));
    QCOMPARE(m_store->row(a.id)->leaseUntil, m_now + Lease);
    QCOMPARE(m_store->row(stale.id)->leaseUntil, m_now - 500 + 5); // left to expire
    QVERIFY(m_lost.isEmpty());
}

void tst_LeaseKeeper::renewalKeepsTheLeaseValid()
{
    pending();
    LeaseKeeper *keeper = makeKeeper();
    keeper->claimSoon();
    settle();
    QCOMPARE(m_claimed.size(), 1);
    const qint64 margin = LeaseKeeper::safetyMargin(Lease);
    // Renewed every second for a while: the lease never lapses here.
    for (int i = 0; i < 10; ++i) {
        m_store->nowMs = m_now += Renew;
        keeper->renew();
        settle();
        keeper->enforce();
    }
    QVERIFY(m_lost.isEmpty());
    // Without renewals it lapses margin ms before the store's lease ends, not a moment earlier.
    const qint64 renewedAt = m_now;
    m_store->nowMs = m_now = renewedAt + Lease - margin;
    keeper->enforce();
    QVERIFY(m_lost.isEmpty());
    m_store->nowMs = m_now += 1;
    keeper->enforce();
    QCOMPARE(m_lost.size(), 1);
    QCOMPARE(m_lost[0].why, QStringLiteral("its lease could not be renewed in time"));
    QVERIFY(!m_lost[0].handBack && !m_lost[0].deletePart);
    QCOMPARE(keeper->count(), 0);
    QVERIFY(m_now < m_store->row(m_lost[0].id)->leaseUntil); // stopped while the store's lease still held
}

void tst_LeaseKeeper::stopsBeforeTheLeaseElapsesWhenTheStoreDoesNotAnswer()
{
    const Download d = pending();
    LeaseKeeper *keeper = makeKeeper();
    const qint64 claimedAt = m_now;
    keeper->claimSoon();
    settle();
    QCOMPARE(m_claimed.size(), 1);
    m_store->setAnswering(false);
    // Renewals go out and get no answer; one at a time.
    m_store->nowMs = m_now += Renew;
    keeper->renew();
    m_store->nowMs = m_now += Renew;
    keeper->renew();
    settle();
    QCOMPARE(m_store->calls(QStringLiteral("renew")), 1);
    keeper->enforce();
    QVERIFY(m_lost.isEmpty());
    // The lease timer runs every renewMs / 4: it stops the download before the store's lease
    // (claimedAt + Lease) could let another node take it.
    const qint64 deadline = claimedAt + Lease;
    while (m_lost.isEmpty() && m_now < deadline) {
        m_store->nowMs = m_now += Renew / 4;
        keeper->enforce();
    }
    QCOMPARE(m_lost.size(), 1);
    QCOMPARE(m_lost[0].id, d.id);
    QCOMPARE(m_lost[0].why, QStringLiteral("its lease could not be renewed in time"));
    QVERIFY2(m_now < deadline, qPrintable(QString::number(deadline - m_now)));
    QVERIFY(!keeper->holds(d.id));
    // When the store answers again (the timeout's error first), nothing breaks and the
    // download is claimed again once its lease expired.
    m_store->setAnswering(true);
    m_store->timeOutPending();
    settle();
    m_store->nowMs = m_now = deadline + 1;
    keeper->claimSoon();
    settle();
    QCOMPARE(m_claimed, (QStringList{d.id, d.id}));
}

void tst_LeaseKeeper::safetyMarginIsAQuarterOfTheLeaseAtMostTwoSeconds()
{
    QCOMPARE(LeaseKeeper::safetyMargin(3000), 750);
    QCOMPARE(LeaseKeeper::safetyMargin(8000), 2000);
    QCOMPARE(LeaseKeeper::safetyMargin(15000), 2000);
    QCOMPARE(LeaseKeeper::safetyMargin(400), 100);
}

void tst_LeaseKeeper::changedElsewhere_data()
{
    QTest::addColumn<QString>("change");
    QTest::addColumn<bool>("handBack");
    QTest::addColumn<bool>("deletePart");
    QTest::addColumn<QString>("why");
    QTest::newRow("paused") << "paused" << true << false << "paused elsewhere";
    QTest::newRow("cancelled") << "cancelled" << true << true << "cancelled elsewhere";
    QTest::newRow("taken over") << "owner" << false << false << "taken over by node-b";
    QTest::newRow("deleted") << "deleted" << false << true << "deleted elsewhere";
}

static void changeElsewhere(MemoryDownloadStore *store, const QString &id, const QString &change)
{
    if (change == u"deleted") {
        store->rows().remove(id);
    } else if (change == u"owner") {
        store->row(id)->d.owner = QStringLiteral("node-b");
    } else {
        store->row(id)->d.status = *fromWire<DownloadStatus>(change);
    }
}

void tst_LeaseKeeper::changedElsewhere()
{
    QFETCH(QString, change);
    QFETCH(bool, handBack);
    QFETCH(bool, deletePart);
    QFETCH(QString, why);
    const Download d = pending();
    const Download other = pending();
    LeaseKeeper *keeper = makeKeeper(2);
    keeper->claimSoon();
    settle();
    QCOMPARE(keeper->count(), 2);
    changeElsewhere(m_store.get(), d.id, change);
    emit m_store->changed(d.id); // the other node's NOTIFY
    settle();
    QCOMPARE(m_lost.size(), 1);
    QCOMPARE(m_lost[0].id, d.id);
    QCOMPARE(m_lost[0].handBack, handBack);
    QCOMPARE(m_lost[0].deletePart, deletePart);
    QCOMPARE(m_lost[0].why, why);
    QVERIFY(!keeper->holds(d.id));
    QVERIFY(keeper->holds(other.id)); // only that one
    if (handBack) // its lease given back at once
        QVERIFY(m_store->row(d.id)->d.owner.isEmpty());
    // A change to a download it does not run is a reason to look for work.
    const int claims = m_store->calls(QStringLiteral("claim"));
    emit m_store->changed(QStringLiteral("unrelated"));
    settle();
    QCOMPARE(m_store->calls(QStringLiteral("claim")), claims + 1);
}

void tst_LeaseKeeper::renewalFindsWhatChangedElsewhere_data()
{
    changedElsewhere_data();
}

void tst_LeaseKeeper::renewalFindsWhatChangedElsewhere()
{
    QFETCH(QString, change);
    QFETCH(bool, handBack);
    QFETCH(bool, deletePart);
    QFETCH(QString, why);
    const Download d = pending();
    LeaseKeeper *keeper = makeKeeper(1);
    keeper->claimSoon();
    settle();
    changeElsewhere(m_store.get(), d.id, change); // and the notification was missed
    keeper->renew();
    settle();
    QCOMPARE(m_lost.size(), 1);
    QCOMPARE(m_lost[0].id, d.id);
    if (change == u"owner" || change == u"deleted") {
        // A renewal only says the lease is gone.
        QCOMPARE(m_lost[0].why, QStringLiteral("its lease is gone (taken over or deleted)"));
        QVERIFY(!m_lost[0].handBack && !m_lost[0].deletePart);
    } else {
        QCOMPARE(m_lost[0].why, why);
        QCOMPARE(m_lost[0].handBack, handBack);
        QCOMPARE(m_lost[0].deletePart, deletePart);
    }
    QCOMPARE(keeper->count(), 0);
}

void tst_LeaseKeeper::answersOlderThanTheLastWriteAreIgnored()
{
    const Download d = pending();
    LeaseKeeper *keeper = makeKeeper(1);
    keeper->claimSoon();
    settle();
    // Paused elsewhere, then this node writes it (say, progress) before the renewal answers:
    // the renewal was asked before that write, so it says nothing about it any more.
    m_store->row(d.id)->d.status = DownloadStatus::Paused;
    keeper->renew();
    keeper->written(d.id);
    settle();
    QVERIFY(m_lost.isEmpty());
    // A check asked before a write, the same.
    emit m_store->changed(d.id);
    keeper->written(d.id);
    settle();
    QVERIFY(m_lost.isEmpty());
    // Asked after it: heard.
    keeper->renew();
    settle();
    QCOMPARE(m_lost.size(), 1);
    QCOMPARE(m_lost[0].why, QStringLiteral("paused elsewhere"));
}

void tst_LeaseKeeper::startVoidsOldLeasesOnOneNodeAndReleaseAllHandsThemBack()
{
    const Download d = pending();
    m_store->row(d.id)->d.owner = QStringLiteral("node-a-before-a-crash");
    m_store->row(d.id)->leaseUntil = m_now + 60000;
    m_store->shared = false;
    LeaseKeeper *keeper = makeKeeper();
    keeper->start();
    settle();
    QCOMPARE(m_store->calls(QStringLiteral("resetOwners")), 1);
    QCOMPARE(m_claimed, QStringList{d.id}); // at once, not after the old lease
    m_store->row(d.id)->d.status = DownloadStatus::Downloading;
    keeper->releaseAll();
    QCOMPARE(m_store->calls(QStringLiteral("releaseAll")), 1);
    QVERIFY(m_store->row(d.id)->d.owner.isEmpty());
    QCOMPARE(m_store->row(d.id)->d.status, DownloadStatus::Pending); // resumes anywhere
    QCOMPARE(keeper->count(), 0);
}

// The model: two keepers (nodes a and b) on one store and one clock; the lease timers fire
// every renewMs / 4 of the clock (not after every step); renewals and claims at random; node a's connection to the store drops and comes
// back; downloads are paused, resumed, cancelled, retried and deleted elsewhere, with their
// notifications sometimes lost. After every step: a download held by a node is the node's in
// the store under a lease that has not expired (or was deleted) — so no other node can have
// claimed it, and no download ever runs on two nodes.
void tst_LeaseKeeper::neverRunsADownloadTwiceRandomized()
{
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED")
        ? quint32(qEnvironmentVariableIntValue("HERMES_TEST_SEED")) : QRandomGenerator::global()->generate();
    qInfo("seed %u (HERMES_TEST_SEED=%u reproduces it)", seed, seed);
    QRandomGenerator rng(seed);
    QLoggingCategory::setFilterRules(QStringLiteral("hermes.hub.info=false\nhermes.hub.warning=false"));
    const auto restoreLogging = qScopeGuard([] { QLoggingCategory::setFilterRules({}); });
    for (int i = 0; i < 12; ++i)
        pending(int(rng.bounded(3)));
    // Node a is the one whose store connection fails: while it is down, the store answers
    // nothing node a asks (until those questions time out).
    struct Node
    {
        QString name;
        std::shared_ptr<LeaseKeeper> keeper;
    };
    MemoryDownloadStore *store = m_store.get();
    QList<Node> nodes;
    for (const QString &name : {QStringLiteral("node-a"), QStringLiteral("node-b")}) {
        Node n{name, std::make_shared<LeaseKeeper>(LeaseKeeper::Policy{Lease, Renew, 2 + int(rng.bounded(2)), 0}, store, name)};
        n.keeper->setClock([this] { return m_now; });
        LeaseKeeper *keeper = n.keeper.get();
        connect(keeper, &LeaseKeeper::claimed, this, [store, keeper](const Download &row) {
            startsRunning(store, keeper, row.id);
        });
        nodes.append(std::move(n));
    }
    bool reachable = true;
    qint64 lastTick = m_now / (Renew / 4);
    const auto check = [&](int step, const QString &op) {
        for (const Node &n : nodes) {
            for (auto it = store->rows().cbegin(); it != store->rows().cend(); ++it) {
                if (!n.keeper->holds(it.key()))
                    continue;
                const auto &row = it.value();
                if (row.d.owner != n.name || row.leaseUntil < m_now)
                    return QStringLiteral("seed %1 step %2 (%3): %4 holds %5, owned by '%6' until %7, now %8")
                        .arg(seed).arg(step).arg(op, n.name, it.key(), row.d.owner).arg(row.leaseUntil).arg(m_now);
            }
        }
        for (auto it = store->rows().cbegin(); it != store->rows().cend(); ++it) {
            if (nodes[0].keeper->holds(it.key()) && nodes[1].keeper->holds(it.key()))
                return QStringLiteral("seed %1 step %2 (%3): %4 runs on both nodes").arg(seed).arg(step).arg(op, it.key());
        }
        return QString();
    };
    for (int step = 0; step < 10000; ++step) {
        QString op;
        const int dice = int(rng.bounded(100));
        Node &n = nodes[int(rng.bounded(2))];
        // Node a's trouble is the store not answering it: modelled by answering nobody while
        // node a acts (node b's actions happen while the store answers).
        const bool aTalks = &n == &nodes[0];
        store->setAnswering(!aTalks || reachable);
        if (dice < 35) {
            op = QStringLiteral("time");
            m_store->nowMs = m_now += 1 + rng.bounded(Renew / 4);
            if (m_now / (Renew / 4) != lastTick) { // the lease timers fire every renewMs / 4
                lastTick = m_now / (Renew / 4);
                for (Node &each : nodes)
                    each.keeper->enforce();
            }
        } else if (dice < 55) {
            op = n.name + QStringLiteral(" renews");
            n.keeper->renew();
        } else if (dice < 70) {
            op = n.name + QStringLiteral(" claims");
            n.keeper->claimSoon();
        } else if (dice < 76) {
            reachable = !reachable;
            op = reachable ? QStringLiteral("a reaches the store again") : QStringLiteral("a loses the store");
            if (reachable) {
                store->setAnswering(true);
                store->timeOutPending(); // what got no answer timed out meanwhile
            }
        } else if (dice < 95) {
            // A control action elsewhere, announced or not.
            const QStringList ids = store->rows().keys();
            if (ids.isEmpty())
                continue;
            const QString id = ids.at(int(rng.bounded(int(ids.size()))));
            auto &row = *store->row(id);
            const DownloadAction action = allDownloadActions().at(int(rng.bounded(DownloadActionCount)));
            if (const auto next = DownloadRules::after(row.d.status, action)) {
                row.d.status = *next;
                row.notBefore = 0;
                op = QStringLiteral("%1 %2 elsewhere").arg(QString(wireName(action)), id);
                if (rng.bounded(3) != 0) {
                    store->setAnswering(reachable); // node a's check gets no answer meanwhile
                    emit store->changed(id);
                }
            }
        } else {
            const QStringList ids = store->rows().keys();
            if (ids.size() > 4) {
                const QString id = ids.at(int(rng.bounded(int(ids.size()))));
                store->rows().remove(id);
                op = QStringLiteral("delete %1 elsewhere").arg(id);
                if (rng.bounded(2)) {
                    store->setAnswering(reachable);
                    emit store->changed(id);
                }
            } else {
                op = QStringLiteral("add");
                pending(int(rng.bounded(3)));
            }
        }
        settle();
        store->setAnswering(true);
        const QString problem = check(step, op);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }
    // Liveness: with the store back and time passing, the work is held by some node.
    store->setAnswering(true);
    store->timeOutPending();
    settle();
    for (int i = 0; i < 20; ++i) {
        m_store->nowMs = m_now += Renew;
        for (Node &each : nodes) {
            each.keeper->renew();
            each.keeper->claimSoon();
        }
        settle();
        for (Node &each : nodes)
            each.keeper->enforce();
    }
    int runnable = 0;
    int held = 0;
    for (auto it = store->rows().cbegin(); it != store->rows().cend(); ++it) {
        if (it->d.status == DownloadStatus::Pending || it->d.isActive())
            ++runnable;
        held += nodes[0].keeper->holds(it.key()) || nodes[1].keeper->holds(it.key());
    }
    const int capacity = nodes[0].keeper->count() + nodes[1].keeper->count();
    QVERIFY2(held == capacity, "a node holds a download that is gone");
    QVERIFY2(capacity >= qMin(runnable, 4), qPrintable(QStringLiteral("seed %1: %2 runnable, %3 held").arg(seed).arg(runnable).arg(capacity)));
    const QString problem = check(-1, QStringLiteral("end"));
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

QTEST_MAIN(tst_LeaseKeeper)
#include "tst_leasekeeper.moc"
