#pragma once

class QThreadPool;

namespace Hermes {

/**
 * The threads that wait for the disk: the fdatasync of each finished file (FinishedFile) and
 * the fsync of the download dir after its renames (DirectorySync).
 *
 * Not the global pool: that one has QThread::idealThreadCount() threads (two on a two-core
 * box), sized for work that keeps a CPU busy, and a sync keeps none busy — it waits. On two
 * threads, twenty downloads that finished together synced two at a time, each waiting for a
 * journal commit of its own, while the next transfers waited for their leases. Syncs that wait
 * together cost little more than one: the filesystem's journal (ext4's jbd2, xfs' log) commits
 * every fsync that arrived while the previous commit ran in the next one, and the device gets
 * their writes at once. Hashing a file (CPU) stays on the global pool.
 *
 * At most MaxThreads wait at once; the others queue (a download has one sync at a time, and a
 * node holds at most twice HERMES_MAX_CONCURRENT_DOWNLOADS leases — its transfers and as many
 * finishing — so that bounds them in practice, with the download dir's syncs). Idle threads end after the pool's
 * expiry (30 s). Never destroyed: a sync still waiting for a slow disk at exit must not hold the
 * process's exit up (nothing is reported after the engine is gone, and the kernel finishes the
 * writes anyway).
 */
namespace DiskWaits {

/// Syncs waiting at once, at most.
inline constexpr int MaxThreads = 64;

/// The pool (created on first use).
QThreadPool &threads();

} // namespace DiskWaits

} // namespace Hermes
