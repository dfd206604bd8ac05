#include "downloadlistmodel.h"

#include <QLocale>

#include <cmath>
#include <limits>

namespace Hermes {

DownloadListModel::DownloadListModel(QObject *parent) : QAbstractTableModel(parent)
{
    m_flush.setSingleShot(true);
    m_flush.setInterval(50);
    connect(&m_flush, &QTimer::timeout, this, &DownloadListModel::flushChanges);
}

int DownloadListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int DownloadListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString DownloadListModel::formatBytes(double bytes)
{
    if (bytes < 0)
        return QStringLiteral("?");
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    while (bytes >= 1024 && unit < 4) {
        bytes /= 1024;
        ++unit;
    }
    return unit == 0 ? QStringLiteral("%1 B").arg(qint64(bytes))
                     : QStringLiteral("%1 %2").arg(bytes, 0, 'f', 1).arg(QLatin1StringView(units[unit]));
}

QString DownloadListModel::formatDuration(qint64 seconds)
{
    if (seconds < 0)
        return QStringLiteral("∞");
    if (seconds < 60)
        return QStringLiteral("%1 s").arg(seconds);
    if (seconds < 3600)
        return QStringLiteral("%1 min %2 s").arg(seconds / 60).arg(seconds % 60);
    return QStringLiteral("%1 h %2 min").arg(seconds / 3600).arg((seconds % 3600) / 60);
}

QVariant DownloadListModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const DownloadRow &r = m_rows.at(index.row());
    switch (role) {
    case IdRole: return r.id;
    case StatusRole: return r.status;
    case PercentRole: return r.percent;
    case Qt::ToolTipRole:
        return r.error.isEmpty() ? r.url : r.url + u'\n' + r.error;
    case SortRole:
        switch (index.column()) {
        case Size: return r.size;
        case Progress: return r.percent;
        case Speed: return r.speed;
        case Eta: return r.eta < 0 ? std::numeric_limits<qint64>::max() : r.eta;
        case Added: return r.added;
        default: return data(index, Qt::DisplayRole);
        }
    case Qt::TextAlignmentRole:
        if (index.column() == Size || index.column() == Speed || index.column() == Eta)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::DisplayRole:
        switch (index.column()) {
        case Name: return r.name;
        case Size: return formatBytes(double(r.size));
        case Progress: return QStringLiteral("%1%").arg(r.percent, 0, 'f', 1);
        case Speed: return r.status == u"downloading" ? formatBytes(r.speed) + QStringLiteral("/s") : QString();
        case Eta: return r.status == u"downloading" ? formatDuration(r.eta) : QString();
        case Status: return r.status;
        case Added: return QLocale().toString(r.added.toLocalTime(), QLocale::ShortFormat);
        }
    }
    return {};
}

QVariant DownloadListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char *names[] = {"Name", "Size", "Progress", "Speed", "ETA", "Status", "Added"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

const DownloadRow *DownloadListModel::row(const QString &id) const
{
    const auto it = m_index.constFind(id);
    return it == m_index.cend() ? nullptr : &m_rows.at(*it);
}

static void fill(DownloadRow &r, const QJsonObject &o)
{
    // Both a REST download and an event's data carry these; the event's "progress" object has
    // the live numbers.
    const QJsonObject p = o.value(QStringLiteral("progress")).toObject();
    if (o.contains(QStringLiteral("filename")))
        r.name = o.value(QStringLiteral("filename")).toString();
    if (o.contains(QStringLiteral("url")))
        r.url = o.value(QStringLiteral("url")).toString();
    if (o.contains(QStringLiteral("status")))
        r.status = o.value(QStringLiteral("status")).toString();
    if (o.contains(QStringLiteral("error_message")))
        r.error = o.value(QStringLiteral("error_message")).toString();
    if (!p.isEmpty()) {
        r.percent = qMax(r.percent, p.value(QStringLiteral("percentage")).toDouble());
        r.downloaded = p.value(QStringLiteral("downloaded_bytes")).toInteger(r.downloaded);
        const QJsonValue total = p.value(QStringLiteral("total_bytes"));
        if (total.isDouble())
            r.size = total.toInteger();
        r.speed = p.value(QStringLiteral("speed")).toDouble();
        const QJsonValue eta = p.value(QStringLiteral("eta"));
        r.eta = eta.isDouble() ? eta.toInteger() : -1;
    }
    if (r.name.isEmpty())
        r.name = r.url.section(u'/', -1);
}

void DownloadListModel::resetFromSnapshot(const QJsonArray &items)
{
    beginResetModel();
    m_rows.clear();
    m_index.clear();
    for (const QJsonValue &v : items) {
        const QJsonObject o = v.toObject();
        DownloadRow r;
        r.id = o.value(QStringLiteral("id")).toString();
        r.added = QDateTime::fromString(o.value(QStringLiteral("created_at")).toString(), Qt::ISODateWithMs);
        r.updated = o.value(QStringLiteral("updated_at")).toString();
        fill(r, o);
        m_index.insert(r.id, int(m_rows.size()));
        m_rows.append(r);
    }
    m_dirtyFirst = m_dirtyLast = -1;
    endResetModel();
}

void DownloadListModel::upsert(const QJsonObject &data)
{
    const QString id = data.value(QStringLiteral("download_id")).toString();
    if (id.isEmpty())
        return;
    auto it = m_index.find(id);
    if (it == m_index.end()) {
        const int at = int(m_rows.size());
        beginInsertRows({}, at, at);
        DownloadRow r;
        r.id = id;
        r.added = QDateTime::currentDateTimeUtc();
        fill(r, data);
        m_rows.append(r);
        m_index.insert(id, at);
        endInsertRows();
        return;
    }
    fill(m_rows[*it], data);
    markDirty(*it);
}

void DownloadListModel::applyProgress(const QJsonObject &data, const QString &timestamp)
{
    const DownloadRow *existing = row(data.value(QStringLiteral("download_id")).toString());
    // ISO-8601 UTC timestamps from one server compare as text.
    if (existing && !existing->updated.isEmpty() && timestamp < existing->updated)
        return;
    upsert(data);
    if (const DownloadRow *r = row(data.value(QStringLiteral("download_id")).toString()))
        m_rows[m_index.value(r->id)].updated = timestamp;
}

void DownloadListModel::applyQueueUpdate(const QJsonObject &data, const QString &timestamp)
{
    const QString id = data.value(QStringLiteral("download_id")).toString();
    const QString action = data.value(QStringLiteral("action")).toString();
    if (action == u"removed") {
        const auto it = m_index.find(id);
        if (it == m_index.end())
            return;
        const int at = *it;
        flushChanges();
        beginRemoveRows({}, at, at);
        m_rows.removeAt(at);
        m_index.clear();
        for (int i = 0; i < m_rows.size(); ++i)
            m_index.insert(m_rows.at(i).id, i);
        endRemoveRows();
        return;
    }
    const DownloadRow *existing = row(id);
    if (existing && data.contains(QStringLiteral("status"))
        && (existing->updated.isEmpty() || timestamp >= existing->updated)) {
        const int at = m_index.value(id);
        m_rows[at].status = data.value(QStringLiteral("status")).toString();
        markDirty(at);
    }
}

void DownloadListModel::markDirty(int row)
{
    m_dirtyFirst = m_dirtyFirst < 0 ? row : qMin(m_dirtyFirst, row);
    m_dirtyLast = qMax(m_dirtyLast, row);
    if (!m_flush.isActive())
        m_flush.start();
}

void DownloadListModel::flushChanges()
{
    m_flush.stop();
    if (m_dirtyFirst < 0)
        return;
    const int first = m_dirtyFirst, last = qMin(m_dirtyLast, int(m_rows.size()) - 1);
    m_dirtyFirst = m_dirtyLast = -1;
    if (last >= first)
        Q_EMIT dataChanged(index(first, 0), index(last, ColumnCount - 1));
}

} // namespace Hermes
