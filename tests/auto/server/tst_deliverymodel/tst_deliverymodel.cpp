// The randomized model test of "every event once, in order" (see README, "Delivery model
// test"): real hermes-server nodes on a real Redis, and one node on the embedded broker,
// driven by a seeded stream of publishes, clients, cuts, slow readers and kills; every client's
// record is checked against the deployment's log.
//
// Bounded by default (HERMES_MODEL_OPS operations per configuration, 300). A soak:
//   HERMES_MODEL_SECONDS=600 tst_deliverymodel model:redis
// HERMES_MODEL_SEED fixes the seed (printed in every summary and failure);
// HERMES_MODEL_FAULTS=clients leaves out node and Redis kills (to tell causes apart);
// HERMES_MODEL_LOG=<file> keeps the whole operation log; HERMES_MODEL_CHANNELS=system (a
// comma-separated subset of downloads, queue, system) publishes on those channels only.
// model:journal and model:redis-gray add gray faults (nemesis.h); HERMES_MODEL_NEMESES=a,b draws
// only those (names as the summary spells them).

#include "cuttingproxy.h"
#include "deliverychecker.h"
#include "modelrun.h"
#include "nemesis.h"
#include "serverprocess.h"

#include <QRandomGenerator>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

using namespace Model;

Q_DECLARE_METATYPE(Model::ModelConfig)

class tst_DeliveryModel : public QObject
{
    Q_OBJECT
public:
    tst_DeliveryModel()
    {
        // A soak outlasts QtTest's 5-minute watchdog: give it the soak's length and a margin
        // per row (the watchdog reads this when the first test function starts).
        const int seconds = qEnvironmentVariableIntValue("HERMES_MODEL_SECONDS");
        if (seconds > 0 && !qEnvironmentVariableIsSet("QTEST_FUNCTION_TIMEOUT"))
            qputenv("QTEST_FUNCTION_TIMEOUT", QByteArray::number((qint64(seconds) + 600) * 3 * 1000));
    }

private slots:
    void initTestCase();
    void proxyCutsAtTheExactByte_data();
    void proxyCutsAtTheExactByte();
    void checkerFindsEveryFault_data();
    void checkerFindsEveryFault();
    void logHoldsAReadoptedEventOncePerTimeline();
    void model_data();
    void model();

private:
    QString m_ioBackendRefused; ///< why the I/O variant cannot run here (see initTestCase())
};

void tst_DeliveryModel::initTestCase()
{
    // The I/O variants (tests/CMakeLists.txt) check that every node sends through the backend
    // asked for (ServerProcess::start(), which ModelRun starts its nodes with); where the
    // kernel refuses io_uring, the model skips instead of passing on epoll. The tests without
    // a server run anyway.
    QString error;
    m_ioBackendRefused = Hermes::Test::ServerProcess::skipUnlessIoBackendRuns(&error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
}

// The fault injector: a cut leaves the client with exactly the bytes asked for (throttled or
// not), and a throttled connection still delivers everything (it must never stall for good).
void tst_DeliveryModel::proxyCutsAtTheExactByte_data()
{
    QTest::addColumn<qint64>("rate");
    QTest::addColumn<qint64>("cutAfter");
    QTest::newRow("unthrottled, whole") << qint64(0) << qint64(-1);
    QTest::newRow("unthrottled, cut at 0") << qint64(0) << qint64(0);
    QTest::newRow("unthrottled, cut at 1") << qint64(0) << qint64(1);
    QTest::newRow("unthrottled, cut at 70001") << qint64(0) << qint64(70001);
    QTest::newRow("throttled, whole") << qint64(200000) << qint64(-1);
    QTest::newRow("throttled, cut at 33333") << qint64(200000) << qint64(33333);
}

void tst_DeliveryModel::proxyCutsAtTheExactByte()
{
    QFETCH(qint64, rate);
    QFETCH(qint64, cutAfter);
    QByteArray payload(100000, Qt::Uninitialized);
    for (qsizetype i = 0; i < payload.size(); ++i)
        payload[i] = char('a' + i % 26);
    QTcpServer upstream;
    QVERIFY(upstream.listen(QHostAddress::LocalHost, 0));
    QByteArray request;
    connect(&upstream, &QTcpServer::newConnection, this, [&] {
        QTcpSocket *s = upstream.nextPendingConnection();
        connect(s, &QTcpSocket::readyRead, s, [&, s] {
            request += s->readAll();
            if (request == "hello") {
                s->write(payload);
                s->disconnectFromHost();
            }
        });
    });
    Hermes::Test::CuttingProxy proxy;
    QVERIFY(proxy.listen(upstream.serverPort()));
    proxy.setRate(rate);
    if (cutAfter >= 0)
        proxy.cutAfter(cutAfter); // before the connection: it applies to the next one
    QTcpSocket client;
    QByteArray received;
    bool closed = false;
    connect(&client, &QTcpSocket::readyRead, this, [&] { received += client.readAll(); });
    connect(&client, &QTcpSocket::disconnected, this, [&] { received += client.readAll(); closed = true; });
    client.connectToHost(QHostAddress::LocalHost, proxy.port());
    QVERIFY(client.waitForConnected(5000));
    client.write("hello");
    QTRY_VERIFY_WITH_TIMEOUT(closed, 10000);
    const QByteArray expected = cutAfter >= 0 ? payload.left(cutAfter) : payload;
    QCOMPARE(received.size(), expected.size());
    QCOMPARE(received, expected);
    if (cutAfter != 0) // cut at 0: the connection ends as it is accepted
        QCOMPARE(request, QByteArray("hello"));
}

// The checker itself, on a synthetic log: it must pass a faithful record and name every kind
// of fault, or the model test could pass a broken server.
void tst_DeliveryModel::checkerFindsEveryFault_data()
{
    QTest::addColumn<QString>("record");
    QTest::addColumn<int>("lost");
    QTest::addColumn<int>("duplicated");
    QTest::addColumn<int>("reordered");
    QTest::addColumn<int>("other");
    QTest::addColumn<bool>("caughtUp");
    // Log positions 0-11 on downloads, queue, system in turn; the client wants downloads and
    // queue: positions 0 1 3 4 6 7 9 10. F<n>: a fresh stream when seq n was next;
    // e<p>: the event at p; m<p>: p's id with another's content; x: an id the log lacks;
    // R<p>: resync_required with p's id; U<p>: one the judge rejects; S<p>: the first
    // connection resumes from p's id; n<p>: p's event under an id the log does not know;
    // Y<p>: resync_required into a new epoch (Redis restored), with p's position; r<p>: p's
    // event renamed by that epoch (its position under the new epoch). Only the event at
    // position 4 counts as destroyed by a nemesis (the gap judge's).
    QTest::newRow("faithful") << "F0 e0 e1 e3 e4 e6 e7 e9 e10" << 0 << 0 << 0 << 0 << true;
    QTest::newRow("gap") << "F0 e0 e1 e4 e6 e7 e9 e10" << 1 << 0 << 0 << 0 << true;
    QTest::newRow("duplicate") << "F0 e0 e1 e3 e3 e4 e6 e7 e9 e10" << 0 << 1 << 0 << 0 << true;
    QTest::newRow("swap") << "F0 e0 e3 e1 e4 e6 e7 e9 e10" << 1 << 0 << 1 << 0 << true;
    QTest::newRow("late start") << "F3 e4 e6 e7 e9 e10" << 1 << 0 << 0 << 0 << true;
    QTest::newRow("early start") << "F3 e1 e3 e4 e6 e7 e9 e10" << 0 << 0 << 0 << 0 << true;
    QTest::newRow("behind at the end") << "F0 e0 e1 e3 e4 e6" << 3 << 0 << 0 << 0 << false;
    QTest::newRow("nothing at all") << "F0" << 8 << 0 << 0 << 0 << false;
    QTest::newRow("nothing due") << "F12" << 0 << 0 << 0 << 0 << true;
    QTest::newRow("resync") << "F0 e0 e1 R4 e6 e7 e9 e10" << 0 << 0 << 0 << 0 << true;
    QTest::newRow("gap after resync") << "F0 e0 e1 R4 e7 e9 e10" << 1 << 0 << 0 << 0 << true;
    QTest::newRow("before the resync") << "F0 e0 e1 R4 e4 e6 e7 e9 e10" << 0 << 0 << 1 << 0 << true;
    QTest::newRow("unknown id") << "F0 e0 x e1 e3 e4 e6 e7 e9 e10" << 0 << 0 << 0 << 1 << true;
    QTest::newRow("wrong content") << "F0 e0 m1 e3 e4 e6 e7 e9 e10" << 1 << 0 << 0 << 1 << true;
    QTest::newRow("outside the filter") << "F0 e0 e1 e2 e3 e4 e6 e7 e9 e10" << 0 << 0 << 0 << 1 << true;
    QTest::newRow("uncalled-for resync") << "F0 e0 e1 U4 e6 e7 e9 e10" << 0 << 0 << 0 << 1 << true;
    QTest::newRow("resume") << "S3 e4 e6 e7 e9 e10" << 0 << 0 << 0 << 0 << true;
    QTest::newRow("resume, gap at once") << "S3 e6 e7 e9 e10" << 1 << 0 << 0 << 0 << true;
    QTest::newRow("destroyed, then resync") << "F0 e0 e1 e3 e6 R7 e9 e10" << 0 << 0 << 0 << 0 << true;
    QTest::newRow("destroyed, no resync") << "F0 e0 e1 e3 e6 e7 e9 e10" << 1 << 0 << 0 << 0 << true;
    QTest::newRow("more than destroyed") << "F0 e0 e1 e3 e7 R7 e9 e10" << 2 << 0 << 0 << 0 << true;
    QTest::newRow("renamed") << "F0 e0 e1 e3 n3 e4 e6 e7 e9 e10" << 0 << 1 << 0 << 0 << true;
    // A node that was away from Redis while the others delivered 3 and 4 gets the restored
    // history, in which they are renamed: its stream, at 1, goes on with them after the resync.
    QTest::newRow("renamed after the resync into its epoch") << "F0 e0 e1 Y1 r3 r4 e6 e7 e9 e10" << 0 << 0 << 0 << 0 << true;
    // Once the resync came, what came before may come again (as under the log's own ids).
    QTest::newRow("renamed, it had it before the resync") << "F0 e0 e1 e3 Y3 r3 e4 e6 e7 e9 e10" << 0 << 0 << 0 << 0 << true;
    QTest::newRow("renamed, twice") << "F0 e0 e1 Y1 r3 r3 r4 e6 e7 e9 e10" << 0 << 1 << 0 << 0 << true;
    QTest::newRow("renamed, out of order") << "F0 e0 e1 Y1 r4 r3 e6 e7 e9 e10" << 0 << 0 << 1 << 0 << true;
    QTest::newRow("renamed, no resync into its epoch") << "F0 e0 e1 r3 e4 e6 e7 e9 e10" << 1 << 1 << 0 << 0 << true;
    QTest::newRow("renamed, outside the filter") << "F0 e0 e1 Y1 r2 r3 e4 e6 e7 e9 e10" << 0 << 0 << 0 << 1 << true;
}

void tst_DeliveryModel::checkerFindsEveryFault()
{
    QFETCH(QString, record);
    EventLog log;
    for (int p = 0; p < 12; ++p) {
        LogEntry e;
        e.id = QStringLiteral("old-%1-0").arg(1000 + p);
        e.channel = quint8(1 << (p % 3));
        e.type = typesOf(e.channel).first();
        e.seq = p;
        e.data = {{QStringLiteral("seq"), p}};
        log.append(e);
    }
    QList<ModelClient::Item> items;
    QList<ModelClient::Connection> connections{ModelClient::Connection()};
    for (const QString &token : record.split(u' ')) {
        if (token.startsWith(u'S')) {
            connections.first().sentId = log.entries().at(token.mid(1).toInt()).id;
            continue;
        }
        ModelClient::Item item;
        item.connection = 0;
        const int p = token.mid(1).toInt();
        const LogEntry &e = log.entries().at(qMin(p, 11));
        switch (token.at(0).unicode()) {
        case 'F':
            item.kind = ModelClient::Item::Fresh;
            item.seqBound = p;
            break;
        case 'Y':
            item.kind = ModelClient::Item::Resync;
            item.id = QStringLiteral("new-%1-0").arg(1000 + p);
            break;
        case 'r':
            item.id = QStringLiteral("new-%1-0").arg(1000 + p);
            item.type = e.type;
            item.data = e.data;
            break;
        case 'R':
        case 'U':
            item.kind = ModelClient::Item::Resync;
            item.id = e.id;
            item.data = {{QStringLiteral("unjustified"), token.at(0) == u'U'}};
            break;
        case 'x':
            item.id = QStringLiteral("id-unknown");
            item.type = e.type;
            break;
        case 'n':
            item.id = QStringLiteral("renamed-") + e.id;
            item.type = e.type;
            item.data = e.data;
            break;
        default:
            item.id = e.id;
            item.type = e.type;
            item.data = token.at(0) == u'm' ? log.entries().at(p + 2).data : e.data;
        }
        items.append(item);
    }
    Filter filter;
    filter.channels = Downloads | Queue;
    const ResyncJudge judge = [](const ModelClient::Item &item, const ModelClient::Connection &,
                                 const Filter &) {
        return item.data.value(QStringLiteral("unjustified")).toBool() ? QStringLiteral("no") : QString();
    };
    const GapJudge gapJudge = [](const QList<int> &missing, const ModelClient::Item &, qint64 nextResyncMs) {
        return nextResyncMs >= 0 && missing == QList<int>{4};
    };
    const ClientVerdict v = checkClient(log, filter, items, connections, judge, true, gapJudge);
    QVERIFY(log.problems().isEmpty());
    QFETCH(int, lost);
    QFETCH(int, duplicated);
    QFETCH(int, reordered);
    QFETCH(int, other);
    QFETCH(bool, caughtUp);
    const QString problems = v.problems.join(u'\n');
    QVERIFY2(v.lost == lost, qPrintable(problems));
    QVERIFY2(v.duplicated == duplicated, qPrintable(problems));
    QVERIFY2(v.reordered == reordered, qPrintable(problems));
    QVERIFY2(v.other == other, qPrintable(problems));
    QVERIFY2(v.caughtUp == caughtUp, qPrintable(problems));
    QCOMPARE(v.clean(), !lost && !duplicated && !reordered && !other && caughtUp);
    if (!v.clean())
        QVERIFY(!v.problems.isEmpty());
}

// An outside event a Redis restore destroyed and a node adopted again after it is in the log
// once per timeline, when the run says so; any other repeat is a problem of the log.
void tst_DeliveryModel::logHoldsAReadoptedEventOncePerTimeline()
{
    const auto entry = [](const QString &id, qint64 seq) {
        LogEntry e;
        e.id = id;
        e.channel = System;
        e.type = typesOf(System).first();
        e.seq = seq;
        e.data = {{QStringLiteral("seq"), seq}};
        return e;
    };
    EventLog log;
    log.append(entry(QStringLiteral("old-1000-0"), 0));
    log.append(entry(QStringLiteral("old-1001-0"), 1));
    QString asked;
    log.append(entry(QStringLiteral("new-1005-0"), 1), [&](const LogEntry &earlier) {
        asked = earlier.id;
        return true;
    });
    QCOMPARE(asked, QStringLiteral("old-1001-0"));
    QVERIFY2(log.problems().isEmpty(), qPrintable(log.problems().join(u'\n')));
    QCOMPARE(log.repeats(), 1);
    QCOMPARE(log.positionOfSeq(1), 2); // the seq stands for what Redis holds now
    QCOMPARE(log.positionOf(QStringLiteral("old-1001-0")), 1);
    log.append(entry(QStringLiteral("new-1006-0"), 0), [](const LogEntry &) { return false; });
    log.append(entry(QStringLiteral("new-1007-0"), 0));
    QCOMPARE(log.problems().size(), 2);
    QCOMPARE(log.positionOfSeq(0), 0);
}

void tst_DeliveryModel::model_data()
{
    QTest::addColumn<ModelConfig>("config");

    ModelConfig redis;
    redis.name = QStringLiteral("redis");
    redis.redis = true;
    redis.nodes = 3;
    redis.connectionTimeoutSec = 5;    // streams rotate too
    redis.maxClientBuffer = 64 * 1024;
    redis.sendTimeoutSec = 2;          // stalled readers are dropped and resume
    redis.maxClients = 12;
    QTest::newRow("redis") << redis;

    // A history far smaller than the run: clients that were away too long must get
    // resync_required, never a gap. The log comes from a big-history node started at the end
    // (and from the Redis streams, which keep everything).
    ModelConfig small = redis;
    small.name = QStringLiteral("redis-small-history");
    small.nodes = 2;
    small.historySize = 25;
    small.archiveNode = true;
    small.connectionTimeoutSec = 0;
    small.maxClientBuffer = 1 << 20;
    small.maxClients = 10;
    QTest::newRow("redis-small-history") << small;

    ModelConfig embedded;
    embedded.name = QStringLiteral("embedded");
    embedded.nodes = 1;
    embedded.connectionTimeoutSec = 4;
    embedded.maxClientBuffer = 16 * 1024;
    embedded.sendTimeoutSec = 2;
    embedded.maxClients = 10;
    embedded.faultGraceMs = 5000;
    QTest::newRow("embedded") << embedded;

    // One node on the embedded broker whose journal is damaged between runs (a middle segment
    // removed, a segment cut at a record boundary, a bit flipped) or runs out of space (its
    // own tmpfs), and which is paused past its timeouts. A small history: many segments.
    ModelConfig journal = embedded;
    journal.name = QStringLiteral("journal");
    journal.historySize = 200;
    journal.journalTmpfs = true;
    journal.snapshotEvery = 80;
    journal.nemeses[Nemesis::SegmentRemoved] = 5;
    journal.nemeses[Nemesis::SegmentTruncated] = 5;
    journal.nemeses[Nemesis::BitFlip] = 5;
    journal.nemeses[Nemesis::DiskFull] = 6;
    journal.nemeses[Nemesis::SigStop] = 6;
    QTest::newRow("journal") << journal;

    // Nodes on one Redis that lies: restored from an older snapshot, a stream key gone, out of
    // memory while outside publishers go on; nodes restarted with another stream length; and
    // nodes paused past their timeouts.
    ModelConfig gray = redis;
    gray.name = QStringLiteral("redis-gray");
    gray.nodes = 3;
    // Long enough that Redis kills, an OOM and a pause together do not outlast it: past it a
    // node rightly records a loss, across which the log's own replay cannot go.
    gray.adoptRetryLimitSec = 20;
    gray.restartStreamLengths = {100, 10000};
    gray.nemeses[Nemesis::RedisRestore] = 7;
    gray.nemeses[Nemesis::StreamDeleted] = 4;
    gray.nemeses[Nemesis::RedisOom] = 5;
    gray.nemeses[Nemesis::StreamLength] = 5;
    gray.nemeses[Nemesis::SigStop] = 6;
    QTest::newRow("redis-gray") << gray;
}

void tst_DeliveryModel::model()
{
    if (!m_ioBackendRefused.isEmpty())
        QSKIP(qPrintable(m_ioBackendRefused));
    QFETCH(ModelConfig, config);
    RunLimits limits;
    bool ok = false;
    const qint64 seconds = qEnvironmentVariableIntValue("HERMES_MODEL_SECONDS", &ok);
    if (ok && seconds > 0) {
        limits.seconds = seconds;
        limits.ops = 0;
    }
    const qint64 ops = qEnvironmentVariable("HERMES_MODEL_OPS").toLongLong(&ok);
    if (ok && ops > 0)
        limits.ops = ops;
    limits.processFaults = qEnvironmentVariable("HERMES_MODEL_FAULTS") != u"clients";
    limits.opLogFile = qEnvironmentVariable("HERMES_MODEL_LOG");
    const QString channels = qEnvironmentVariable("HERMES_MODEL_CHANNELS");
    if (!channels.isEmpty()) {
        ClientSpec spec;
        spec.channelNames = channels.split(u',');
        limits.channels = spec.filter().channels;
        QVERIFY2(limits.channels, "HERMES_MODEL_CHANNELS: downloads, queue, system");
    }
    // redis-gray is a gate in the plain configuration (ctest's tst_deliverymodel), the Redis
    // restore included, since two 10-minute soaks with every gray nemesis passed (seed
    // 1093513717382145197 on the judge branch, 18051098379313803668 on main after the merges:
    // 0 lost, duplicated or reordered; every resync excused or due). Its faults are Redis' and the nodes' processes, not how streams
    // send: the I/O-backend variants leave it out (each costs the suite about 30 s).
    if (config.name == u"redis-gray" && !qEnvironmentVariableIsEmpty("HERMES_TEST_IO_BACKEND")
        && qEnvironmentVariableIsEmpty("HERMES_MODEL_NEMESES") && qEnvironmentVariableIsEmpty("HERMES_MODEL_GRAY"))
        QSKIP("model:redis-gray runs in the plain configuration (or with HERMES_MODEL_GRAY=1)");
    for (const QString &name : qEnvironmentVariable("HERMES_MODEL_NEMESES").split(u',', Qt::SkipEmptyParts)) {
        const Nemesis kind = nemesisFromName(name.trimmed());
        QVERIFY2(kind != Nemesis::Count, qPrintable(QStringLiteral("HERMES_MODEL_NEMESES: no nemesis %1").arg(name)));
        limits.onlyNemeses.insert(int(kind));
    }
    limits.seed = qEnvironmentVariable("HERMES_MODEL_SEED").toULongLong(&ok);
    if (!ok)
        limits.seed = QRandomGenerator::global()->generate64();

    ModelRun run(config, limits);
    const bool passed = run.run();
    // The summary line is printed in every case; on failure the report has the details.
    fprintf(stderr, "%s\n", qPrintable(run.summary()));
    if (!passed)
        QFAIL(qPrintable(run.report()));
}

QTEST_GUILESS_MAIN(tst_DeliveryModel)
#include "tst_deliverymodel.moc"
