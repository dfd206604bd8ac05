#pragma once

#include <QString>

#include <functional>
#include <memory>
#include <vector>

struct io_uring;

namespace Hermes {

class StreamConnection;

/**
 * Hands a fan-out's sends to the kernel: with io_uring, up to a ring's worth of sends per
 * system call; without it (the kernel or a seccomp policy refuses io_uring, or the operator
 * chose epoll), one `send()` per stream as they are added.
 *
 * Each stream's bytes are what it has pending (StreamConnection::stage()); the send is
 * non-blocking either way (MSG_DONTWAIT: the kernel takes what fits now and never parks a
 * request), so a batch completes within the system call that submits it and a stream whose
 * socket is full simply took fewer bytes, as with `send()`. The outcome of every send is
 * reported to the callback (in no particular order) by add() or flush(); a stream added must
 * stay as it is until then.
 */
class BatchSender final
{
public:
    enum class Backend { Epoll, IoUring };
    /// Called once per send with its result: bytes taken, or -errno.
    using Completion = std::function<void(StreamConnection &, long result)>;

    /// `backend`: "io_uring", "epoll" or "auto" (io_uring when the kernel allows it; when it
    /// does not, fallbackReason() says why and epoll is used).
    BatchSender(const QString &backend, Completion done);
    ~BatchSender();
    BatchSender(const BatchSender &) = delete;
    BatchSender &operator=(const BatchSender &) = delete;

    Backend backend() const { return m_ring ? Backend::IoUring : Backend::Epoll; }
    /// Why io_uring is not used although it was not ruled out (empty otherwise).
    const QString &fallbackReason() const { return m_why; }
    static const char *name(Backend backend);

    /// Sends `c`'s pending bytes: now (epoll) or with the batch (io_uring).
    void add(StreamConnection &c);
    /// Submits what was added and reports every outcome.
    void flush();

    /// Tests: io_uring submissions fail with -`error` from now on (the fallback path).
    void failSubmissionsForTesting(int error) { m_injectedError = -error; }

private:
    void submitAndReap();

    Completion m_done;
    QString m_why;
    int m_injectedError = 0;
    std::unique_ptr<io_uring> m_ring;
    std::vector<StreamConnection *> m_inFlight; ///< added since the last flush (io_uring)
};

} // namespace Hermes
