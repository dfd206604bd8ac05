// The phase of a download (waiting_for_connection, transferring, retrying …) as every node
// answers it, with two real hermes-server nodes on one real PostgreSQL and Redis and a local,
// throttled file server: node 0 runs the downloads, node 1 never does (its free-space
// threshold is out of reach, so it claims nothing) and answers about them. Node 1's REST
// answers (one download, the list, the queue) show node 0's phases; a completed download shows
// none; once node 0 is killed, its phase lasts as long as its lease and no longer.
// Lease 3 s, renewal 1 s.

#include "fileserver.h"
#include "postgresprocess.h"
#include "redisprocess.h"
#include "serverprocess.h"
#include "testutil.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace Hermes;
using namespace Hermes::Test;

static const QByteArray Auth = QByteArray("Bearer ") + ServerProcess::ApiKey;
static constexpr int LeaseMs = 3000;
static constexpr int RetryDelayMs = 30000; // the first retry waits 15-30 s: long enough to read

class tst_ClusterPhases : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void phasesOfAnotherNodesDownloads();

private:
    QProcessEnvironment nodeEnv(const QStringList &extra) const;
    QJsonObject getJson(int node, const QByteArray &path);
    QString add(int node, const QString &url);
    /// The download's members as `node` answers GET /api/v1/downloads/{id}.
    QJsonObject download(int node, const QString &id) { return getJson(node, "/api/v1/downloads/" + id.toUtf8()); }
    QString phase(int node, const QString &id) { return download(node, id).value(QStringLiteral("phase")).toString(); }
    /// The phase of each download in an answer's `items`, by id (a null phase is "").
    static QHash<QString, QString> phasesIn(const QJsonObject &page);
    int startsOn(int node, const QString &id) const
    {
        return int(m_nodes.at(node)->output().count("download " + id.toUtf8() + " : running here"));
    }

    PostgresProcess m_postgres;
    RedisProcess m_redis;
    QString m_database;
    std::unique_ptr<QTemporaryDir> m_downloads;
    QList<std::shared_ptr<ServerProcess>> m_nodes;
};

void tst_ClusterPhases::initTestCase()
{
    QVERIFY2(m_postgres.start(), qPrintable(m_postgres.errorString()));
    QVERIFY2(m_redis.start(), qPrintable(m_redis.errorString()));
    m_database = m_postgres.createDatabase();
    QVERIFY(!m_database.isEmpty());
    m_downloads = std::make_unique<QTemporaryDir>();
}

QProcessEnvironment tst_ClusterPhases::nodeEnv(const QStringList &extra) const
{
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_DATABASE_URL"), m_postgres.url(m_database, true));
    env.insert(QStringLiteral("HERMES_REDIS_URL"), m_redis.url());
    env.insert(QStringLiteral("HERMES_TOKEN_SECRET"), QStringLiteral("cluster-phases-secret"));
    env.insert(QStringLiteral("HERMES_DOWNLOAD_DIR"), m_downloads->path());
    env.insert(QStringLiteral("HERMES_DOWNLOAD_LEASE"), QString::number(LeaseMs));
    env.insert(QStringLiteral("HERMES_DOWNLOAD_LEASE_RENEW"), QStringLiteral("1000"));
    env.insert(QStringLiteral("HERMES_DOWNLOAD_RETRY_DELAY"), QString::number(RetryDelayMs));
    env.insert(QStringLiteral("HERMES_DOWNLOAD_MAX_ATTEMPTS"), QStringLiteral("5"));
    env.insert(QStringLiteral("HERMES_DISK_WARNING_MB"), QStringLiteral("0"));
    for (const QString &kv : extra)
        env.insert(kv.section(u'=', 0, 0), kv.section(u'=', 1));
    return env;
}

QJsonObject tst_ClusterPhases::getJson(int node, const QByteArray &path)
{
    const HttpReply r = httpRequest(m_nodes.at(node)->port(), "GET", path, {{"Authorization", Auth}});
    if (r.status != 200)
        qWarning() << "GET" << path << "on node" << node << ":" << r.status << r.body;
    return QJsonDocument::fromJson(r.body).object();
}

QString tst_ClusterPhases::add(int node, const QString &url)
{
    const HttpReply r = httpRequest(m_nodes.at(node)->port(), "POST", "/api/v1/downloads",
                                    {{"Authorization", Auth}, {"Content-Type", "application/json"}},
                                    QJsonDocument(QJsonObject{{QStringLiteral("url"), url}}).toJson(QJsonDocument::Compact));
    if (r.status != 201)
        qWarning() << "add failed" << r.status << r.body;
    return QJsonDocument::fromJson(r.body).object().value(QStringLiteral("id")).toString();
}

QHash<QString, QString> tst_ClusterPhases::phasesIn(const QJsonObject &page)
{
    QHash<QString, QString> out;
    for (const QJsonValue &item : page.value(QStringLiteral("items")).toArray())
        out.insert(item[QStringLiteral("id")].toString(), item[QStringLiteral("phase")].toString());
    return out;
}

void tst_ClusterPhases::phasesOfAnotherNodesDownloads()
{
    // Node 0 runs everything: one connection per origin, so a second download of the same
    // origin waits for it. Node 1 never claims (2 PiB must stay free).
    for (const QStringList &extra : {QStringList{QStringLiteral("HERMES_DOWNLOAD_CONNECTIONS_PER_HOST=1")},
                                     QStringList{QStringLiteral("HERMES_DOWNLOAD_MIN_FREE=2147483647")}}) {
        auto node = std::make_shared<ServerProcess>();
        QVERIFY2(node->start(nodeEnv(extra)), qPrintable(node->errorString()));
        m_nodes.append(node);
    }
    FileServer files; // one origin: a and b
    FileServer other(nullptr, QHostAddress(QStringLiteral("127.0.0.2"))); // another: c
    const QByteArray content = FileServer::makeContent(2 * 1024 * 1024, 31); // 32 s each
    for (const char *path : {"/a.bin", "/b.bin"}) {
        FileServer::File f{content};
        f.bytesPerSecond = 64 * 1024;
        files.addFile(path, f);
    }
    FileServer::File broken{"x"};
    broken.status = 503; // every attempt fails, transiently: retried
    other.addFile("/c.bin", broken);

    const QString a = add(1, files.url("/a.bin"));
    QVERIFY(QTest::qWaitFor([&] { return files.activeTransfers("/a.bin") == 1; }, 20000));
    // (Node 0 claims b at once; its log says "running here" only once b has the connection.)
    const QString b = add(1, files.url("/b.bin"));

    // Node 1 answers what node 0 does: a transfers, b waits for the origin's one connection.
    QVERIFY2(QTest::qWaitFor([&] { return phase(1, a) == u"transferring" && phase(1, b) == u"waiting_for_connection"; }, 10000),
             qPrintable(QStringLiteral("node 1 answers a: %1, b: %2 (node 0: %3, %4)")
                            .arg(phase(1, a), phase(1, b), phase(0, a), phase(0, b))));
    QCOMPARE(phase(0, a), QStringLiteral("transferring"));
    QCOMPARE(phase(0, b), QStringLiteral("waiting_for_connection"));
    QCOMPARE(download(1, b).value(QStringLiteral("attempt")).toInt(), 1);
    QCOMPARE(download(1, b).value(QStringLiteral("max_attempts")).toInt(), 5);
    for (const QByteArray &path : {QByteArray("/api/v1/downloads"), QByteArray("/api/v1/queue")}) {
        const QHash<QString, QString> listed = phasesIn(getJson(1, path));
        QCOMPARE(listed.value(a), QStringLiteral("transferring"));
        QCOMPARE(listed.value(b), QStringLiteral("waiting_for_connection"));
    }

    // A retry node 0 scheduled: node 1 shows it, with the same time (the store's clock).
    const QString c = add(1, other.url("/c.bin"));
    QVERIFY(QTest::qWaitFor([&] { return phase(0, c) == u"retrying"; }, 20000));
    const QJsonObject retrying0 = download(0, c), retrying1 = download(1, c);
    QCOMPARE(retrying1.value(QStringLiteral("status")).toString(), QStringLiteral("pending"));
    QCOMPARE(retrying1.value(QStringLiteral("phase")).toString(), QStringLiteral("retrying"));
    QCOMPARE(retrying1.value(QStringLiteral("attempt")).toInt(), 2);
    const QDateTime due0 = QDateTime::fromString(retrying0.value(QStringLiteral("next_attempt_at")).toString(), Qt::ISODateWithMs);
    const QDateTime due1 = QDateTime::fromString(retrying1.value(QStringLiteral("next_attempt_at")).toString(), Qt::ISODateWithMs);
    QVERIFY2(due0.isValid() && due1.isValid(), qPrintable(retrying1.value(QStringLiteral("next_attempt_at")).toString()));
    QVERIFY2(qAbs(due0.msecsTo(due1)) < 1000, qPrintable(QStringLiteral("%1 vs %2").arg(due0.toString(Qt::ISODateWithMs), due1.toString(Qt::ISODateWithMs))));

    // a completes: no phase; b gets the connection.
    files.file("/a.bin").bytesPerSecond = 0;
    QVERIFY(QTest::qWaitFor([&] { return download(1, a).value(QStringLiteral("status")).toString() == u"completed"; }, 20000));
    QVERIFY(download(1, a).value(QStringLiteral("phase")).isNull());
    QVERIFY2(QTest::qWaitFor([&] { return phase(1, b) == u"transferring"; }, 10000), qPrintable(phase(1, b)));

    // Node 0 dies. What it saved stays in the row; its phase is shown only while its lease
    // holds, then nothing (nobody runs b: node 1 does not claim it).
    m_nodes.at(0)->kill();
    QElapsedTimer sinceKill;
    sinceKill.start();
    QCOMPARE(phase(1, b), QStringLiteral("transferring")); // renewed within the last second
    QVERIFY2(QTest::qWaitFor([&] { return download(1, b).value(QStringLiteral("phase")).isNull(); }, LeaseMs + 3000),
             qPrintable(phase(1, b)));
    qInfo("MEASURE phase of the killed node's download gone after %lld ms (lease %d ms)", sinceKill.elapsed(), LeaseMs);
    QCOMPARE(download(1, b).value(QStringLiteral("status")).toString(), QStringLiteral("downloading"));
    QCOMPARE(phasesIn(getJson(1, "/api/v1/queue")).value(b), QString());
    // The waiting retry is the store's, not the dead node's: still shown while it is ahead.
    if (QDateTime::currentDateTimeUtc().msecsTo(due1) > 500)
        QCOMPARE(phase(1, c), QStringLiteral("retrying"));
    QCOMPARE(startsOn(1, a) + startsOn(1, b) + startsOn(1, c), 0);
}

QTEST_MAIN(tst_ClusterPhases)
#include "tst_clusterphases.moc"
