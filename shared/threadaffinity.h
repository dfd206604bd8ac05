#pragma once

#include <QObject>
#include <QThread>

#include <atomic>

/**
 * Thread contracts, in code rather than only in comments: a function that must run on one
 * thread says so with one of these, and a debug build (the test build) stops with the
 * function's name when it is called from another. Release builds compile them away.
 *
 * - HERMES_ASSERT_THREAD(object): the QObject's own thread (QObject::thread()).
 * - ThreadAffinity: for a class that is not a QObject, or whose contract is another thread
 *   than its QObject's: bound on first use, or by bind(), to one thread.
 * - HERMES_ANY_THREAD: documents a function that any thread may call (it synchronises itself).
 */
#define HERMES_ASSERT_THREAD(object)                                                             \
    Q_ASSERT_X(QThread::currentThread() == (object)->thread(), Q_FUNC_INFO,                      \
               "called from another thread than the object's")

/// Marks a function that any thread may call (it locks, or touches only atomics).
#define HERMES_ANY_THREAD

namespace Hermes {

class ThreadAffinity final
{
public:
    /// Binds to the calling thread.
    void bind() { m_thread.store(QThread::currentThread(), std::memory_order_relaxed); }
    /// Binds to `thread` (e.g. the thread a worker is about to be moved to).
    void bindTo(QThread *thread) { m_thread.store(thread, std::memory_order_relaxed); }
    /// Forgets the thread: the next check() binds to its caller.
    void release() { m_thread.store(nullptr, std::memory_order_relaxed); }

    /// In debug builds, stops when called from another thread than the bound one (the first
    /// call binds when nothing is bound yet).
    void check([[maybe_unused]] const char *where) const
    {
#ifndef QT_NO_DEBUG
        QThread *expected = nullptr;
        QThread *current = QThread::currentThread();
        if (m_thread.compare_exchange_strong(expected, current, std::memory_order_relaxed))
            return;
        Q_ASSERT_X(expected == current, where, "called from another thread than its own");
#endif
    }

private:
    mutable std::atomic<QThread *> m_thread{nullptr};
};

} // namespace Hermes
