#pragma once

#include "broker/journalchain.h"
#include "result.h"

#include <QByteArrayView>
#include <QString>
#include <QStringList>

namespace Hermes::JournalFiles {

/**
 * The file work of an EventJournal that is not appending: reading a segment file safely,
 * moving what cannot be vouched for aside, rewriting a segment without its damage, replacing
 * a small file atomically. Every failure names the path.
 */

/// write() until done (EINTR retried).
bool writeAll(int fd, QByteArrayView bytes);

/// Reads and scans segment `number` at `path` without following a link or blocking on a FIFO
/// planted in its place (neither is a regular file: it reads as a damaged header).
JournalChain::File readSegment(const QString &path, int number, int maxRecordBytes, Channel channel,
                               quint32 epoch);

/// Replaces `path` with `bytes` through a temporary file and a rename; synced first if `sync`.
Result<void> replace(const QString &path, QByteArrayView bytes, bool sync);

/// Where a journal's damaged files go: `<root>/damaged/<time of the first move>/`, keeping
/// their path below the root. Evidence is moved, never deleted.
class Quarantine
{
public:
    explicit Quarantine(QString root) : m_root(std::move(root)) {}
    /// Moves each of `paths` (files under the root) aside; returns where they went (a path
    /// that is already gone is skipped; one that cannot be moved is logged and stays).
    QStringList moveAside(const QStringList &paths);
    QString directory() const { return m_dir; }

private:
    QString m_root;
    QString m_dir;
};

/// Rewrites segment `file` at `path` as a header naming `floor` followed by the whole records
/// found after its damage (copied byte for byte); the damaged original is moved aside first.
/// Returns where it went.
Result<QString> replaceWithRecovered(const QString &path, const JournalChain::File &file, quint32 epoch,
                                     EventId floor, Quarantine &quarantine);

} // namespace Hermes::JournalFiles
