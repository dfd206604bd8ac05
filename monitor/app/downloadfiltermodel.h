#pragma once

#include "protocol/downloadstatus.h"

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
    /// Empty: every status (also one this version does not know).
    void setStatusFilter(const QList<DownloadStatus> &statuses);
    void setText(const QString &text);
    void setStale(bool stale);
    bool isStale() const { return m_stale; }

    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    quint32 m_statuses = 0; ///< a bit per status; 0: every status
    QString m_text;
    bool m_stale = false;
};

} // namespace Hermes
