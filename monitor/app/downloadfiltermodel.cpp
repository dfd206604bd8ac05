#include "downloadfiltermodel.h"

#include "downloadlistmodel.h"

namespace Hermes {

DownloadFilterModel::DownloadFilterModel(QObject *parent) : QSortFilterProxyModel(parent)
{
    setSortRole(DownloadListModel::SortRole);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
    setDynamicSortFilter(true);
}

void DownloadFilterModel::setStatusFilter(const QString &status)
{
    m_status = status;
    invalidateRowsFilter();
}

bool DownloadFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QModelIndex name = sourceModel()->index(sourceRow, DownloadListModel::Name, sourceParent);
    if (!m_status.isEmpty() && name.data(DownloadListModel::StatusRole).toString() != m_status)
        return false;
    const QRegularExpression re = filterRegularExpression();
    if (re.pattern().isEmpty())
        return true;
    return name.data().toString().contains(re) || name.data(Qt::ToolTipRole).toString().contains(re);
}

} // namespace Hermes
