#include "downloadlistmodel.h"

#include <QLocale>

#include <algorithm>
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

QStringList DownloadListModel::statuses()
{
    return {QStringLiteral("pending"), QStringLiteral("downloading"), QStringLiteral("processing"),
            QStringLiteral("paused"), QStringLiteral("completed"), QStringLiteral("failed"),
            QStringLiteral("cancelled")};
}

QString DownloadListModel::statusText(const QString &status)
{
    if (status == u"pending")
        return tr("Queued");
    if (status == u"downloading")
        return tr("Downloading");
    if (status == u"processing")
        return tr("Verifying");
    if (status == u"paused")
        return tr("Paused");
    if (status == u"completed")
        return tr("Completed");
    if (status == u"failed")
        return tr("Failed");
    if (status == u"cancelled")
        return tr("Cancelled");
    return status; // a status this version does not know: shown as the server says it
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
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const DownloadRow &r = m_rows.at(index.row());
    const bool active = r.status == u"downloading";
    switch (role) {
    case IdRole: return r.id;
    case StatusRole: return r.status;
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
        case Status: return r.status;
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

const DownloadRow *DownloadListModel::row(const QString &id) const
{
    const auto it = m_index.constFind(id);
    return it == m_index.cend() ? nullptr : &m_rows.at(*it);
}

static QDateTime parseTime(const QJsonValue &v)
{
    return v.isString() ? QDateTime::fromString(v.toString(), Qt::ISODateWithMs) : QDateTime();
}

static void fillProgress(DownloadRow &r, const QJsonObject &p, bool keepMaximum)
{
    const double percent = p.value(QStringLiteral("percentage")).toDouble(r.percent);
    r.percent = keepMaximum ? qMax(r.percent, percent) : percent;
    r.downloaded = p.value(QStringLiteral("downloaded_bytes")).toInteger(r.downloaded);
    const QJsonValue total = p.value(QStringLiteral("total_bytes"));
    if (total.isDouble())
        r.size = total.toInteger();
    r.speed = p.value(QStringLiteral("speed")).toDouble();
    const QJsonValue eta = p.value(QStringLiteral("eta"));
    r.eta = eta.isDouble() ? eta.toInteger() : -1;
}

/// A download as REST returns it: the whole truth at that moment.
static DownloadRow fromDownload(DownloadRow r, const QJsonObject &o)
{
    r.id = o.value(QStringLiteral("id")).toString(r.id);
    r.url = o.value(QStringLiteral("url")).toString();
    r.name = o.value(QStringLiteral("filename")).toString();
    r.status = o.value(QStringLiteral("status")).toString();
    r.error = o.value(QStringLiteral("error_message")).toString();
    r.sha256 = o.value(QStringLiteral("sha256")).toString();
    r.priority = o.value(QStringLiteral("priority")).toInt();
    r.attempts = o.value(QStringLiteral("attempts")).toInt();
    r.added = parseTime(o.value(QStringLiteral("created_at")));
    r.completed = parseTime(o.value(QStringLiteral("completed_at")));
    r.updated = o.value(QStringLiteral("updated_at")).toString();
    const QJsonObject p = o.value(QStringLiteral("progress")).toObject();
    if (!p.isEmpty()) {
        fillProgress(r, p, false);
    } else {
        r.downloaded = o.value(QStringLiteral("downloaded_bytes")).toInteger();
        r.size = o.value(QStringLiteral("total_bytes")).isDouble() ? o.value(QStringLiteral("total_bytes")).toInteger() : -1;
    }
    if (r.name.isEmpty())
        r.name = r.url.section(u'/', -1);
    return r;
}

/// A download_progress event's data: only what it carries.
static DownloadRow fromEvent(DownloadRow r, const QJsonObject &o)
{
    const QString status = o.value(QStringLiteral("status")).toString(r.status);
    const bool sameStatus = status == r.status;
    r.status = status;
    if (o.contains(QStringLiteral("filename")))
        r.name = o.value(QStringLiteral("filename")).toString();
    if (o.contains(QStringLiteral("url")))
        r.url = o.value(QStringLiteral("url")).toString();
    if (o.contains(QStringLiteral("error_message")))
        r.error = o.value(QStringLiteral("error_message")).toString();
    if (o.value(QStringLiteral("attempts")).isDouble())
        r.attempts = o.value(QStringLiteral("attempts")).toInt();
    const QJsonObject p = o.value(QStringLiteral("progress")).toObject();
    if (!p.isEmpty())
        fillProgress(r, p, sameStatus); // a retry starts again from 0
    if (r.status == u"completed" && !r.completed.isValid())
        r.completed = QDateTime::currentDateTimeUtc();
    if (r.name.isEmpty())
        r.name = r.url.section(u'/', -1);
    return r;
}

void DownloadListModel::account(const DownloadRow &r, int sign)
{
    m_counts[r.status] += sign;
    m_countsDirty = true;
}

void DownloadListModel::setRow(int at, DownloadRow r)
{
    DownloadRow &old = m_rows[at];
    const QString from = old.status;
    if (old.priority != r.priority || old.isFinished() != r.isFinished())
        m_positionsDirty = true;
    if (old.status != r.status || old.speed != r.speed)
        m_countsDirty = true;
    account(old, -1);
    r.position = old.position;
    old = std::move(r);
    account(old, +1);
    markDirty(at);
    if (!from.isEmpty() && from != old.status)
        Q_EMIT statusChanged(old.id, from, old.status);
}

void DownloadListModel::rebuildIndex()
{
    m_index.clear();
    m_index.reserve(m_rows.size());
    for (int i = 0; i < m_rows.size(); ++i)
        m_index.insert(m_rows.at(i).id, i);
}

void DownloadListModel::insertRows(const QList<DownloadRow> &rows)
{
    if (rows.isEmpty())
        return;
    const int first = int(m_rows.size());
    beginInsertRows({}, first, first + int(rows.size()) - 1);
    for (const DownloadRow &r : rows) {
        m_index.insert(r.id, int(m_rows.size()));
        m_rows.append(r);
        account(r, +1);
    }
    m_positionsDirty = true;
    endInsertRows();
    if (!m_flush.isActive())
        m_flush.start();
}

void DownloadListModel::removeRowsWhere(const std::function<bool(const DownloadRow &)> &drop)
{
    bool flushed = false;
    for (int last = int(m_rows.size()) - 1; last >= 0; --last) {
        if (!drop(m_rows.at(last)))
            continue;
        if (!flushed) {
            flushChanges(); // pending dataChanged rows are about to move
            flushed = true;
        }
        int first = last;
        while (first > 0 && drop(m_rows.at(first - 1)))
            --first;
        beginRemoveRows({}, first, last);
        for (int i = first; i <= last; ++i)
            account(m_rows.at(i), -1);
        m_rows.remove(first, last - first + 1);
        rebuildIndex();
        endRemoveRows();
        m_positionsDirty = true;
        last = first;
    }
    if (flushed && !m_flush.isActive())
        m_flush.start();
}

void DownloadListModel::mergeSnapshot(const QJsonArray &items)
{
    insertDownloads(mergeKnown(items));
}

QJsonArray DownloadListModel::mergeKnown(const QJsonArray &items, bool complete)
{
    QHash<QString, QJsonObject> byId;
    byId.reserve(items.size());
    QStringList order;
    for (const QJsonValue &v : items) {
        const QJsonObject o = v.toObject();
        const QString id = o.value(QStringLiteral("id")).toString();
        if (id.isEmpty() || byId.contains(id))
            continue;
        byId.insert(id, o);
        order.append(id);
    }
    if (complete)
        removeRowsWhere([&](const DownloadRow &r) { return !byId.contains(r.id); });
    for (int i = 0; i < m_rows.size(); ++i)
        setRow(i, fromDownload(m_rows.at(i), byId.take(m_rows.at(i).id)));
    QJsonArray fresh;
    for (const QString &id : std::as_const(order)) {
        const auto it = byId.constFind(id);
        if (it != byId.cend())
            fresh.append(*it);
    }
    return fresh;
}

void DownloadListModel::insertDownloads(const QJsonArray &downloads)
{
    QList<DownloadRow> fresh;
    fresh.reserve(downloads.size());
    for (const QJsonValue &v : downloads) {
        const QString id = v.toObject().value(QStringLiteral("id")).toString();
        if (!id.isEmpty() && !m_index.contains(id))
            fresh.append(fromDownload({}, v.toObject()));
    }
    insertRows(fresh);
}

void DownloadListModel::upsertDownload(const QJsonObject &download)
{
    const QString id = download.value(QStringLiteral("id")).toString();
    if (id.isEmpty())
        return;
    const int at = rowOf(id);
    if (at < 0) {
        insertRows({fromDownload({}, download)});
        return;
    }
    // Only what events do not carry: the state itself may already be newer than this answer.
    const DownloadRow full = fromDownload(m_rows.at(at), download);
    DownloadRow r = m_rows.at(at);
    r.priority = full.priority;
    r.sha256 = full.sha256;
    r.attempts = full.attempts;
    if (full.added.isValid())
        r.added = full.added;
    if (full.completed.isValid())
        r.completed = full.completed;
    setRow(at, std::move(r));
}

void DownloadListModel::applyProgress(const QJsonObject &data, const QString &timestamp)
{
    const QString id = data.value(QStringLiteral("download_id")).toString();
    if (id.isEmpty())
        return;
    const int at = rowOf(id);
    if (at < 0) {
        DownloadRow r;
        r.id = id;
        // Until the details bring created_at: the event's own time, on the server's clock
        // like created_at, so that the queue order (ties go by arrival) and the moves planned
        // on it agree with the server's even before the details are in. This client's clock
        // would put a download whose event came late after ones created later.
        r.added = parseTime(QJsonValue(timestamp));
        if (r.added.isValid() && r.added.timeSpec() == Qt::LocalTime)
            r.added.setTimeSpec(Qt::UTC); // a Python worker's naive utcnow().isoformat()
        if (!r.added.isValid())
            r.added = QDateTime::currentDateTimeUtc();
        r = fromEvent(r, data);
        r.updated = timestamp;
        insertRows({r});
        return;
    }
    // ISO-8601 UTC timestamps from one server compare as text.
    if (!m_rows.at(at).updated.isEmpty() && timestamp < m_rows.at(at).updated)
        return;
    DownloadRow r = fromEvent(m_rows.at(at), data);
    r.updated = timestamp;
    setRow(at, std::move(r));
}

void DownloadListModel::applyQueueUpdate(const QJsonObject &data, const QString &timestamp)
{
    const QString id = data.value(QStringLiteral("download_id")).toString();
    const QString action = data.value(QStringLiteral("action")).toString();
    if (action == u"removed") {
        removeRowsWhere([&](const DownloadRow &r) { return r.id == id; });
        return;
    }
    const int at = rowOf(id);
    if (at < 0)
        return;
    DownloadRow r = m_rows.at(at);
    // Hermes adds the queue order to the Python payload: created_at never changes, and the
    // priority and status are taken unless a newer state is already here.
    const QDateTime created = parseTime(data.value(QStringLiteral("created_at")));
    if (created.isValid())
        r.added = created;
    if (r.updated.isEmpty() || timestamp >= r.updated) {
        if (data.contains(QStringLiteral("status")))
            r.status = data.value(QStringLiteral("status")).toString();
        if (data.value(QStringLiteral("priority")).isDouble())
            r.priority = data.value(QStringLiteral("priority")).toInt();
    }
    setRow(at, std::move(r));
}

void DownloadListModel::setLive(bool live)
{
    if (live == m_live)
        return;
    m_live = live;
    m_countsDirty = true;
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0, Speed), index(int(m_rows.size()) - 1, Eta));
    Q_EMIT countsChanged();
}

QStringList DownloadListModel::queueOrder() const
{
    QList<const DownloadRow *> queued;
    for (const DownloadRow &r : m_rows) {
        if (!r.isFinished())
            queued.append(&r);
    }
    // The server's order: priority first, then arrival.
    std::sort(queued.begin(), queued.end(), [](const DownloadRow *a, const DownloadRow *b) {
        if (a->priority != b->priority)
            return a->priority > b->priority;
        if (a->added != b->added)
            return a->added < b->added;
        return a->id < b->id;
    });
    QStringList ids;
    ids.reserve(queued.size());
    for (const DownloadRow *r : queued)
        ids.append(r->id);
    return ids;
}

void DownloadListModel::recomputePositions()
{
    m_positionsDirty = false;
    QHash<QString, int> places;
    const QStringList order = queueOrder();
    for (int i = 0; i < order.size(); ++i)
        places.insert(order.at(i), i + 1);
    bool changed = false;
    for (DownloadRow &r : m_rows) {
        const int p = places.value(r.id, 0);
        changed |= p != r.position;
        r.position = p;
    }
    if (changed && !m_rows.isEmpty())
        Q_EMIT dataChanged(index(0, Position), index(int(m_rows.size()) - 1, Position));
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
    if (m_positionsDirty)
        recomputePositions();
    if (m_dirtyFirst >= 0) {
        const int first = m_dirtyFirst, last = qMin(m_dirtyLast, int(m_rows.size()) - 1);
        m_dirtyFirst = m_dirtyLast = -1;
        if (last >= first)
            Q_EMIT dataChanged(index(first, 0), index(last, ColumnCount - 1));
    }
    if (m_countsDirty) {
        m_countsDirty = false;
        double speed = 0;
        for (const DownloadRow &r : std::as_const(m_rows)) {
            if (r.status == u"downloading")
                speed += r.speed;
        }
        m_totalSpeed = speed;
        Q_EMIT countsChanged();
    }
}

} // namespace Hermes
