// A client that vanishes without a FIN or RST (a laptop shut, a NAT that forgot the mapping)
// must not hold a connection for the kernel's defaults (2 h before a keepalive probe). Against
// the real hermes-server binary, read from the server's own sockets (pidfd_getfd): every
// accepted connection, a stream's too, has keepalive with DeadPeer's values, and no stream has
// TCP_USER_TIMEOUT (Linux applies it to a closed receive window and ends the connection without
// a RST: a live client that paused reading was left waiting on a stream that was gone).
//
// The test and its server run in a network namespace of their own (entered in main(), before
// any thread exists), where the clients' addresses are 127.0.0.x. Nothing outside the
// namespace is touched. Needs CAP_NET_ADMIN (CI runs as root); skipped without it.

#include "deadpeer.h"
#include "rawclient.h"
#include "serverprocess.h"
#include "testutil.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QProcess>
#include <QTest>

#include <arpa/inet.h>
#include <cstdlib>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

using namespace Hermes;
using namespace Hermes::Test;

namespace {

constexpr int HeartbeatS = 1;   // HERMES_SSE_HEARTBEAT_INTERVAL here
constexpr int SendTimeoutS = 2; // HERMES_SSE_SEND_TIMEOUT here
const QByteArray Auth = QByteArray("Authorization: Bearer ") + ServerProcess::ApiKey + "\r\n";

bool run(const QString &command)
{
    QProcess sh;
    sh.setProcessChannelMode(QProcess::ForwardedChannels);
    sh.start(QStringLiteral("sh"), {QStringLiteral("-ec"), command});
    return sh.waitForFinished(10000) && sh.exitStatus() == QProcess::NormalExit && sh.exitCode() == 0;
}

/// The socket options of the server's connection to `peer`, read from a duplicate of its own
/// descriptor (pidfd_getfd: root here). Empty when no descriptor of `pid` is connected to it.
struct Options
{
    bool found = false;
    int keepAlive = -1, keepIdle = -1, keepInterval = -1, keepCount = -1, userTimeoutMs = -1;
};

Options optionsOf(qint64 pid, const QHostAddress &peer, quint16 peerPort)
{
    Options out;
    const int pidfd = int(::syscall(SYS_pidfd_open, pid_t(pid), 0));
    if (pidfd < 0)
        return out;
    const QStringList fds = QDir(QStringLiteral("/proc/%1/fd").arg(pid)).entryList(QDir::Files | QDir::System);
    for (const QString &name : fds) {
        const int fd = int(::syscall(SYS_pidfd_getfd, pidfd, name.toInt(), 0));
        if (fd < 0)
            continue;
        sockaddr_in address{};
        socklen_t length = sizeof address;
        const bool match = ::getpeername(fd, reinterpret_cast<sockaddr *>(&address), &length) == 0
            && address.sin_family == AF_INET && ntohs(address.sin_port) == peerPort
            && QHostAddress(ntohl(address.sin_addr.s_addr)) == peer;
        if (match) {
            const auto get = [fd](int level, int option) {
                int value = -1;
                socklen_t size = sizeof value;
                return ::getsockopt(fd, level, option, &value, &size) == 0 ? value : -1;
            };
            out = {true, get(SOL_SOCKET, SO_KEEPALIVE), get(IPPROTO_TCP, TCP_KEEPIDLE),
                   get(IPPROTO_TCP, TCP_KEEPINTVL), get(IPPROTO_TCP, TCP_KEEPCNT),
                   get(IPPROTO_TCP, TCP_USER_TIMEOUT)};
        }
        ::close(fd);
        if (match)
            break;
    }
    ::close(pidfd);
    return out;
}

} // namespace

class tst_DeadPeers : public QObject
{
    Q_OBJECT
public:
    explicit tst_DeadPeers(bool isolated) : m_isolated(isolated) {}

private slots:
    void initTestCase();
    void cleanup();
    void acceptedConnectionsProbeWhenSilent();

private:
    bool m_isolated;
    ServerProcess m_server;
};

void tst_DeadPeers::initTestCase()
{
    if (!m_isolated)
        QSKIP("needs a network namespace of its own (CAP_NET_ADMIN, iproute2)");
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_SSE_HEARTBEAT_INTERVAL"), QString::number(HeartbeatS));
    env.insert(QStringLiteral("HERMES_SSE_SEND_TIMEOUT"), QString::number(SendTimeoutS));
    QVERIFY2(m_server.start(env), qPrintable(m_server.errorString()));
}

void tst_DeadPeers::cleanup()
{
    // The namespace ends with the test; removed anyway, so that each case starts with a
    // loopback that delivers everything.
    run(QStringLiteral("ip rule del pref 10 2>/dev/null || true"));
}

void tst_DeadPeers::acceptedConnectionsProbeWhenSilent()
{
    const qint64 pid = m_server.process().processId();
    // A connection that has sent nothing yet: keepalive, no limit of its own.
    RawClient plain;
    QVERIFY(plain.connect(m_server.port(), QHostAddress(QStringLiteral("127.0.0.3"))));
    Options o;
    QTRY_VERIFY_WITH_TIMEOUT((o = optionsOf(pid, QHostAddress(QStringLiteral("127.0.0.3")), plain.socket().localPort())).found, 5000);
    QCOMPARE(o.keepAlive, 1);
    QCOMPARE(o.keepIdle, DeadPeer::KeepIdleSec);
    QCOMPARE(o.keepInterval, DeadPeer::KeepIntervalSec);
    QCOMPARE(o.keepCount, DeadPeer::KeepCount);
    QCOMPARE(o.userTimeoutMs, 0);
    // A stream: the same keepalive, and no TCP_USER_TIMEOUT (a slow client is the send
    // timeout's, which closes the stream properly).
    RawClient stream;
    QVERIFY(stream.connect(m_server.port(), QHostAddress(QStringLiteral("127.0.0.4"))));
    QVERIFY(stream.send("GET /api/v1/events/stream HTTP/1.1\r\nHost: x\r\n" + Auth + "\r\n"));
    QCOMPARE(stream.readResponse(1500).status, 200);
    QTRY_VERIFY_WITH_TIMEOUT((o = optionsOf(pid, QHostAddress(QStringLiteral("127.0.0.4")), stream.socket().localPort())).found, 5000);
    QCOMPARE(o.keepAlive, 1);
    QCOMPARE(o.keepIdle, DeadPeer::KeepIdleSec);
    QCOMPARE(o.userTimeoutMs, 0);
}

int main(int argc, char *argv[])
{
    // Before any thread exists, so the whole process and the servers it starts move into a
    // network namespace of their own (unshare affects the calling thread, and what it starts).
    const bool isolated = ::unshare(CLONE_NEWNET) == 0 && std::system("ip link set lo up") == 0;
    QCoreApplication app(argc, argv);
    tst_DeadPeers test(isolated);
    return QTest::qExec(&test, argc, argv);
}

#include "tst_deadpeers.moc"
