#pragma once

#include "redisprocess.h"

#include <QProcess>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>
#include <vector>

namespace Hermes::Test {

/**
 * A real redis-sentinel on a free port of 127.0.0.1, with its own writable config file (a
 * sentinel rewrites it), stopped by pid.
 */
class SentinelProcess
{
public:
    SentinelProcess();
    ~SentinelProcess();

    /// Monitors `masterName` at 127.0.0.1:masterPort with `quorum`; fails over fast
    /// (down-after 1 s, failover-timeout 3 s).
    bool start(const QString &masterName, quint16 masterPort, int quorum, const QString &password,
               const QString &dataPassword);
    void kill();
    quint16 port() const { return m_port; }
    QString errorString() const { return m_error; }
    QByteArray cli(const QStringList &args) const;

private:
    QProcess m_process;
    QTemporaryDir m_dir;
    quint16 m_port = 0;
    QString m_password;
    QString m_error;
};

/**
 * One Redis master, `replicas` replicas (`--replicaof`) and `sentinels` sentinels (quorum 2)
 * watching it as "m", every process on a free port and killed with the fixture. start() waits
 * until the sentinels know each other and the replicas, so a failover can happen.
 */
class RedisSentinelCluster
{
public:
    static constexpr const char *MasterName = "m";

    struct Options
    {
        int replicas = 2;
        int sentinels = 3;
        QString password;          ///< the data servers' requirepass / masterauth
        QString sentinelPassword;  ///< the sentinels' requirepass
    };

    explicit RedisSentinelCluster(Options options);
    RedisSentinelCluster() : RedisSentinelCluster(Options{}) {}
    ~RedisSentinelCluster();

    bool start();
    QString errorString() const { return m_error; }

    int serverCount() const { return int(m_servers.size()); }
    RedisProcess &server(int i) { return *m_servers[size_t(i)]; }
    SentinelProcess &sentinel(int i) { return *m_sentinels[size_t(i)]; }
    /// "127.0.0.1:p1,127.0.0.1:p2,…" for HERMES_REDIS_SENTINELS.
    QString sentinelList() const;
    /// The server a sentinel names as master now (asks them in turn); -1 when none answers.
    int namedMaster();
    /// Waits until the sentinels name another master than `old` and it says ROLE master;
    /// returns its index, or -1 after `timeoutMs`.
    int waitForNewMaster(int old, int timeoutMs);
    /// Restarts server `i` (after a kill) as a replica of the current master.
    bool restartAsReplica(int i);
    /// Waits until `replicas` replicas are online at the named master.
    bool waitForReplicas(int replicas, int timeoutMs);

private:
    bool waitUntilReady(int timeoutMs);

    Options m_options;
    std::vector<std::unique_ptr<RedisProcess>> m_servers;
    std::vector<std::unique_ptr<SentinelProcess>> m_sentinels;
    QString m_error;
};

} // namespace Hermes::Test
