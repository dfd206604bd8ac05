#pragma once

#include "downloads/downloaddir.h"

#include <QObject>

#include <functional>
#include <vector>

namespace Hermes {

/**
 * Makes renames in the download dir durable: fsync of the dir's descriptor, on DiskWaits'
 * threads (a sync waits for the disk; the event loop never does, nor the CPU-bound pool). A rename is a change of the
 * dir, not of the file: without this, a power loss after a completed file was announced may
 * bring back the part file under its old name, the row saying completed with no file.
 *
 * Group sync: the callers that ask while a sync runs share the next one (one sync covers every
 * rename done before it starts), so a burst of completions costs two syncs, not one each.
 * Lives on the main thread; answers there, never after it is gone.
 */
class DirectorySync final : public QObject
{
    Q_OBJECT
public:
    explicit DirectorySync(DownloadDir dir, QObject *parent = nullptr);

    /// `done` runs (on this object's thread) once a sync of the dir that began after this
    /// call ended: 0, or the errno of a failed sync.
    void after(std::function<void(int error)> done);
    /// Syncs that ended since start (tst_downloadengine: one before a completion is announced).
    quint64 syncs() const { return m_syncs; }
    /// What a sync does, for a test to make one fail (the disk's errors are hard to provoke):
    /// runs on the thread pool, returns 0 or an errno. DownloadDir::sync by default.
    using Syncer = std::function<int(const DownloadDir &)>;
    void setSyncer(Syncer syncer) { m_syncer = std::move(syncer); }

private:
    void startSync();

    DownloadDir m_dir;
    Syncer m_syncer = [](const DownloadDir &dir) { return dir.sync(); };
    std::vector<std::function<void(int)>> m_waiting; ///< for the next sync
    bool m_syncing = false;
    quint64 m_syncs = 0;
};

} // namespace Hermes
