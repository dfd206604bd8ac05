// A client that vanishes without a FIN or RST (a laptop shut, a NAT that forgot the mapping)
// must not hold a stream, or a connection, for the kernel's defaults (≈ 15 min of
// retransmissions, 2 h before a keepalive probe). Against the real hermes-server binary:
// - a stream whose client stops acknowledging ends within 2 × HERMES_SSE_HEARTBEAT_INTERVAL +
//   HERMES_SSE_SEND_TIMEOUT (small here), and no sooner than its TCP_USER_TIMEOUT;
// - every accepted connection has keepalive with DeadPeer's values, and a stream's socket
//   TCP_USER_TIMEOUT = the send timeout + a heartbeat interval: read from the server's own
//   sockets (pidfd_getfd).
//
// The peer vanishes for real: the test and its server run in a network namespace of their own
// (entered in main(), before any thread exists), where a route drops every packet to the
// client's address (127.0.0.2) — its kernel never sees the heartbeats, so never acknowledges
// them. Nothing outside the namespace is touched. Needs CAP_NET_ADMIN (CI runs as root);
// skipped without it.

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
constexpr int UserTimeoutS = SendTimeoutS + HeartbeatS; // the stream's TCP_USER_TIMEOUT
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

double openStreams(quint16 port)
{
    const HttpReply r = httpRequest(port, "GET", "/metrics", {{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey}});
    for (const QByteArray &line : r.body.split('\n')) {
        if (line.startsWith("hermes_open_connections{kind=\"stream\"} "))
            return line.sliced(line.lastIndexOf(' ') + 1).toDouble();
    }
    return -1;
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
    void acceptedConnectionsProbeAndStreamsLimitUnacknowledged();
    void streamToAVanishedClientEnds();

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

void tst_DeadPeers::acceptedConnectionsProbeAndStreamsLimitUnacknowledged()
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
    // A stream: the same, and data unacknowledged for the send timeout and a heartbeat ends it.
    RawClient stream;
    QVERIFY(stream.connect(m_server.port(), QHostAddress(QStringLiteral("127.0.0.4"))));
    QVERIFY(stream.send("GET /api/v1/events/stream HTTP/1.1\r\nHost: x\r\n" + Auth + "\r\n"));
    QCOMPARE(stream.readResponse(1500).status, 200);
    QTRY_VERIFY_WITH_TIMEOUT((o = optionsOf(pid, QHostAddress(QStringLiteral("127.0.0.4")), stream.socket().localPort())).found
                                 && o.userTimeoutMs > 0, 5000);
    QCOMPARE(o.userTimeoutMs, UserTimeoutS * 1000);
    QCOMPARE(o.keepAlive, 1);
    QCOMPARE(o.keepIdle, DeadPeer::KeepIdleSec);
}

void tst_DeadPeers::streamToAVanishedClientEnds()
{
    const quint16 port = m_server.port();
    QTRY_COMPARE_WITH_TIMEOUT(openStreams(port), 0.0, 5000); // the last case's streams are gone
    RawClient client;
    QVERIFY(client.connect(port, QHostAddress(QStringLiteral("127.0.0.2"))));
    QVERIFY(client.send("GET /api/v1/events/stream HTTP/1.1\r\nHost: x\r\n" + Auth + "\r\n"));
    const HttpReply head = client.readResponse(1500);
    QCOMPARE(head.status, 200);
    QVERIFY2(head.body.contains("connected"), head.body.constData());
    QCOMPARE(openStreams(port), 1.0);

    // The client's host is gone: every packet to it is dropped (routed into a blackhole ahead
    // of the loopback's local table). The test's own requests, from 127.0.0.1, still pass.
    QVERIFY(run(QStringLiteral("ip route replace blackhole 127.0.0.2/32 table 100\n"
                               "ip rule show pref 100 | grep -q . || ip rule add pref 100 lookup local\n"
                               "ip rule del pref 0 2>/dev/null || true\n"
                               "ip rule add pref 10 to 127.0.0.2 lookup 100")));
    QElapsedTimer vanished;
    vanished.start();
    while (openStreams(port) != 0.0 && vanished.elapsed() < 15000)
        QTest::qWait(100);
    const qint64 ms = vanished.elapsed();
    qInfo("a stream to a vanished client ended after %lld ms (heartbeat %d s, TCP_USER_TIMEOUT %d s)",
          ms, HeartbeatS, UserTimeoutS);
    QCOMPARE(openStreams(port), 0.0);
    // The bound, with two seconds of slack for a loaded machine; and not before the user
    // timeout: it was the unacknowledged heartbeat that ended it.
    QVERIFY2(ms <= (HeartbeatS + UserTimeoutS + 2) * 1000, qPrintable(QString::number(ms)));
    QVERIFY2(ms >= UserTimeoutS * 1000 - 200, qPrintable(QString::number(ms)));
    // The client saw nothing of it: no FIN, no RST reached it.
    QVERIFY(client.isOpen());
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
