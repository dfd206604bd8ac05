#include "statussidebar.h"

#include "downloadlistmodel.h"
#include "icons.h"

#include <QLocale>

namespace Hermes {

namespace {
using S = DownloadStatus;
/// The entries, in order: All, then a status each (Downloading includes verifying).
const QList<QList<DownloadStatus>> &entries()
{
    static const QList<QList<DownloadStatus>> list{
        {}, {S::Downloading, S::Processing}, {S::Pending}, {S::Paused}, {S::Completed}, {S::Failed}, {S::Cancelled},
    };
    return list;
}
// An entry's statuses in its item's data.
int maskOf(const QList<DownloadStatus> &statuses)
{
    int mask = 0;
    for (DownloadStatus s : statuses)
        mask |= 1 << int(s);
    return mask;
}
QList<DownloadStatus> statusesOf(int mask)
{
    QList<DownloadStatus> statuses;
    for (DownloadStatus s : allDownloadStatuses()) {
        if (mask & (1 << int(s)))
            statuses.append(s);
    }
    return statuses;
}
} // namespace

StatusSidebar::StatusSidebar(DownloadListModel *model, QWidget *parent) : QListWidget(parent), m_model(model)
{
    setAccessibleName(tr("Status filter"));
    setSelectionMode(QAbstractItemView::SingleSelection);
    setUniformItemSizes(true);
    for (const QList<DownloadStatus> &statuses : entries()) {
        const QIcon icon = statuses.isEmpty() ? Icons::status(QStringLiteral("all")) : Icons::status(statuses.first());
        auto *item = new QListWidgetItem(icon, QString(), this);
        item->setData(Qt::UserRole, maskOf(statuses));
    }
    setCurrentRow(0);
    connect(this, &QListWidget::currentRowChanged, this, [this] { Q_EMIT statusesChosen(currentStatuses()); });
    connect(model, &DownloadListModel::countsChanged, this, &StatusSidebar::refreshCounts);
    connect(model, &QAbstractItemModel::rowsInserted, this, &StatusSidebar::refreshCounts);
    connect(model, &QAbstractItemModel::rowsRemoved, this, &StatusSidebar::refreshCounts);
    refreshCounts();
    setMinimumWidth(sizeHintForColumn(0) + 24);
}

QList<DownloadStatus> StatusSidebar::currentStatuses() const
{
    const QListWidgetItem *i = currentItem();
    return i ? statusesOf(i->data(Qt::UserRole).toInt()) : QList<DownloadStatus>();
}

void StatusSidebar::selectStatuses(const QList<DownloadStatus> &statuses)
{
    for (int r = 0; r < count(); ++r) {
        if (item(r)->data(Qt::UserRole).toInt() == maskOf(statuses)) {
            setCurrentRow(r);
            return;
        }
    }
}

void StatusSidebar::refreshCounts()
{
    const QStringList names{tr("All"), tr("Downloading"), tr("Queued"), tr("Paused"), tr("Completed"),
                            tr("Failed"), tr("Cancelled")};
    for (int r = 0; r < count(); ++r) {
        const QList<DownloadStatus> statuses = statusesOf(item(r)->data(Qt::UserRole).toInt());
        int n = statuses.isEmpty() ? m_model->rowCount() : 0;
        for (DownloadStatus s : statuses)
            n += m_model->count(s);
        const QString text = tr("%1 (%2)").arg(names.value(r), QLocale().toString(n));
        if (item(r)->text() != text) {
            item(r)->setText(text);
            item(r)->setData(Qt::AccessibleTextRole, text);
        }
    }
}

} // namespace Hermes
