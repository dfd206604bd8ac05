#pragma once

#include "protocol/payloads.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QStringList>

#include <array>
#include <functional>

namespace Hermes {

/// One row of the download table.
struct DownloadRow
{
    QString id;
    QString name;
    QString url;
    ReceivedStatus status;  ///< empty text: none known yet
    QString error;
    QString note;           ///< the server's note (e.g. why it restarted from zero)
    DownloadPhaseInfo phase; ///< what it does within its status; empty: nothing more to say
    QString sha256;
    qint64 size = -1;       ///< -1: unknown
    qint64 downloaded = 0;
    double percent = 0;
    double speed = 0;       ///< bytes per second
    qint64 eta = -1;        ///< seconds; -1: unknown
    int priority = 0;
    int attempts = 0;
    int position = 0;       ///< 1-based place in the queue; 0 when finished
    QDateTime added;
    QDateTime completed;
    QString updated;        ///< the server's timestamp of the newest state applied (ISO-8601)

    bool is(DownloadStatus s) const { return status.known == s; }
    bool in(DownloadPhase p) const { return phase.phase == p; }
    /// Attempts made so far: the server counts the failed ones; a running or completed
    /// download is on one more, and a failed one made at least one.
    int attemptsMade() const
    {
        if (is(DownloadStatus::Downloading) || is(DownloadStatus::Processing) || is(DownloadStatus::Completed))
            return attempts + 1;
        return is(DownloadStatus::Failed) ? qMax(1, attempts) : attempts;
    }
    /// A status this version does not know is not finished: it keeps its place in the queue.
    bool isFinished() const { return status.known && DownloadRules::isFinished(*status.known); }
};

/**
 * The downloads the monitor knows, as rows, and the rules by which REST snapshots and events
 * change them. No Qt model here: DownloadListModel shows the table, and hears of every change
 * in QAbstractItemModel's terms through the Observer.
 *
 * - A snapshot is *merged*: rows are updated in place, new ones inserted, vanished ones
 *   removed; never a reset.
 * - An event older than the state a row already has (its timestamp before the row's) is
 *   ignored, so a late event never undoes a newer one; ISO-8601 UTC timestamps from one
 *   server compare as text.
 * - A download_progress carries only some members: a member it lacks keeps the row's value;
 *   a status change (a retry) or a restart from zero (a new note, or fewer bytes in an event
 *   newer than the row's state, note or not) takes the progress as it is, otherwise the
 *   percentage never goes down. Without a percentage it is computed from the bytes. A phase
 *   belongs to its status: a status change without one clears it.
 * - A snapshot that is not complete (a paged list that moved) neither removes nor changes
 *   the rows it lacks. One whose pages may predate events applied since changes no row to an
 *   older state than it has (the same timestamp rule as for events).
 * - Counts per status and the total speed are kept as rows change; each download's place in
 *   the queue (the server's order: priority, then arrival) is recomputed when asked.
 */
class DownloadRowTable final
{
public:
    /// What a view of the rows must hear of.
    class Observer
    {
    public:
        virtual ~Observer() = default;
        virtual void beginInsert(int first, int last) = 0;
        virtual void endInsert() = 0;
        /// Once before the rows of one removal move: changes reported so far name old rows.
        virtual void aboutToRemove() = 0;
        virtual void beginRemove(int first, int last) = 0;
        virtual void endRemove() = 0;
        virtual void rowChanged(int row) = 0;
        /// A download's status changed from one status to another (not when it appeared).
        virtual void rowStatusChanged(const DownloadRow &row, const ReceivedStatus &from) = 0;
    };

    /// `observer` (none: nobody watches) must outlive the table.
    explicit DownloadRowTable(Observer *observer = nullptr);

    int size() const { return int(m_rows.size()); }
    bool isEmpty() const { return m_rows.isEmpty(); }
    const DownloadRow &at(int row) const { return m_rows.at(row); }
    const DownloadRow *find(const QString &id) const;
    int indexOf(const QString &id) const { return m_index.value(id, -1); }

    /// The first half of a snapshot merge: updates rows, and removes those `items` lacks if it
    /// is `complete`; returns the downloads the table does not have yet, for insert() (a
    /// caller may insert them in slices). `mayBeStale`: items fetched before events that were
    /// applied since; one older than its row (updated_at before the row's) leaves it as it is,
    /// by the rule that keeps a late event from undoing a newer one.
    QList<DownloadResource> mergeKnown(const QList<DownloadResource> &items, bool complete, bool mayBeStale = false);
    /// Inserts REST downloads the table does not have (known ones are skipped).
    void insert(const QList<DownloadResource> &downloads);
    /// One download from `GET /api/v1/downloads/{id}`: a new row, or for a known one what
    /// events do not carry (priority, creation time, hash, attempts).
    void upsert(const DownloadResource &download);
    /// A download_progress; `timestamp` is the event's.
    void applyProgress(const DownloadProgressEvent &event, const QString &timestamp);
    /// A queue_update: a removal drops the row; otherwise its status, priority and created_at
    /// (Hermes adds the last two to the Python payload) update a known row.
    void applyQueueUpdate(const QueueUpdateEvent &event, const QString &timestamp);

    /// Downloads per status.
    int count(DownloadStatus status) const { return m_counts[std::size_t(status)]; }
    /// Rows waiting to retry (their countdown moves each second).
    int retryingCount() const { return m_retrying; }
    /// Sum of the speeds of the downloads that are downloading, bytes/s, as of the last
    /// takeCountsChanged().
    double totalSpeed() const { return m_totalSpeed; }
    /// Whether counts or speeds changed since the last call; recomputes the total speed then.
    bool takeCountsChanged();
    /// The unfinished downloads in queue order (the first runs first).
    QStringList queueOrder() const;
    /// Recomputes the places in the queue if what they depend on changed; whether one moved.
    bool updatePositions();

private:
    void insertRows(const QList<DownloadRow> &rows);
    void removeRowsWhere(const std::function<bool(const DownloadRow &)> &drop);
    void account(const DownloadRow &r, int sign);
    void setRow(int at, DownloadRow r);
    void rebuildIndex();

    Observer *m_observer;
    QList<DownloadRow> m_rows;
    QHash<QString, int> m_index;
    std::array<int, DownloadStatusCount> m_counts{};
    int m_retrying = 0;
    double m_totalSpeed = 0;
    bool m_countsDirty = false;
    bool m_positionsDirty = false;
};

} // namespace Hermes
