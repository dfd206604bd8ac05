// Several real hermes-server nodes sharing one real PostgreSQL 15, one real Redis and one
// download dir, against the local file server: every download runs exactly once, a node's
// death hands its downloads to another, control works through any node, a database out of
// reach never lets a download run twice, and migrations are safe when nodes start together.
// Lease 3 s, renewal 1 s (the option table's values for tests; production: 15 s / 5 s).

#include "fileserver.h"
#include "postgresprocess.h"
#include "redisprocess.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "tcpproxy.h"
#include "testutil.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <memory>

using namespace Hermes;
using namespace Hermes::Test;

static const QByteArray Auth = QByteArray("Bearer ") + ServerProcess::ApiKey;
// Short leases keep the suite fast; HERMES_TEST_LEASE_MS / HERMES_TEST_RENEW_MS measure the
// takeover with others (e.g. the defaults, 15000 / 5000).
static const int LeaseMs = qEnvironmentVariableIntValue("HERMES_TEST_LEASE_MS") > 0
    ? qEnvironmentVariableIntValue("HERMES_TEST_LEASE_MS") : 3000;
static const int RenewMs = qEnvironmentVariableIntValue("HERMES_TEST_RENEW_MS") > 0
    ? qEnvironmentVariableIntValue("HERMES_TEST_RENEW_MS") : 1000;

static QJsonObject json(const QByteArray &body)
{
    return QJsonDocument::fromJson(body).object();
}

static QString sha256(const QByteArray &bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

static double percentile(QList<double> values, double p)
{
    std::sort(values.begin(), values.end());
    return values.isEmpty() ? 0 : values.at(qMin(values.size() - 1, qsizetype(p * values.size())));
}

class tst_Cluster : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();
    void nodesStartingTogetherMigrateOnce();
    void roundRobinDownloadsCompleteExactlyOnce();
    void sigkilledNodesDownloadsFinishElsewhere();
    void controlThroughANodeThatDoesNotRunIt();
    void databaseOutOfReachNeverStartsASecondCopy();
    void databaseBackBeforeATakeoverRunsItAgain();

private:
    QProcessEnvironment nodeEnv(int index, quint16 databasePort = 0, const QStringList &extra = {});
    bool startNodes(int count, const QStringList &extra = {});
    HttpReply api(int node, const QByteArray &method, const QByteArray &path, const QByteArray &body = {});
    QJsonObject get(int node, const QString &id);
    QString add(int node, const QByteArray &path, const QString &sha = {});
    /// Starts node 0 reaching PostgreSQL through `proxy`, serves `content` at `path` (256 KB/s,
    /// a strong ETag) and adds it through node 0; returns its id once node 0 runs it, or an
    /// empty id when it did not start.
    QString runBehindProxy(const TcpProxy &proxy, const QByteArray &path, const QByteArray &content);
    bool waitStatus(int node, const QString &id, const QString &status, int timeoutMs = 30000);
    /// A live node whose log says it ran `id` (the highest-numbered if several did), or -1.
    int runnerOf(const QString &id, int after = -1) const;
    int startsOn(int node, const QString &id) const;
    QString sharedFile(const QString &name) const { return QDir(m_downloads->path()).filePath(name); }
    /// Bytes in the part files of `id`, every lease generation's (each claim writes its own).
    qint64 partBytes(const QString &id) const
    {
        qint64 total = 0;
        for (const QFileInfo &f : QDir(m_downloads->path()).entryInfoList({id + QStringLiteral(".*part")}, QDir::Files))
            total += f.size();
        return total;
    }

    PostgresProcess m_postgres;
    RedisProcess m_redis;
    QString m_database;
    QString m_passwordFile;
    std::unique_ptr<QTemporaryDir> m_downloads;
    std::unique_ptr<FileServer> m_files;
    QList<std::shared_ptr<ServerProcess>> m_nodes;
};

void tst_Cluster::initTestCase()
{
    QVERIFY2(m_postgres.start(), qPrintable(m_postgres.errorString()));
    QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
}

void tst_Cluster::init()
{
    m_database = m_postgres.createDatabase();
    QVERIFY(!m_database.isEmpty());
    m_downloads = std::make_unique<QTemporaryDir>();
    m_files = std::make_unique<FileServer>();
    m_passwordFile = m_downloads->filePath(QStringLiteral("../") + QFileInfo(m_downloads->path()).fileName() + QStringLiteral(".pw"));
    QFile pw(m_passwordFile);
    QVERIFY(pw.open(QIODevice::WriteOnly));
    pw.write(QByteArray(PostgresProcess::Password) + '\n');
}

void tst_Cluster::cleanup()
{
    m_nodes.clear();
    m_files.reset();
    m_downloads.reset();
    QFile::remove(m_passwordFile);
}

QProcessEnvironment tst_Cluster::nodeEnv(int index, quint16 databasePort, const QStringList &extra)
{
    QProcessEnvironment env;
    // The three ways to give the password: in the URL, in a file, in libpq's PGPASSWORD.
    switch (index % 3) {
    case 0:
        env.insert(QStringLiteral("HERMES_DATABASE_URL"), m_postgres.url(m_database, true, databasePort));
        break;
    case 1:
        env.insert(QStringLiteral("HERMES_DATABASE_URL"), m_postgres.url(m_database, false, databasePort));
        env.insert(QStringLiteral("HERMES_DATABASE_PASSWORD_FILE"), m_passwordFile);
        break;
    default:
        env.insert(QStringLiteral("HERMES_DATABASE_URL"), m_postgres.url(m_database, false, databasePort));
        env.insert(QStringLiteral("PGPASSWORD"), QString::fromLatin1(PostgresProcess::Password));
        break;
    }
    env.insert(QStringLiteral("HERMES_REDIS_URL"), m_redis.url());
    env.insert(QStringLiteral("HERMES_TOKEN_SECRET"), QStringLiteral("cluster-test-secret"));
    env.insert(QStringLiteral("HERMES_DOWNLOAD_DIR"), m_downloads->path());
    env.insert(QStringLiteral("HERMES_DOWNLOAD_LEASE"), QString::number(LeaseMs));
    env.insert(QStringLiteral("HERMES_DOWNLOAD_LEASE_RENEW"), QString::number(RenewMs));
    env.insert(QStringLiteral("HERMES_DOWNLOAD_RETRY_DELAY"), QStringLiteral("50"));
    env.insert(QStringLiteral("HERMES_DISK_WARNING_MB"), QStringLiteral("0"));
    for (const QString &kv : extra)
        env.insert(kv.section(u'=', 0, 0), kv.section(u'=', 1));
    return env;
}

bool tst_Cluster::startNodes(int count, const QStringList &extra)
{
    for (int i = 0; i < count; ++i) {
        auto node = std::make_shared<ServerProcess>();
        if (!node->start(nodeEnv(int(m_nodes.size()), 0, extra))) {
            qWarning() << node->errorString();
            return false;
        }
        m_nodes.append(node);
    }
    return true;
}

HttpReply tst_Cluster::api(int node, const QByteArray &method, const QByteArray &path, const QByteArray &body)
{
    return httpRequest(m_nodes.at(node)->port(), method, path,
                       {{"Authorization", Auth}, {"Content-Type", "application/json"}}, body);
}

QJsonObject tst_Cluster::get(int node, const QString &id)
{
    return json(api(node, "GET", "/api/v1/downloads/" + id.toUtf8()).body);
}

QString tst_Cluster::add(int node, const QByteArray &path, const QString &sha)
{
    QJsonObject request{{QStringLiteral("url"), m_files->url(path)}};
    if (!sha.isEmpty())
        request.insert(QStringLiteral("sha256"), sha);
    const HttpReply r = api(node, "POST", "/api/v1/downloads", QJsonDocument(request).toJson(QJsonDocument::Compact));
    if (r.status != 201)
        qWarning() << "add failed" << r.status << r.body;
    return json(r.body).value(QStringLiteral("id")).toString();
}

bool tst_Cluster::waitStatus(int node, const QString &id, const QString &status, int timeoutMs)
{
    return QTest::qWaitFor([&] { return get(node, id).value(QStringLiteral("status")).toString() == status; },
                           timeoutMs);
}

int tst_Cluster::startsOn(int node, const QString &id) const
{
    return int(m_nodes.at(node)->output().count("download " + id.toUtf8() + " : running here"));
}

int tst_Cluster::runnerOf(const QString &id, int after) const
{
    int found = -1;
    for (int i = 0; i < m_nodes.size(); ++i) {
        if (i != after && m_nodes.at(i)->process().state() == QProcess::Running && startsOn(i, id) > 0)
            found = i;
    }
    return found;
}

QString tst_Cluster::runBehindProxy(const TcpProxy &proxy, const QByteArray &path, const QByteArray &content)
{
    auto node = std::make_shared<ServerProcess>();
    if (!node->start(nodeEnv(0, proxy.port()))) {
        qWarning() << node->errorString();
        return {};
    }
    m_nodes.append(node);
    FileServer::File f{content};
    f.bytesPerSecond = 256 * 1024;
    f.etag = '"' + path.mid(1) + '"';
    m_files->addFile(path, f);
    const QString id = add(0, path, sha256(content));
    if (!QTest::qWaitFor([&] { return startsOn(0, id) == 1 && m_files->activeTransfers(path) == 1; }, 20000))
        return {};
    return id;
}

void tst_Cluster::nodesStartingTogetherMigrateOnce()
{
    // Three nodes on an empty database at the same moment: one migrates, the others wait on
    // the advisory lock and find the schema done.
    for (int i = 0; i < 3; ++i) {
        auto node = std::make_shared<ServerProcess>();
        QVERIFY2(node->launch(nodeEnv(i)), qPrintable(node->errorString()));
        m_nodes.append(node);
    }
    for (const auto &node : std::as_const(m_nodes))
        QVERIFY2(node->waitReady(), qPrintable(node->errorString()));
    QCOMPARE(m_postgres.psql(QStringLiteral("SELECT string_agg(version::text, ',') FROM schema_version"), m_database),
             QByteArray("7"));
    // The password never reaches a log.
    for (const auto &node : std::as_const(m_nodes))
        QVERIFY(!node->output().contains(PostgresProcess::Password));
}

void tst_Cluster::roundRobinDownloadsCompleteExactlyOnce()
{
    // Per node 3, over the cluster 5: both limits hold while 30 downloads spread over 3 nodes.
    QVERIFY(startNodes(3, {QStringLiteral("HERMES_MAX_CONCURRENT_DOWNLOADS=3"),
                           QStringLiteral("HERMES_CLUSTER_MAX_DOWNLOADS=5")}));
    SseClient events;
    events.open(m_nodes.at(0)->port(), "/api/v1/events/stream?channels=downloads", {{"Authorization", Auth}});
    QTRY_VERIFY_WITH_TIMEOUT(!events.events().isEmpty(), 10000);

    constexpr int Count = 30;
    QHash<QString, QByteArray> contentOf; // id -> bytes
    QHash<QString, QByteArray> pathOf;
    for (int i = 0; i < Count; ++i) {
        FileServer::File f{FileServer::makeContent(40 * 1024 + i * 3001, quint32(1000 + i))};
        f.bytesPerSecond = 200 * 1024;
        f.etag = "\"v1-" + QByteArray::number(i) + '"';
        const QByteArray path = "/rr/file" + QByteArray::number(i) + ".bin";
        m_files->addFile(path, f);
        const QString id = add(i % 3, path, sha256(f.content)); // round-robin over the nodes
        QVERIFY(!id.isEmpty());
        contentOf.insert(id, f.content);
        pathOf.insert(id, path);
    }
    // Any node answers for any download.
    for (int n = 0; n < 3; ++n)
        QCOMPARE(json(api(n, "GET", "/api/v1/downloads?limit=1000").body).value(QStringLiteral("total")).toInt(), Count);
    int n = 0;
    for (auto it = contentOf.cbegin(); it != contentOf.cend(); ++it, ++n)
        QVERIFY2(waitStatus(n % 3, it.key(), QStringLiteral("completed"), 60000), qPrintable(it.key()));

    QStringList files = QDir(m_downloads->path()).entryList(QDir::Files);
    QCOMPARE(files.size(), Count); // one file each, no part files, no "name (1)" copies
    for (auto it = contentOf.cbegin(); it != contentOf.cend(); ++it) {
        const QJsonObject d = get(0, it.key());
        const QString name = d.value(QStringLiteral("filename")).toString();
        QCOMPARE(name, QString::fromLatin1(pathOf.value(it.key()).mid(4)));
        QFile f(sharedFile(name));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(sha256(f.readAll()), sha256(it.value()));
        QCOMPARE(m_files->requests(pathOf.value(it.key())), 1); // fetched once, by one node
    }
    QVERIFY2(m_files->maxActiveTransfers() <= 5, qPrintable(QString::number(m_files->maxActiveTransfers())));
    int runners = 0;
    for (int i = 0; i < 3; ++i)
        runners += m_nodes.at(i)->output().contains(": running here");
    QVERIFY2(runners >= 2, "the work did not spread over the nodes");
    // Exactly one "completed" event per download, over every node (one Redis bus).
    QTRY_VERIFY_WITH_TIMEOUT([&] {
        int completed = 0;
        for (const auto &e : events.events())
            completed += json(e.data.toUtf8()).value(QStringLiteral("data")).toObject()
                             .value(QStringLiteral("status")).toString() == u"completed";
        return completed >= Count;
    }(), 10000);
    QHash<QString, int> completedEvents;
    for (const auto &e : events.events()) {
        const QJsonObject data = json(e.data.toUtf8()).value(QStringLiteral("data")).toObject();
        if (data.value(QStringLiteral("status")).toString() == u"completed")
            ++completedEvents[data.value(QStringLiteral("download_id")).toString()];
    }
    QCOMPARE(completedEvents.size(), Count);
    for (int c : std::as_const(completedEvents))
        QCOMPARE(c, 1);
}

void tst_Cluster::sigkilledNodesDownloadsFinishElsewhere()
{
    QVERIFY(startNodes(3, {QStringLiteral("HERMES_MAX_CONCURRENT_DOWNLOADS=2")}));
    const QByteArray content = FileServer::makeContent(1536 * 1024, 77);
    QList<QByteArray> paths;
    QStringList ids;
    for (int i = 0; i < 3; ++i) {
        FileServer::File f{content};
        f.bytesPerSecond = 256 * 1024;
        f.etag = "\"kill-" + QByteArray::number(i) + '"';
        const QByteArray path = "/kill/" + QByteArray::number(i) + ".bin";
        m_files->addFile(path, f);
        paths.append(path);
        ids.append(add(i, path, sha256(content)));
    }
    // Kill the node running the first download, once it is well under way.
    QVERIFY(QTest::qWaitFor([&] { return runnerOf(ids[0]) >= 0
                                         && get((runnerOf(ids[0]) + 1) % 3, ids[0])
                                                    .value(QStringLiteral("downloaded_bytes")).toInteger() > 300 * 1024; }, 20000));
    const int victim = runnerOf(ids[0]);
    QStringList victims;
    for (const QString &id : std::as_const(ids)) {
        if (runnerOf(id) == victim && m_files->activeTransfers(paths[ids.indexOf(id)]) > 0)
            victims.append(id);
    }
    const qint64 killedAt = QDateTime::currentMSecsSinceEpoch();
    m_nodes.at(victim)->kill();
    for (const QByteArray &p : std::as_const(paths))
        m_files->file(p).bytesPerSecond = 1024 * 1024;
    const int other = (victim + 1) % 3;
    for (const QString &id : std::as_const(victims)) {
        const QByteArray path = paths[ids.indexOf(id)];
        QVERIFY(QTest::qWaitFor([&] { return m_files->requestTimes(path).last() > killedAt; },
                                LeaseMs + RenewMs + 15000));
        const qint64 takeover = m_files->requestTimes(path).last() - killedAt;
        qInfo("MEASURE takeover after SIGKILL: %lld ms (lease %d ms, renew %d ms)", takeover, LeaseMs, RenewMs);
        // The node's "running here" comes through a pipe, the file server's request through a
        // socket: either may be read first.
        QVERIFY(QTest::qWaitFor([&] { return runnerOf(id, victim) >= 0; }, 10000));
        // Resumed from the shared part file, validated with If-Range.
        QVERIFY(m_files->rangeHeaders(path).last().startsWith("bytes="));
        QCOMPARE(m_files->ifRangeHeaders(path).last(), m_files->file(path).etag);
    }
    for (const QString &id : std::as_const(ids))
        QVERIFY(waitStatus(other, id, QStringLiteral("completed"), 40000)); // sha256 verified by the node
    QStringList files = QDir(m_downloads->path()).entryList(QDir::Files);
    QCOMPARE(files.size(), 3);
    for (const QString &name : std::as_const(files)) {
        QFile f(sharedFile(name));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(sha256(f.readAll()), sha256(content));
    }
    for (const QByteArray &p : std::as_const(paths))
        QCOMPARE(m_files->maxActiveTransfers(p), 1);
}

void tst_Cluster::controlThroughANodeThatDoesNotRunIt()
{
    QVERIFY(startNodes(3));
    const QByteArray content = FileServer::makeContent(2 * 1024 * 1024, 5);
    FileServer::File f{content};
    f.bytesPerSecond = 200 * 1024;
    f.etag = "\"ctl\"";
    m_files->addFile("/ctl.bin", f);
    const QString id = add(0, "/ctl.bin", sha256(content));
    QVERIFY(QTest::qWaitFor([&] { return runnerOf(id) >= 0 && m_files->activeTransfers("/ctl.bin") == 1; }, 20000));

    QList<double> getMs, pauseMs, stopMs, resumeMs;
    QList<int> startsBefore(3, 0); // per node, before the last resume
    for (int cycle = 0; cycle < 5; ++cycle) {
        QVERIFY(QTest::qWaitFor([&] { return m_files->activeTransfers("/ctl.bin") == 1; }, 20000));
        // The runner is the node that says it started the download since the last resume (its
        // log line may be read after the file server saw the request).
        int runner = -1;
        QVERIFY(QTest::qWaitFor([&] {
            for (int n = 0; n < 3 && runner < 0; ++n) {
                if (startsOn(n, id) > startsBefore[n])
                    runner = n;
            }
            return runner >= 0;
        }, 10000));
        // Some bytes of this round in the part file (the file server runs on this thread, so
        // it serves only while the test waits here, not during the synchronous requests).
        const qint64 before = partBytes(id);
        QVERIFY(QTest::qWaitFor([&] { return partBytes(id) > before + 20000; }, 10000));
        const int other = (runner + 1 + cycle % 2) % 3; // a node that does not run it
        for (int i = 0; i < 20; ++i) {
            QElapsedTimer t;
            t.start();
            const HttpReply r = api(other, "GET", "/api/v1/downloads/" + id.toUtf8());
            getMs.append(t.nsecsElapsed() / 1e6);
            QCOMPARE(r.status, 200);
            QCOMPARE(json(r.body).value(QStringLiteral("status")).toString(), QStringLiteral("downloading"));
        }
        QElapsedTimer t;
        t.start();
        const HttpReply paused = api(other, "POST", "/api/v1/downloads/" + id.toUtf8() + "/pause");
        pauseMs.append(t.nsecsElapsed() / 1e6);
        QCOMPARE(paused.status, 200);
        QCOMPARE(json(paused.body).value(QStringLiteral("status")).toString(), QStringLiteral("paused"));
        // The runner stops its transfer (the file server sees the connection end).
        QVERIFY(QTest::qWaitFor([&] { return m_files->activeTransfers("/ctl.bin") == 0; }, 5000));
        stopMs.append(t.nsecsElapsed() / 1e6);
        for (int n = 0; n < 3; ++n)
            QCOMPARE(get(n, id).value(QStringLiteral("status")).toString(), QStringLiteral("paused"));
        const qint64 size = partBytes(id);
        QTest::qWait(300);
        QCOMPARE(partBytes(id), size); // nobody writes
        for (int n = 0; n < 3; ++n)
            startsBefore[n] = startsOn(n, id);
        t.restart();
        QCOMPARE(api((other + 1) % 3, "POST", "/api/v1/downloads/" + id.toUtf8() + "/resume").status, 200);
        resumeMs.append(t.nsecsElapsed() / 1e6);
    }
    qInfo("MEASURE REST through a node not running the download: GET p50 %.1f ms p99 %.1f ms (n=%lld); "
          "pause p50 %.1f ms max %.1f ms; pause to transfer stopped p50 %.1f ms max %.1f ms; resume p50 %.1f ms",
          percentile(getMs, 0.5), percentile(getMs, 0.99), qint64(getMs.size()), percentile(pauseMs, 0.5),
          percentile(pauseMs, 1), percentile(stopMs, 0.5), percentile(stopMs, 1), percentile(resumeMs, 0.5));
    m_files->file("/ctl.bin").bytesPerSecond = 0;
    QVERIFY(waitStatus(1, id, QStringLiteral("completed"), 30000));
    QFile done(sharedFile(QStringLiteral("ctl.bin")));
    QVERIFY(done.open(QIODevice::ReadOnly));
    QCOMPARE(done.readAll(), content); // resumed five times with Range, never spliced wrongly
    QVERIFY2(m_files->ifRangeHeaders("/ctl.bin").last() == "\"ctl\"",
             qPrintable(m_files->ifRangeHeaders("/ctl.bin").join(' ') + " / " + m_files->rangeHeaders("/ctl.bin").join(' ')));
    QCOMPARE(m_files->maxActiveTransfers("/ctl.bin"), 1);

    // Cancel and delete through another node stop the transfer and remove the part file.
    for (const char *how : {"cancel", "delete"}) {
        FileServer::File slow{FileServer::makeContent(1024 * 1024, 9)};
        slow.bytesPerSecond = 100 * 1024;
        const QByteArray path = QByteArray("/") + how + ".bin";
        m_files->addFile(path, slow);
        const QString other = add(2, path);
        QVERIFY(QTest::qWaitFor([&] { return runnerOf(other) >= 0 && m_files->activeTransfers(path) == 1; }, 20000));
        const int via = (runnerOf(other) + 1) % 3;
        if (QByteArrayView(how) == "cancel") {
            QCOMPARE(api(via, "POST", "/api/v1/downloads/" + other.toUtf8() + "/cancel").status, 200);
            QCOMPARE(get(runnerOf(other), other).value(QStringLiteral("status")).toString(), QStringLiteral("cancelled"));
        } else {
            QCOMPARE(api(via, "DELETE", "/api/v1/downloads/" + other.toUtf8()).status, 204);
            for (int n = 0; n < 3; ++n)
                QCOMPARE(api(n, "GET", "/api/v1/downloads/" + other.toUtf8()).status, 404);
        }
        QVERIFY(QTest::qWaitFor([&] { return m_files->activeTransfers(path) == 0; }, 5000));
        QTest::qWait(300);
        QCOMPARE(partBytes(other), 0);
        QCOMPARE(QDir(m_downloads->path()).entryList({other + QStringLiteral(".*part")}, QDir::Files), QStringList());
        QVERIFY(!QFile::exists(sharedFile(QString::fromLatin1(path.mid(1)))));
    }
}

void tst_Cluster::databaseOutOfReachNeverStartsASecondCopy()
{
    // Node 0 reaches PostgreSQL through a proxy the test stalls (a partition: no error, no
    // answer); node 1 reaches it directly. Node 0 must stop the transfer before its lease
    // expires, and node 1 must not start before.
    TcpProxy proxy(m_postgres.port());
    const QByteArray content = FileServer::makeContent(2 * 1024 * 1024, 13);
    const QString id = runBehindProxy(proxy, "/far.bin", content);
    QVERIFY(!id.isEmpty());
    const auto a = m_nodes.at(0);
    QVERIFY(startNodes(1));

    proxy.stall();
    const qint64 stalledAt = QDateTime::currentMSecsSinceEpoch();
    QVERIFY(QTest::qWaitFor([&] { return startsOn(1, id) == 1; }, 20000));
    qInfo("MEASURE takeover after the database became unreachable for the runner: %lld ms",
          QDateTime::currentMSecsSinceEpoch() - stalledAt);
    QVERIFY(a->output().contains("its lease could not be renewed in time"));
    QCOMPARE(m_files->maxActiveTransfers("/far.bin"), 1); // never two copies at once
    m_files->file("/far.bin").bytesPerSecond = 0;
    QVERIFY(waitStatus(1, id, QStringLiteral("completed"), 30000));
    proxy.unstall();
    QTest::qWait(2 * RenewMs); // node 0 catches up and finds the download is not its own
    QCOMPARE(startsOn(0, id), 1);
    QCOMPARE(m_files->maxActiveTransfers("/far.bin"), 1);
    QFile done(sharedFile(QStringLiteral("far.bin")));
    QVERIFY(done.open(QIODevice::ReadOnly));
    QCOMPARE(done.readAll(), content);
    QCOMPARE(QDir(m_downloads->path()).entryList(QDir::Files).size(), 1);
    QCOMPARE(get(0, id).value(QStringLiteral("status")).toString(), QStringLiteral("completed"));
}

void tst_Cluster::databaseBackBeforeATakeoverRunsItAgain()
{
    // The runner loses the database long enough to stop the transfer (its lease may run out),
    // and gets it back before anyone takes the download over (here: nobody else can). It
    // must not go on renewing a lease on a download it no longer runs: the lease expires and
    // the download is claimed again and completes.
    TcpProxy proxy(m_postgres.port());
    const QByteArray content = FileServer::makeContent(1024 * 1024, 17);
    const QString id = runBehindProxy(proxy, "/back.bin", content);
    QVERIFY(!id.isEmpty());
    const auto a = m_nodes.at(0);

    proxy.stall();
    QVERIFY(QTest::qWaitFor([&] { return a->output().contains("its lease could not be renewed in time"); }, 20000));
    QVERIFY(QTest::qWaitFor([&] { return m_files->activeTransfers("/back.bin") == 0; }, 5000));
    proxy.unstall();
    m_files->file("/back.bin").bytesPerSecond = 0;
    QVERIFY2(waitStatus(0, id, QStringLiteral("completed"), 4 * LeaseMs + 10000),
             qPrintable(QStringLiteral("status %1 after the database came back")
                            .arg(get(0, id).value(QStringLiteral("status")).toString())));
    QCOMPARE(startsOn(0, id), 2);
    QCOMPARE(m_files->maxActiveTransfers("/back.bin"), 1);
    QFile done(sharedFile(QStringLiteral("back.bin")));
    QVERIFY(done.open(QIODevice::ReadOnly));
    QCOMPARE(done.readAll(), content);
}

QTEST_MAIN(tst_Cluster)
#include "tst_cluster.moc"
