#pragma once

#include <QSet>
#include <QSortFilterProxyModel>

namespace Hermes {

/**
 * Sorting and filtering of the download table: free text on name and URL, and a set of
 * statuses (the sidebar's choice). It also decorates: an icon beside each status word, and
 * dimmed text while the list may be out of date (stale).
 */
class DownloadFilterModel final : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit DownloadFilterModel(QObject *parent = nullptr);
    /// Empty: every status.
    void setStatusFilter(const QStringList &statuses);
    QStringList statusFilter() const { return QStringList(m_statuses.cbegin(), m_statuses.cend()); }
    void setText(const QString &text);
    void setStale(bool stale);
    bool isStale() const { return m_stale; }

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QSet<QString> m_statuses;
    QString m_text;
    bool m_stale = false;
};

} // namespace Hermes
