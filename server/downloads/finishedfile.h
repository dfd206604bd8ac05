#pragma once

#include "result.h"

#include <QString>

#include <functional>

class QObject;

namespace Hermes {

/**
 * The last step of a download whose bytes are all in its part file: its SHA-256 checked (when
 * one was given), off the event loop. (Moving it into place is DownloadDir::place, after the
 * completed status is saved.)
 */
namespace FinishedFile {

/// What syncs a file's data: ::fdatasync by default; a test hands in its own (that watches how
/// many wait at once). Returns 0 or an errno; runs on DiskWaits' threads.
using Syncer = std::function<int(int fd)>;
int fdatasync(int fd);

/// Off the event loop (a large file would stall every stream): fdatasyncs `partPath` (the one
/// sync of a download, before it is moved into place) on DiskWaits' threads — the syncs of
/// downloads that finished together wait together, and the filesystem commits them together —
/// compares `hashedSha256` — the digest taken while the bytes arrived (Transfer::sha256()) —
/// or, when that is empty, the file's hash read from the disk (on the global pool: CPU), with
/// `expectedSha256`, and hands `done` the verdict on `context`'s thread, unless `context` is
/// gone by then. An empty `expectedSha256` passes. A mismatch is Error `checksum_mismatch`
/// with both digests; a failed sync is Error `sync_failed`.
void verify(QObject *context, const QString &partPath, const QString &expectedSha256,
            const QString &hashedSha256, std::function<void(Result<void>)> done,
            Syncer sync = &FinishedFile::fdatasync);

} // namespace FinishedFile

} // namespace Hermes
