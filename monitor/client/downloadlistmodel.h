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
    qint64 size = -1;       ///< -1: unknown
    qint64 downloaded = 0;
    double percent = 0;
    double speed = 0;       ///< bytes per second
    qint64 eta = -1;        ///< seconds; -1: unknown
    QDateTime added;
    QString updated;        ///< the server's timestamp of the newest state applied (ISO-8601)
};

/**
 * The downloads as a table: name, size, progress, speed, ETA, status, added.
 *
 * Fed by a REST snapshot and by `download_progress`/`queue_update` events. Changes are
 * coalesced: rows are updated at once, but views hear of them in one dataChanged per interval
 * (default 50 ms), so 1,000 downloads updating 10×/s cost 20 signals a second, not 10,000.
 */
class DownloadListModel final : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Name, Size, Progress, Speed, Eta, Status, Added, ColumnCount };
    enum Role { IdRole = Qt::UserRole + 1, StatusRole, PercentRole, SortRole };

    explicit DownloadListModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    /// Replaces every row with the server's list (`GET /api/v1/downloads` items).
    void resetFromSnapshot(const QJsonArray &items);
    /// Applies a download_progress event's data; `timestamp` is the event's. An event older
    /// than the state a row already has is ignored, so a late event never undoes a newer one.
    void applyProgress(const QJsonObject &data, const QString &timestamp);
    /// Applies a queue_update (a removal drops the row).
    void applyQueueUpdate(const QJsonObject &data, const QString &timestamp);

    const DownloadRow *row(const QString &id) const;
    const DownloadRow &rowAt(int row) const { return m_rows.at(row); }
    void setCoalescingInterval(int ms) { m_flush.setInterval(ms); }
    /// Emits the pending dataChanged now.
    void flushChanges();

    static QString formatBytes(double bytes);
    static QString formatDuration(qint64 seconds);

private:
    void markDirty(int row);
    void upsert(const QJsonObject &download);

    QList<DownloadRow> m_rows;
    QHash<QString, int> m_index;
    int m_dirtyFirst = -1;
    int m_dirtyLast = -1;
    QTimer m_flush;
};

} // namespace Hermes
