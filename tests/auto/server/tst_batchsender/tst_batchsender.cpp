#include "stream/batchsender.h"
#include "stream/streamconnection.h"

#include <QTest>

#include <fcntl.h>
#include <map>
#include <sys/socket.h>
#include <unistd.h>

using namespace Hermes;

// BatchSender over both backends, on real sockets (Unix stream socket pairs): every send's
// outcome is reported once, whole sends clear the stream's pending bytes, a full socket takes
// what fits and the rest stays pending, a closed peer fails, and batches larger than the ring
// go out in several submissions.
class tst_BatchSender : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void everySendIsReportedOnce_data();
    void everySendIsReportedOnce();
    void fullSocketTakesWhatFits_data();
    void fullSocketTakesWhatFits();
    void closedPeerFails_data();
    void closedPeerFails();
    void epollIsEpoll();
    void failingRingFallsBackMidBatch();

private:
    void addBackends();
};

struct Pair
{
    std::unique_ptr<StreamConnection> stream; // owns one end
    int peer = -1;
    ~Pair()
    {
        if (peer >= 0)
            ::close(peer);
    }
};

static std::unique_ptr<Pair> makePair(int sendBuffer = 0)
{
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return nullptr;
    if (sendBuffer > 0)
        ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sendBuffer, sizeof sendBuffer);
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    auto pair = std::make_unique<Pair>();
    pair->stream = std::make_unique<StreamConnection>(fds[0], StreamParams{}, 0);
    pair->peer = fds[1];
    return pair;
}

static QByteArray readAll(int fd)
{
    QByteArray out;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n <= 0)
            return out;
        out.append(buffer, n);
    }
}

void tst_BatchSender::init()
{
    // io_uring may be refused here (seccomp, kernel.io_uring_disabled): its rows are skipped
    // then (the server falls back to epoll, which the other rows test).
    if (QTest::currentDataTag() && QByteArrayView(QTest::currentDataTag()) == "io_uring") {
        BatchSender probe(QStringLiteral("io_uring"), [](StreamConnection &, long) {});
        if (probe.backend() != BatchSender::Backend::IoUring)
            QSKIP(qPrintable(QStringLiteral("no io_uring here: ") + probe.fallbackReason()));
    }
}

void tst_BatchSender::addBackends()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("io_uring") << QStringLiteral("io_uring");
    QTest::newRow("epoll") << QStringLiteral("epoll");
}

void tst_BatchSender::everySendIsReportedOnce_data()
{
    addBackends();
}

void tst_BatchSender::everySendIsReportedOnce()
{
    QFETCH(QString, backend);
    // More streams than the ring holds (64): the batch is submitted part-way (several times)
    // and at flush(). Two descriptors each, within the usual soft limit of 1,024.
    constexpr int Streams = 300;
    std::vector<std::unique_ptr<Pair>> pairs;
    for (int i = 0; i < Streams; ++i) {
        pairs.push_back(makePair());
        QVERIFY(pairs.back());
    }
    std::map<StreamConnection *, std::vector<long>> results;
    BatchSender sender(backend, [&](StreamConnection &c, long result) {
        results[&c].push_back(result);
    });
    const QByteArray shared("data: {\"n\":1}\n\n");
    for (auto &p : pairs) {
        p->stream->stage(shared, 1);
        sender.add(*p->stream);
    }
    sender.flush();
    QCOMPARE(int(results.size()), Streams);
    for (auto &p : pairs) {
        const auto &r = results[p->stream.get()];
        QCOMPARE(int(r.size()), 1);
        QCOMPARE(r.front(), long(shared.size()));
        QCOMPARE(p->stream->complete(r.front(), 2), StreamConnection::WriteResult::Ok);
        QVERIFY(!p->stream->hasPending());
        QCOMPARE(readAll(p->peer), shared);
    }
}

void tst_BatchSender::fullSocketTakesWhatFits_data()
{
    addBackends();
}

void tst_BatchSender::fullSocketTakesWhatFits()
{
    QFETCH(QString, backend);
    auto pair = makePair(4096);
    QVERIFY(pair);
    StreamConnection &c = *pair->stream;
    std::vector<long> results;
    BatchSender sender(backend, [&](StreamConnection &, long result) { results.push_back(result); });
    const QByteArray big(1 << 20, 'x');
    c.stage(big, 1);
    sender.add(c);
    sender.flush();
    QCOMPARE(int(results.size()), 1);
    const long taken = results[0];
    QVERIFY2(taken > 0 && taken < big.size(), QByteArray::number(qint64(taken)).constData());
    QCOMPARE(c.complete(taken, 2), StreamConnection::WriteResult::Blocked);
    QCOMPARE(c.pendingBytes(), big.size() - taken);

    // The socket is full now: sending the rest takes nothing, which is no failure.
    sender.add(c);
    sender.flush();
    QCOMPARE(int(results.size()), 2);
    QCOMPARE(results[1], long(-EAGAIN));
    QCOMPARE(c.complete(results[1], 3), StreamConnection::WriteResult::Blocked);
    QCOMPARE(c.pendingBytes(), big.size() - taken);
    // What the peer reads is the start of the bytes, nothing else.
    QCOMPARE(readAll(pair->peer), big.left(taken));
}

void tst_BatchSender::closedPeerFails_data()
{
    addBackends();
}

void tst_BatchSender::closedPeerFails()
{
    QFETCH(QString, backend);
    auto pair = makePair();
    QVERIFY(pair);
    ::close(pair->peer);
    pair->peer = -1;
    long result = 0;
    BatchSender sender(backend, [&](StreamConnection &, long r) { result = r; });
    pair->stream->stage("data: x\n\n", 1);
    sender.add(*pair->stream);
    sender.flush();
    QCOMPARE(result, long(-EPIPE));
    QCOMPARE(pair->stream->complete(result, 2), StreamConnection::WriteResult::Failed);
}

void tst_BatchSender::epollIsEpoll()
{
    BatchSender sender(QStringLiteral("epoll"), [](StreamConnection &, long) {});
    QCOMPARE(sender.backend(), BatchSender::Backend::Epoll);
    QVERIFY(sender.fallbackReason().isEmpty());
}

void tst_BatchSender::failingRingFallsBackMidBatch()
{
    // io_uring submissions that keep failing (the kernel out of memory) while a batch is
    // full: the ring is given up, the sends it held are failed (their clients would resume),
    // the rest go out with send(), and nothing is reported twice or lost.
    BatchSender probe(QStringLiteral("io_uring"), [](StreamConnection &, long) {});
    if (probe.backend() != BatchSender::Backend::IoUring)
        QSKIP("no io_uring here");
    constexpr int Streams = 300; // more than a ring's 64: the failure comes inside add()
    std::vector<std::unique_ptr<Pair>> pairs;
    for (int i = 0; i < Streams; ++i) {
        pairs.push_back(makePair());
        QVERIFY(pairs.back());
    }
    std::map<StreamConnection *, std::vector<long>> results;
    BatchSender sender(QStringLiteral("io_uring"), [&](StreamConnection &c, long result) {
        results[&c].push_back(result);
    });
    sender.failSubmissionsForTesting(ENOMEM);
    const QByteArray shared("data: x\n\n");
    for (auto &p : pairs) {
        p->stream->stage(shared, 1);
        sender.add(*p->stream);
    }
    sender.flush();
    QCOMPARE(sender.backend(), BatchSender::Backend::Epoll);
    QVERIFY(!sender.fallbackReason().isEmpty());
    QCOMPARE(int(results.size()), Streams);
    int failed = 0;
    for (auto &p : pairs) {
        const auto &r = results[p->stream.get()];
        QCOMPARE(int(r.size()), 1);
        if (r.front() == -EIO) {
            ++failed;
        } else {
            QCOMPARE(r.front(), long(shared.size()));
            QCOMPARE(readAll(p->peer), shared);
        }
    }
    QCOMPARE(failed, 64); // the first full ring
}

QTEST_GUILESS_MAIN(tst_BatchSender)
#include "tst_batchsender.moc"
