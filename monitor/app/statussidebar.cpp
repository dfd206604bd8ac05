#include "statussidebar.h"

#include "downloadlistmodel.h"
#include "icons.h"

#include <QLocale>

namespace Hermes {

namespace {
struct Entry
{
    const char *icon;
    QStringList statuses;
};
const QList<Entry> &entries()
{
    static const QList<Entry> list{
        {"all", {}},
        {"downloading", {QStringLiteral("downloading"), QStringLiteral("processing")}},
        {"pending", {QStringLiteral("pending")}},
        {"paused", {QStringLiteral("paused")}},
        {"completed", {QStringLiteral("completed")}},
        {"failed", {QStringLiteral("failed")}},
        {"cancelled", {QStringLiteral("cancelled")}},
    };
    return list;
}
} // namespace

StatusSidebar::StatusSidebar(DownloadListModel *model, QWidget *parent) : QListWidget(parent), m_model(model)
{
    setAccessibleName(tr("Status filter"));
    setSelectionMode(QAbstractItemView::SingleSelection);
    setUniformItemSizes(true);
    for (const Entry &e : entries()) {
        auto *item = new QListWidgetItem(Icons::status(QString::fromLatin1(e.icon)), QString(), this);
        item->setData(Qt::UserRole, e.statuses);
    }
    setCurrentRow(0);
    connect(this, &QListWidget::currentRowChanged, this, [this] { Q_EMIT statusesChosen(currentStatuses()); });
    connect(model, &DownloadListModel::countsChanged, this, &StatusSidebar::refreshCounts);
    connect(model, &QAbstractItemModel::rowsInserted, this, &StatusSidebar::refreshCounts);
    connect(model, &QAbstractItemModel::rowsRemoved, this, &StatusSidebar::refreshCounts);
    refreshCounts();
    setMinimumWidth(sizeHintForColumn(0) + 24);
}

QStringList StatusSidebar::currentStatuses() const
{
    const QListWidgetItem *i = currentItem();
    return i ? i->data(Qt::UserRole).toStringList() : QStringList();
}

void StatusSidebar::selectStatuses(const QStringList &statuses)
{
    for (int r = 0; r < count(); ++r) {
        if (item(r)->data(Qt::UserRole).toStringList() == statuses) {
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
        const QStringList statuses = item(r)->data(Qt::UserRole).toStringList();
        int n = statuses.isEmpty() ? m_model->rowCount() : 0;
        for (const QString &s : statuses)
            n += m_model->count(s);
        const QString text = tr("%1 (%2)").arg(names.value(r), QLocale().toString(n));
        if (item(r)->text() != text) {
            item(r)->setText(text);
            item(r)->setData(Qt::AccessibleTextRole, text);
        }
    }
}

} // namespace Hermes
