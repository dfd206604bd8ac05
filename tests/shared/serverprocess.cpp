#include "serverprocess.h"

#include "testutil.h"

#include <QDeadlineTimer>
#include <QRegularExpression>
#include <QTest>
#include <QThread>

#include <csignal>
#include <sys/prctl.h>

namespace Hermes::Test {

ServerProcess::ServerProcess()
{
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    // A test that dies (a watchdog abort, a signal) takes its servers with it.
    m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
    QObject::connect(&m_process, &QProcess::readyRead, [this] {
        const QByteArray chunk = m_process.readAll();
        m_output += chunk;
        for (const QByteArray &line : chunk.split('\n')) {
            if (!line.isEmpty())
                fprintf(stderr, "[server:%u] %s\n", unsigned(m_port), line.constData());
        }
    });
    // Under ThreadSanitizer (the tsan preset: TSAN_OPTIONS halt_on_error=1) a data race in the
    // server stops it; the test would see only a server that went away, or nothing at all if
    // the server was killed at the end. Its report is in the log above: the suite fails here,
    // whenever the process is seen to end (also in kill(), so a report is never missed).
    QObject::connect(&m_process, &QProcess::finished, [this] {
        if (m_output.contains("WARNING: ThreadSanitizer:"))
            qFatal("hermes-server on port %u reported a ThreadSanitizer warning (its log above)",
                   unsigned(m_port));
    });
}

ServerProcess::~ServerProcess()
{
    if (m_process.state() != QProcess::NotRunning)
        kill();
}

QString ServerProcess::baseUrl() const
{
    return QStringLiteral("http://127.0.0.1:%1").arg(m_port);
}

bool ServerProcess::start(const QProcessEnvironment &extraEnv, const QStringList &args)
{
    // A port picked here (the first start) may be taken by someone else before the server
    // binds it: pick another. A restart keeps its port, as do ports the test chose.
    const bool chosenHere = m_port == 0 && !extraEnv.contains(QStringLiteral("HERMES_PORT"));
    for (int attempt = 0;; ++attempt) {
        if (launch(extraEnv, args) && waitReady())
            return true;
        if (!chosenHere || attempt == 4 || !m_output.contains("Address already in use"))
            return false;
        m_port = 0;
    }
}

bool ServerProcess::launch(const QProcessEnvironment &extraEnv, const QStringList &args)
{
    if (!m_dataDir.isValid()) {
        m_error = QStringLiteral("no temporary data dir");
        return false;
    }
    if (m_port == 0)
        m_port = freePort();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    // CTest runs the stream suites once more with other I/O settings (tests/CMakeLists.txt):
    // HERMES_TEST_IO_THREADS and HERMES_TEST_IO_BACKEND become the server's.
    const QString ioThreads = env.value(QStringLiteral("HERMES_TEST_IO_THREADS"));
    const QString ioBackend = env.value(QStringLiteral("HERMES_TEST_IO_BACKEND"));
    // A developer's own HERMES_* settings must not leak into the tests.
    for (const QString &key : env.keys()) {
        if (key.startsWith(QLatin1StringView("HERMES_")))
            env.remove(key);
    }
    if (!ioThreads.isEmpty())
        env.insert(QStringLiteral("HERMES_IO_THREADS"), ioThreads);
    if (!ioBackend.isEmpty())
        env.insert(QStringLiteral("HERMES_IO_BACKEND"), ioBackend);
    env.insert(QStringLiteral("HERMES_HOST"), QStringLiteral("127.0.0.1"));
    env.insert(QStringLiteral("HERMES_PORT"), QString::number(m_port));
    env.insert(QStringLiteral("HERMES_DATA_DIR"), m_dataDir.path());
    if (!extraEnv.contains(QStringLiteral("HERMES_API_KEYS"))
        && !extraEnv.contains(QStringLiteral("HERMES_API_KEY_FILE")))
        env.insert(QStringLiteral("HERMES_API_KEYS"), QString::fromLatin1(ApiKey));
    for (const QString &key : extraEnv.keys())
        env.insert(key, extraEnv.value(key));
    // What the server's start log must show (unless the test chose its own settings).
    m_ioBackend = ioBackend.isEmpty() ? QString() : env.value(QStringLiteral("HERMES_IO_BACKEND"));
    m_ioThreads = ioThreads.isEmpty() ? QString() : env.value(QStringLiteral("HERMES_IO_THREADS"));
    m_ioBackendRefused = false;
    m_process.setProcessEnvironment(env);
    m_output.clear();
    // HERMES_TEST_SERVER_BINARY runs the suites against another build (e.g. release, to
    // measure memory without the sanitizers).
    const QString binary = qEnvironmentVariableIsSet("HERMES_TEST_SERVER_BINARY")
        ? qEnvironmentVariable("HERMES_TEST_SERVER_BINARY")
        : QStringLiteral(HERMES_SERVER_BINARY);
    m_process.start(binary, args);
    if (!m_process.waitForStarted(5000)) {
        m_error = QStringLiteral("could not start %1: %2").arg(binary, m_process.errorString());
        return false;
    }
    return true;
}

bool ServerProcess::waitReady()
{
    // Sanitizer builds start slowly; 20 s is a bound, not an expectation.
    QDeadlineTimer deadline(20000);
    while (!deadline.hasExpired()) {
        if (m_process.state() == QProcess::NotRunning) {
            m_error = QStringLiteral("hermes-server exited with %1 during start-up")
                          .arg(m_process.exitCode());
            return false;
        }
        if (httpRequest(m_port, "GET", "/api/v1/events/health", {}, {}, 1000).status == 200)
            return checkIoBackend();
        QTest::qWait(50);
    }
    m_error = QStringLiteral("hermes-server did not answer /health within 20 s");
    return false;
}

bool ServerProcess::checkIoBackend()
{
    if (m_ioBackend.isEmpty() && m_ioThreads.isEmpty())
        return true;
    // EventHub logs how its streams send once its I/O threads started, before the server
    // listens: the line is in the pipe by now, if not read yet.
    static const QRegularExpression startLine(QStringLiteral(
        "streams on (\\d+) I/O thread\\(s\\),(?: sends through (io_uring|epoll)| \\d+ sending "
        "through io_uring, the others through epoll)"));
    QRegularExpressionMatch match;
    const QDeadlineTimer deadline(5000);
    while (!(match = startLine.match(QString::fromUtf8(m_output))).hasMatch()) {
        if (deadline.hasExpired()) {
            m_error = QStringLiteral("hermes-server's log does not say how its streams send "
                                     "(\"streams on … I/O thread(s), sends through …\")");
            return false;
        }
        QTest::qWait(20);
    }
    if (!m_ioThreads.isEmpty() && match.captured(1) != m_ioThreads) {
        m_error = QStringLiteral("asked for %1 I/O thread(s), hermes-server started %2")
                      .arg(m_ioThreads, match.captured(1));
        return false;
    }
    const QString ran = match.captured(2).isEmpty() ? QStringLiteral("io_uring on some threads only")
                                                    : match.captured(2);
    if (m_ioBackend.isEmpty() || m_ioBackend == u"auto" || ran == m_ioBackend)
        return true;
    if (m_ioBackend == u"io_uring") {
        // Why the kernel refused it is the line before (BatchSender's fallback reason).
        static const QRegularExpression reason(QStringLiteral("(io_uring [^\\n]*) - sending through epoll"));
        const QRegularExpressionMatch why = reason.match(QString::fromUtf8(m_output));
        m_ioBackendRefused = true;
        m_error = QStringLiteral("HERMES_TEST_IO_BACKEND=io_uring, but the kernel refused it "
                                 "(%1): hermes-server sends through %2")
                      .arg(why.hasMatch() ? why.captured(1) : QStringLiteral("no reason logged"), ran);
        return false;
    }
    m_error = QStringLiteral("HERMES_TEST_IO_BACKEND=%1, but hermes-server sends through %2")
                  .arg(m_ioBackend, ran);
    return false;
}

QString ServerProcess::skipUnlessIoBackendRuns(QString *error)
{
    if (qEnvironmentVariableIsEmpty("HERMES_TEST_IO_BACKEND"))
        return {};
    ServerProcess probe;
    if (probe.start())
        return {};
    if (probe.ioBackendRefused())
        return probe.errorString();
    *error = probe.errorString();
    return {};
}

int ServerProcess::terminate(int timeoutMs)
{
    if (m_process.state() == QProcess::NotRunning)
        return m_process.exitCode();
    ::kill(pid_t(m_process.processId()), SIGTERM);
    if (m_process.waitForFinished(timeoutMs) && m_process.exitStatus() == QProcess::NormalExit)
        return m_process.exitCode();
    kill();
    return -1;
}

void ServerProcess::kill()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.kill();
    m_process.waitForFinished(5000);
}

} // namespace Hermes::Test
