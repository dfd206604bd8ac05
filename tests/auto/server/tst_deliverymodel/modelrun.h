#pragma once

#include "deliverychecker.h"
#include "modelclient.h"
#include "modeltypes.h"
#include "respclient.h"

#include <QElapsedTimer>
#include <QObject>
#include <QProcessEnvironment>
#include <QRandomGenerator>

#include <functional>
#include <memory>
#include <vector>

namespace Hermes::Test {
class RedisProcess;
class ServerProcess;
}

namespace Model {

/// One deployment to model: its brokers, nodes and limits.
struct ModelConfig
{
    QString name;
    bool redis = false;
    int nodes = 1;
    int historySize = 1000000;   ///< HERMES_SSE_HISTORY_SIZE of the nodes under test
    bool archiveNode = false;    ///< replay the log from an extra big-history node at the end
    int connectionTimeoutSec = 0;///< HERMES_SSE_CONNECTION_TIMEOUT: streams are rotated
    qint64 maxClientBuffer = 1 << 20;
    int sendTimeoutSec = 60;     ///< HERMES_SSE_SEND_TIMEOUT: stalled readers are dropped
    int maxClients = 10;
    int faultGraceMs = 10000;    ///< resync_required (unknown_event_id) is accepted this long after Redis is back
};

struct RunLimits
{
    qint64 ops = 300;
    qint64 seconds = 0;  ///< > 0: operations until this much time passed (and `ops`, if set)
    quint64 seed = 0;
    bool processFaults = true; ///< false: no node or Redis kills (to tell client faults apart)
    QString opLogFile;         ///< non-empty: the whole operation log is written there
    quint8 channels = AllChannels; ///< the channels publishes go to (fewer: to bisect a failure)
};

/**
 * One run of the delivery model: real processes (hermes-server nodes, redis-server), a seeded
 * stream of operations (publishes, clients, cuts, slow readers, kills), then a quiet period,
 * the log of the deployment (replays and Redis streams, cross-checked) and the invariant
 * checked for every client (see checkClient()).
 */
class ModelRun final : public QObject
{
    Q_OBJECT
public:
    ModelRun(const ModelConfig &config, const RunLimits &limits);
    ~ModelRun() override;

    /// False when the invariant does not hold or the run could not be carried out.
    bool run();
    /// One line: seed, operations, events, clients, faults, lost/duplicated/reordered.
    QString summary() const;
    /// What went wrong, with the seed, the failing clients and the operation log's tail.
    QString report() const;

private:
    struct Node
    {
        std::unique_ptr<Hermes::Test::ServerProcess> process;
        bool up = false;
        qint64 restartAtOp = -1;
    };
    struct FaultWindow
    {
        int node;  ///< -1: Redis (every node)
        qint64 fromMs;
        qint64 toMs;
    };
    struct Throttle
    {
        int client;
        qint64 untilOp;
    };

    bool setUp();
    QProcessEnvironment nodeEnv(int historySize) const;
    bool restartNode(int i);
    bool restartRedis();
    void healDue(bool everything);

    void checkProcesses();
    void step();
    void publishApi(int node, quint8 channel);
    void publishOutside(quint8 channel);
    void openClient();
    void mintToken(ModelClient *client);
    QJsonObject makeData(qint64 seq, quint8 channel);
    void log(const QString &op);

    bool finish();
    bool waitUntil(const std::function<bool()> &condition, int timeoutMs, int intervalMs = 20);
    bool replayLog(quint16 port, const QString &label, EventLog *out);
    void crossCheckRedis();
    void checkPublishes();
    void checkClients(bool final);
    QString judgeResync(const ModelClient::Item &item, const ModelClient::Connection &c,
                        const Filter &filter) const;
    void fail(const QString &problem);

    ModelConfig m_config;
    RunLimits m_limits;
    QRandomGenerator m_rng;
    QElapsedTimer m_clock;
    qint64 m_startMs = 0;          ///< wall clock at the start (connections carry wall times)
    std::unique_ptr<Hermes::Test::RedisProcess> m_redis;
    bool m_redisUp = false;
    qint64 m_redisRestartAtOp = -1;
    Hermes::Test::RespClient m_resp;
    std::vector<Node> m_nodes;
    std::unique_ptr<Hermes::Test::ServerProcess> m_archive;
    World m_world;
    QList<PublishRecord> m_publishes;
    int m_inFlight = 0;
    qint64 m_tick = 0;
    QString m_genesisId;
    std::vector<std::unique_ptr<ModelClient>> m_clients;
    QList<qint64> m_offlineUntilOp; ///< per client; -1: not held offline
    QList<Throttle> m_throttles;
    QList<FaultWindow> m_windows;
    qint64 m_op = 0;
    QStringList m_opLog;
    EventLog m_log;
    QList<QList<int>> m_channelPrefix; ///< per channel index: events on it before each position

    // figures for the summary
    qint64 m_opsDone = 0, m_apiPublishes = 0, m_outsidePublishes = 0, m_acked = 0;
    int m_cutsArmed = 0, m_closes = 0, m_offline = 0, m_leaves = 0, m_slow = 0, m_stalls = 0;
    int m_nodeKills = 0, m_redisKills = 0;
    qint64 m_delivered = 0, m_lost = 0, m_duplicated = 0, m_reordered = 0, m_other = 0;
    int m_resyncs = 0, m_connections = 0;
    double m_seconds = 0;
    QStringList m_problems;
    QStringList m_clientReports;
    QStringList m_clientLines; ///< one per client, for the operation log file
};

} // namespace Model
