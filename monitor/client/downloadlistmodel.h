#pragma once

#include "downloadrowtable.h"

#include <QAbstractTableModel>
#include <QJsonArray>
#include <QJsonObject>
#include <QTimer>

namespace Hermes {

/**
 * The downloads as a table model: a thin QAbstractTableModel over a DownloadRowTable, which
 * holds the rows and the rules by which REST snapshots and events merge into them (never a
 * reset, so a view keeps its selection, scroll position and sort).
 *
 * Changes are coalesced: rows are updated at once, but views hear of them in one dataChanged
 * per interval (default 50 ms), together with the places in the queue and countsChanged (the
 * counts per status and the total speed that the sidebar and the status bar show live).
 *
 * While not live (the stream is down), speed and ETA are shown as unknown rather than as the
 * last values, which would pretend to be current.
 */
class DownloadListModel final : public QAbstractTableModel, private DownloadRowTable::Observer
{
    Q_OBJECT
public:
    // New columns go at the end: views keep their saved header state by section number.
    enum Column {
        Position, Name, Size, Progress, Status, Speed, Eta, Priority, Added, Completed, Url,
        Downloaded, Remaining, Attempts, Error, ColumnCount
    };
    enum Role { IdRole = Qt::UserRole + 1, StatusRole, PercentRole, SortRole, LiveRole };

    explicit DownloadListModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    // What changes the rows (DownloadRowTable has the rules).
    QList<DownloadResource> mergeKnown(const QList<DownloadResource> &items, bool complete = true,
                                       bool mayBeStale = false)
    {
        return m_table.mergeKnown(items, complete, mayBeStale);
    }
    void insertDownloads(const QList<DownloadResource> &downloads) { m_table.insert(downloads); }
    void upsertDownload(const DownloadResource &download) { m_table.upsert(download); }
    void applyProgress(const DownloadProgressEvent &event, const QString &timestamp)
    {
        m_table.applyProgress(event, timestamp);
    }
    void applyQueueUpdate(const QueueUpdateEvent &event, const QString &timestamp)
    {
        m_table.applyQueueUpdate(event, timestamp);
    }
    // The same from the wire form (REST downloads, an event's data), decoded by the payload
    // types. mergeSnapshot() is mergeKnown() and insertDownloads() at once: the snapshot wins
    // for every download it has, downloads it lacks are removed.
    void mergeSnapshot(const QJsonArray &items);
    void upsertDownload(const QJsonObject &download) { upsertDownload(DownloadResource::fromJson(download)); }
    void applyProgress(const QJsonObject &data, const QString &timestamp)
    {
        applyProgress(DownloadProgressEvent::fromJson(data), timestamp);
    }
    void applyQueueUpdate(const QJsonObject &data, const QString &timestamp)
    {
        applyQueueUpdate(QueueUpdateEvent::fromJson(data), timestamp);
    }

    /// Whether speed and ETA are current (the stream is connected).
    void setLive(bool live);
    bool isLive() const { return m_live; }

    const DownloadRow *row(const QString &id) const { return m_table.find(id); }
    const DownloadRow &rowAt(int row) const { return m_table.at(row); }
    int rowOf(const QString &id) const { return m_table.indexOf(id); }
    /// Downloads per status.
    int count(DownloadStatus status) const { return m_table.count(status); }
    /// Sum of the speeds of the downloads that are downloading, bytes/s.
    double totalSpeed() const { return m_table.totalSpeed(); }
    /// The unfinished downloads in queue order (the first runs first).
    QStringList queueOrder() const { return m_table.queueOrder(); }

    void setCoalescingInterval(int ms) { m_flush.setInterval(ms); }
    /// Whether the retry countdown ticks (only while a download waits to retry).
    bool isCountingDown() const { return m_retryTick.isActive(); }
    void setCountdownInterval(int ms) { m_retryTick.setInterval(ms); }
    /// Emits the pending dataChanged (and countsChanged) now.
    void flushChanges();

    /// The status as a translated word (pending → "Queued"); a status this version does not
    /// know is shown as the server says it.
    static QString statusText(const ReceivedStatus &status);
    static QString statusText(DownloadStatus status);
    /// The Status column: the status with its reason or phase ("Failed: HTTP 404 Not Found",
    /// "Retrying 2/5 in 8 s", "Stalled", "Connecting", "Waiting for a connection", …), as of
    /// `now`.
    static QString statusText(const DownloadRow &row, const QDateTime &now = QDateTime::currentDateTimeUtc());
    /// The gist of a server's error message: up to its first ": ", "; " or " (".
    static QString shortReason(const QString &error);
    static QString formatBytes(double bytes);
    static QString formatSpeed(double bytesPerSecond);
    static QString formatDuration(qint64 seconds);

Q_SIGNALS:
    /// A download's status changed from one status to another (not when it appeared).
    void statusChanged(const QString &id, const Hermes::ReceivedStatus &from, const Hermes::ReceivedStatus &to);
    /// Counts per status or the total speed changed (coalesced with dataChanged).
    void countsChanged();

private:
    // DownloadRowTable::Observer
    void beginInsert(int first, int last) override;
    void endInsert() override;
    void aboutToRemove() override;
    void beginRemove(int first, int last) override;
    void endRemove() override;
    void rowChanged(int row) override;
    void rowStatusChanged(const DownloadRow &row, const ReceivedStatus &from) override;

    void startFlush();
    /// A retry's countdown ("in 8 s") moves on each second.
    void tickRetries();
    void updateRetryTick();

    DownloadRowTable m_table{this};
    bool m_live = true;
    bool m_liveChanged = false;
    int m_dirtyFirst = -1;
    int m_dirtyLast = -1;
    QTimer m_flush;
    QTimer m_retryTick;
};

} // namespace Hermes
