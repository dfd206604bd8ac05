#pragma once

#include <QSortFilterProxyModel>

namespace Hermes {

/// Sorting and filtering of the download table: free text on name and URL, and a status.
class DownloadFilterModel final : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit DownloadFilterModel(QObject *parent = nullptr);
    /// Empty: every status.
    void setStatusFilter(const QString &status);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_status;
};

} // namespace Hermes
