#pragma once

#include <QtGlobal>

#include <atomic>
#include <memory>
#include <optional>

namespace Hermes {

/**
 * Starts the disk's write-back of a part file while the download goes on, a step at a time,
 * so the one fdatasync at its end (FinishedFile::verify) finds little left to write.
 *
 * Why: the kernel starts writing dirty pages back on its own only past
 * `vm.dirty_background_ratio` of memory (gigabytes on a large box), so a 1 GiB download stayed
 * in the page cache until its final fdatasync, which then wrote all of it while the download
 * waited: 0.5-0.9 s of a 2.1 s download on this box (bench/RESULTS.md), where the disk could
 * have been writing while the bytes arrived. `sync_file_range(SYNC_FILE_RANGE_WRITE)` queues
 * the pages for writing without waiting for them to be written, but it submits the I/O in the
 * call and waits for room in the device's queue (a slow USB disk, a busy NAS), so it runs on a
 * thread of its own (startDetached()), never on the transfers' thread; it promises nothing
 * about durability: the fdatasync at the end still does.
 *
 * The offsets are the part file's; a transfer that starts the file over (restart from zero, a
 * resume at another offset) says so with restart().
 */
class WritebackPacer final
{
public:
    /// How much is written between two write-back starts: large enough that the calls cost
    /// nothing next to the writes (one per 8 MiB: 128 per GiB), small enough that the disk
    /// starts early. 8 and 32 MiB gave the same total on this box.
    static constexpr qint64 StepBytes = 8 * 1024 * 1024;

    explicit WritebackPacer(qint64 stepBytes = StepBytes);

    /// The part file is written from `offset` on (what is below it was written back before,
    /// or is not this transfer's).
    void restart(qint64 offset);

    struct Range
    {
        qint64 offset = 0;
        qint64 length = 0;
        bool operator==(const Range &) const = default;
    };
    /// The file now holds bytes up to `end`: the range whose write-back to start now (a step
    /// or more that has not been started yet), or none.
    std::optional<Range> written(qint64 end);

    /// Starts the write-back of `range` of `fd` without waiting for it to be written (it may
    /// wait for the device's queue). Returns 0 or errno (an error is not the download's: the
    /// final fdatasync reports what matters).
    static int start(int fd, Range range);
    /// start() on the write-back's own thread, with a duplicate of `fd` (the caller may close
    /// its own meanwhile). `busy` is set until it is done: a caller does not ask for the next
    /// range while it is (the pacer is not advanced, so the next range covers what was written
    /// meanwhile), which bounds the queue to one range per file. False when `fd` could not be
    /// duplicated (nothing started).
    static bool startDetached(int fd, Range range, const std::shared_ptr<std::atomic<bool>> &busy);

private:
    qint64 m_step;
    qint64 m_started = 0; ///< write-back was started for the file below this offset
};

} // namespace Hermes
