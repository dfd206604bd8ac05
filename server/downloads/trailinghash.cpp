#include "downloads/trailinghash.h"

#include "pooltask.h"

#include <QCoreApplication>
#include <QThread>
#include <QThreadPool>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace Hermes {

// The hash's threads, one per core: hashing is CPU work, and a file's steps take turns with
// the others'. Never destroyed: a step still reading at exit must not hold the exit up (a
// cancelled one stops at its next block).
static QThreadPool &hashPool()
{
    static QThreadPool *pool = newLastingPool(QStringLiteral("hermes-hash"), qMax(1, QThread::idealThreadCount()));
    return *pool;
}

// The block each read fills, one per hash thread (a fresh 1 MiB per step was a new mapping
// and 256 page faults each time).
static QByteArray &readBuffer()
{
    static thread_local QByteArray buffer(1024 * 1024, Qt::Uninitialized);
    return buffer;
}

std::shared_ptr<TrailingHash> TrailingHash::create(int fd)
{
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0)
        return nullptr;
    return std::shared_ptr<TrailingHash>(new TrailingHash(copy));
}

TrailingHash::~TrailingHash()
{
    ::close(m_fd);
}

void TrailingHash::written(qint64 end)
{
    const std::lock_guard lock(m_mutex);
    if (m_cancelled.load())
        return;
    m_target = qMax(m_target, end);
    scheduleLocked();
}

void TrailingHash::restart()
{
    // Before the caller cuts the file: a step that reads the cut file then finds the
    // generation changed, and its short read is not taken for a failure.
    const std::lock_guard lock(m_mutex);
    ++m_generation;
    m_target = 0;
    if (!m_running) // else the running task starts over when its step ends
        startOverLocked();
    answerLocked();
}

void TrailingHash::whenHashed(QObject *context, qint64 end, std::function<void(const QString &)> done)
{
    const std::lock_guard lock(m_mutex);
    if (m_cancelled.load())
        return;
    m_waiter = Waiter{context, end, m_generation, std::move(done)};
    if (!m_running) // else the running task answers when its step ends
        answerLocked();
    scheduleLocked();
}

void TrailingHash::cancel()
{
    m_cancelled.store(true);
    const std::lock_guard lock(m_mutex);
    m_waiter.reset();
}

void TrailingHash::startOverLocked()
{
    m_hash.reset();
    m_hashed = 0;
    m_failed = false;
    m_hashGeneration = m_generation;
}

void TrailingHash::scheduleLocked()
{
    if (m_running || m_failed || m_hashed >= m_target || m_cancelled.load())
        return;
    m_running = true;
    startPoolTask(hashPool(), [self = shared_from_this()] { self->step(); });
}

void TrailingHash::answerLocked()
{
    if (!m_waiter)
        return;
    const Waiter &w = *m_waiter;
    QString digest;
    if (w.generation == m_generation && !m_failed) {
        if (m_hashGeneration != m_generation || m_hashed < w.end)
            return; // not there yet
        if (m_hashed == w.end)
            digest = m_hash.hex();
    }
    // Back on the application's thread, where the context lives and is checked.
    QMetaObject::invokeMethod(qApp, [context = w.context, done = std::move(m_waiter->done), digest] {
        if (context)
            done(digest);
    }, Qt::QueuedConnection);
    m_waiter.reset();
}

void TrailingHash::step()
{
    qint64 from = 0;
    qint64 to = 0;
    quint64 generation = 0;
    {
        const std::lock_guard lock(m_mutex);
        if (m_hashGeneration != m_generation) // restarted while this task was queued
            startOverLocked();
        from = m_hashed;
        to = qMin(m_target, from + StepBytes);
        if (m_waiter && m_waiter->generation == m_generation && from < m_waiter->end)
            to = qMin(to, m_waiter->end); // exactly up to what is waited for
        generation = m_generation;
        if (m_cancelled.load() || m_failed || from >= to) {
            m_running = false;
            answerLocked();
            return;
        }
    }
    // m_hash is this task's alone while m_running: read and hashed without the lock, so the
    // writer's calls never wait for a read.
    QByteArray &buffer = readBuffer();
    bool ok = true;
    for (qint64 at = from; at < to;) {
        if (m_cancelled.load(std::memory_order_relaxed)) {
            ok = false;
            break;
        }
        const ssize_t n = ::pread(m_fd, buffer.data(), size_t(qMin<qint64>(buffer.size(), to - at)), at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ok = false; // cut below what was written: the writer restarted, or something else did
            break;
        }
        m_hash.add(buffer.constData(), n);
        at += n;
    }
    const std::lock_guard lock(m_mutex);
    if (generation != m_generation)
        startOverLocked();
    else if (ok)
        m_hashed = to;
    else
        m_failed = true;
    if (m_cancelled.load()) {
        m_running = false;
        return;
    }
    answerLocked();
    if (!m_failed && m_hashed < m_target) // the next step, after other files' waiting steps
        startPoolTask(hashPool(), [self = shared_from_this()] { self->step(); });
    else
        m_running = false;
}

} // namespace Hermes
