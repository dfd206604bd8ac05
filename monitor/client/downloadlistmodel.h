#pragma once

#include <QAbstractTableModel>
#include <QDateTime>
#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QTimer>

namespace Hermes {

/// One row of the download table.
struct DownloadRow
{
    QString id;
    QString name;
    QString url;
    QString status;
    QString error;
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

    bool isFinished() const { return status == u"completed" || status == u"failed" || status == u"cancelled"; }
};

/**
 * The downloads as a table, fed by REST snapshots and by `download_progress` / `queue_update`
 * events, and never reset: a reload is *merged* into the rows (updated in place, new ones
 * inserted, vanished ones removed), so a view keeps its selection, scroll position and sort.
 *
 * Changes are coalesced: rows are updated at once, but views hear of them in one dataChanged
 * per interval (default 50 ms). The model also keeps, incrementally, the count of downloads per
 * status and the total speed (what the sidebar and the status bar show live), and each
 * download's place in the queue (the server's order: priority, then arrival).
 *
 * While not live (the stream is down), speed and ETA are shown as unknown rather than as the
 * last values, which would pretend to be current.
 */
class DownloadListModel final : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Position, Name, Size, Progress, Status, Speed, Eta, Priority, Added, Completed, Url, ColumnCount };
    enum Role { IdRole = Qt::UserRole + 1, StatusRole, PercentRole, SortRole, LiveRole };

    explicit DownloadListModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    /// Merges the server's full list (`GET /api/v1/downloads` items): the snapshot wins for
    /// every download it has; downloads it lacks are removed.
    void mergeSnapshot(const QJsonArray &items);
    /// The first half of a merge: updates rows, and removes those `items` lacks if it is
    /// `complete`; returns the downloads the model does not have yet, for insertDownloads()
    /// (a caller may insert them in slices).
    QJsonArray mergeKnown(const QJsonArray &items, bool complete = true);
    /// Inserts REST downloads the model does not have (known ones are skipped).
    void insertDownloads(const QJsonArray &downloads);
    /// One download from `GET /api/v1/downloads/{id}`: a new row, or for a known one what
    /// events do not carry (priority, creation time, hash, attempts).
    void upsertDownload(const QJsonObject &download);
    /// Applies a download_progress event's data; `timestamp` is the event's. An event older
    /// than the state a row already has is ignored, so a late event never undoes a newer one.
    void applyProgress(const QJsonObject &data, const QString &timestamp);
    /// Applies a queue_update: a removal drops the row; otherwise its status, priority and
    /// created_at (Hermes adds the last two to the Python payload) update a known row.
    void applyQueueUpdate(const QJsonObject &data, const QString &timestamp);

    /// Whether speed and ETA are current (the stream is connected).
    void setLive(bool live);
    bool isLive() const { return m_live; }

    const DownloadRow *row(const QString &id) const;
    const DownloadRow &rowAt(int row) const { return m_rows.at(row); }
    int rowOf(const QString &id) const { return m_index.value(id, -1); }
    /// Downloads per status (`pending`, `downloading`, …).
    int count(const QString &status) const { return m_counts.value(status); }
    /// Sum of the speeds of the downloads that are downloading, bytes/s.
    double totalSpeed() const { return m_totalSpeed; }
    /// The unfinished downloads in queue order (the first runs first).
    QStringList queueOrder() const;

    void setCoalescingInterval(int ms) { m_flush.setInterval(ms); }
    /// Emits the pending dataChanged (and countsChanged) now.
    void flushChanges();

    static QStringList statuses();
    /// The status as a translated word ("pending" → "Queued").
    static QString statusText(const QString &status);
    static QString formatBytes(double bytes);
    static QString formatSpeed(double bytesPerSecond);
    static QString formatDuration(qint64 seconds);

Q_SIGNALS:
    /// A download's status changed from one known status to another (not when it appeared).
    void statusChanged(const QString &id, const QString &from, const QString &to);
    /// Counts per status or the total speed changed (coalesced with dataChanged).
    void countsChanged();

private:
    void markDirty(int row);
    void insertRows(const QList<DownloadRow> &rows);
    void removeRowsWhere(const std::function<bool(const DownloadRow &)> &drop);
    void account(const DownloadRow &r, int sign);
    void setRow(int at, DownloadRow r);
    void rebuildIndex();
    void recomputePositions();

    QList<DownloadRow> m_rows;
    QHash<QString, int> m_index;
    QHash<QString, int> m_counts;
    double m_totalSpeed = 0;
    bool m_live = true;
    bool m_countsDirty = false;
    bool m_positionsDirty = false;
    int m_dirtyFirst = -1;
    int m_dirtyLast = -1;
    QTimer m_flush;
};

} // namespace Hermes
