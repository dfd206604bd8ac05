#include "postgresprocess.h"

#include "testutil.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QTest>

#include <csignal>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

namespace Hermes::Test {

// The uid/gid PostgreSQL runs as: ours, or `postgres` when we are root.
static bool serverUser(uid_t *uid, gid_t *gid)
{
    if (::geteuid() != 0) {
        *uid = ::geteuid();
        *gid = ::getegid();
        return true;
    }
    const passwd *pw = ::getpwnam("postgres");
    if (!pw)
        return false;
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return true;
}

static void dropPrivileges(QProcess &process)
{
    uid_t uid = 0;
    gid_t gid = 0;
    if (::geteuid() != 0 || !serverUser(&uid, &gid))
        return;
    process.setChildProcessModifier([uid, gid] {
        // In the child between fork and exec: only async-signal-safe calls.
        if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)
            ::_exit(126);
    });
}

PostgresProcess::PostgresProcess()
{
    m_process.setProcessChannelMode(QProcess::MergedChannels);
}

PostgresProcess::~PostgresProcess()
{
    stop();
}

QString PostgresProcess::binDir()
{
    for (const char *version : {"15", "16", "17", "14", "13"}) {
        const QString dir = QStringLiteral("/usr/lib/postgresql/%1/bin").arg(QLatin1StringView(version));
        if (QFile::exists(dir + QStringLiteral("/initdb")) && QFile::exists(dir + QStringLiteral("/postgres")))
            return dir;
    }
    return {};
}

bool PostgresProcess::run(const QString &program, const QStringList &args, QString *output)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    dropPrivileges(p);
    p.setWorkingDirectory(m_dir.path());
    p.start(program, args);
    const bool ok = p.waitForFinished(60000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    if (!ok && p.state() != QProcess::NotRunning) {
        p.kill();
        p.waitForFinished(1000);
    }
    *output = QString::fromLocal8Bit(p.readAll());
    return ok;
}

bool PostgresProcess::start()
{
    const QString bin = binDir();
    if (bin.isEmpty()) {
        m_error = QStringLiteral("PostgreSQL is not installed (apt-get install postgresql)");
        return false;
    }
    uid_t uid = 0;
    gid_t gid = 0;
    if (!m_dir.isValid() || !serverUser(&uid, &gid)
        || ::chown(QFile::encodeName(m_dir.path()).constData(), uid, gid) != 0) {
        m_error = QStringLiteral("cannot prepare %1 for the postgres user").arg(m_dir.path());
        return false;
    }
    const QString data = m_dir.filePath(QStringLiteral("data"));
    const QString pwfile = m_dir.filePath(QStringLiteral("pw"));
    QString output;
    if (!QFile::exists(data)) {
        {
            QFile f(pwfile);
            if (!f.open(QIODevice::WriteOnly))
                return false;
            f.write("superuser-unused\n");
        }
        if (::chown(QFile::encodeName(pwfile).constData(), uid, gid) != 0)
            return false;
        if (!run(bin + QStringLiteral("/initdb"),
                 {QStringLiteral("-D"), data, QStringLiteral("-U"), QStringLiteral("postgres"),
                  QStringLiteral("--pwfile=") + pwfile, QStringLiteral("--auth-local=trust"),
                  QStringLiteral("--auth-host=scram-sha-256"), QStringLiteral("-E"), QStringLiteral("UTF8"),
                  QStringLiteral("--locale=C"), QStringLiteral("--no-sync")},
                 &output)) {
            m_error = QStringLiteral("initdb failed: ") + output;
            return false;
        }
    }
    if (m_port == 0)
        m_port = freePort();
    dropPrivileges(m_process);
    m_process.start(bin + QStringLiteral("/postgres"),
                    {QStringLiteral("-D"), data, QStringLiteral("-p"), QString::number(m_port),
                     QStringLiteral("-k"), m_dir.path(),
                     QStringLiteral("-c"), QStringLiteral("listen_addresses=127.0.0.1"),
                     QStringLiteral("-c"), QStringLiteral("fsync=off"),
                     QStringLiteral("-c"), QStringLiteral("full_page_writes=off"),
                     QStringLiteral("-c"), QStringLiteral("synchronous_commit=off"),
                     QStringLiteral("-c"), QStringLiteral("shared_buffers=32MB"),
                     QStringLiteral("-c"), QStringLiteral("max_connections=100")});
    if (!m_process.waitForStarted(5000)) {
        m_error = QStringLiteral("cannot start postgres: ") + m_process.errorString();
        return false;
    }
    QDeadlineTimer deadline(30000);
    while (!deadline.hasExpired()) {
        if (m_process.state() == QProcess::NotRunning) {
            m_error = QStringLiteral("postgres exited: ") + QString::fromLocal8Bit(m_process.readAll());
            return false;
        }
        if (psql(QStringLiteral("SELECT 1")) == "1")
            break;
        QTest::qWait(100);
    }
    if (deadline.hasExpired()) {
        m_error = QStringLiteral("postgres did not answer: ") + QString::fromLocal8Bit(m_process.readAll());
        return false;
    }
    if (psql(QStringLiteral("SELECT 1 FROM pg_roles WHERE rolname = '%1'").arg(QLatin1StringView(User))) != "1"
        && psql(QStringLiteral("CREATE ROLE %1 LOGIN PASSWORD '%2'")
                    .arg(QLatin1StringView(User), QLatin1StringView(Password))).isNull()) {
        m_error = QStringLiteral("cannot create the role");
        return false;
    }
    return true;
}

void PostgresProcess::stop()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    ::kill(pid_t(m_process.processId()), SIGCONT); // a test may have stopped it
    ::kill(pid_t(m_process.processId()), SIGINT);  // fast shutdown
    if (!m_process.waitForFinished(10000)) {
        ::kill(pid_t(m_process.processId()), SIGQUIT);
        if (!m_process.waitForFinished(5000)) {
            m_process.kill();
            m_process.waitForFinished(2000);
        }
    }
}

QString PostgresProcess::createDatabase()
{
    const QString name = QStringLiteral("hermes%1").arg(++m_databases);
    if (psql(QStringLiteral("CREATE DATABASE %1 OWNER %2").arg(name, QLatin1StringView(User))).isNull())
        return {};
    return name;
}

QString PostgresProcess::url(const QString &database, bool withPassword, quint16 port) const
{
    return QStringLiteral("postgresql://%1%2@127.0.0.1:%3/%4")
        .arg(QLatin1StringView(User),
             withPassword ? QStringLiteral(":") + QLatin1StringView(Password) : QString())
        .arg(port ? port : m_port)
        .arg(database);
}

QByteArray PostgresProcess::psql(const QString &sql, const QString &database) const
{
    QProcess p;
    p.start(binDir() + QStringLiteral("/psql"),
            {QStringLiteral("-h"), m_dir.path(), QStringLiteral("-p"), QString::number(m_port),
             QStringLiteral("-U"), QStringLiteral("postgres"), QStringLiteral("-d"), database,
             QStringLiteral("-v"), QStringLiteral("ON_ERROR_STOP=1"), QStringLiteral("-Atc"), sql});
    if (!p.waitForFinished(10000) || p.exitCode() != 0) {
        if (p.state() != QProcess::NotRunning) {
            p.kill();
            p.waitForFinished(1000);
        }
        return {};
    }
    const QByteArray out = p.readAllStandardOutput().trimmed();
    return out.isNull() ? QByteArray("") : out;
}

} // namespace Hermes::Test
