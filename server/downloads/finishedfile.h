#pragma once

#include "result.h"

#include <QString>

#include <functional>

class QObject;

namespace Hermes {

/**
 * The last step of a download whose bytes are all in its part file: its SHA-256 checked (when
 * one was given), then the file moved into place under its name — never over an existing
 * file, even one another node just moved there (`name (1).ext` …) — and given its mode.
 */
namespace FinishedFile {

/// Hashes `partPath` on the thread pool (a large file would stall every stream) and hands
/// `done` the verdict on `context`'s thread, unless `context` is gone by then. An empty
/// `expectedSha256` passes. A mismatch is Error `checksum_mismatch` with both digests.
void verify(QObject *context, const QString &partPath, const QString &expectedSha256,
            std::function<void(Result<void>)> done);

/// Renames `partPath` to `name` in `dir`, or `name (n)` when that exists; chmods it to `mode`
/// (-1: as created). Answers the path it got.
Result<QString> moveIntoPlace(const QString &partPath, const QString &dir, const QString &name, int mode);

} // namespace FinishedFile

} // namespace Hermes
