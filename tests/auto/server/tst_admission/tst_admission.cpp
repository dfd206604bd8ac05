// Admission: the caps on open connections in all and per client address, parking beyond the
// per-address cap, which parked connection gets a freed slot, and their header timeout. Each
// "connection" is one end of a socketpair: the test holds the other end and sees it closed.

#include "http/admission.h"

#include <QTest>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Hermes;

namespace {

const QHostAddress A(QStringLiteral("192.0.2.1"));
const QHostAddress B(QStringLiteral("192.0.2.2"));

struct Opened
{
    int fd;
    QHostAddress peer;
    qint64 acceptedAt;
};

/// An Admission whose opener records what it opens, and the test's ends of every descriptor.
struct Fixture
{
    HttpLimits limits;
    QList<Opened> opened;
    bool refuse = false;
    int changes = 0;
    QList<int> ours; ///< the test's end of each pair
    std::unique_ptr<Admission> admission;

    explicit Fixture(int perAddress, int total, int headerTimeoutMs = 1000)
    {
        limits.maxConnectionsPerAddress = perAddress;
        limits.maxConnections = total;
        limits.headerTimeoutMs = headerTimeoutMs;
        admission = std::make_unique<Admission>(
            limits,
            [this](int fd, const QHostAddress &peer, qint64 acceptedAt) {
                if (refuse) {
                    ::close(fd);
                    return false;
                }
                opened.append({fd, peer, acceptedAt});
                return true;
            },
            [this] { ++changes; });
    }
    ~Fixture()
    {
        admission.reset();
        for (const Opened &o : std::as_const(opened))
            ::close(o.fd);
        for (int fd : std::as_const(ours))
            ::close(fd);
    }
    /// Admits a new connection from `peer` at `now`; gives the test's end of it.
    int admit(const QHostAddress &peer, qint64 now = 0)
    {
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
            return -1;
        ours.append(pair[0]);
        admission->admit(pair[1], peer, now);
        return pair[0];
    }
    /// The admission's end of `ours` was closed.
    static bool isClosed(int ours)
    {
        pollfd p{ours, POLLIN, 0};
        char byte;
        return ::poll(&p, 1, 0) == 1 && ::recv(ours, &byte, 1, MSG_DONTWAIT) == 0;
    }
    /// The connection opened `index`-th ends.
    void end(int index)
    {
        const Opened o = opened.takeAt(index);
        ::close(o.fd);
        admission->release(o.peer);
    }
};

} // namespace

class tst_Admission : public QObject
{
    Q_OBJECT

private slots:
    void perAddressCapParksThenCloses();
    void aFreedSlotGoesToTheLongestWaitingOfItsAddress();
    void parkedAreCappedByTheServersTotal();
    void parkedWaitTheirHeaderTimeoutAtMost();
    void fullAtTheTotalCap();
    void noPerAddressCap();
    void aConnectionThatCouldNotOpenCountsNothing();
    void parkedAreClosedWithTheAdmission();
};

void tst_Admission::perAddressCapParksThenCloses()
{
    Fixture f(2, 10);
    const int a1 = f.admit(A), a2 = f.admit(A), a3 = f.admit(A), a4 = f.admit(A);
    QCOMPARE(f.admission->openCount(), 2);
    QCOMPARE(f.admission->openFrom(A), 2);
    QCOMPARE(f.admission->parkedCount(), 2); // as many as the address may have open
    for (int fd : {a1, a2, a3, a4})
        QVERIFY(!Fixture::isClosed(fd));
    const int a5 = f.admit(A);
    QVERIFY(Fixture::isClosed(a5));
    QCOMPARE(f.admission->parkedCount(), 2);
    f.admit(B); // another address is not held up
    QCOMPARE(f.admission->openCount(), 3);
    QCOMPARE(f.admission->openFrom(B), 1);
}

void tst_Admission::aFreedSlotGoesToTheLongestWaitingOfItsAddress()
{
    Fixture f(2, 10);
    f.admit(A, 1);
    f.admit(A, 2);
    f.admit(B, 3);
    f.admit(B, 4);
    f.admit(A, 10); // parked
    f.admit(B, 11); // parked
    f.admit(A, 12); // parked
    QCOMPARE(f.admission->parkedCount(), 3);
    f.end(2); // one of B's
    QCOMPARE(f.opened.last().peer, B);
    QCOMPARE(f.opened.last().acceptedAt, 11); // its wait counts against its header timeout
    QCOMPARE(f.admission->parkedCount(), 2);
    f.end(0); // one of A's: the one parked first gets it
    QCOMPARE(f.opened.last().peer, A);
    QCOMPARE(f.opened.last().acceptedAt, 10);
    f.end(0);
    QCOMPARE(f.opened.last().acceptedAt, 12);
    QCOMPARE(f.admission->parkedCount(), 0);
    QCOMPARE(f.admission->openFrom(A), 2);
    QCOMPARE(f.admission->openFrom(B), 2);
}

void tst_Admission::parkedAreCappedByTheServersTotal()
{
    Fixture f(3, 2);
    for (int i = 0; i < 3; ++i)
        f.admit(A);
    const int a4 = f.admit(A), a5 = f.admit(A), a6 = f.admit(A);
    QCOMPARE(f.admission->parkedCount(), 2);
    QVERIFY(!Fixture::isClosed(a4));
    QVERIFY(!Fixture::isClosed(a5));
    QVERIFY(Fixture::isClosed(a6)); // fewer parked than A may have open, but as many as the server
}

void tst_Admission::parkedWaitTheirHeaderTimeoutAtMost()
{
    Fixture f(1, 10, 1000);
    f.admit(A, 0);
    const int first = f.admit(A, 100);
    f.admission->expireParked(1099);
    QVERIFY(!Fixture::isClosed(first));
    f.admission->expireParked(1100);
    QVERIFY(Fixture::isClosed(first));
    QCOMPARE(f.admission->parkedCount(), 0);
    QCOMPARE(f.admission->openCount(), 1); // open connections have deadlines of their own
    f.admission->tidy();
    QVERIFY(!f.admission->isIdle());
    f.end(0);
    QVERIFY(f.admission->isIdle());
}

// At the total cap the server is full: the listeners pause (it is told through Changed), and
// resume when a connection ends.
void tst_Admission::fullAtTheTotalCap()
{
    Fixture f(0, 2);
    f.admit(A);
    QVERIFY(!f.admission->isFull());
    const int before = f.changes;
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("maximum of 2 connections")));
    f.admit(B);
    QVERIFY(f.changes > before);
    QVERIFY(f.admission->isFull());
    f.end(0);
    QVERIFY(!f.admission->isFull());
}

void tst_Admission::noPerAddressCap()
{
    Fixture f(0, 100);
    for (int i = 0; i < 20; ++i)
        f.admit(A);
    QCOMPARE(f.admission->openFrom(A), 20);
    QCOMPARE(f.admission->parkedCount(), 0);
}

void tst_Admission::aConnectionThatCouldNotOpenCountsNothing()
{
    Fixture f(1, 10);
    f.refuse = true;
    const int a = f.admit(A);
    QVERIFY(Fixture::isClosed(a));
    QCOMPARE(f.admission->openCount(), 0);
    QCOMPARE(f.admission->openFrom(A), 0);
    QVERIFY(f.admission->isIdle());
    f.refuse = false;
    f.admit(A); // the address still has its slot
    QCOMPARE(f.admission->openFrom(A), 1);
}

void tst_Admission::parkedAreClosedWithTheAdmission()
{
    Fixture f(1, 10);
    f.admit(A);
    const int parked = f.admit(A);
    QVERIFY(!Fixture::isClosed(parked));
    f.admission.reset();
    QVERIFY(Fixture::isClosed(parked));
}

QTEST_GUILESS_MAIN(tst_Admission)
#include "tst_admission.moc"
