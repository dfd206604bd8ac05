#pragma once

#include "modeltypes.h"
#include "testutil.h"

#include <QElapsedTimer>
#include <QObject>
#include <QProcessEnvironment>
#include <QRandomGenerator>
#include <QTemporaryDir>

#include <array>
#include <memory>
#include <vector>

namespace Hermes::Test {
class PostgresProcess;
class RedisProcess;
class ServerProcess;
}

namespace DlModel {

class EventRecorder;
class Origin;

/// The draws of one step, taken before anything is decided: a step takes the same number of
/// draws whatever timing made of the state, so a seed always replays the same sequence.
using Draws = std::array<quint32, 10>;

/// The checks of the promise, numbered as in the issue; Run: the deployment itself (a node that
/// crashed or did not start, an infrastructure failure).
enum class Check { Run, Status, Content, Failure, Directory, Outside, Events, Count };
QString checkName(Check c);

/// One deployment to model.
struct ModelConfig
{
    QString name;
    bool postgres = false;   ///< nodes on PostgreSQL and Redis; else one node on SQLite
    int nodes = 1;
    int defaultSeconds = 15; ///< seconds of operations unless HERMES_MODEL_SECONDS says
};

struct RunLimits
{
    qint64 seconds = 0;      ///< seconds of operations; 0: the configuration's default
    quint64 seed = 0;
    quint32 nemeses = ~0u;   ///< bit n: Nemesis n may be injected
    QString opLogFile;       ///< non-empty: the whole operation log is written there
};

/**
 * One run of the download model: real hermes-server nodes (on PostgreSQL with Redis, or one on
 * SQLite) sharing one download dir, an origin on its own thread, a resolver the test controls;
 * a seeded stream of downloads, control requests and faults; then, every fault healed, a
 * bounded wait for quiescence and the download promise checked against what the test did
 * (see checks.cpp).
 *
 * The seed fixes every draw, and each step takes the same draws whatever timing made of the
 * state, so a seed replays the same sequence of decisions (add, pause, which fault, how long);
 * which download a decision lands on, and how many steps fit in the time, may vary with timing.
 */
class ModelRun final : public QObject
{
    Q_OBJECT
public:
    ModelRun(const ModelConfig &config, const RunLimits &limits);
    ~ModelRun() override;

    /// False when the promise does not hold, or the run could not be carried out.
    bool run();
    /// One line: seed, seconds, operations, faults by kind, downloads by status, corrupt, stuck.
    QString summary() const;
    /// What went wrong, with the seed and the operation log's tail.
    QString report() const;
    /// The checks that failed, with how many problems each: "2-content:1,3-failure:4".
    QString failedChecks() const;
    /// Nemeses left out and why ("SKIP nemesis …"), for the log.
    QStringList notes() const { return m_notes; }

private:
    struct Node
    {
        std::unique_ptr<Hermes::Test::ServerProcess> process;
        /// Hung: running, not stopped by the test, yet not answering even /livez (an event
        /// loop blocked for good, e.g. on a FIFO): left alone and reported.
        enum class State { Up, Down, Stopped, Hung } state = State::Up;
        qint64 healAtMs = 0;  ///< when it is restarted (Down) or continued (Stopped)
        bool faketime = false;
        int starts = 0;
    };
    /// A fault under way, healed at `healAtMs`.
    struct Active
    {
        Nemesis kind;
        qint64 healAtMs;
        QByteArray path;      ///< origin faults: the file
        int node = -1;        ///< process faults
    };

    // modelrun.cpp: the deployment and the operations
    bool setUp();
    bool prepareSandbox();
    void tearDown();
    QProcessEnvironment nodeEnv(int i) const;
    bool startNode(int i);
    bool probe();
    void checkProcesses();
    void step();
    void addDownload(const Draws &d);
    void addPartName(const Draws &d);
    void control(const Draws &d);
    Hermes::Test::HttpReply api(int node, const QByteArray &method, const QByteArray &path,
                                const QByteArray &body = {}, int timeoutMs = 4000);
    int pickNode(quint32 draw) const;  ///< a node that answers, or -1
    /// A request to node `i` got no answer: a node that does not answer /livez either is hung.
    void noteSilence(int i);
    bool allHung() const;
    QList<quint16> answeringPorts() const;
    QString lastSeenStatus(const DownloadRecord &r) const;
    void log(const QString &op);
    void fail(Check check, const QString &problem);
    Draws draws();

    // nemeses.cpp: the faults
    QList<Nemesis> applicableNemeses() const;
    void injectFault(const Draws &d);
    bool inject(Nemesis kind, const Draws &d);
    void healDue(bool everything);
    void heal(const Active &a);
    bool killNode(const Draws &d);
    bool stopNode(const Draws &d);
    bool restartPostgres(const Draws &d);
    bool failResolver(const Draws &d);
    bool changeVersion(quint32 d, const QList<QByteArray> &among);
    bool originFault(Nemesis kind, const Draws &d);
    bool fillDisk(const Draws &d);
    bool stepClock(const Draws &d);
    bool plant(Nemesis kind, DownloadRecord *r, quint32 d);
    bool plantAndReopen(Nemesis kind, const Draws &d);
    bool hostileDisposition(const Draws &d);
    QString targetNameGuess(const DownloadRecord &r) const;
    bool processFaultActive() const;
    bool enabled(Nemesis n) const { return m_limits.nemeses & (1u << int(n)); }

    // checks.cpp: the end
    bool quiesce();
    bool listRows(QList<QJsonObject> *rows);
    bool pausedByTest(const QString &id) const;
    QString nodeHealth();
    void checkAll(const QList<QJsonObject> &rows);
    void checkStatus(DownloadRecord &r);
    void checkCompleted(DownloadRecord &r);
    void checkFailure(const DownloadRecord &r, const QString &message, const QString &where);
    void checkDirectory();
    void checkOutside();
    void checkEvents(const DownloadRecord &r);
    QString plantsFor(const QString &id) const;
    qint64 freeMiB() const; ///< free in the download dir, -1: unknown

    ModelConfig m_config;
    RunLimits m_limits;
    QRandomGenerator m_rng;
    QElapsedTimer m_clock;
    std::unique_ptr<Hermes::Test::PostgresProcess> m_postgres;
    std::unique_ptr<Hermes::Test::RedisProcess> m_redis;
    QString m_database;
    bool m_postgresUp = false;
    std::vector<Node> m_nodes;
    std::unique_ptr<Origin> m_origin;
    std::unique_ptr<EventRecorder> m_recorder;
    QList<QByteArray> m_files;        ///< origin paths of the regular files
    QByteArray m_hugePath;            ///< larger than HERMES_DOWNLOAD_MAX_FILE_SIZE
    QList<DownloadRecord> m_downloads;
    QList<Plant> m_plants;
    QList<Active> m_active;
    QHash<QString, QByteArray> m_sentinels; ///< outside file name -> its bytes
    QStringList m_ghosts;             ///< dangling symlink targets (absolute): must never appear

    // the sandbox: <root>/downloads (a tmpfs when mounting is allowed) and <root>/outside
    QTemporaryDir m_root;
    QTemporaryDir m_control;          ///< the resolver's flag file, libfaketime's clock file
    QString m_downloadDir, m_outsideDir, m_resolverFlag, m_clockFile, m_ballast;
    bool m_tmpfs = false;
    QString m_faketimeLib;
    QStringList m_notes;              ///< nemeses left out, and why (printed)

    qint64 m_op = 0;
    QStringList m_opLog;
    std::array<int, size_t(Nemesis::Count)> m_faults{};
    int m_plantsLost = 0;             ///< plants the server's own file beat (not planted)
    int m_corrupt = 0, m_stuck = 0;
    /// When a node was SIGKILLed or SIGSTOPped (wallMs): a change its node published and then
    /// died (or slept) before releasing is published again by the next claim — at least once,
    /// not exactly once, in that window (README, "Fenced writers", 5).
    QList<qint64> m_interruptions;
    int m_republished = 0;
    int m_pendingRepeats = 0;         ///< see checkEvents: counted unless the events are strict
    std::array<int, size_t(Check::Count)> m_failedChecks{};
    double m_seconds = 0;
    QStringList m_problems;
};

} // namespace DlModel
