#include "stream/batchsender.h"

#include "stream/streamconnection.h"
#include "logging.h"
#include "result.h"

#include <liburing.h>

#include <cerrno>
#include <cstring>
#include <sched.h>
#include <sys/socket.h>

namespace Hermes {

// Sends per system call. Larger batches save little more (the kernel's TCP path is the cost
// per send), and measured worse: with 512 the burst ramp's p99 at 2,000 ev/s to 1,000 streams
// was 85 ms and 3,000 ev/s failed; with 64, 39 ms and 3,000 passed (bench/RESULTS.md).
static constexpr unsigned RingEntries = 64;

// io_uring when asked for and the kernel allows it (it may be compiled out, disabled by
// kernel.io_uring_disabled, or refused by a container's seccomp policy), else why not.
static Result<std::unique_ptr<io_uring>> openRing()
{
    auto ring = std::make_unique<io_uring>();
    // One thread submits, and completions are reaped in that thread right after submitting:
    // the kernel needs no interrupts to run completion work early.
    int ret = io_uring_queue_init(RingEntries, ring.get(),
                                  IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN);
    if (ret == -EINVAL) // a kernel before 6.0
        ret = io_uring_queue_init(RingEntries, ring.get(), 0);
    if (ret < 0)
        return Error::unavailable("io_uring_unavailable",
                                  QStringLiteral("io_uring is not available: %1")
                                      .arg(QString::fromLocal8Bit(std::strerror(-ret))));
    io_uring_probe *probe = io_uring_get_probe_ring(ring.get());
    const bool canSend = probe && io_uring_opcode_supported(probe, IORING_OP_SEND);
    if (probe)
        io_uring_free_probe(probe);
    if (!canSend) {
        io_uring_queue_exit(ring.get());
        return Error::unavailable("io_uring_cannot_send",
                                  QStringLiteral("io_uring cannot send on sockets here (kernel before 5.6)"));
    }
    return ring;
}

BatchSender::BatchSender(const QString &backend, Completion done) : m_done(std::move(done))
{
    if (backend != QLatin1String("epoll")) {
        Result<std::unique_ptr<io_uring>> ring = openRing();
        if (ring)
            m_ring = std::move(*ring);
        else
            m_why = ring.error().message;
    }
    m_inFlight.reserve(RingEntries);
}

BatchSender::~BatchSender()
{
    if (m_ring)
        io_uring_queue_exit(m_ring.get());
}

const char *BatchSender::name(Backend backend)
{
    return backend == Backend::IoUring ? "io_uring" : "epoll";
}

static long sendNow(int fd, const char *data, size_t size)
{
    for (;;) {
        const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0 || errno != EINTR)
            return n >= 0 ? long(n) : -long(errno);
    }
}

void BatchSender::add(StreamConnection &c)
{
    if (!m_ring) {
        m_done(c, sendNow(c.fd(), c.pendingData(), size_t(c.pendingBytes())));
        return;
    }
    io_uring_sqe *sqe = io_uring_get_sqe(m_ring.get());
    if (!sqe) {
        submitAndReap();
        if (!m_ring) { // it failed for good meanwhile: this one goes out the plain way
            m_done(c, sendNow(c.fd(), c.pendingData(), size_t(c.pendingBytes())));
            return;
        }
        sqe = io_uring_get_sqe(m_ring.get());
    }
    io_uring_prep_send(sqe, c.fd(), c.pendingData(), size_t(c.pendingBytes()),
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    // The index, not the stream: a send whose outcome was reported is crossed out.
    io_uring_sqe_set_data64(sqe, m_inFlight.size());
    m_inFlight.push_back(&c);
}

void BatchSender::flush()
{
    if (m_ring && !m_inFlight.empty())
        submitAndReap();
}

void BatchSender::submitAndReap()
{
    const size_t expected = m_inFlight.size();
    size_t reaped = 0;
    int failures = 0;
    while (reaped < expected) {
        const int ret = m_injectedError
            ? m_injectedError
            : io_uring_submit_and_wait(m_ring.get(), unsigned(expected - reaped));
        if (ret < 0 && ret != -EINTR && ++failures < 100) {
            // Out of kernel resources for the moment (EAGAIN, EBUSY): let others run, retry.
            ::sched_yield();
            continue;
        }
        if (ret < 0 && ret != -EINTR) {
            // The ring makes no progress (out of kernel memory): give it up. Whatever it did
            // with the sends it still held is unknown, so those streams are failed (their
            // clients resume with Last-Event-ID) and from now on sends go out one by one.
            qCCritical(lcHub) << "io_uring failed, falling back to send():" << std::strerror(-ret);
            m_why = QStringLiteral("io_uring failed");
            io_uring_queue_exit(m_ring.get());
            m_ring.reset();
            std::vector<StreamConnection *> lost;
            lost.swap(m_inFlight);
            for (StreamConnection *c : lost) {
                if (c)
                    m_done(*c, -EIO);
            }
            return;
        }
        unsigned head;
        unsigned seen = 0;
        io_uring_cqe *cqe;
        io_uring_for_each_cqe(m_ring.get(), head, cqe)
        {
            StreamConnection *&c = m_inFlight[size_t(io_uring_cqe_get_data64(cqe))];
            m_done(*c, long(cqe->res));
            c = nullptr;
            ++seen;
        }
        io_uring_cq_advance(m_ring.get(), seen);
        reaped += seen;
    }
    m_inFlight.clear();
}

} // namespace Hermes
