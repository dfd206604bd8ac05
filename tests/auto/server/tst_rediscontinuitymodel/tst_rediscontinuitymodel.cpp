// The promise of the Redis history, checked in general: for a client resuming from any
// acknowledged id on any node, the replay contains every acknowledged event after it, in
// order, none missing — or it is resync_required. A randomized, seeded run over publishes
// through three nodes (RedisBroker instances, each with its own data dir and stream length),
// node restarts (clean, and killed: the mark file as the last throttled write left it), node
// stops and starts, Redis snapshots (SAVE, copy the RDB) and restores (SIGKILL, restart on the
// old copy), and stream keys deleted (an eviction). The replay is decided exactly as the hub
// does (EventHistory, the ResumePlanner's checks), fed by each broker's signals.
//
// HERMES_TEST_SEED: the seed (else a fixed one, "random" for a random one; printed); HERMES_TEST_MODEL_OPS: operations per
// run (default 45); HERMES_TEST_MODEL_RUNS: runs (default 2). Longer soaks also need
// QTEST_FUNCTION_TIMEOUT (ms; Qt ends a test function after 300 s by default).
//
// The check runs once every running node has settled (up, same epoch, caught up). A node that
// was stopped during lost events and reaches the restored Redis before any node that knew
// may serve a silent gap until one that knew reconnects (README, "Events on Redis"): the
// settled state is what is checked.

#include "redisprocess.h"
#include "respclient.h"

#include "broker/redisbroker.h"
#include "broker/redisscripts.h"
#include "stream/encodedevent.h"
#include "stream/eventhistory.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <set>

using namespace Hermes;
using namespace Hermes::Test;

namespace {

struct Node
{
    int index = 0;
    int streamLength = 100;
    QTemporaryDir dataDir;
    std::unique_ptr<RedisBroker> broker;
    std::unique_ptr<EventHistory> history;
    quint32 epoch = 0;
    EventId delivered;
    bool ready = false;
    int historyLoads = 0;

    QString markPath() const { return dataDir.filePath(QStringLiteral("redis-mark.json")); }
    bool running() const { return broker != nullptr; }
};

struct Acked
{
    EventId id;
    int channel;
};

struct Figures
{
    int ops = 0, published = 0, restarts = 0, kills = 0, stops = 0, snapshots = 0, restores = 0,
        deletions = 0, checks = 0, replays = 0;
    int resyncEpoch = 0, resyncAhead = 0, resyncFloor = 0, resyncUnknown = 0;
};

} // namespace

class tst_RedisContinuityModel : public QObject
{
    Q_OBJECT

private slots:
    void gapFillPagesThroughALongGap();
    void restoredAgainAndAgainFromOneSnapshot();
    void randomizedHistoryIsWholeOrResync();

private:
    void runOnce(quint32 seed);
    void start(Node &node);
    void stop(Node &node, bool killed);
    bool settle(int timeoutMs);
    bool check(QString *why);
    void publish(int count);

    std::unique_ptr<RedisProcess> m_redis;
    std::vector<std::unique_ptr<Node>> m_nodes;
    QList<Acked> m_acked;
    QRandomGenerator m_random;
    Figures m_figures;
    QString m_snapshot;
    int m_n = 0;
};

void tst_RedisContinuityModel::start(Node &node)
{
    RedisBroker::Options options;
    options.url = m_redis->url();
    options.address = *RedisAddress::parse(m_redis->url());
    options.streamLength = node.streamLength;
    options.connectTimeoutMs = 2000;
    options.markPath = node.markPath();
    options.markIntervalMs = 50;
    node.broker = std::make_unique<RedisBroker>(options);
    node.history = std::make_unique<EventHistory>(1000000);
    node.ready = false;
    node.epoch = 0;
    node.delivered = EventId();
    Node *n = &node;
    connect(node.broker.get(), &Broker::historyLoaded, this,
            [n](quint32 epoch, const QList<Event> &events, const ChannelFloors &floors) {
        n->history->clear();
        for (const Event &e : events)
            n->history->append(EncodedEvent::encode(e));
        for (Channel c : Channel::all())
            n->history->setFloor(c, floors[size_t(c.index())]);
        n->epoch = epoch;
        n->delivered = n->history->newest().isNull() ? EventId(0, 0, epoch) : n->history->newest();
        n->ready = true;
        ++n->historyLoads;
    });
    connect(node.broker.get(), &Broker::eventReceived, this, [n](const Event &e) {
        if (!n->ready || e.id.epoch() != n->epoch)
            return; // as the hub: dropped
        n->history->append(EncodedEvent::encode(e));
        n->delivered = e.id;
    });
    QVERIFY(node.broker->start());
}

void tst_RedisContinuityModel::stop(Node &node, bool killed)
{
    if (!node.running())
        return;
    if (killed) {
        // SIGKILL: the mark is what the last throttled write left; the stop's flush never runs.
        QTest::qWait(150); // … which, at 50 ms, holds what was delivered before this pause
        QFile file(node.markPath());
        const QByteArray saved = file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
        file.close();
        node.broker.reset();
        QFile::remove(node.markPath());
        if (!saved.isEmpty()) {
            QFile out(node.markPath());
            QVERIFY(out.open(QIODevice::WriteOnly));
            out.write(saved);
        }
    } else {
        node.broker.reset();
    }
    node.history.reset();
    node.ready = false;
}

void tst_RedisContinuityModel::publish(int count)
{
    std::vector<Node *> up;
    for (auto &n : m_nodes)
        if (n->running() && n->broker->isUp())
            up.push_back(n.get());
    if (up.empty())
        return;
    int pending = 0;
    for (int i = 0; i < count; ++i) {
        Node *via = up[m_random.bounded(int(up.size()))];
        Event e;
        // The system channel is the quiet one.
        const int c = m_random.bounded(10) < 6 ? 0 : m_random.bounded(10) < 8 ? 1 : 2;
        e.channel = Channel::all()[size_t(c)];
        e.type = QStringLiteral("t");
        e.data = QJsonObject{{QStringLiteral("n"), ++m_n}};
        e.timestamp = Event::currentTimestamp();
        ++pending;
        via->broker->publish(e, [this, c, &pending](Result<EventId> id) {
            --pending;
            if (id) {
                m_acked.append({*id, c});
                ++m_figures.published;
            }
        });
    }
    QDeadlineTimer deadline(10000);
    while (pending > 0 && !deadline.hasExpired())
        QTest::qWait(5);
    QVERIFY2(pending == 0, "publishes unanswered");
}

bool tst_RedisContinuityModel::settle(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        bool settled = true;
        quint32 epoch = 0;
        for (auto &n : m_nodes) {
            if (!n->running())
                continue;
            if (!n->broker->isUp() || !n->ready) {
                settled = false;
                break;
            }
            if (epoch != 0 && n->epoch != epoch)
                settled = false;
            epoch = n->epoch;
        }
        if (settled && epoch != 0) {
            // Caught up: every node delivered the newest acknowledged event of its epoch, or
            // holds a floor above it (its stream was deleted: nobody can deliver it).
            Acked newest{EventId(), 0};
            for (const Acked &a : m_acked)
                if (a.id.epoch() == epoch && a.id > newest.id)
                    newest = a;
            for (auto &n : m_nodes) {
                if (n->running() && !newest.id.isNull() && n->delivered < newest.id
                    && n->history->covers(newest.id.previous(),
                                          Channel::all()[size_t(newest.channel)].bit()))
                    settled = false;
            }
            if (settled) {
                QTest::qWait(100); // a reload notice on its way
                return true;
            }
        }
        QTest::qWait(20);
    }
    return false;
}

bool tst_RedisContinuityModel::check(QString *why)
{
    ++m_figures.checks;
    for (auto &n : m_nodes) {
        if (!n->running())
            continue;
        for (const Acked &from : m_acked) {
            const EventId last = from.id;
            // ResumePlanner's decision.
            if (last.epoch() != n->epoch) {
                ++m_figures.resyncEpoch;
                continue;
            }
            if (last > n->delivered) {
                ++m_figures.resyncAhead;
                continue;
            }
            if (!n->history->covers(last, Channel::AllMask)) {
                ++m_figures.resyncFloor;
                continue;
            }
            if (!n->history->mayHold(last)) {
                ++m_figures.resyncUnknown;
                continue;
            }
            std::vector<EncodedEventPtr> replay;
            if (!n->history->eventsAfter(last, Channel::AllMask, &replay)) {
                ++m_figures.resyncFloor;
                continue;
            }
            ++m_figures.replays;
            std::set<EventId> got;
            EventId previous = last;
            for (const EncodedEventPtr &e : replay) {
                if (e->id <= previous) {
                    *why = QStringLiteral("node %1: replay from %2 out of order").arg(n->index).arg(QString::fromUtf8(last.toByteArray()));
                    return false;
                }
                previous = e->id;
                got.insert(e->id);
            }
            for (const Acked &a : m_acked) {
                if (a.id.epoch() == last.epoch() && a.id > last && !got.count(a.id)) {
                    *why = QStringLiteral("node %1: replay from %2 misses acknowledged %3 (channel %4)")
                               .arg(n->index).arg(QString::fromUtf8(last.toByteArray()),
                                                  QString::fromUtf8(a.id.toByteArray())).arg(a.channel);
                    return false;
                }
            }
        }
    }
    return true;
}

void tst_RedisContinuityModel::runOnce(quint32 seed)
{
    m_random.seed(seed);
    m_acked.clear();
    m_nodes.clear();
    m_n = 0;
    m_redis = std::make_unique<RedisProcess>();
    QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString()));
    QTemporaryDir snapshots;
    m_snapshot.clear();
    const int lengths[] = {100, 300, 10000};
    for (int i = 0; i < 3; ++i) {
        auto node = std::make_unique<Node>();
        node->index = i;
        node->streamLength = lengths[m_random.bounded(3)];
        m_nodes.push_back(std::move(node));
        start(*m_nodes.back());
    }
    QVERIFY2(settle(20000), "the nodes did not come up");
    const int ops = qEnvironmentVariableIsSet("HERMES_TEST_MODEL_OPS")
        ? qEnvironmentVariableIntValue("HERMES_TEST_MODEL_OPS") : 45;
    QStringList trail;
    for (int op = 0; op < ops; ++op) {
        ++m_figures.ops;
        const int kind = m_random.bounded(100);
        Node &node = *m_nodes[size_t(m_random.bounded(3))];
        int running = 0;
        for (auto &n : m_nodes)
            running += n->running() ? 1 : 0;
        if (kind < 36) {
            const int count = m_random.bounded(10) == 0 ? 150 + m_random.bounded(200) : 1 + m_random.bounded(20);
            trail << QStringLiteral("publish %1").arg(count);
            publish(count);
        } else if (kind < 46) {
            trail << QStringLiteral("restart %1").arg(node.index);
            stop(node, false);
            start(node);
            ++m_figures.restarts;
        } else if (kind < 55) {
            trail << QStringLiteral("kill+start %1").arg(node.index);
            stop(node, true);
            start(node);
            ++m_figures.kills;
        } else if (kind < 61) {
            if (node.running() && running > 1) {
                trail << QStringLiteral("stop %1").arg(node.index);
                stop(node, m_random.bounded(2) == 0);
                ++m_figures.stops;
            } else if (!node.running()) {
                trail << QStringLiteral("start %1").arg(node.index);
                start(node);
            }
        } else if (kind < 70) {
            trail << QStringLiteral("snapshot");
            QCOMPARE(m_redis->cli({QStringLiteral("SAVE")}), QByteArray("OK"));
            m_snapshot = snapshots.filePath(QStringLiteral("snap-%1.rdb").arg(op));
            QVERIFY(QFile::copy(QDir(m_redis->dir()).filePath(QStringLiteral("dump.rdb")), m_snapshot));
            ++m_figures.snapshots;
        } else if (kind < 90) {
            if (m_snapshot.isEmpty())
                continue;
            // Restored while the nodes run, or while all are away (stopped or killed): then
            // they come back one by one, the first publishing before the others load — the
            // order in which only a node's remembered mark can tell.
            const bool away = kind >= 80;
            trail << (away ? QStringLiteral("restore while away") : QStringLiteral("restore"));
            std::vector<Node *> order;
            if (away) {
                for (auto &n : m_nodes) {
                    if (n->running()) {
                        stop(*n, m_random.bounded(2) == 0);
                        order.push_back(n.get());
                    }
                }
            }
            m_redis->kill();
            const QString dump = QDir(m_redis->dir()).filePath(QStringLiteral("dump.rdb"));
            QFile::remove(dump);
            QVERIFY(QFile::copy(m_snapshot, dump));
            QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString()));
            ++m_figures.restores;
            for (size_t i = 0; i < order.size(); ++i) {
                const size_t j = i + size_t(m_random.bounded(int(order.size() - i)));
                std::swap(order[i], order[j]);
                start(*order[i]);
                QDeadlineTimer up(20000);
                while (!up.hasExpired() && !order[i]->broker->isUp())
                    QTest::qWait(10);
                publish(1 + m_random.bounded(5));
            }
        } else {
            const int c = m_random.bounded(10) < 7 ? 2 : m_random.bounded(2);
            trail << QStringLiteral("del stream %1").arg(c);
            const QByteArray key = "hermes:stream:" + Channel::all()[size_t(c)].nameBytes();
            m_redis->cli({QStringLiteral("DEL"), QString::fromUtf8(key)});
            ++m_figures.deletions;
        }
        // Now and then a stopped node comes back, so every node's knowledge is used.
        for (auto &n : m_nodes) {
            if (!n->running() && m_random.bounded(4) == 0) {
                trail << QStringLiteral("start %1").arg(n->index);
                start(*n);
            }
        }
        QTest::qWait(50); // a lost connection is noticed
        if (!settle(30000)) {
            QString state;
            for (auto &n : m_nodes)
                state += QStringLiteral(" [node %1 running %2 up %3 epoch %4 delivered %5]").arg(n->index)
                             .arg(n->running()).arg(n->running() && n->broker->isUp()).arg(n->epoch)
                             .arg(QString::fromUtf8(n->delivered.toByteArray()));
            QFAIL(qPrintable(QStringLiteral("seed %1: no settled state after: %2;%3")
                                 .arg(seed).arg(trail.join(QStringLiteral(", ")), state)));
        }
        QString why;
        if (!check(&why)) {
            QFAIL(qPrintable(QStringLiteral("seed %1 (HERMES_TEST_SEED=%1): %2 after: %3")
                                 .arg(seed).arg(why, trail.join(QStringLiteral(", ")))));
        }
    }
    for (auto &n : m_nodes)
        stop(*n, false);
    m_redis.reset();
}

void tst_RedisContinuityModel::gapFillPagesThroughALongGap()
{
    // The deployment keeps 100 per stream (this node came first), so a gap fill reads pages of
    // 1,200; a node of another version with 10,000 wrote 1,500 events while this one was cut
    // off, and one stray entry that is no event sits at the end of the first page. All 1,500
    // arrive, in order, without a resync.
    m_redis = std::make_unique<RedisProcess>();
    QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString()));
    Node node;
    node.streamLength = 100;
    start(node);
    QTRY_VERIFY_WITH_TIMEOUT(node.broker->isUp(), 10000);
    QList<EventId> received;
    connect(node.broker.get(), &Broker::eventReceived, this, [&received](const Event &e) { received.append(e.id); });
    const RedisKeyspace keys(QStringLiteral("hermes:"));
    RespClient redis;
    QVERIFY(redis.connectTo(m_redis->port()));
    // Blocking calls only from here: the node's event loop does not run, so it cannot
    // reconnect before all of them are in.
    QVERIFY(!RespClient::isError(redis.command({"CLIENT", "KILL", "TYPE", "pubsub"})));
    QList<EventId> published;
    for (int i = 0; i < 1500; ++i) {
        if (i == 1199) {
            // The first page's last entry is no event (another writer's): the fill must still
            // read on past it, not take the page for the end of the gap.
            const QByteArray stray = redis.command({"XADD", keys.stream(Channel::Downloads), "*", "x", "y"}).toByteArray();
            QVERIFY(!stray.isEmpty());
            QVERIFY(!RespClient::isError(redis.command({"SET", keys.sequence(), stray})));
        }
        Event e;
        e.channel = Channel::Downloads;
        e.type = QStringLiteral("t");
        e.data = QJsonObject{{QStringLiteral("n"), i}};
        e.timestamp = Event::currentTimestamp();
        const RedisScripts::Publish call{
            .stream = keys.stream(e.channel), .sequence = keys.sequence(), .epoch = keys.epoch(),
            .trimmed = keys.trimmed(e.channel), .streams = keys.streams(), .heads = keys.heads(),
            // A writer of its own length, which reads no stored one (the scripts would trim to
            // this node's 100): the gap is longer than this node's page, never trimmed.
            .config = "no-stored-length",
            .maxLength = 10000, .envelope = e.envelopeJson(), .channel = e.channel.nameBytes(),
            .candidateEpoch = "x", .eventsChannel = keys.eventsChannel(),
        };
        const auto id = EventId::parse(redis.command(call.command()).toByteArray());
        QVERIFY(id);
        published.append(*id);
    }
    const int loads = node.historyLoads;
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), 1500, 20000);
    QCOMPARE(received, published);
    QCOMPARE(node.historyLoads, loads); // no reload: nothing was missed
    QVERIFY(node.broker->reconnects() >= 1);
    node.broker.reset();
    m_redis.reset();
}

void tst_RedisContinuityModel::restoredAgainAndAgainFromOneSnapshot()
{
    // Seeds 878827593 and 1944477863 of the randomized run: Redis restored from one snapshot
    // more often than a mark keeps epochs (RedisMark::KeptEpochs). Each restore brings back the
    // snapshot's epoch X; node 0 finds it damaged each time and begins another epoch, while
    // node 1 is away and only ever loads the new epochs. Then node 1 alone reaches the restored
    // Redis: it must still know what it delivered in X, or it serves X's replays without the
    // events lost after the snapshot.
    m_redis = std::make_unique<RedisProcess>();
    QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString()));
    m_acked.clear();
    m_nodes.clear();
    for (int i = 0; i < 2; ++i) {
        m_nodes.push_back(std::make_unique<Node>());
        m_nodes.back()->index = i;
        start(*m_nodes.back());
    }
    Node &knows = *m_nodes[0];
    Node &away = *m_nodes[1];
    QVERIFY(settle(20000));
    publish(3);
    QTemporaryDir snapshots;
    const QString snapshot = snapshots.filePath(QStringLiteral("snap.rdb"));
    const QString dump = QDir(m_redis->dir()).filePath(QStringLiteral("dump.rdb"));
    QCOMPARE(m_redis->cli({QStringLiteral("SAVE")}), QByteArray("OK"));
    QVERIFY(QFile::copy(dump, snapshot));
    publish(3); // lost at every restore
    QVERIFY(settle(20000));
    const quint32 x = knows.epoch;
    QCOMPARE(away.epoch, x);
    const auto restore = [&] {
        m_redis->kill();
        QFile::remove(dump);
        QVERIFY(QFile::copy(snapshot, dump));
        QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString()));
    };
    for (int round = 0; round <= RedisMark::KeptEpochs; ++round) {
        const quint32 before = knows.epoch;
        const int loads = knows.historyLoads;
        stop(away, false);
        restore();
        QTRY_VERIFY_WITH_TIMEOUT(knows.ready && knows.broker->isUp() && knows.historyLoads > loads
                                     && knows.epoch != x && knows.epoch != before, 20000);
        start(away);
        QVERIFY(settle(20000));
        QCOMPARE(away.epoch, knows.epoch);
    }
    stop(knows, false);
    stop(away, false);
    restore();
    start(away);
    QTRY_VERIFY_WITH_TIMEOUT(away.ready && away.broker->isUp(), 20000);
    QTest::qWait(100); // a reload notice on its way
    QVERIFY2(away.epoch != x, "node 1 took the restored epoch for whole: the events after the snapshot are silently missing");
    QString why;
    QVERIFY2(check(&why), qPrintable(why));
    stop(away, false);
    m_nodes.clear();
    m_redis.reset();
}

void tst_RedisContinuityModel::randomizedHistoryIsWholeOrResync()
{
    // A fixed first seed unless asked, so CI runs the same operations every time.
    // HERMES_TEST_SEED=random explores; HERMES_TEST_SEED=N replays N. Seeds 878827593 and
    // 1944477863 failed about one run in five before the origin of a replaced epoch was kept
    // fresh on every node (restoredAgainAndAgainFromOneSnapshot).
    const QByteArray asked = qgetenv("HERMES_TEST_SEED");
    const quint32 first = asked == "random" ? QRandomGenerator::global()->generate()
        : !asked.isEmpty()                  ? asked.toUInt()
                                            : 2268202685u;
    const int runs = qEnvironmentVariableIsSet("HERMES_TEST_MODEL_RUNS")
        ? qEnvironmentVariableIntValue("HERMES_TEST_MODEL_RUNS") : 2;
    for (int run = 0; run < runs; ++run) {
        const quint32 seed = first + quint32(run);
        qInfo() << "seed" << seed;
        runOnce(seed);
        if (QTest::currentTestFailed())
            return;
    }
    const Figures &f = m_figures;
    qInfo().noquote() << QStringLiteral(
        "%1 runs, %2 ops: %3 events acknowledged, %4 restarts, %5 kills, %6 stops, %7 snapshots, "
        "%8 restores, %9 stream deletions; %10 checks: %11 whole replays, resyncs: %12 other epoch, "
        "%13 ahead of the node, %14 below a floor, %15 unknown id")
        .arg(runs).arg(f.ops).arg(f.published).arg(f.restarts).arg(f.kills).arg(f.stops)
        .arg(f.snapshots).arg(f.restores).arg(f.deletions).arg(f.checks).arg(f.replays)
        .arg(f.resyncEpoch).arg(f.resyncAhead).arg(f.resyncFloor).arg(f.resyncUnknown);
}

QTEST_MAIN(tst_RedisContinuityModel)
#include "tst_rediscontinuitymodel.moc"
