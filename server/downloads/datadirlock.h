#pragma once

#include "result.h"

#include <QString>

namespace Hermes {

/**
 * An exclusive lock on a directory, so two servers never share one SQLite data dir.
 *
 * flock() on `<dir>/hermes-server.lock`, which also records the holder's pid and host for the
 * error message of the next one. The kernel drops the lock when the process ends, however it
 * ends (SIGKILL included), so a stale file never blocks a restart — unlike a pid file, which a
 * container's pid 1 would keep "alive" forever.
 */
class DataDirLock final
{
public:
    DataDirLock() = default;
    ~DataDirLock();
    DataDirLock(const DataDirLock &) = delete;
    DataDirLock &operator=(const DataDirLock &) = delete;

    /// Takes the lock, or explains who holds it (Conflict, `data_dir_in_use`) or why it could
    /// not be taken (Failed, `data_dir_lock`).
    Result<void> lock(const QString &dir);
    static QString fileName() { return QStringLiteral("hermes-server.lock"); }

private:
    int m_fd = -1;
};

} // namespace Hermes
