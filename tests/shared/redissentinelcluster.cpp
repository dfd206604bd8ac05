#include "redissentinelcluster.h"

#include "testutil.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QTest>

#include <csignal>
#include <sys/prctl.h>

namespace Hermes::Test {

SentinelProcess::SentinelProcess()
{
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
}

SentinelProcess::~SentinelProcess()
{
    kill();
}

bool SentinelProcess::start(const QString &masterName, quint16 masterPort, int quorum,
                            const QString &password, const QString &dataPassword)
{
    m_port = freePort();
    m_password = password;
    QByteArray conf = "port " + QByteArray::number(m_port) + "\nbind 127.0.0.1\n"
        "dir " + m_dir.path().toUtf8() + "\n"
        "sentinel monitor " + masterName.toUtf8() + " 127.0.0.1 " + QByteArray::number(masterPort) + ' '
        + QByteArray::number(quorum) + "\n"
        "sentinel down-after-milliseconds " + masterName.toUtf8() + " 1000\n"
        "sentinel failover-timeout " + masterName.toUtf8() + " 3000\n";
    if (!dataPassword.isEmpty())
        conf += "sentinel auth-pass " + masterName.toUtf8() + ' ' + dataPassword.toUtf8() + '\n';
    if (!password.isEmpty())
        conf += "requirepass " + password.toUtf8() + '\n'; // also what it gives the other sentinels
    const QString path = m_dir.filePath(QStringLiteral("sentinel.conf"));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(conf) != conf.size()) {
        m_error = QStringLiteral("cannot write ") + path;
        return false;
    }
    file.close();
    m_process.start(QStringLiteral("redis-server"), {path, QStringLiteral("--sentinel")});
    if (!m_process.waitForStarted(5000)) {
        m_error = QStringLiteral("cannot start redis-server --sentinel: ") + m_process.errorString();
        return false;
    }
    QDeadlineTimer deadline(10000);
    while (!deadline.hasExpired()) {
        if (cli({QStringLiteral("PING")}) == "PONG")
            return true;
        QTest::qWait(50);
    }
    m_error = QStringLiteral("the sentinel did not answer PING: ") + QString::fromUtf8(m_process.readAll());
    return false;
}

void SentinelProcess::kill()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.kill();
    m_process.waitForFinished(5000);
}

QByteArray SentinelProcess::cli(const QStringList &args) const
{
    QProcess cli;
    QStringList all{QStringLiteral("-p"), QString::number(m_port)};
    if (!m_password.isEmpty())
        all += {QStringLiteral("-a"), m_password, QStringLiteral("--no-auth-warning")};
    cli.start(QStringLiteral("redis-cli"), all + args);
    if (!cli.waitForFinished(3000)) {
        cli.kill();
        cli.waitForFinished(1000);
        return {};
    }
    return cli.readAllStandardOutput().trimmed();
}

RedisSentinelCluster::RedisSentinelCluster(Options options) : m_options(std::move(options)) {}

RedisSentinelCluster::~RedisSentinelCluster()
{
    m_sentinels.clear(); // first: no failover while the servers go
    m_servers.clear();
}

bool RedisSentinelCluster::start()
{
    QStringList auth;
    if (!m_options.password.isEmpty())
        auth = {QStringLiteral("--requirepass"), m_options.password,
                QStringLiteral("--masterauth"), m_options.password};
    for (int i = 0; i <= m_options.replicas; ++i) {
        auto server = std::make_unique<RedisProcess>();
        server->setPassword(m_options.password);
        QStringList args = auth;
        if (i > 0)
            args += {QStringLiteral("--replicaof"), QStringLiteral("127.0.0.1"),
                     QString::number(m_servers[0]->port())};
        server->setExtraArgs(args);
        if (!server->start()) {
            m_error = server->errorString();
            return false;
        }
        m_servers.push_back(std::move(server));
    }
    if (!waitForReplicas(m_options.replicas, 15000)) {
        m_error = QStringLiteral("the replicas did not come online");
        return false;
    }
    for (int i = 0; i < m_options.sentinels; ++i) {
        auto sentinel = std::make_unique<SentinelProcess>();
        if (!sentinel->start(QString::fromLatin1(MasterName), m_servers[0]->port(), 2,
                             m_options.sentinelPassword, m_options.password)) {
            m_error = sentinel->errorString();
            return false;
        }
        m_sentinels.push_back(std::move(sentinel));
    }
    return waitUntilReady(30000);
}

bool RedisSentinelCluster::waitUntilReady(int timeoutMs)
{
    // Every sentinel must know the others (hello messages, every 2 s) and the replicas, or
    // a failover cannot be agreed on.
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        bool ready = true;
        for (const auto &s : m_sentinels) {
            const QByteArray master = s->cli({QStringLiteral("SENTINEL"), QStringLiteral("master"),
                                              QString::fromLatin1(MasterName)});
            const QList<QByteArray> lines = master.split('\n');
            auto field = [&](const QByteArray &name) {
                const qsizetype i = lines.indexOf(name);
                return i >= 0 && i + 1 < lines.size() ? lines[i + 1].toInt() : -1;
            };
            if (field("num-slaves") < m_options.replicas || field("num-other-sentinels") < m_options.sentinels - 1)
                ready = false;
        }
        if (ready)
            return true;
        QTest::qWait(200);
    }
    m_error = QStringLiteral("the sentinels did not find each other and the replicas in time");
    return false;
}

QString RedisSentinelCluster::sentinelList() const
{
    QStringList out;
    for (const auto &s : m_sentinels)
        out << QStringLiteral("127.0.0.1:%1").arg(s->port());
    return out.join(u',');
}

int RedisSentinelCluster::namedMaster()
{
    for (const auto &s : m_sentinels) {
        const QList<QByteArray> reply = s->cli({QStringLiteral("SENTINEL"), QStringLiteral("get-master-addr-by-name"),
                                                QString::fromLatin1(MasterName)}).split('\n');
        if (reply.size() != 2)
            continue;
        for (int i = 0; i < serverCount(); ++i) {
            if (reply[1].toInt() == m_servers[size_t(i)]->port())
                return i;
        }
    }
    return -1;
}

int RedisSentinelCluster::waitForNewMaster(int old, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        const int named = namedMaster();
        if (named >= 0 && named != old && server(named).isRunning()
            && server(named).cli({QStringLiteral("ROLE")}).startsWith("master"))
            return named;
        QTest::qWait(100);
    }
    return -1;
}

bool RedisSentinelCluster::restartAsReplica(int i)
{
    const int master = namedMaster();
    if (master < 0 || master == i)
        return false;
    RedisProcess &s = server(i);
    s.kill();
    QStringList args;
    if (!m_options.password.isEmpty())
        args = {QStringLiteral("--requirepass"), m_options.password,
                QStringLiteral("--masterauth"), m_options.password};
    args += {QStringLiteral("--replicaof"), QStringLiteral("127.0.0.1"), QString::number(server(master).port())};
    s.setExtraArgs(args);
    return s.start();
}

bool RedisSentinelCluster::waitForReplicas(int replicas, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        const int master = m_sentinels.empty() ? 0 : namedMaster();
        if (master >= 0) {
            const QByteArray info = server(master).cli({QStringLiteral("INFO"), QStringLiteral("replication")});
            int online = 0;
            for (const QByteArray &line : info.split('\n'))
                online += line.startsWith("slave") && line.contains("state=online") ? 1 : 0;
            if (online >= replicas)
                return true;
        }
        QTest::qWait(100);
    }
    return false;
}

} // namespace Hermes::Test
