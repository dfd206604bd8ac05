// StreamSocketSet on real sockets (Unix socket pairs): streams stay in arrival order, a client
// that leaves (end of file, or a hang-up) is reported closed, what a client sends is not read
// (no activity, no CPU) yet its leaving behind those bytes is reported, a stream whose socket was full is reported drained once its pending bytes went
// out (and only while it is watched for writability), and remove() closes the descriptor.

#include "stream/streamsocketset.h"

#include <QSignalSpy>
#include <QTest>

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

using namespace Hermes;

class tst_StreamSocketSet : public QObject
{
    Q_OBJECT

private slots:
    void streamsKeepTheirArrivalOrder();
    void aClientThatLeavesIsReportedClosed();
    void whatAClientSendsIsNotRead();
    void aClientThatLeavesBehindUnreadBytesIsReportedClosed();
    void removeAfterUnreadBytesClosesWithoutAReset();
    void aFullSocketIsReportedDrainedWhenItEmptied();
    void removeClosesTheDescriptor();
};

namespace {

/// A stream socket (non-blocking, small send buffer) and its peer, the client, which the
/// pair closes; the stream socket belongs to the set once added.
struct Pair
{
    int stream = -1;
    int peer = -1;
    Pair() = default;
    Pair(const Pair &) = delete;
    Pair &operator=(const Pair &) = delete;
    ~Pair()
    {
        if (peer >= 0)
            ::close(peer);
    }
};

std::unique_ptr<Pair> makePair()
{
    auto pair = std::make_unique<Pair>();
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return pair;
    const int small = 4096;
    ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    pair->stream = fds[0];
    pair->peer = fds[1];
    return pair;
}

/// Waits for activity() and polls; the reports, or none within the bound.
std::vector<StreamSocketSet::Ready> pollWhenActive(StreamSocketSet &set, QSignalSpy &activity,
                                                   int timeoutMs = 10000)
{
    if (activity.isEmpty() && !activity.wait(timeoutMs))
        return {};
    activity.clear();
    return set.poll(1);
}

qsizetype drain(int fd)
{
    qsizetype total = 0;
    char buffer[65536];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT)) > 0;)
        total += n;
    return total;
}

} // namespace

void tst_StreamSocketSet::streamsKeepTheirArrivalOrder()
{
    StreamSocketSet set;
    set.start();
    std::vector<std::unique_ptr<Pair>> pairs;
    std::vector<StreamConnection *> added;
    for (int i = 0; i < 4; ++i) {
        pairs.push_back(makePair());
        QVERIFY(pairs.back()->stream >= 0);
        added.push_back(&set.add(pairs.back()->stream, {}, 1000 + i));
    }
    set.remove(*added[1]);
    std::vector<StreamConnection *> order;
    for (const auto &c : set)
        order.push_back(c.get());
    QCOMPARE(order, (std::vector<StreamConnection *>{added[0], added[2], added[3]}));
    QCOMPARE(&set.front(), added[0]);
    QCOMPARE(set.front().deadline(), qint64(1000));
}

void tst_StreamSocketSet::aClientThatLeavesIsReportedClosed()
{
    StreamSocketSet set;
    set.start();
    QSignalSpy activity(&set, &StreamSocketSet::activity);
    const std::unique_ptr<Pair> leaves = makePair();
    const std::unique_ptr<Pair> stays = makePair();
    StreamConnection &gone = set.add(leaves->stream, {}, 0);
    set.add(stays->stream, {}, 0);
    ::close(leaves->peer);
    leaves->peer = -1;
    const auto ready = pollWhenActive(set, activity);
    QCOMPARE(ready.size(), size_t(1));
    QCOMPARE(ready[0].stream, &gone);
    QCOMPARE(ready[0].what, StreamSocketSet::Readiness::Closed);
    // Half-closed (the client shut its sending side): it left too.
    const std::unique_ptr<Pair> halfClosed = makePair();
    StreamConnection &half = set.add(halfClosed->stream, {}, 0);
    set.remove(gone);
    activity.clear();
    ::shutdown(halfClosed->peer, SHUT_WR);
    const auto again = pollWhenActive(set, activity);
    QCOMPARE(again.size(), size_t(1));
    QCOMPARE(again[0].stream, &half);
    QCOMPARE(again[0].what, StreamSocketSet::Readiness::Closed);
}

void tst_StreamSocketSet::whatAClientSendsIsNotRead()
{
    StreamSocketSet set;
    set.start();
    QSignalSpy activity(&set, &StreamSocketSet::activity);
    const std::unique_ptr<Pair> talks = makePair();
    set.add(talks->stream, {}, 0);
    QCOMPARE(::send(talks->peer, "hello", 5, 0), ssize_t(5));
    QVERIFY(!activity.wait(300)); // not even woken up: junk costs nothing
    QVERIFY(set.poll(1).empty());
    char bytes[8];
    QCOMPARE(::recv(talks->stream, bytes, sizeof bytes, MSG_DONTWAIT), ssize_t(5)); // still there
}

void tst_StreamSocketSet::aClientThatLeavesBehindUnreadBytesIsReportedClosed()
{
    StreamSocketSet set;
    set.start();
    QSignalSpy activity(&set, &StreamSocketSet::activity);
    const std::unique_ptr<Pair> talks = makePair();
    StreamConnection &c = set.add(talks->stream, {}, 0);
    QCOMPARE(::send(talks->peer, "junk junk junk", 14, 0), ssize_t(14));
    ::shutdown(talks->peer, SHUT_WR);
    const auto ready = pollWhenActive(set, activity);
    QCOMPARE(ready.size(), size_t(1));
    QCOMPARE(ready[0].stream, &c);
    QCOMPARE(ready[0].what, StreamSocketSet::Readiness::Closed);
}

// Over TCP, a close with unread bytes would be a reset, which can destroy the last bytes the
// stream sent before the client read them: remove() drops the unread bytes first.
void tst_StreamSocketSet::removeAfterUnreadBytesClosesWithoutAReset()
{
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    QVERIFY(::bind(listener, reinterpret_cast<sockaddr *>(&address), length) == 0);
    QVERIFY(::listen(listener, 1) == 0);
    QVERIFY(::getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length) == 0);
    const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    QVERIFY(::connect(client, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0);
    const int server = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ::close(listener);
    QVERIFY(server >= 0);

    StreamSocketSet set;
    set.start();
    StreamConnection &c = set.add(server, {}, 0);
    QCOMPARE(c.write("the last words", 1), StreamConnection::WriteResult::Ok);
    QCOMPARE(::send(client, "junk", 4, 0), ssize_t(4));
    QTest::qWait(50); // the junk arrived (loopback)
    set.remove(c);
    QTest::qWait(50);
    char buffer[64];
    QCOMPARE(::recv(client, buffer, sizeof buffer, 0), ssize_t(14));
    QCOMPARE(QByteArray(buffer, 14), QByteArray("the last words"));
    QCOMPARE(::recv(client, buffer, sizeof buffer, 0), ssize_t(0)); // end of file, not a reset
    ::close(client);
}

void tst_StreamSocketSet::aFullSocketIsReportedDrainedWhenItEmptied()
{
    StreamSocketSet set;
    set.start();
    QSignalSpy activity(&set, &StreamSocketSet::activity);
    const std::unique_ptr<Pair> full = makePair();
    StreamConnection &c = set.add(full->stream, {}, 0);
    const QByteArray bytes(256 * 1024, 'x');
    QCOMPARE(c.write(bytes, 1), StreamConnection::WriteResult::Blocked);
    QVERIFY(c.hasPending());
    // Not watched for writability: reading makes room, but nothing is reported.
    qsizetype received = drain(full->peer);
    QTest::qWait(100);
    activity.clear();
    QVERIFY(set.poll(1).empty());
    QVERIFY(c.hasPending());

    set.watchWritable(c, true);
    bool drained = false;
    for (int i = 0; i < 10000 && !drained; ++i) {
        received += drain(full->peer);
        for (const StreamSocketSet::Ready &r : pollWhenActive(set, activity, 100)) {
            QCOMPARE(r.stream, &c);
            QCOMPARE(r.what, StreamSocketSet::Readiness::Drained);
            drained = true;
        }
    }
    QVERIFY(drained);
    QVERIFY(!c.hasPending());
    QVERIFY(!c.watchingWritable); // drained: no longer watched
    received += drain(full->peer);
    QCOMPARE(received, bytes.size());
}

void tst_StreamSocketSet::removeClosesTheDescriptor()
{
    StreamSocketSet set;
    set.start();
    const std::unique_ptr<Pair> pair = makePair();
    set.remove(set.add(pair->stream, {}, 0));
    QVERIFY(set.empty());
    char byte;
    QCOMPARE(::recv(pair->peer, &byte, 1, 0), ssize_t(0)); // end of file
}

QTEST_GUILESS_MAIN(tst_StreamSocketSet)
#include "tst_streamsocketset.moc"
