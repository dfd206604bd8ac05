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
    using ListRequest = AbstractDownloadStore::ListRequest;
    struct Queue
    {
        QList<Download> unfinished; ///< in queue order: the page asked for
        QueueSummary summary;       ///< over every node
        bool more = false;          ///< more unfinished ones after the page
    };
    /// What a bulk action does: `action`, or with none, give every download `priority`.
    struct BulkAction
    {
        std::optional<DownloadAction> action;
        int priority = 0;
    };
    /// A download a bulk action left as it was, and why: `not_found` or `invalid_state` (its
    /// `status` does not allow the action), the codes of the single action's errors.
    struct Skipped
    {
        QString id;
        QByteArray reason;
        std::optional<DownloadStatus> status;
    };
    struct BulkResult
    {
        QStringList changed;       ///< by id
        QList<Skipped> skipped;    ///< by id (asked for and missing, or refused)
        bool more = false;         ///< by status: more matched than MaxBulk; ask again
    };
    /// The most downloads one bulk action names or changes.
    static constexpr int MaxBulk = 10000;
    /// A download a client asks for (`POST /api/v1/downloads`).
    struct NewDownload
    {
        QString url;
        QString filename; ///< null: named after the URL until the server names it
        int priority = 0;
        QString sha256;   ///< empty: none
    };
    /// The most downloads one add names: a list a person pastes, and one transaction that
    /// holds the store's thread for milliseconds, not seconds.
    static constexpr int MaxAdd = 1000;

    DownloadService(AbstractDownloadStore *store, DownloadEvents *events, RunningDownloads *running,
                    const DownloadDir &dir, QObject *parent = nullptr);
    /// Where finished files go (the list answer names it and its free space).
    const DownloadDir &dir() const { return m_dir; }

    /// `filename` null: named after the URL until the server names it. `sha256` empty: none.
    void add(const QString &url, const QString &filename, int priority, const QString &sha256,
             Done<Download> done);
    /// add() of each of `items` (1 to MaxAdd) in one transaction: every one saved, at the end
    /// of the queue in this order, or none; a refusal is the first refused item's error, its
    /// message naming the item as `downloads[i]`. The events are add()'s, one pair per item.
    void addMany(const QList<NewDownload> &items, Done<QList<Download>> done);
    /// Why add() would refuse `item` (its values: a URL that is no http(s) URL, a reserved
    /// file name, …), or nothing: for a caller that must name the first bad item of a list in
    /// the list's order, whatever the kind of fault.
    static std::optional<Error> refusal(const NewDownload &item);
    void act(const QString &id, DownloadAction action, Done<Download> done);
    void setPriority(const QString &id, int priority, Done<Download> done);
    /// `what` on the downloads `which` names (ids, or statuses: at most MaxBulk of them), in
    /// one transaction, under the same rules and with the same events as act() and
    /// setPriority() on each: a download the rules refuse is skipped, the others change.
    void actOnMany(const AbstractDownloadStore::Selection &which, BulkAction what, Done<BulkResult> done);
    /// `deleteFile` also deletes a completed download's file.
    void remove(const QString &id, bool deleteFile, Done<void> done);

    void get(const QString &id, Done<Download> done);
    void list(const ListRequest &request, Done<Page> done);
    void list(std::optional<DownloadStatus> status, int limit, int offset, Done<Page> done)
    {
        list(ListRequest{status, limit, offset, std::nullopt, true}, std::move(done));
    }
    /// A page of the unfinished downloads in queue order, and the queue figures over every node.
    void queue(const ListRequest &request, Done<Queue> done);
    /// The first page (1,000 downloads at most).
    void queue(Done<Queue> done) { queue(ListRequest{std::nullopt, 1000, 0, std::nullopt, false}, std::move(done)); }

    /// The REST representation; live figures when this node runs it.
    DownloadResource resourceOf(const Download &download) const;

private:
    /// What follows a saved action on one download (part files, events, this node's run);
    /// `published` is called once per event: eventsOf() times.
    void announceAction(DownloadAction action, DownloadStatus before, const Download &after,
                        const QueueSummary &summary, const std::function<void(bool)> &published);
    static int eventsOf(DownloadStatus before, const Download &after) { return before != after.status ? 2 : 1; }
    void announceReorder(const Download &after, const QueueSummary &summary);
    /// Removes the part files of every generation of `id` (cancelled or deleted: none resumes).
    void removeParts(const QString &id);

    AbstractDownloadStore *m_store;
    DownloadEvents *m_events;
    RunningDownloads *m_running;
    DownloadDir m_dir;
};

} // namespace Hermes
