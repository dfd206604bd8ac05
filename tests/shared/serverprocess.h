#pragma once

#include <QProcess>
#include <QProcessEnvironment>
#include <QStringList>
#include <QTemporaryDir>

namespace Hermes::Test {

/**
 * The real hermes-server binary, started on a free port with its own temporary data dir.
 *
 * The API key "test-key" is configured unless the environment given to start() sets
 * HERMES_API_KEYS or HERMES_API_KEY_FILE. Output goes to the test's stderr, prefixed, so a
 * failing suite shows the server's log.
 */
class ServerProcess
{
public:
    static constexpr const char *ApiKey = "test-key";

    ServerProcess();
    ~ServerProcess();

    /// Starts the server with `extraEnv` (HERMES_* settings) and `args`, waits until
    /// `/api/v1/events/health` answers (bounded). Returns false on failure (see errorString()).
    ///
    /// Under CTest's I/O variants (HERMES_TEST_IO_BACKEND, HERMES_TEST_IO_THREADS: see
    /// tests/CMakeLists.txt) it also checks the server's start log: a server that does not
    /// send through the backend asked for, on as many threads, is a failure too, so a variant
    /// never passes on another backend. When the kernel refused io_uring, ioBackendRefused()
    /// says so: the suite skips (see skipUnlessIoBackendRuns()).
    bool start(const QProcessEnvironment &extraEnv = {}, const QStringList &args = {});
    /// start() in two halves, to start several servers at once.
    bool launch(const QProcessEnvironment &extraEnv = {}, const QStringList &args = {});
    bool waitReady();
    /// After a failed start(): the variant asked for io_uring and the kernel refused it (the
    /// server sends through epoll); errorString() says why.
    bool ioBackendRefused() const { return m_ioBackendRefused; }
    /// For initTestCase() of a suite with I/O variants: starts one server and returns why the
    /// variant cannot run here (the kernel refuses io_uring), to QSKIP with; empty when it can
    /// (or no backend was asked for). `error`: set when the server did not start at all.
    static QString skipUnlessIoBackendRuns(QString *error);
    /// SIGTERM, then waits up to `timeoutMs`; returns the exit code, or -1 when it did not exit
    /// by itself (then it was killed).
    int terminate(int timeoutMs = 5000);
    /// SIGKILL and reap.
    void kill();

    quint16 port() const { return m_port; }
    QString baseUrl() const;
    QString dataDir() const { return m_dataDir.path(); }
    QProcess &process() { return m_process; }
    QByteArray output() const { return m_output; }
    QString errorString() const { return m_error; }
    /// Keep the port and data dir for the next start() (a restart of "the same" server).
    void setPort(quint16 port) { m_port = port; }

private:
    /// The start log against the I/O backend and threads asked for (see start()).
    bool checkIoBackend();

    QProcess m_process;
    QTemporaryDir m_dataDir;
    quint16 m_port = 0;
    QByteArray m_output;
    QString m_error;
    QString m_ioBackend;  ///< the HERMES_IO_BACKEND a variant gave the server; empty: none
    QString m_ioThreads;  ///< the HERMES_IO_THREADS a variant gave the server; empty: none
    bool m_ioBackendRefused = false;
};

} // namespace Hermes::Test
