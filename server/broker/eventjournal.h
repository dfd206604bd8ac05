#pragma once

#include "broker/journalchain.h"
#include "broker/journalfiles.h"
#include "event.h"
#include "result.h"
#include "threadaffinity.h"

#include <QHash>
#include <QThreadPool>
#include <QList>
#include <QString>
#include <QStringList>

#include <atomic>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

namespace Hermes {

/**
 * The embedded broker's history on disk, so a restart or an upgrade loses no event a client
 * may still resume from (Mercure's default transport does the same with a local database).
 *
 * Layout under its directory: `state.json` (the epoch, the boot it was opened in, whether it
 * was closed cleanly, each channel's newest segment and event) and per channel a chain of
 * segment files `<channel>/<n>.log` of length-prefixed, CRC-checked records (the format:
 * JournalSegment). Each segment's header names the id of the channel's last event before it,
 * its own number and its predecessor's last record, so when old segments are deleted (a
 * channel keeps at least its newest `capacity` events and at most one segment more) the
 * history knows where its floor is, and a segment missing, cut short or out of place breaks
 * the chain. A segment is also closed at a quarter of the byte bound, and a load reads the
 * segments newest first, one at a time, keeping only the newest events that fit the
 * in-memory history's bounds (the rest stay on disk, below the floor it reports): a journal
 * of large events costs a start about the byte bound, not its size. (A segment written
 * before segments had a byte bound is read whole.) A new segment is written and synced under a temporary name and then renamed:
 * a disk that fills at a rotation refuses the batch but leaves no broken segment behind.
 *
 * Durability: every batch is written with write() before its events are delivered, so a
 * process crash (SIGKILL) loses nothing; fsync follows the policy — `always` (every batch is
 * on disk before delivery), `everysec` (at most a second of history lost to a power loss)
 * or `no` (left to the kernel). A history that may have lost delivered events without a
 * trace — the server did not stop cleanly and the machine rebooted since, under a policy
 * other than `always` — is not trusted: a new epoch starts, so clients resync instead of
 * being given a silent gap.
 *
 * Damage (JournalChain decides): a torn tail of the newest segment after an unclean stop is
 * cut off (it was never delivered). Any other damage — a segment missing, cut, reordered, a
 * flipped bit, a stranger in the directory — is never repaired silently: the files that can
 * no longer be vouched for are moved to `damaged/<time>/<channel>/` (never deleted), the path
 * is logged at critical, and the channel's floor rises over what may be lost, so every
 * resume across the damage is answered `resync_required`; the rest of the history, and the
 * epoch, are kept. A missing or unreadable `state.json` beside segments moves them all aside
 * and starts a new epoch.
 *
 * Thread contract: one thread (its broker's, the main thread) opens, appends, syncs and
 * closes it; syncInBackground() hands the fsyncs to a pool thread by itself.
 */
class EventJournal final
{
public:
    enum class Fsync { Always, EverySecond, Never };
    /// The policy named `text` (HERMES_SSE_HISTORY_FSYNC: `always`, `everysec`, `no`), or nothing.
    static std::optional<Fsync> parseFsync(QStringView text);

    struct Loaded
    {
        quint32 epoch = 0;
        bool newEpoch = false;   ///< nothing was kept (first start, or not trusted; see above)
        QString whyNew;          ///< why a kept history was not trusted, for the log
        QList<Event> events;     ///< in id order; per channel the newest that fit the bounds
        ChannelFloors floors;    ///< per channel: events up to this id are gone (or left out)
        EventId newest;          ///< the newest id ever issued in this epoch
        QStringList damage;      ///< damage found and moved aside, one line each (logged)
    };

    /// No byte bound: `bytesPerChannel` Unbounded.
    static constexpr qint64 Unbounded = std::numeric_limits<qint64>::max();
    /// `capacityPerChannel` and `bytesPerChannel`: the in-memory history's bounds
    /// (HERMES_SSE_HISTORY_SIZE, HERMES_SSE_HISTORY_BYTES). The disk keeps the newest
    /// `capacityPerChannel` events; a load hands over only the newest that fit both bounds.
    EventJournal(QString directory, int capacityPerChannel, Fsync fsync, qint64 bytesPerChannel = Unbounded);
    ~EventJournal();
    EventJournal(const EventJournal &) = delete;
    EventJournal &operator=(const EventJournal &) = delete;

    /// Reads what is kept and opens the journal for appending. `bootId` names this boot of
    /// the machine (empty: read /proc/sys/kernel/random/boot_id). An error
    /// (`history_unavailable`) when the directory cannot be used at all.
    Result<Loaded> open(const QByteArray &bootId = {});
    /// Appends events (ids ascending, of the open epoch). An error (`history_unavailable`) when
    /// they could not be written: the caller must not deliver them.
    Result<void> append(const QList<Event> &events);
    /// How many of `events`, from `from` on, one append() takes so that no segment grows past
    /// its byte size (at least one). A longer batch goes in such parts (MemoryBroker).
    qsizetype appendable(const QList<Event> &events, qsizetype from) const;
    /// fsyncs what was written since the last sync.
    void sync();
    /// The same on a pool thread, so the event loop never waits on the disk (the `everysec`
    /// timer calls this).
    void syncInBackground();
    /// Syncs and marks the journal closed cleanly.
    void close();

    bool needsPeriodicSync() const { return m_fsync == Fsync::EverySecond; }

    /// The largest record (an event with its id), above HERMES_MAX_PUBLISH_BYTES' maximum.
    static constexpr int MaxRecordBytes = 64 << 20;

private:
    struct Segment
    {
        int number = 0;
        int events = 0;
        EventId last;
        qint64 bytes = 0; ///< the file's size
    };
    /// One channel's segments.
    struct Lane
    {
        Channel channel;
        std::vector<Segment> segments;
        int fd = -1;
        bool dirty = false;
        qint64 total = 0;
        EventId floor;        ///< what the first segment's header names
        int nextNumber = 1;   ///< for a lane with no segment yet
        quint32 lastCrc = 0;  ///< the CRC of the newest record written: the next header's chain
    };

    Result<Loaded> load();
    EventId loadChannel(Lane &channel, std::optional<JournalChain::Recorded> recorded, bool clean,
                        EventId lostEnd, QList<Event> *events, QStringList *damage);
    bool anySegments() const;
    void discardAll();
    Result<void> openNewest(Lane &lane);
    Result<void> createSegment(Lane &lane, int number, EventId previous);
    void dropOldSegments(Lane &channel);
    Result<void> writeState(bool clean);
    QString segmentPath(const Lane &channel, int number) const;

    QString m_dir;
    int m_capacity;
    Fsync m_fsync;
    qint64 m_byteBudget;
    int m_segmentEvents;
    qint64 m_segmentBytes;
    quint32 m_epoch = 0;
    QByteArray m_bootId;
    EventId m_newest;
    Lane m_lanes[Channel::Count];
    JournalFiles::Quarantine m_quarantine;
    std::vector<int> m_retired; ///< rotated-out segments not yet synced (`everysec`)
    bool m_open = false;
    std::shared_ptr<std::atomic<bool>> m_backgroundSync = std::make_shared<std::atomic<bool>>(false);
    /// The `everysec` syncs' own thread: not the global pool, where a download's fdatasync or
    /// hash of gigabytes would hold back the journal's sync (and widen what a crash may lose
    /// from about a second to minutes). Its destructor waits for a sync in progress.
    QThreadPool m_syncPool;
    ThreadAffinity m_thread;
};

} // namespace Hermes
