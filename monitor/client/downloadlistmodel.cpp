#include "downloadlistmodel.h"

#include <QLocale>

#include <limits>
#include <utility>

namespace Hermes {

DownloadListModel::DownloadListModel(QObject *parent) : QAbstractTableModel(parent)
{
    m_flush.setSingleShot(true);
    m_flush.setInterval(50);
    connect(&m_flush, &QTimer::timeout, this, &DownloadListModel::flushChanges);
}

int DownloadListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_table.size();
}

int DownloadListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString DownloadListModel::statusText(DownloadStatus status)
{
    switch (status) {
    case DownloadStatus::Pending: return tr("Queued");
    case DownloadStatus::Downloading: return tr("Downloading");
    case DownloadStatus::Processing: return tr("Verifying");
    case DownloadStatus::Paused: return tr("Paused");
    case DownloadStatus::Completed: return tr("Completed");
    case DownloadStatus::Failed: return tr("Failed");
    case DownloadStatus::Cancelled: return tr("Cancelled");
    }
    return {};
}

QString DownloadListModel::statusText(const ReceivedStatus &status)
{
    // A status this version does not know: shown as the server says it.
    return status.known ? statusText(*status.known) : status.text;
}

QString DownloadListModel::formatBytes(double bytes)
{
    if (bytes < 0)
        return tr("unknown");
    return QLocale().formattedDataSize(qint64(bytes), bytes < 1024 ? 0 : 1, QLocale::DataSizeIecFormat);
}

QString DownloadListModel::formatSpeed(double bytesPerSecond)
{
    return tr("%1/s").arg(formatBytes(bytesPerSecond));
}

QString DownloadListModel::formatDuration(qint64 seconds)
{
    if (seconds < 0)
        return QStringLiteral("∞");
    const QLocale l;
    if (seconds < 60)
        return tr("%1 s").arg(l.toString(seconds));
    if (seconds < 3600)
        return tr("%1 min %2 s").arg(l.toString(seconds / 60), l.toString(seconds % 60));
    if (seconds < 86400)
        return tr("%1 h %2 min").arg(l.toString(seconds / 3600), l.toString((seconds % 3600) / 60));
    return tr("%1 d %2 h").arg(l.toString(seconds / 86400), l.toString((seconds % 86400) / 3600));
}

static QString formatTime(const QDateTime &t)
{
    return t.isValid() ? QLocale().toString(t.toLocalTime(), QLocale::ShortFormat) : QString();
}

QVariant DownloadListModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_table.size())
        return {};
    const DownloadRow &r = m_table.at(index.row());
    const bool active = r.is(DownloadStatus::Downloading);
    switch (role) {
    case IdRole: return r.id;
    case StatusRole: return r.status.text;
    case PercentRole: return r.percent;
    case LiveRole: return m_live;
    case Qt::ToolTipRole:
        if (!m_live && active && (index.column() == Speed || index.column() == Eta))
            return tr("Unknown while not connected to the server");
        return r.error.isEmpty() ? r.url : r.url + u'\n' + r.error;
    case SortRole:
        switch (index.column()) {
        case Position: return r.position > 0 ? r.position : std::numeric_limits<int>::max();
        case Size: return r.size;
        case Progress: return r.percent;
        case Speed: return active && m_live ? r.speed : -1.0;
        case Eta: return active && m_live && r.eta >= 0 ? r.eta : std::numeric_limits<qint64>::max();
        case Priority: return r.priority;
        case Added: return r.added;
        case Completed: return r.completed;
        case Status: return r.status.text;
        default: return data(index, Qt::DisplayRole);
        }
    case Qt::TextAlignmentRole:
        switch (index.column()) {
        case Position: case Size: case Speed: case Eta: case Priority:
            return int(Qt::AlignTrailing | Qt::AlignVCenter);
        default:
            return {};
        }
    case Qt::DisplayRole:
        switch (index.column()) {
        case Position: return r.position > 0 ? QLocale().toString(r.position) : QString();
        case Name: return r.name;
        case Size: return r.size < 0 ? QString() : formatBytes(double(r.size));
        case Progress: return tr("%1%").arg(QLocale().toString(r.percent, 'f', 1));
        case Speed: return !active ? QString() : m_live ? formatSpeed(r.speed) : QStringLiteral("—");
        case Eta: return !active ? QString() : m_live ? formatDuration(r.eta) : QStringLiteral("—");
        case Status: return statusText(r.status);
        case Priority: return QLocale().toString(r.priority);
        case Added: return formatTime(r.added);
        case Completed: return formatTime(r.completed);
        case Url: return r.url;
        }
    }
    return {};
}

QVariant DownloadListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || (role != Qt::DisplayRole && role != Qt::ToolTipRole))
        return {};
    switch (section) {
    case Position: return role == Qt::ToolTipRole ? tr("Place in the queue") : tr("#");
    case Name: return tr("Name");
    case Size: return tr("Size");
    case Progress: return tr("Progress");
    case Status: return tr("Status");
    case Speed: return tr("Speed");
    case Eta: return tr("ETA");
    case Priority: return tr("Priority");
    case Added: return tr("Added");
    case Completed: return tr("Completed on");
    case Url: return tr("URL");
    }
    return {};
}

void DownloadListModel::mergeSnapshot(const QJsonArray &items)
{
    QList<DownloadResource> downloads;
    downloads.reserve(items.size());
    for (const QJsonValue &v : items)
        downloads.append(DownloadResource::fromJson(v.toObject()));
    insertDownloads(mergeKnown(downloads));
}

void DownloadListModel::beginInsert(int first, int last)
{
    beginInsertRows({}, first, last);
}

void DownloadListModel::endInsert()
{
    endInsertRows();
    startFlush();
}

void DownloadListModel::aboutToRemove()
{
    flushChanges(); // pending dataChanged rows are about to move
}

void DownloadListModel::beginRemove(int first, int last)
{
    beginRemoveRows({}, first, last);
}

void DownloadListModel::endRemove()
{
    endRemoveRows();
    startFlush();
}

void DownloadListModel::rowChanged(int row)
{
    m_dirtyFirst = m_dirtyFirst < 0 ? row : qMin(m_dirtyFirst, row);
    m_dirtyLast = qMax(m_dirtyLast, row);
    startFlush();
}

void DownloadListModel::rowStatusChanged(const DownloadRow &row, const ReceivedStatus &from)
{
    Q_EMIT statusChanged(row.id, from, row.status);
}

void DownloadListModel::startFlush()
{
    if (!m_flush.isActive())
        m_flush.start();
}

void DownloadListModel::setLive(bool live)
{
    if (live == m_live)
        return;
    m_live = live;
    m_liveChanged = true;
    if (!m_table.isEmpty())
        Q_EMIT dataChanged(index(0, Speed), index(m_table.size() - 1, Eta));
    Q_EMIT countsChanged();
}

void DownloadListModel::flushChanges()
{
    m_flush.stop();
    if (m_table.updatePositions() && !m_table.isEmpty())
        Q_EMIT dataChanged(index(0, Position), index(m_table.size() - 1, Position));
    if (m_dirtyFirst >= 0) {
        const int first = m_dirtyFirst, last = qMin(m_dirtyLast, m_table.size() - 1);
        m_dirtyFirst = m_dirtyLast = -1;
        if (last >= first)
            Q_EMIT dataChanged(index(first, 0), index(last, ColumnCount - 1));
    }
    const bool counts = m_table.takeCountsChanged();
    if (counts || std::exchange(m_liveChanged, false))
        Q_EMIT countsChanged();
}

} // namespace Hermes
