#pragma once

#include <QThreadPool>

#include <atomic>
#include <functional>
#include <memory>
#include <utility>

namespace Hermes {

/**
 * Starts `task` on `pool`, with the hand-over made visible to ThreadSanitizer.
 *
 * QThreadPool hands the task to its thread under a QMutex inside QtCore, which Debian does not
 * build with ThreadSanitizer: TSan cannot see that lock, and reports the task's captures
 * (written here when the closure is built, read on the pool's thread) as a data race. A
 * release of an atomic after the closure is built, and an acquire of it first thing on the
 * pool's thread, is the same ordering the pool gives, written where TSan sees it (costs one
 * allocation and two atomic operations per task; tests/tsan/qthandoff.cpp does the same for
 * QMetaObject::invokeMethod).
 */
/**
 * A pool of at most `maxThreads` threads named `name`, never destroyed (kept in a function-local
 * static by its one user): for work that may still be under way at exit — a sync waiting for a
 * slow disk, a cancelled step finishing its block — which must not hold the process's exit up,
 * as the destructor of a pool that waits for its tasks would.
 */
inline QThreadPool *newLastingPool(const QString &name, int maxThreads)
{
    auto *pool = new QThreadPool;
    pool->setMaxThreadCount(maxThreads);
    pool->setObjectName(name);
    return pool;
}

template<typename Task>
void startPoolTask(QThreadPool &pool, Task &&task)
{
    auto handedOver = std::make_shared<std::atomic<bool>>(false);
    std::function<void()> run = [handedOver, task = std::forward<Task>(task)]() mutable {
        (void)handedOver->load(std::memory_order_acquire);
        task();
    };
    handedOver->store(true, std::memory_order_release);
    pool.start(std::move(run));
}

} // namespace Hermes
