#pragma once

#include "downloads/sha256.h"

#include <QPointer>
#include <QString>
#include <QtGlobal>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

class QObject;

namespace Hermes {

/**
 * The SHA-256 of a part file, taken on a thread of its own a step behind the writes.
 *
 * Why: hashed on the transfers' thread as each block was written, a 1 GiB download spent about
 * 0.9 s of that thread's 1.3 s of CPU in SHA-256, and that thread — which also drains the
 * reply and writes the file — set the download's pace (1.5x curl's wall time on a 2-core box,
 * bench/RESULTS.md). Here the bytes are read back (pread, through a descriptor of its own: they
 * were just written, so from the page cache) and hashed beside the transfer, on another core;
 * the extra copy costs far less than the hash. What is hashed is what the file holds.
 *
 * Offsets are the part file's. The writer says how far the file is written (written(), after
 * the bytes are in it) and when it starts the file over (restart()); whenHashed() answers once
 * bytes [0, end) are hashed. Methods are called from one thread (the transfer's); the hashing
 * runs on the hash pool, a step of at most StepBytes per task, so that several files take
 * turns on its threads.
 */
class TrailingHash final : public std::enable_shared_from_this<TrailingHash>
{
public:
    /// What one task hashes before it lets another file's task have the thread.
    static constexpr qint64 StepBytes = 8 * 1024 * 1024;

    /// Hashes the bytes of `fd` through a duplicate of it; null when it cannot be duplicated.
    static std::shared_ptr<TrailingHash> create(int fd);
    ~TrailingHash();
    TrailingHash(const TrailingHash &) = delete;
    TrailingHash &operator=(const TrailingHash &) = delete;

    /// The file holds bytes [0, end): hashes up to there.
    void written(qint64 end);
    /// The file is being written again from byte 0: what was hashed is dropped.
    void restart();
    /// `done` gets the digest (lower-case hex) of bytes [0, end), on the application's thread
    /// once they are hashed, unless `context` (which lives there) is gone by then; an empty
    /// string when they cannot be (a read failed or came short, the file was restarted, or
    /// more than `end` was written). Replaces an earlier waiter. Nothing after cancel().
    void whenHashed(QObject *context, qint64 end, std::function<void(const QString &)> done);
    /// Stops hashing for good (the transfer ended): the current step ends at its next block.
    void cancel();

private:
    explicit TrailingHash(int fd) : m_fd(fd) {}
    /// Under m_mutex: starts a task when there is something to hash and none runs.
    void scheduleLocked();
    /// A task on the hash pool: one step, then hands over to the next task.
    void step();
    /// Under m_mutex, by m_hash's owner: drops what was hashed, for the current generation.
    void startOverLocked();
    /// Under m_mutex: answers the waiter if its bytes are hashed (or can no longer be).
    void answerLocked();

    const int m_fd;
    std::mutex m_mutex;
    /// Bytes [0, m_hashed) are in m_hash. Owned by the running task while m_running, otherwise
    /// under m_mutex.
    Sha256 m_hash;
    qint64 m_hashed = 0;
    quint64 m_hashGeneration = 0; ///< the generation m_hash is of (as m_hash)
    qint64 m_target = 0;          ///< under m_mutex: the file holds bytes up to here
    quint64 m_generation = 0;     ///< under m_mutex: restart() counts up
    bool m_running = false;       ///< under m_mutex: a task is queued or hashing
    bool m_failed = false;        ///< under m_mutex: a read failed in this generation
    std::atomic<bool> m_cancelled{false};
    struct Waiter
    {
        QPointer<QObject> context;
        qint64 end = 0;
        quint64 generation = 0;
        std::function<void(const QString &)> done;
    };
    std::optional<Waiter> m_waiter; ///< under m_mutex
};

} // namespace Hermes
