#pragma once

#include <QByteArray>
#include <QProcess>
#include <QStringList>
#include <QTemporaryDir>

namespace Hermes::Test {

/**
 * A real redis-server on a free port of 127.0.0.1, with its own directory, stopped by pid.
 * Persistence is off unless asked for (then appendonly with fsync on every write, so a test
 * can kill it and find every acknowledged write after the restart).
 */
class RedisProcess
{
public:
    explicit RedisProcess(bool appendOnly = false);
    ~RedisProcess();

    bool start();
    void kill();      ///< SIGKILL, as a crash
    void terminate(); ///< SIGTERM
    void pause();     ///< SIGSTOP: a hung server
    void resume();    ///< SIGCONT
    bool isRunning() const { return m_process.state() != QProcess::NotRunning; }
    /// More redis-server arguments for the next start() (--replicaof, --requirepass, …).
    void setExtraArgs(const QStringList &args) { m_extraArgs = args; }
    /// The password cli() authenticates with (the server's --requirepass).
    void setPassword(const QString &password) { m_password = password; }
    /// Keep this port for the next start() (a restart of "the same" server).
    void setPort(quint16 port) { m_port = port; }
    quint16 port() const { return m_port; }
    QString url() const;
    QString errorString() const { return m_error; }
    /// Its working directory: `dump.rdb` there is loaded by start() (snapshots, restores).
    QString dir() const { return m_dir.path(); }

    /// Runs redis-cli with `args` against this server; returns its stdout (trimmed).
    QByteArray cli(const QStringList &args) const;

private:
    QProcess m_process;
    QTemporaryDir m_dir;
    quint16 m_port = 0;
    bool m_appendOnly;
    QStringList m_extraArgs;
    QString m_password;
    QString m_error;
};

} // namespace Hermes::Test
