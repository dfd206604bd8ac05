#pragma once

#include "deliverychecker.h"
#include "modelclient.h"
#include "modeltypes.h"
#include "nemesis.h"
#include "respclient.h"

#include <QElapsedTimer>
#include <QMap>
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
    NemesisWeights nemeses;      ///< the gray faults drawn, and how often
    bool journalTmpfs = false;   ///< the journal on a small tmpfs of its own (disk-full; needs root)
    int adoptRetryLimitSec = 0;  ///< > 0: HERMES_REDIS_ADOPT_RETRY_LIMIT of the nodes
    QList<int> restartStreamLengths; ///< stream-length: the values a node restarts with
    int snapshotEvery = 0;       ///< > 0: a snapshot of the log after this many publishes (a
                                 ///< history too small for a replay from the genesis at the end)
};

struct RunLimits
{
    qint64 ops = 300;
    qint64 seconds = 0;  ///< > 0: operations until this much time passed (and `ops`, if set)
    quint64 seed = 0;
    bool processFaults = true; ///< false: no node or Redis kills (to tell client faults apart)
    QString opLogFile;         ///< non-empty: the whole operation log is written there
    quint8 channels = AllChannels; ///< the channels publishes go to (fewer: to bisect a failure)
    QSet<int> onlyNemeses;     ///< non-empty: only these nemeses are drawn (HERMES_MODEL_NEMESES)
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
        bool stopped = false;    ///< SIGSTOPped, continued at contAtMs
        qint64 contAtMs = 0;
        int streamLength = 10000000;
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
    QProcessEnvironment nodeEnv(int historySize, int streamLength = 10000000) const;
    bool restartNode(int i);
    bool restartRedis();
    void healDue(bool everything);

    void checkProcesses();
    void step();
    void publishApi(int node, quint8 channel);
    void publishOutside(quint8 channel);
    void openClient();
    void openProbe(const QString &fromId, const QString &why);
    void probeAround(const NemesisRecord &r);
    void mintToken(ModelClient *client);
    QJsonObject makeData(qint64 seq, quint8 channel);
    void log(const QString &op);

    // The nemeses (modelnemeses.cpp, modelgray.cpp).
    void nemesisStep(Nemesis kind);
    NemesisRecord &record(Nemesis kind, const QString &detail);
    void sigStop(int node);
    void continueNode(int node);
    void damageJournal(Nemesis kind);
    void fillDisk();
    void freeDisk();
    void saveRedis();
    void restoreRedis();
    void deleteStream();
    void startOom();
    void endOom();
    void restartWithStreamLength(int node);
    bool stopNodeForGood(int node, bool clean);
    int servingNode() const;
    bool snapshotLog(const QString &why);
    /// Why the log's own replay from the anchor may rightly get `resync` (its JSON): a loss a
    /// node recorded after giving an outside event up (empty: nothing the judge knows explains it).
    QString lossExplaining(const QString &resync) const;
    /// Goes on across such a loss: the events after the anchor as Redis holds them, then a marker.
    bool logAcrossLoss(const QString &loss);
    /// Appends a replayed event to the log (see readoptedAfterRestore()).
    void appendToLog(const LogEntry &entry);
    /// Whether `later`, an event the log holds already as `earlier`, is an outside event a
    /// Redis restore destroyed and a node adopted again after it.
    bool readoptedAfterRestore(const LogEntry &earlier, const LogEntry &later) const;
    /// Whether nemesis `r` destroyed the event at log position `p`.
    bool destroyedBy(const NemesisRecord &r, int p) const;
    bool reanchor(quint8 avoidChannels);
    QString connectedId(quint16 port);
    void finishNemeses();
    void checkNeverStored();
    int excusingNemesis(const ModelClient::Item &item, const ModelClient::Connection &c,
                        const Filter &filter) const;
    int judgeGap(const QList<int> &missing, const ModelClient::Item &item, qint64 nextResyncMs) const;
    void tally(const ClientVerdict &verdict);
    QString nemesisSummary() const;

    bool finish();
    bool waitUntil(const std::function<bool()> &condition, int timeoutMs, int intervalMs = 20);
    /// A replay from `anchor` on `port`: appends what follows it to `out`. `due`: the ids that
    /// must come (acknowledged ones); `resyncWhy`: set when the node answered resync_required.
    bool replayFrom(quint16 port, const QString &label, const QString &anchor, QSet<QString> due,
                    QList<LogEntry> *out, QString *resyncWhy = nullptr, int quietMs = 2000);
    QSet<QString> dueIds() const;
    /// In a replay's due set: an outside event, which has no acknowledged id, by its seq.
    static QString outsideDue(qint64 seq) { return QStringLiteral("seq:%1").arg(seq); }
    /// How long a replay waits for outside events that may never have been stored.
    static constexpr qint64 OutsideDueMs = 15000;
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
    QString m_anchor;              ///< the log is complete up to here: later replays start here
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
    qint64 m_renamed = 0; ///< events accepted under a restore's new epoch (ClientVerdict::renamed)
    int m_resyncs = 0, m_connections = 0;
    int m_lossResyncs = 0; ///< the log's own replays told resync_required by a recorded loss
    double m_seconds = 0;
    QStringList m_problems;
    QStringList m_clientReports;
    QStringList m_clientLines; ///< one per client, for the operation log file

    // the nemeses
    QList<NemesisRecord> m_nemeses;
    NemesisFigures m_figures[int(Nemesis::Count)];
    QMap<QString, int> m_resyncReasons;
    QString m_historyMount;        ///< the journal's tmpfs (empty: none)
    int m_diskFull = -1;           ///< the record of the full disk, while it is full
    qint64 m_diskFreeAtOp = -1;
    int m_oom = -1;                ///< the record of the Redis OOM, while it lasts
    qint64 m_oomEndMs = 0;
    int m_fillers = 0;             ///< filler keys written (gray:filler:<n>)
    QString m_redisSnapshot;       ///< the saved RDB, to restore later (empty: none)
    qint64 m_restoreAtOp = -1;
    qint64 m_snapshotSeq = 0;      ///< World::nextSeq at the last snapshot of the log
    QStringList m_nemesisNotes;    ///< nemeses that could not run here, once each
    QList<QPair<int, qint64>> m_probes; ///< probe clients and the operation they leave at
};

} // namespace Model
