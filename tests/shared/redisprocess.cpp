#include "redisprocess.h"

#include "testutil.h"

#include <QDeadlineTimer>
#include <QTcpSocket>
#include <QTest>

#include <csignal>
#include <sys/prctl.h>

namespace Hermes::Test {

RedisProcess::RedisProcess(bool appendOnly) : m_appendOnly(appendOnly)
{
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    // A test that dies (a watchdog abort, a signal) takes its redis-server with it.
    m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
}

RedisProcess::~RedisProcess()
{
    kill();
}

QString RedisProcess::url() const
{
    return QStringLiteral("redis://127.0.0.1:%1").arg(m_port);
}

bool RedisProcess::start()
{
    if (m_port == 0)
        m_port = freePort();
    QStringList args{QStringLiteral("--port"), QString::number(m_port),
                     QStringLiteral("--bind"), QStringLiteral("127.0.0.1"),
                     QStringLiteral("--save"), QString(),
                     QStringLiteral("--dir"), m_dir.path(),
                     QStringLiteral("--appendonly"), m_appendOnly ? QStringLiteral("yes") : QStringLiteral("no")};
    if (m_appendOnly)
        args += {QStringLiteral("--appendfsync"), QStringLiteral("always")};
    args += m_extraArgs;
    m_process.start(QStringLiteral("redis-server"), args);
    if (!m_process.waitForStarted(5000)) {
        m_error = QStringLiteral("cannot start redis-server (is it installed?): ") + m_process.errorString();
        return false;
    }
    QDeadlineTimer deadline(10000);
    while (!deadline.hasExpired()) {
        if (cli({QStringLiteral("PING")}) == "PONG")
            return true;
        QTest::qWait(50);
    }
    m_error = QStringLiteral("redis-server did not answer PING: ") + QString::fromUtf8(m_process.readAll());
    return false;
}

void RedisProcess::kill()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.kill(); // a stopped process dies of SIGKILL too
    m_process.waitForFinished(5000);
}

void RedisProcess::pause()
{
    if (m_process.state() != QProcess::NotRunning)
        ::kill(pid_t(m_process.processId()), SIGSTOP);
}

void RedisProcess::resume()
{
    if (m_process.state() != QProcess::NotRunning)
        ::kill(pid_t(m_process.processId()), SIGCONT);
}

void RedisProcess::terminate()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.terminate();
    if (!m_process.waitForFinished(5000))
        kill();
}

QByteArray RedisProcess::cli(const QStringList &args) const
{
    QProcess cli;
    QStringList all{QStringLiteral("-p"), QString::number(m_port)};
    if (!m_password.isEmpty())
        all += {QStringLiteral("-a"), m_password, QStringLiteral("--no-auth-warning")};
    cli.start(QStringLiteral("redis-cli"), all + args);
    if (!cli.waitForFinished(5000)) {
        cli.kill();
        cli.waitForFinished(1000);
        return {};
    }
    return cli.readAllStandardOutput().trimmed();
}

} // namespace Hermes::Test
