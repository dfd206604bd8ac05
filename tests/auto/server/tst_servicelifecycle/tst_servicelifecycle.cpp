// The real hermes-server as a service: journald priorities and log levels, SIGHUP reload of the
// API keys while a stream stays open (and what needs a restart is said), sd_notify readiness,
// reload, watchdog and stopping on a socket the test binds, readiness while shutting down.

#include "http/streamtokens.h"
#include "redisprocess.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include <QJsonDocument>
#include <QJsonObject>

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QSocketNotifier>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

using namespace Hermes::Test;

namespace {

QByteArray bearer(const QByteArray &key)
{
    return "Bearer " + key;
}

int statusWithKey(quint16 port, const QByteArray &key)
{
    return httpRequest(port, "GET", "/api/v1/queue", {{"Authorization", bearer(key)}}).status;
}

bool writeFile(const QString &path, const QByteArray &contents)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(contents) == contents.size();
}

/// A unix datagram socket standing in for systemd's notification socket.
class NotifySocket
{
public:
    explicit NotifySocket(const QString &path) : m_path(path)
    {
        m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        qstrncpy(addr.sun_path, QFile::encodeName(path).constData(), sizeof addr.sun_path);
        m_bound = m_fd >= 0 && ::bind(m_fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0;
    }
    ~NotifySocket()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    bool isBound() const { return m_bound; }
    /// Reads every datagram that arrived; waits (event loop running) up to `ms` for
    /// one containing `needle`.
    bool waitFor(const QByteArray &needle, int ms)
    {
        QDeadlineTimer deadline(ms);
        do {
            drain();
            if (m_seen.contains(needle))
                return true;
            QTest::qWait(20);
        } while (!deadline.hasExpired());
        drain();
        return m_seen.contains(needle);
    }
    int count(const QByteArray &needle)
    {
        drain();
        return int(m_seen.count(needle));
    }
    QByteArray seen() const { return m_seen; }
    qsizetype position(const QByteArray &needle, qsizetype from = 0) const { return m_seen.indexOf(needle, from); }

private:
    void drain()
    {
        char buffer[4096];
        for (;;) {
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
            if (n <= 0)
                return;
            m_seen += QByteArray(buffer, int(n)) + "\n--\n";
        }
    }
    QString m_path;
    int m_fd = -1;
    bool m_bound = false;
    QByteArray m_seen;
};

/// A server's stderr in a file, and an environment without HERMES_ settings in which that
/// file is the journal's stream (JOURNAL_STREAM names its dev:ino, as systemd does for the
/// journal's socket) or a plain terminal-like stream.
struct LogCapture
{
    QString path;
    QProcessEnvironment env;

    bool prepare(const QTemporaryDir &dir, bool journal)
    {
        path = dir.filePath(QStringLiteral("stderr"));
        struct stat st {};
        if (!writeFile(path, {}) || ::stat(QFile::encodeName(path).constData(), &st) != 0)
            return false;
        env = QProcessEnvironment::systemEnvironment();
        for (const QString &key : env.keys()) {
            if (key.startsWith(QLatin1StringView("HERMES_")) || key == u"JOURNAL_STREAM")
                env.remove(key);
        }
        env.insert(QStringLiteral("HERMES_DATA_DIR"), dir.filePath(QStringLiteral("data")));
        if (journal)
            env.insert(QStringLiteral("JOURNAL_STREAM"), QStringLiteral("%1:%2").arg(st.st_dev).arg(st.st_ino));
        return true;
    }
    QByteArray text() const
    {
        QFile log(path);
        return log.open(QIODevice::ReadOnly) ? log.readAll() : QByteArray();
    }
};

} // namespace

class tst_ServiceLifecycle : public QObject
{
    Q_OBJECT

private slots:
    void journalPrioritiesAndLevels_data();
    void journalPrioritiesAndLevels();
    void startupErrorsAreErrors_data();
    void startupErrorsAreErrors();
    void sighupReloadsKeysWithoutDroppingStreams();
    void sighupWithBrokenSettingsKeepsTheOldOnes();
    void systemdNotifications();
    void readinessFailsWhileShuttingDown();
    void secretsFromCredentialsAndFiles();
};

void tst_ServiceLifecycle::journalPrioritiesAndLevels_data()
{
    QTest::addColumn<QString>("level");
    QTest::addColumn<bool>("journal");
    QTest::addColumn<bool>("infoShown");
    QTest::addColumn<bool>("requestsShown");
    QTest::newRow("journal, info") << "info" << true << true << false;
    QTest::newRow("journal, warning") << "warning" << true << false << false;
    QTest::newRow("journal, http debug") << "info,hermes.http=debug" << true << true << true;
    QTest::newRow("terminal, info") << "info" << false << true << false;
}

// Under the journal every line has a priority and no timestamp; the level spec decides what
// is shown; an unknown HERMES_ variable makes a warning.
void tst_ServiceLifecycle::journalPrioritiesAndLevels()
{
    QFETCH(QString, level);
    QFETCH(bool, journal);
    QFETCH(bool, infoShown);
    QFETCH(bool, requestsShown);
    QTemporaryDir dir;
    LogCapture capture;
    QVERIFY(capture.prepare(dir, journal));
    const quint16 port = freePort();
    QProcessEnvironment &env = capture.env;
    env.insert(QStringLiteral("HERMES_PORT"), QString::number(port));
    env.insert(QStringLiteral("HERMES_API_KEYS"), QStringLiteral("journal-test-key"));
    env.insert(QStringLiteral("HERMES_LOG_LEVEL"), level);
    env.insert(QStringLiteral("HERMES_SSE_HEARTBEAT_INTERVL"), QStringLiteral("5")); // a typo
    QProcess server;
    server.setProcessEnvironment(env);
    server.setStandardErrorFile(capture.path);
    server.start(QStringLiteral(HERMES_SERVER_BINARY), {});
    QVERIFY(server.waitForStarted(5000));
    QTRY_COMPARE_WITH_TIMEOUT(httpRequest(port, "GET", "/livez", {}, {}, 1000).status, 200, 20000);
    QCOMPARE(httpRequest(port, "GET", "/api/v1/queue", {{"Authorization", "Bearer journal-test-key"}}).status, 200);
    ::kill(pid_t(server.processId()), SIGTERM);
    QVERIFY(server.waitForFinished(10000));
    QCOMPARE(server.exitCode(), 0);

    const QByteArray text = capture.text();
    const QList<QByteArray> lines = text.trimmed().split('\n');
    QVERIFY2(!lines.isEmpty(), text.constData());
    static const QRegularExpression timestamp(QStringLiteral("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d"));
    for (const QByteArray &line : lines) {
        if (line.startsWith("==") || line.contains("Sanitizer") || line.startsWith("    #"))
            continue; // sanitizer reports are not ours
        if (journal) {
            QVERIFY2(QRegularExpression(QStringLiteral("^<[2-7]>")).match(QString::fromUtf8(line)).hasMatch(), line.constData());
            QVERIFY2(!timestamp.match(QString::fromUtf8(line)).hasMatch(), line.constData()); // journald stamps lines
        } else {
            QVERIFY2(timestamp.match(QString::fromUtf8(line)).hasMatch(), line.constData());
        }
    }
    const QByteArray warning = journal ? "<4>hermes.config: unknown setting HERMES_SSE_HEARTBEAT_INTERVL"
                                       : "warning hermes.config: unknown setting HERMES_SSE_HEARTBEAT_INTERVL";
    QVERIFY2(text.contains(warning), text.constData());
    QVERIFY2(text.contains("did you mean HERMES_SSE_HEARTBEAT_INTERVAL?"), text.constData());
    QCOMPARE(text.contains(journal ? "<6>hermes.http: listening on" : "info hermes.http: listening on"), infoShown);
    QCOMPARE(text.contains("GET /api/v1/queue"), requestsShown);
    if (requestsShown)
        QVERIFY2(text.contains("<7>hermes.http: GET /api/v1/queue"), text.constData());
    QVERIFY2(!text.contains("journal-test-key"), text.constData());
}

void tst_ServiceLifecycle::startupErrorsAreErrors_data()
{
    QTest::addColumn<bool>("journal");
    QTest::newRow("journal") << true;
    QTest::newRow("terminal") << false;
}

// A server that cannot start says why in one line: under systemd with the error priority (so
// `journalctl -p err` shows it), on a terminal as `hermes-server: ...`; and exits 78.
void tst_ServiceLifecycle::startupErrorsAreErrors()
{
    QFETCH(bool, journal);
    QTemporaryDir dir;
    LogCapture capture;
    QVERIFY(capture.prepare(dir, journal));
    capture.env.insert(QStringLiteral("HERMES_PORT"), QStringLiteral("not-a-port"));
    QProcess server;
    server.setProcessEnvironment(capture.env);
    server.setStandardErrorFile(capture.path);
    server.start(QStringLiteral(HERMES_SERVER_BINARY), {});
    QVERIFY(server.waitForFinished(20000));
    QCOMPARE(server.exitStatus(), QProcess::NormalExit);
    QCOMPARE(server.exitCode(), 78);
    const QByteArray text = capture.text();
    const QByteArray expected = journal ? "<3>hermes-server: " : "hermes-server: ";
    bool found = false;
    for (const QByteArray &line : text.split('\n'))
        found = found || (line.startsWith(expected) && line.contains("HERMES_PORT"));
    QVERIFY2(found, text.constData());
}

// The key file changes and SIGHUP makes the new key valid and the old one invalid, while a
// stream opened with a key that stays goes on receiving events (the streams of a removed key
// end: tst_revocation). A setting that needs a restart is named in the log.
void tst_ServiceLifecycle::sighupReloadsKeysWithoutDroppingStreams()
{
    QTemporaryDir dir;
    const QString keyFile = dir.filePath(QStringLiteral("keys"));
    const QString configFile = dir.filePath(QStringLiteral("hermes.env"));
    QVERIFY(writeFile(keyFile, "old-key-1234\nkept-key-0000\n"));
    QVERIFY(writeFile(configFile, "HERMES_SSE_HEARTBEAT_INTERVAL=30\n"));
    ServerProcess server;
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_API_KEY_FILE"), keyFile);
    QVERIFY2(server.start(env, {QStringLiteral("--config"), configFile}), qPrintable(server.errorString()));
    QCOMPARE(statusWithKey(server.port(), "old-key-1234"), 200);
    QCOMPARE(statusWithKey(server.port(), "new-key-5678"), 401);

    SseClient stream;
    stream.open(server.port(), "/api/v1/events/stream", {{"Authorization", bearer("kept-key-0000")}});
    QTRY_COMPARE_WITH_TIMEOUT(stream.events().size(), 1, 10000); // connected

    QVERIFY(writeFile(keyFile, "new-key-5678\nkept-key-0000\n"));
    QVERIFY(writeFile(configFile, "HERMES_SSE_HEARTBEAT_INTERVAL=7\nHERMES_LOG_LEVEL=info\n"));
    ::kill(pid_t(server.process().processId()), SIGHUP);
    QTRY_COMPARE_WITH_TIMEOUT(statusWithKey(server.port(), "new-key-5678"), 200, 10000);
    QCOMPARE(statusWithKey(server.port(), "old-key-1234"), 401);
    QTRY_VERIFY_WITH_TIMEOUT(server.output().contains("changed but applied only after a restart: HERMES_SSE_HEARTBEAT_INTERVAL"), 5000);
    QVERIFY(server.output().contains("reloaded the settings; 2 API key(s) in force"));

    // The stream opened with the kept key is still there and still delivers.
    QCOMPARE(httpRequest(server.port(), "POST", "/api/v1/events/publish",
                         {{"Authorization", bearer("new-key-5678")}, {"Content-Type", "application/json"}},
                         R"({"channel":"system:notifications","type":"system_notification","data":{"message":"after reload"}})").status,
             202);
    QTRY_VERIFY_WITH_TIMEOUT(stream.rawBody().contains("after reload"), 10000);
    QVERIFY(!stream.isClosed());
    QVERIFY(server.process().state() == QProcess::Running);
    QCOMPARE(server.terminate(), 0);
}

void tst_ServiceLifecycle::sighupWithBrokenSettingsKeepsTheOldOnes()
{
    QTemporaryDir dir;
    const QString keyFile = dir.filePath(QStringLiteral("keys"));
    QVERIFY(writeFile(keyFile, "good-key-1234\n"));
    ServerProcess server;
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_API_KEY_FILE"), keyFile);
    QVERIFY2(server.start(env), qPrintable(server.errorString()));
    QVERIFY(writeFile(keyFile, "sha256:not-hex\n"));
    ::kill(pid_t(server.process().processId()), SIGHUP);
    QTRY_VERIFY_WITH_TIMEOUT(server.output().contains("reload failed, the previous settings stay in force"), 10000);
    QCOMPARE(statusWithKey(server.port(), "good-key-1234"), 200);
    QVERIFY(server.process().state() == QProcess::Running);
    QCOMPARE(server.terminate(), 0);
}

void tst_ServiceLifecycle::systemdNotifications()
{
    QTemporaryDir dir;
    NotifySocket notify(dir.filePath(QStringLiteral("notify")));
    QVERIFY(notify.isBound());
    ServerProcess server;
    QProcessEnvironment env;
    env.insert(QStringLiteral("NOTIFY_SOCKET"), dir.filePath(QStringLiteral("notify")));
    env.insert(QStringLiteral("WATCHDOG_USEC"), QStringLiteral("400000")); // a ping every 200 ms
    QVERIFY2(server.start(env), qPrintable(server.errorString()));
    QVERIFY2(notify.waitFor("READY=1", 5000), notify.seen().constData());
    QVERIFY(notify.seen().contains("STATUS=serving on http://127.0.0.1:"));
    QVERIFY2(notify.waitFor("WATCHDOG=1", 3000), notify.seen().constData());
    QTRY_VERIFY_WITH_TIMEOUT(notify.count("WATCHDOG=1") >= 3, 5000);

    const qsizetype before = notify.seen().size();
    ::kill(pid_t(server.process().processId()), SIGHUP);
    QVERIFY2(notify.waitFor("RELOADING=1", 5000), notify.seen().constData());
    QTRY_VERIFY_WITH_TIMEOUT(notify.position("READY=1", notify.position("RELOADING=1", before)) > 0, 5000);
    QVERIFY(notify.seen().contains("MONOTONIC_USEC="));

    ::kill(pid_t(server.process().processId()), SIGTERM);
    QVERIFY2(notify.waitFor("STOPPING=1", 5000), notify.seen().constData());
    QVERIFY(server.process().waitForFinished(10000));
    QCOMPARE(server.process().exitCode(), 0);
}

// After SIGTERM the listener is closed, but a connection that is already open (a load
// balancer's keep-alive) gets 503 from /readyz until the process exits.
void tst_ServiceLifecycle::readinessFailsWhileShuttingDown()
{
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server.port());
    QVERIFY(socket.waitForConnected(5000));
    const QByteArray request = "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n";
    socket.write(request);
    QTRY_VERIFY_WITH_TIMEOUT(socket.bytesAvailable() > 0 && socket.peek(4096).contains("\r\n\r\n{"), 5000);
    QVERIFY(socket.readAll().startsWith("HTTP/1.1 200"));

    // Ask again and again from the moment of SIGTERM: the first answers may still be 200 (the
    // signal not handled yet), then 503 until the process exits 200 ms later.
    ::kill(pid_t(server.process().processId()), SIGTERM);
    QByteArray reply;
    QDeadlineTimer deadline(5000);
    while (!deadline.hasExpired() && socket.state() == QAbstractSocket::ConnectedState) {
        socket.write(request);
        QTRY_VERIFY_WITH_TIMEOUT(socket.peek(4096).contains("}") || socket.state() != QAbstractSocket::ConnectedState, 5000);
        reply = socket.readAll();
        if (reply.startsWith("HTTP/1.1 503"))
            break;
        QVERIFY2(reply.isEmpty() || reply.startsWith("HTTP/1.1 200"), reply.constData());
        QTest::qWait(5);
    }
    QVERIFY2(reply.startsWith("HTTP/1.1 503"), reply.constData());
    QVERIFY2(reply.contains("\"shutting_down\":true"), reply.constData());
    QVERIFY(server.process().waitForFinished(10000));
}

// Secrets without the environment: the API key file and the token secret as systemd
// credentials ($CREDENTIALS_DIRECTORY), the Redis URL from HERMES_REDIS_URL_FILE.
void tst_ServiceLifecycle::secretsFromCredentialsAndFiles()
{
    RedisProcess redis;
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    QTemporaryDir dir;
    QVERIFY(QDir().mkpath(dir.filePath(QStringLiteral("credentials"))));
    QVERIFY(writeFile(dir.filePath(QStringLiteral("credentials/api-keys")), "cred-key-1234\n"));
    QVERIFY(writeFile(dir.filePath(QStringLiteral("credentials/token-secret")), "cred-secret-5678\n"));
    QVERIFY(writeFile(dir.filePath(QStringLiteral("redis-url")), redis.url().toUtf8() + '\n'));
    ServerProcess server;
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_API_KEYS"), QString()); // no key but the credential
    env.insert(QStringLiteral("CREDENTIALS_DIRECTORY"), dir.filePath(QStringLiteral("credentials")));
    env.insert(QStringLiteral("HERMES_REDIS_URL_FILE"), dir.filePath(QStringLiteral("redis-url")));
    QVERIFY2(server.start(env), qPrintable(server.errorString()));
    QCOMPARE(statusWithKey(server.port(), "cred-key-1234"), 200);
    QVERIFY(!QFile::exists(server.dataDir() + QStringLiteral("/api-key"))); // nothing generated
    const HttpReply health = httpRequest(server.port(), "GET", "/api/v1/events/health");
    QCOMPARE(QJsonDocument::fromJson(health.body).object().value(QStringLiteral("broker")).toObject()
                 .value(QStringLiteral("type")).toString(), QStringLiteral("redis"));
    const HttpReply minted = httpRequest(server.port(), "POST", "/api/v1/events/token",
                                         {{"Authorization", bearer("cred-key-1234")}, {"Content-Type", "application/json"}},
                                         R"({"scope":"stream"})");
    QCOMPARE(minted.status, 200);
    Hermes::TokenScope scope;
    QCOMPARE(Hermes::StreamTokenService("cred-secret-5678").verify(
                 QJsonDocument::fromJson(minted.body).object().value(QStringLiteral("token")).toString().toUtf8(), &scope),
             Hermes::StreamTokenService::Verdict::Valid);
    QVERIFY(!server.output().contains("cred-secret-5678"));
    QCOMPARE(server.terminate(), 0);
}

QTEST_GUILESS_MAIN(tst_ServiceLifecycle)
#include "tst_servicelifecycle.moc"
