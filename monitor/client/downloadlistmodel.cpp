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
    m_retryTick.setInterval(1000);
    connect(&m_retryTick, &QTimer::timeout, this, &DownloadListModel::tickRetries);
}

void DownloadListModel::updateRetryTick()
{
    // Only while a countdown shows: with no retrying row the tick would scan every row for
    // nothing each second.
    if (m_table.retryingCount() <= 0)
        m_retryTick.stop();
    else if (!m_retryTick.isActive())
        m_retryTick.start();
}

void DownloadListModel::tickRetries()
{
    // One dataChanged over the Status cells from the first retrying row to the last: a view
    // repaints only what it shows, and a signal per row costs more than the few cells between.
    if (m_table.retryingCount() <= 0)
        return;
    int first = 0, last = m_table.size() - 1;
    while (first <= last && !m_table.at(first).in(DownloadPhase::Retrying))
        ++first;
    while (last > first && !m_table.at(last).in(DownloadPhase::Retrying))
        --last;
    if (first <= last)
        Q_EMIT dataChanged(index(first, Status), index(last, Status));
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

QString DownloadListModel::shortReason(const QString &error)
{
    qsizetype cut = error.size();
    for (const QLatin1StringView mark : {QLatin1StringView(": "), QLatin1StringView("; "), QLatin1StringView(" (")}) {
        const qsizetype at = error.indexOf(mark);
        if (at > 0)
            cut = qMin(cut, at);
    }
    return error.left(cut);
}

QString DownloadListModel::statusText(const DownloadRow &r, const QDateTime &now)
{
    const QString plain = statusText(r.status);
    if (!r.phase.isEmpty() && !r.phase.phase) // a newer server's phase: as it is sent
        return tr("%1 (%2)").arg(plain, r.phase.phaseText);
    switch (r.phase.phase.value_or(DownloadPhase::Transferring)) {
    case DownloadPhase::WaitingForConnection: return tr("Waiting for a connection");
    case DownloadPhase::Connecting: return tr("Connecting");
    case DownloadPhase::Stalled: return tr("Stalled");
    case DownloadPhase::Retrying: {
        const int attempt = r.phase.attempt.value_or(r.attempts + 1);
        const QString which = r.phase.maxAttempts
            ? tr("%1/%2").arg(QLocale().toString(attempt), QLocale().toString(*r.phase.maxAttempts))
            : QLocale().toString(attempt);
        const qint64 in = r.phase.nextAttemptAt.isValid() ? now.secsTo(r.phase.nextAttemptAt) : -1;
        return in > 0 ? tr("Retrying %1 in %2").arg(which, formatDuration(in)) : tr("Retrying %1").arg(which);
    }
    case DownloadPhase::Transferring:
        break;
    }
    if ((r.is(DownloadStatus::Failed) || r.is(DownloadStatus::Paused)) && !r.error.isEmpty())
        return tr("%1: %2").arg(plain, shortReason(r.error));
    return plain;
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
    // Each unit is a message of its own with its number (%Ln: in the locale's digits), so that
    // a language says the unit as that number needs it (German: "1 Tag", "2 Tage"); the pair
    // is a message too, for languages that order or join them otherwise.
    const auto n = [](qint64 v) { return int(qMin<qint64>(v, std::numeric_limits<int>::max())); };
    const auto secs = [&](qint64 v) { return tr("%Ln s", "duration", n(v)); };
    const auto mins = [&](qint64 v) { return tr("%Ln min", "duration", n(v)); };
    const auto hours = [&](qint64 v) { return tr("%Ln h", "duration", n(v)); };
    const auto days = [&](qint64 v) { return tr("%Ln d", "duration", n(v)); };
    const auto pair = [](const QString &larger, const QString &smaller) {
        return tr("%1 %2", "duration: a larger unit, then a smaller one").arg(larger, smaller);
    };
    if (seconds < 60)
        return secs(seconds);
    if (seconds < 3600)
        return pair(mins(seconds / 60), secs(seconds % 60));
    if (seconds < 86400)
        return pair(hours(seconds / 3600), mins((seconds % 3600) / 60));
    return pair(days(seconds / 86400), hours((seconds % 86400) / 3600));
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
    // Downloading, and past the connection: one waiting for a slot or for the origin's answer
    // has no speed or ETA to show (not "0 bytes/s · ∞").
    const bool active = r.is(DownloadStatus::Downloading) && !r.in(DownloadPhase::WaitingForConnection)
        && !r.in(DownloadPhase::Connecting);
    switch (role) {
    case IdRole: return r.id;
    case StatusRole: return r.status.text;
    case PercentRole: return r.percent;
    case LiveRole: return m_live;
    case Qt::ToolTipRole:
        if (!m_live && active && (index.column() == Speed || index.column() == Eta))
            return tr("Unknown while not connected to the server");
    {
        QStringList tip{r.url}; // the reason and the server's note in full
        if (!r.error.isEmpty())
            tip << r.error;
        if (!r.note.isEmpty())
            tip << r.note;
        return tip.join(u'\n');
    }
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
        case Downloaded: return r.downloaded;
        case Remaining: return r.size < 0 ? std::numeric_limits<qint64>::max() : qMax<qint64>(0, r.size - r.downloaded);
        case Attempts: return r.attemptsMade();
        default: return data(index, Qt::DisplayRole);
        }
    case Qt::TextAlignmentRole:
        switch (index.column()) {
        case Position: case Size: case Speed: case Eta: case Priority: case Downloaded: case Remaining: case Attempts:
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
        case Status: return statusText(r);
        case Downloaded: return formatBytes(double(r.downloaded));
        case Remaining:
            return r.is(DownloadStatus::Completed) || r.size < 0 ? QString() : formatBytes(double(qMax<qint64>(0, r.size - r.downloaded)));
        case Attempts:
            return r.phase.maxAttempts ? tr("%1/%2").arg(QLocale().toString(r.attemptsMade()), QLocale().toString(*r.phase.maxAttempts))
                                       : QLocale().toString(r.attemptsMade());
        case Error: return r.error;
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
    case Speed: return role == Qt::ToolTipRole ? tr("Download speed") : tr("Speed");
    case Eta: return tr("ETA");
    case Priority: return tr("Priority");
    case Added: return tr("Added");
    case Completed: return tr("Completed on");
    case Url: return tr("URL");
    case Downloaded: return tr("Downloaded");
    case Remaining: return tr("Remaining");
    case Attempts: return role == Qt::ToolTipRole ? tr("Attempts made (of at most, when the server limits them)") : tr("Attempts");
    case Error: return tr("Error");
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
    updateRetryTick();
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
    updateRetryTick();
    startFlush();
}

void DownloadListModel::rowChanged(int row)
{
    m_dirtyFirst = m_dirtyFirst < 0 ? row : qMin(m_dirtyFirst, row);
    m_dirtyLast = qMax(m_dirtyLast, row);
    updateRetryTick();
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
