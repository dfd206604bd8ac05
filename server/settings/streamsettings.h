#pragma once

#include <QString>

namespace Hermes {

/**
 * The settings of the stream I/O threads (HERMES_SSE_* of a stream, HERMES_IO_*): each
 * StreamWorker takes this group as its Options, and EventHub starts `ioThreads` of them.
 *
 * The members marked "not a setting" are internal tunables that tests change; every other one
 * is written by SettingsTable, which defines its variable, default and unit, and
 * tst_settingstable keeps the defaults below equal to the table's.
 */
struct StreamSettings
{
    int heartbeatIntervalSec = 30;
    int connectionTimeoutSec = 300; ///< 0: never
    int retryMs = 3000;
    qint64 maxClientBuffer = 1 << 20; ///< most bytes a stream is given at once
    int sendTimeoutSec = 60;          ///< drop a stream whose socket takes nothing this long
    int resumeWaitMs = 3000;          ///< how long a resume may wait (see ResumePlanner). Not a setting.
    QString ioBackend = QStringLiteral("auto"); ///< see BatchSender
    /// Past this many events queued for it, a worker stops queueing them and its streams
    /// catch up from the history instead (see StreamWorker::deliver()). Not a setting.
    int maxQueuedEvents = 8192;
    /// The same bound in bytes (EncodedEvent::heldBytes()): the queue is what pins events the
    /// history already evicted, so it counts in the memory budget (README) once per I/O
    /// thread. Not a setting.
    qint64 maxQueuedBytes = 8 << 20;
    /// Rounds that take events start at least this far apart (ms; 0: a round per wakeup):
    /// the events that arrive meanwhile, and history changes queued behind them, go out
    /// in the next round, one send per stream. After a quiet spell a round starts at once;
    /// events faster than one per interval wait up to the interval.
    int roundIntervalMs = 5;
    /// Stream I/O threads, each a StreamWorker with these settings; 0: one per core. Read by
    /// EventHub, not by a worker.
    int ioThreads = 0;
};

} // namespace Hermes
