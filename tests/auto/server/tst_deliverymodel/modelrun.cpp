#include "modelrun.h"

#include "asynchttp.h"
#include "pythonjson.h"
#include "redisprocess.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include <QDateTime>
#include <QDir>
#include <QProcess>
#include <QFile>
#include <QJsonDocument>
#include <QTest>

#include <algorithm>
#include <climits>
#include <csignal>

namespace Model {

using namespace Hermes::Test;

static const QByteArray ApiKey = "model-key";
static const QByteArray Bearer = "Bearer " + ApiKey;
static constexpr qint64 Forever = LLONG_MAX;

static qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

static QJsonObject jsonObject(const QByteArray &bytes)
{
    return QJsonDocument::fromJson(bytes).object();
}

ModelRun::ModelRun(const ModelConfig &config, const RunLimits &limits)
    : m_config(config), m_limits(limits)
{
    const quint32 words[2] = {quint32(limits.seed), quint32(limits.seed >> 32)};
    m_rng = QRandomGenerator(words, words + 2);
    m_world.apiKey = ApiKey;
}

ModelRun::~ModelRun()
{
    m_clients.clear(); // their sockets first, then the processes
    m_archive.reset();
    for (Node &node : m_nodes)
        node.process->kill(); // a stopped process takes SIGKILL too
    // What the test mounted, it unmounts, failed or not: before the data dirs go.
    if (!m_historyMount.isEmpty())
        QProcess::execute(QStringLiteral("umount"), {QStringLiteral("-l"), m_historyMount});
    m_nodes.clear();
    m_redis.reset();
}

void ModelRun::fail(const QString &problem)
{
    if (m_problems.size() < 40)
        m_problems << problem;
    else if (m_problems.size() == 40)
        m_problems << QStringLiteral("(more problems left out)");
}

void ModelRun::log(const QString &op)
{
    m_opLog << QStringLiteral("#%1 %2.%3s %4")
                   .arg(m_op)
                   .arg(m_clock.elapsed() / 1000)
                   .arg((m_clock.elapsed() % 1000) / 100)
                   .arg(op);
}

bool ModelRun::waitUntil(const std::function<bool()> &condition, int timeoutMs, int intervalMs)
{
    QElapsedTimer timer;
    timer.start();
    while (!condition()) {
        if (timer.elapsed() > timeoutMs)
            return false;
        QTest::qWait(intervalMs);
    }
    return true;
}

QProcessEnvironment ModelRun::nodeEnv(int historySize, int streamLength) const
{
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_API_KEYS"), QString::fromLatin1(ApiKey));
    env.insert(QStringLiteral("HERMES_TOKEN_SECRET"), QStringLiteral("model-token-secret"));
    env.insert(QStringLiteral("HERMES_SSE_HEARTBEAT_INTERVAL"), QStringLiteral("1"));
    env.insert(QStringLiteral("HERMES_SSE_CONNECTION_TIMEOUT"), QString::number(m_config.connectionTimeoutSec));
    env.insert(QStringLiteral("HERMES_SSE_RETRY"), QStringLiteral("200"));
    env.insert(QStringLiteral("HERMES_SSE_HISTORY_SIZE"), QString::number(historySize));
    env.insert(QStringLiteral("HERMES_SSE_MAX_CLIENT_BUFFER"), QString::number(m_config.maxClientBuffer));
    env.insert(QStringLiteral("HERMES_SSE_SEND_TIMEOUT"), QString::number(m_config.sendTimeoutSec));
    env.insert(QStringLiteral("HERMES_SSE_MAX_CONNECTIONS"), QStringLiteral("2000"));
    env.insert(QStringLiteral("HERMES_DISK_WARNING_MB"), QStringLiteral("0"));
    if (m_config.redis) {
        env.insert(QStringLiteral("HERMES_REDIS_URL"), m_redis->url());
        // The streams keep everything: they are one source of the log.
        // (unless a nemesis restarts a node with another value: the deployment's must win).
        env.insert(QStringLiteral("HERMES_REDIS_STREAM_LENGTH"), QString::number(streamLength));
        env.insert(QStringLiteral("HERMES_REDIS_CONNECT_TIMEOUT"), QStringLiteral("2000"));
        if (m_config.adoptRetryLimitSec > 0)
            env.insert(QStringLiteral("HERMES_REDIS_ADOPT_RETRY_LIMIT"), QString::number(m_config.adoptRetryLimitSec));
    }
    return env;
}

bool ModelRun::setUp()
{
    if (m_config.redis) {
        m_redis = std::make_unique<RedisProcess>(true); // appendonly, fsync always
        if (!m_redis->start()) {
            fail(QStringLiteral("redis-server: ") + m_redis->errorString());
            return false;
        }
        m_redisUp = true;
        m_resp.connectTo(m_redis->port());
    }
    for (int i = 0; i < m_config.nodes; ++i) {
        Node node;
        node.process = std::make_unique<ServerProcess>();
        if (m_config.journalTmpfs && !m_config.redis && i == 0) {
            // The journal on a file system of its own, so a nemesis can fill it. Root only
            // (CI runs as root); elsewhere the disk-full nemesis is left out, and says so.
            const QString dir = node.process->dataDir() + QStringLiteral("/history");
            QDir().mkpath(dir);
            if (QProcess::execute(QStringLiteral("mount"), {QStringLiteral("-t"), QStringLiteral("tmpfs"),
                                                            QStringLiteral("-o"), QStringLiteral("size=64m"),
                                                            QStringLiteral("tmpfs"), dir}) == 0)
                m_historyMount = dir;
            else
                m_nemesisNotes << QStringLiteral("disk-full left out: cannot mount a tmpfs (not root?)");
        }
        if (!node.process->start(nodeEnv(m_config.historySize))) {
            fail(QStringLiteral("node %1: %2").arg(i).arg(node.process->errorString()));
            return false;
        }
        node.up = true;
        m_world.nodePorts << node.process->port();
        m_nodes.push_back(std::move(node));
    }
    // The genesis event: the first of the log, so a replay from its id is the whole log.
    PublishRecord genesis;
    genesis.seq = 0;
    genesis.channel = System;
    genesis.type = QStringLiteral("system_notification");
    genesis.data = {{QStringLiteral("seq"), 0}, {QStringLiteral("genesis"), true}};
    const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("channel"), channelName(System)},
                                                      {QStringLiteral("type"), genesis.type},
                                                      {QStringLiteral("data"), genesis.data}})
                                .toJson(QJsonDocument::Compact);
    const HttpReply reply = httpRequest(m_world.nodePorts.at(0), "POST", "/api/v1/events/publish",
                                        {{"Authorization", Bearer}, {"Content-Type", "application/json"}},
                                        body, 10000);
    if (reply.status != 202) {
        fail(QStringLiteral("the genesis publish got HTTP %1: %2").arg(reply.status).arg(QString::fromUtf8(reply.body)));
        return false;
    }
    genesis.status = 202;
    genesis.issueTick = ++m_tick;
    genesis.ackTick = ++m_tick;
    genesis.ackId = jsonObject(reply.body).value(QStringLiteral("id")).toString();
    m_genesisId = genesis.ackId;
    m_anchor = m_genesisId;
    m_publishes.append(genesis);
    LogEntry first;
    first.id = m_genesisId;
    first.channel = genesis.channel;
    first.type = genesis.type;
    first.data = genesis.data;
    first.seq = 0;
    m_log.append(first);
    m_world.nextSeq = 1;
    m_acked = 1;
    return true;
}

bool ModelRun::restartNode(int i)
{
    Node &node = m_nodes[size_t(i)];
    log(QStringLiteral("restart node %1").arg(i));
    if (!node.process->start(nodeEnv(m_config.historySize, node.streamLength))) {
        fail(QStringLiteral("node %1 did not restart: %2").arg(i).arg(node.process->errorString()));
        return false;
    }
    node.up = true;
    node.restartAtOp = -1;
    for (FaultWindow &w : m_windows) {
        if (w.node == i && w.toMs == Forever)
            w.toMs = nowMs() + m_config.faultGraceMs;
    }
    return true;
}

bool ModelRun::restartRedis()
{
    log(QStringLiteral("restart redis"));
    if (!m_redis->start()) {
        fail(QStringLiteral("redis-server did not restart: ") + m_redis->errorString());
        return false;
    }
    m_redisUp = true;
    m_redisRestartAtOp = -1;
    m_resp.connectTo(m_redis->port());
    for (FaultWindow &w : m_windows) {
        if (w.node < 0 && w.toMs == Forever)
            w.toMs = nowMs() + m_config.faultGraceMs;
    }
    if (m_oom >= 0) // its maxmemory went with the process; its filler keys are still there
        endOom();
    return true;
}

void ModelRun::healDue(bool everything)
{
    for (int i = 0; i < int(m_nodes.size()); ++i) {
        Node &node = m_nodes[size_t(i)];
        if (node.stopped && (everything || nowMs() >= node.contAtMs))
            continueNode(i);
    }
    if (m_config.redis && !m_redisUp && (everything || m_op >= m_redisRestartAtOp))
        restartRedis();
    if (m_oom >= 0 && (everything || nowMs() >= m_oomEndMs))
        endOom();
    if (m_diskFull >= 0 && (everything || m_op >= m_diskFreeAtOp))
        freeDisk();
    if (m_restoreAtOp >= 0 && !everything && m_op >= m_restoreAtOp)
        restoreRedis();
    for (int i = 0; i < int(m_nodes.size()); ++i) {
        // A node whose journal's disk is full stays down until the space is back (it may
        // rightly refuse to start without room for its state): freeDisk() starts it.
        if (!m_nodes[size_t(i)].up && (everything || m_op >= m_nodes[size_t(i)].restartAtOp) && m_diskFull < 0)
            restartNode(i);
    }
    for (int i = 0; i < int(m_clients.size()); ++i) {
        if (m_offlineUntilOp[i] >= 0 && (everything || m_op >= m_offlineUntilOp[i])) {
            m_offlineUntilOp[i] = -1;
            m_clients[size_t(i)]->comeBack();
        }
        if (m_clients[size_t(i)]->needsToken())
            mintToken(m_clients[size_t(i)].get());
    }
    for (qsizetype i = m_probes.size() - 1; i >= 0; --i) {
        if (!everything && m_op >= m_probes[i].second) {
            log(QStringLiteral("probe client %1 leaves").arg(m_probes[i].first));
            m_clients[size_t(m_probes[i].first)]->leave();
            m_offlineUntilOp[m_probes[i].first] = -1;
            m_probes.removeAt(i);
        }
    }
    for (qsizetype i = m_throttles.size() - 1; i >= 0; --i) {
        if (everything || m_op >= m_throttles[i].untilOp) {
            m_clients[size_t(m_throttles[i].client)]->setRate(0);
            m_throttles.removeAt(i);
        }
    }
}

void ModelRun::mintToken(ModelClient *client)
{
    // Round robin over the nodes that are up: no draw from the seeded generator, whose
    // sequence must not depend on timing.
    const int n = int(m_nodes.size());
    for (int k = 0; k < n; ++k) {
        const int i = (client->index() + k) % n;
        if (!m_nodes[size_t(i)].up || m_nodes[size_t(i)].stopped)
            continue;
        const QByteArray body = "{\"scope\":\"" + client->spec().tokenScope.toUtf8() + "\",\"ttl\":3600}";
        // A node restarted a moment ago may still be loading its history (CPU-bound: in a
        // sanitizer build on a busy box, 6-9 s late in a 10-minute soak, whose streams hold
        // tens of thousands of events); 5 s failed such a soak with nothing wrong delivered.
        // The model judges delivery, not latency: 20 s, ServerProcess::waitReady()'s bound.
        const HttpReply r = httpRequest(m_world.nodePorts.at(i), "POST", "/api/v1/events/token",
                                        {{"Authorization", Bearer}, {"Content-Type", "application/json"}},
                                        body, 20000);
        const QByteArray token = jsonObject(r.body).value(QStringLiteral("token")).toString().toLatin1();
        if (r.status == 200 && !token.isEmpty()) {
            client->setToken(token, nowMs());
            return;
        }
        fail(QStringLiteral("minting a %1 token on node %2 got HTTP %3: %4")
                 .arg(client->spec().tokenScope).arg(i).arg(r.status).arg(QString::fromUtf8(r.body)));
        return;
    }
}

QJsonObject ModelRun::makeData(qint64 seq, quint8 channel)
{
    static const QStringList notes{
        QStringLiteral("plain"), QStringLiteral("ünïcödé"), QStringLiteral("漢字とかな"),
        QStringLiteral("emoji 🙂🚀"), QStringLiteral("line\nbreak \"quoted\" \\ and\ttab"),
        QStringLiteral("data: not a field\r\n\r\nid: 1"),
    };
    QJsonObject d{{QStringLiteral("seq"), seq}};
    if (channel != System && m_rng.bounded(10) != 0)
        d.insert(QStringLiteral("download_id"), downloadIds().at(m_rng.bounded(int(downloadIds().size()))));
    d.insert(QStringLiteral("note"), notes.at(m_rng.bounded(int(notes.size()))));
    // Mostly small events, some of several TCP segments.
    const int size = m_rng.bounded(20);
    const int pad = size == 0 ? 2000 + m_rng.bounded(7000) : size < 8 ? 300 + m_rng.bounded(1700)
                                                                     : m_rng.bounded(300);
    d.insert(QStringLiteral("pad"), QString(pad, QChar(u'a' + int(seq % 26))));
    return d;
}

void ModelRun::publishApi(int node, quint8 channel)
{
    if (m_config.snapshotEvery > 0 && m_world.nextSeq - m_snapshotSeq >= 2 * m_config.historySize) {
        // The node is paused or down and no snapshot could be taken: more would push the log's
        // end out of its small history (a third of this per channel is far below its size).
        log(QStringLiteral("(publish held: the log has to catch up first)"));
        return;
    }
    PublishRecord rec;
    rec.seq = m_world.nextSeq++;
    rec.channel = channel;
    rec.type = typesOf(channel).at(m_rng.bounded(2));
    rec.data = makeData(rec.seq, channel);
    rec.node = node;
    rec.issueTick = ++m_tick;
    rec.atMs = nowMs();
    m_publishes.append(rec);
    ++m_apiPublishes;
    ++m_inFlight;
    const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("channel"), channelName(channel)},
                                                      {QStringLiteral("type"), rec.type},
                                                      {QStringLiteral("data"), rec.data}})
                                .toJson(QJsonDocument::Compact);
    const qint64 seq = rec.seq;
    httpRequestAsync(this, m_world.nodePorts.at(node), "POST", "/api/v1/events/publish",
                     {{"Authorization", Bearer}, {"Content-Type", "application/json"}}, body, 10000,
                     [this, seq](const HttpReply &r) {
        --m_inFlight;
        PublishRecord &p = m_publishes[seq];
        p.status = r.status;
        if (r.status == 202) {
            p.ackId = jsonObject(r.body).value(QStringLiteral("id")).toString();
            p.ackTick = ++m_tick;
            ++m_acked;
        }
    });
    log(QStringLiteral("publish seq %1 %2 %3 via node %4").arg(seq).arg(channelName(channel), rec.type).arg(node));
}

void ModelRun::publishOutside(quint8 channel)
{
    if (!m_redisUp) {
        log(QStringLiteral("(outside publish skipped: redis is down)"));
        return;
    }
    PublishRecord rec;
    rec.seq = m_world.nextSeq++;
    rec.channel = channel;
    rec.type = typesOf(channel).at(m_rng.bounded(2));
    rec.data = makeData(rec.seq, channel);
    rec.issueTick = ++m_tick;
    rec.atMs = nowMs();
    // As a Python worker writes it: json.dumps separators, \u escapes, naive ISO timestamp.
    const QString timestamp = QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss.zzz"))
        + QString::number(m_rng.bounded(1000)).rightJustified(3, u'0');
    const QByteArray payload = pythonEnvelope(rec.type, rec.data, timestamp);
    if (!m_resp.isConnected())
        m_resp.connectTo(m_redis->port(), 1000);
    const QVariant reply = m_resp.command({"PUBLISH", channelName(channel).toUtf8(), payload});
    rec.status = RespClient::isError(reply) ? -1 : int(reply.toLongLong());
    m_publishes.append(rec);
    ++m_outsidePublishes;
    log(QStringLiteral("outside PUBLISH seq %1 %2 %3 (reached %4)").arg(rec.seq).arg(channelName(channel), rec.type).arg(rec.status));
}

void ModelRun::openClient()
{
    const int index = int(m_clients.size());
    const ClientSpec spec = ClientSpec::random(m_rng);
    const quint64 seed = m_rng.generate64();
    auto client = std::make_unique<ModelClient>(index, spec, &m_world, seed);
    log(QStringLiteral("open %1").arg(client->describe()));
    if (spec.useToken)
        mintToken(client.get());
    client->connectNow();
    m_clients.push_back(std::move(client));
    m_offlineUntilOp << -1;
}

void ModelRun::checkProcesses()
{
    // A node that is gone without being killed by the test crashed, or something outside the
    // test stopped it: either way the run cannot say anything about delivery.
    for (int i = 0; i < int(m_nodes.size()); ++i) {
        QProcess &p = m_nodes[size_t(i)].process->process();
        if (m_nodes[size_t(i)].up && p.state() == QProcess::NotRunning) {
            m_nodes[size_t(i)].up = false;
            fail(QStringLiteral("node %1 exited on its own (%2, exit code %3); its last output:\n%4")
                     .arg(i)
                     .arg(p.exitStatus() == QProcess::CrashExit ? QStringLiteral("crashed") : QStringLiteral("normal exit"))
                     .arg(p.exitCode())
                     .arg(QString::fromUtf8(m_nodes[size_t(i)].process->output().right(1500))));
        }
    }
}

void ModelRun::step()
{
    ++m_op;
    checkProcesses();
    healDue(false);
    const int nodes = int(m_nodes.size());
    const int clients = int(m_clients.size());
    const auto randomChannel = [this] {
        const quint8 bit = quint8(1 << m_rng.bounded(3));
        if (m_limits.channels & bit)
            return bit;
        for (quint8 b : {Downloads, Queue, System}) {
            if (m_limits.channels & b)
                return b;
        }
        return bit;
    };
    int alive = 0;
    for (const auto &c : m_clients)
        alive += c->isGone() ? 0 : 1;
    if (m_config.snapshotEvery > 0 && m_world.nextSeq - m_snapshotSeq >= m_config.snapshotEvery
        && servingNode() >= 0 && m_diskFull < 0) {
        if (!snapshotLog(QStringLiteral("the history moves past the log")))
            return;
    }
    if (m_config.nemeses.total() > 0) {
        // A draw only where the configuration has nemeses: the other configurations' seeds
        // keep meaning the same operations.
        int n = m_rng.bounded(1000);
        for (int k = 0; k < int(Nemesis::Count); ++k) {
            n -= m_config.nemeses.weight[k];
            if (n < 0) {
                if (m_limits.processFaults && (m_limits.onlyNemeses.isEmpty() || m_limits.onlyNemeses.contains(k)))
                    nemesisStep(Nemesis(k));
                QTest::qWait(m_rng.bounded(25));
                return;
            }
        }
    }
    const int r = m_rng.bounded(1000);
    if (r < 330) {
        publishApi(m_rng.bounded(nodes), randomChannel());
    } else if (r < 370) {
        const int n = 5 + m_rng.bounded(26);
        log(QStringLiteral("burst of %1").arg(n));
        for (int i = 0; i < n; ++i) {
            if (m_config.redis && m_rng.bounded(4) == 0)
                publishOutside(randomChannel());
            else
                publishApi(m_rng.bounded(nodes), randomChannel());
        }
    } else if (r < 480) {
        if (m_config.redis)
            publishOutside(randomChannel());
        else
            publishApi(m_rng.bounded(nodes), randomChannel());
    } else if (r < 540) {
        if (alive < m_config.maxClients)
            openClient();
        else
            publishApi(m_rng.bounded(nodes), randomChannel());
    } else if (clients == 0) {
        publishApi(m_rng.bounded(nodes), randomChannel());
    } else if (r < 650) {
        ModelClient *c = m_clients[size_t(m_rng.bounded(clients))].get();
        if (m_rng.bounded(4) == 0) {
            // Into the next connection's response head, connected event or replay.
            const int bytes = m_rng.bounded(900);
            log(QStringLiteral("cut client %1 now and its next connection after %2 bytes").arg(c->index()).arg(bytes));
            c->disconnectNow(m_rng.bounded(300));
            c->cutAfter(bytes);
        } else {
            const int bytes = m_rng.bounded(3) == 0 ? m_rng.bounded(200) : m_rng.bounded(5000);
            log(QStringLiteral("cut client %1 after %2 more bytes").arg(c->index()).arg(bytes));
            c->cutAfter(bytes);
        }
        ++m_cutsArmed;
    } else if (r < 690) {
        ModelClient *c = m_clients[size_t(m_rng.bounded(clients))].get();
        const int delay = m_rng.bounded(600);
        log(QStringLiteral("client %1 closes, back in %2 ms").arg(c->index()).arg(delay));
        c->disconnectNow(delay);
        ++m_closes;
    } else if (r < 725) {
        const int i = m_rng.bounded(clients);
        const qint64 until = m_op + 10 + m_rng.bounded(120);
        if (!m_clients[size_t(i)]->isGone() && m_offlineUntilOp[i] < 0) {
            log(QStringLiteral("client %1 goes away until #%2").arg(i).arg(until));
            m_clients[size_t(i)]->goOffline();
            m_offlineUntilOp[i] = until;
            ++m_offline;
        }
    } else if (r < 733) {
        const int i = m_rng.bounded(clients);
        if (!m_clients[size_t(i)]->isGone()) {
            log(QStringLiteral("client %1 leaves for good").arg(i));
            m_clients[size_t(i)]->leave();
            m_offlineUntilOp[i] = -1;
            ++m_leaves;
        }
    } else if (r < 798) {
        const bool stall = r >= 783;
        const int i = m_rng.bounded(clients);
        const qint64 rate = stall ? 1 : 300 + m_rng.bounded(20000);
        const qint64 until = m_op + 10 + m_rng.bounded(stall ? 200 : 150);
        log(QStringLiteral("client %1 reads at %2 B/s until #%3").arg(i).arg(rate).arg(until));
        m_clients[size_t(i)]->setRate(rate);
        m_throttles.append({i, until});
        ++(stall ? m_stalls : m_slow);
    } else if (r < 818) {
        const int i = m_rng.bounded(nodes);
        const qint64 until = m_op + 2 + m_rng.bounded(40);
        if (m_nodes[size_t(i)].up && m_limits.processFaults) {
            log(QStringLiteral("SIGKILL node %1, restart at #%2").arg(i).arg(until));
            m_nodes[size_t(i)].process->kill();
            m_nodes[size_t(i)].up = false;
            m_nodes[size_t(i)].restartAtOp = until;
            m_windows.append({i, nowMs(), Forever});
            ++m_nodeKills;
        }
    } else if (r < 826) {
        const qint64 until = m_op + 2 + m_rng.bounded(30);
        if (m_config.redis && m_redisUp && m_limits.processFaults) {
            log(QStringLiteral("SIGKILL redis, restart at #%1").arg(until));
            m_redis->kill();
            m_resp.close();
            m_redisUp = false;
            m_redisRestartAtOp = until;
            m_windows.append({-1, nowMs(), Forever});
            ++m_redisKills;
        }
    } else if (r < 886) {
        const int ms = 50 + m_rng.bounded(350);
        log(QStringLiteral("pause %1 ms").arg(ms));
        QTest::qWait(ms);
    } else if (r < 894) {
        // A flood: more than a slow reader's kernel buffers and server queue can hold.
        const int n = 80 + m_rng.bounded(170);
        log(QStringLiteral("flood of %1").arg(n));
        for (int i = 0; i < n; ++i)
            publishApi(m_rng.bounded(nodes), randomChannel());
    } else {
        publishApi(m_rng.bounded(nodes), randomChannel());
    }
    QTest::qWait(m_rng.bounded(25));
}

bool ModelRun::run()
{
    m_clock.start();
    m_startMs = nowMs();
    if (!setUp())
        return false;
    // A few clients from the start, so the first events have readers.
    for (int i = 0; i < qMin(3, m_config.maxClients); ++i)
        openClient();
    QElapsedTimer progress;
    progress.start();
    for (;;) {
        const bool opsDone = m_limits.ops > 0 && m_opsDone >= m_limits.ops;
        const bool timeUp = m_limits.seconds > 0 && m_clock.elapsed() >= m_limits.seconds * 1000;
        if (opsDone || timeUp || (m_limits.seconds <= 0 && m_limits.ops <= 0))
            break;
        step();
        ++m_opsDone;
        if (!m_problems.isEmpty())
            break; // a process that does not come back: nothing more to learn
        if (progress.elapsed() > 30000) {
            progress.restart();
            fprintf(stderr, "deliverymodel[%s] %lld s: %lld operations, %lld publishes (%lld acknowledged), %d clients\n",
                    qPrintable(m_config.name), m_clock.elapsed() / 1000, m_opsDone,
                    m_apiPublishes + m_outsidePublishes, m_acked, int(m_clients.size()));
        }
    }
    const bool ok = m_problems.isEmpty() && finish();
    m_seconds = double(m_clock.elapsed()) / 1000.0;
    if (!m_limits.opLogFile.isEmpty()) {
        QFile file(m_limits.opLogFile);
        if (file.open(QIODevice::WriteOnly | QIODevice::Truncate))
            file.write((m_opLog.join(u'\n') + u'\n' + m_clientLines.join(u'\n') + u'\n' + summary()
                        + u'\n').toUtf8());
    }
    return ok && m_problems.isEmpty() && m_clientReports.isEmpty();
}

} // namespace Model
