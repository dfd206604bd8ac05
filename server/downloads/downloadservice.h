#pragma once

#include "downloads/abstractdownloadstore.h"
#include "downloads/download.h"
#include "downloads/downloaddir.h"
#include "protocol/payloads.h"
#include "result.h"

#include <QObject>

#include <functional>
#include <optional>

namespace Hermes {

class DownloadEvents;
class RunningDownloads;

/**
 * The downloads' API, what the REST routes call: add, act (pause, resume, cancel, retry),
 * setPriority, remove, get, list and queue. Any node answers for any download: the store is
 * the truth, and a change made here is saved, then published here, once; the node running the
 * download hears of it from the store and stops.
 *
 * Which action applies to which status, and what it leads to, is DownloadRules' table
 * (shared/protocol); the service adds the side effects (cancel forgets the bytes and the
 * error and deletes the part file, retry starts the attempts again, …). Answers are Results:
 * Invalid (the request), NotFound, Conflict (not in this status), Unavailable (the store did
 * not answer), each with the code and message clients know. Main thread only.
 */
class DownloadService final : public QObject
{
    Q_OBJECT
public:
    template<typename T>
    using Done = std::function<void(Result<T>)>;
    using Page = AbstractDownloadStore::Page;
    struct Queue
    {
        QList<Download> unfinished; ///< in queue order
        QueueSummary summary;       ///< over every node
    };

    DownloadService(AbstractDownloadStore *store, DownloadEvents *events, RunningDownloads *running,
                    const DownloadDir &dir, QObject *parent = nullptr);

    /// `filename` null: named after the URL until the server names it. `sha256` empty: none.
    void add(const QString &url, const QString &filename, int priority, const QString &sha256,
             Done<Download> done);
    void act(const QString &id, DownloadAction action, Done<Download> done);
    void setPriority(const QString &id, int priority, Done<Download> done);
    /// `deleteFile` also deletes a completed download's file.
    void remove(const QString &id, bool deleteFile, Done<void> done);

    void get(const QString &id, Done<Download> done);
    void list(std::optional<DownloadStatus> status, int limit, int offset, Done<Page> done);
    /// Unfinished downloads in queue order, and the queue figures over every node.
    void queue(Done<Queue> done);

    /// The REST representation; live figures when this node runs it.
    DownloadResource resourceOf(const Download &download) const;

private:
    /// Removes the part files of every generation of `id` (cancelled or deleted: none resumes).
    void removeParts(const QString &id);

    AbstractDownloadStore *m_store;
    DownloadEvents *m_events;
    RunningDownloads *m_running;
    DownloadDir m_dir;
};

} // namespace Hermes
