#include "downloadfiltermodel.h"

#include "downloadlistmodel.h"
#include "icons.h"

#include <QApplication>
#include <QPalette>

namespace Hermes {

DownloadFilterModel::DownloadFilterModel(QObject *parent) : QSortFilterProxyModel(parent)
{
    setSortRole(DownloadListModel::SortRole);
    setDynamicSortFilter(true);
}

void DownloadFilterModel::setStatusFilter(const QList<DownloadStatus> &statuses)
{
    quint32 mask = 0;
    for (DownloadStatus s : statuses)
        mask |= 1u << int(s);
    if (mask == m_statuses)
        return;
    m_statuses = mask;
    invalidateRowsFilter();
}

void DownloadFilterModel::setText(const QString &text)
{
    if (text == m_text)
        return;
    m_text = text;
    invalidateRowsFilter();
}

void DownloadFilterModel::setStale(bool stale)
{
    if (stale == m_stale)
        return;
    m_stale = stale;
    if (rowCount() > 0)
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, columnCount() - 1), {Qt::ForegroundRole});
}

QVariant DownloadFilterModel::data(const QModelIndex &index, int role) const
{
    if (role == Qt::ForegroundRole && m_stale)
        return QApplication::palette().brush(QPalette::Disabled, QPalette::Text);
    if (role == Qt::DecorationRole && index.column() == DownloadListModel::Status)
        return Icons::status(index.data(DownloadListModel::StatusRole).toString());
    return QSortFilterProxyModel::data(index, role);
}

bool DownloadFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const auto *model = static_cast<const DownloadListModel *>(sourceModel());
    if (sourceParent.isValid() || sourceRow >= model->rowCount())
        return false;
    const DownloadRow &r = model->rowAt(sourceRow);
    if (m_statuses && !(r.status.known && (m_statuses & (1u << int(*r.status.known)))))
        return false;
    return m_text.isEmpty() || r.name.contains(m_text, Qt::CaseInsensitive)
        || r.url.contains(m_text, Qt::CaseInsensitive);
}

} // namespace Hermes
