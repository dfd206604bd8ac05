#pragma once

#include "result.h"

#include <QString>
#include <QStringList>

#include <memory>

namespace Hermes {

/**
 * The download dir, and every file operation the engine does in it. The one place the names
 * in it are spelled: `<id>.<generation>.part` while a lease generation runs a download, then
 * the finished file's own name.
 *
 * The dir may be shared (NFS, SMB, a compose volume), so anyone who can write into it can plant
 * symlinks, FIFOs or devices under the names the engine will use. Nothing here follows them:
 * every operation goes through one open descriptor of the dir (`*at()` calls), new files are
 * created with O_EXCL|O_NOFOLLOW, existing ones reopened with O_NOFOLLOW|O_NONBLOCK (a FIFO
 * never blocks the event loop) and checked with fstat to be regular files, names are tested
 * with lstat semantics, and renames never replace (renameat2 RENAME_NOREPLACE) and never fall
 * back to copying through a link. Errors name the path.
 *
 * Copies share the descriptor; open() opens it (after creating the dir).
 */
class DownloadDir final
{
public:
    explicit DownloadDir(QString path = {});

    const QString &path() const { return m_path; }
    /// Creates the dir if needed and opens it. Until then every operation fails.
    Result<void> open();

    /// The part file name of lease generation `generation` of download `id`; generation 0 is
    /// the name older releases used (`<id>.part`), still resumed from.
    static QString partName(const QString &id, qint64 generation);
    /// Whether `name` is one the engine reserves (a part file's): never a finished file's name.
    static bool isReservedName(const QString &name);
    QString pathOf(const QString &name) const;

    /// Creates `name` new (it must not exist in any form), read-write. Answers the descriptor.
    Result<int> createFile(const QString &name) const;
    /// Opens the existing regular file `name` read-only (not a link, FIFO, device, dir).
    Result<int> openRegular(const QString &name) const;
    /// Whether anything (a file, a dangling link, a FIFO …) has `name`.
    bool exists(const QString &name) const;
    /// Whether `name` is a regular file.
    bool isRegularFile(const QString &name) const;
    /// Removes the entry `name` (a link itself, never its target). False if it was not there.
    bool remove(const QString &name) const;
    /// The part files of download `id`, of any generation.
    QStringList partsOf(const QString &id) const;
    /// Renames `from` to `to`, failing (EEXIST: kind Conflict) if `to` exists in any form.
    Result<void> renameNoReplace(const QString &from, const QString &to) const;
    /// `name`, or `name (1).ext`, `(2)` … whichever is free and not reserved. Empty if none.
    QString freeName(const QString &name) const;
    /// Moves `from` into place as `name` or the first free variant of it: never over anything.
    Result<QString> place(const QString &from, const QString &name) const;
    /// fsyncs the dir itself, so the renames done in it so far survive a power loss: 0, or
    /// the errno. Waits for the disk (DirectorySync calls it off the event loop).
    int sync() const;
    /// chmods the regular file `name` (through an open descriptor: a link is not followed).
    bool setMode(const QString &name, int mode) const;

private:
    struct Handle;
    QString m_path;
    std::shared_ptr<Handle> m_handle;
};

} // namespace Hermes
