#pragma once

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>

namespace Hermes::Test {

/**
 * A real PostgreSQL server (Debian's, /usr/lib/postgresql/<version>/bin) in a temporary
 * directory on a free port of 127.0.0.1, with a role and database for Hermes.
 *
 * PostgreSQL refuses to run as root: when the tests run as root (CI), initdb and postgres run
 * as the `postgres` system user (the directory is handed to it). TCP connections need the
 * role's password (scram-sha-256); the superuser works over the directory's socket only.
 * Durability is off (fsync): a test database, not a real one.
 */
class PostgresProcess
{
public:
    static constexpr const char *User = "hermes";
    static constexpr const char *Password = "hermes-test-password";

    PostgresProcess();
    ~PostgresProcess();

    /// Whether the server binaries are installed (a suite skips otherwise).
    static QString binDir();

    bool start();
    void stop(); ///< fast shutdown, waits
    quint16 port() const { return m_port; }
    qint64 pid() const { return m_process.processId(); }
    QString errorString() const { return m_error; }

    /// Creates a fresh database owned by User; returns its name.
    QString createDatabase();
    /// postgresql://hermes[:password]@127.0.0.1:<port>/<database>
    QString url(const QString &database, bool withPassword = true, quint16 port = 0) const;
    /// Runs `sql` as the superuser (psql -At); returns stdout trimmed, or a null array on error.
    QByteArray psql(const QString &sql, const QString &database = QStringLiteral("postgres")) const;

private:
    bool run(const QString &program, const QStringList &args, QString *output);

    QProcess m_process;
    QTemporaryDir m_dir;
    quint16 m_port = 0;
    int m_databases = 0;
    QString m_error;
};

} // namespace Hermes::Test
