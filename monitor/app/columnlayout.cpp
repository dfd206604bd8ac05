#include "columnlayout.h"

#include "downloadlistmodel.h"

#include <QDateTime>
#include <QHeaderView>
#include <QLocale>
#include <QStyle>
#include <QTableView>

namespace Hermes {

namespace {

/// Cell padding: the style's item margins on both sides, and a little air.
constexpr int Padding = 14;

QString widestValue(int column)
{
    using M = DownloadListModel;
    const QLocale l;
    switch (column) {
    case M::Position: return l.toString(100000); // six digits, with the group separator
    case M::Size: return M::formatBytes(1023.9 * 1024 * 1024);
    case M::Speed: return M::formatSpeed(1023.9 * 1024 * 1024);
    case M::Eta: return M::formatDuration(23 * 3600 + 59 * 60);
    case M::Priority: return l.toString(-1000);
    case M::Added:
    case M::Completed:
        return l.toString(QDateTime(QDate(2026, 12, 28), QTime(23, 59, 59)), QLocale::ShortFormat);
    case M::Status: {
        QString widest;
        for (DownloadStatus s : allDownloadStatuses()) {
            const QString text = M::statusText(s);
            if (text.size() > widest.size())
                widest = text;
        }
        return widest;
    }
    default:
        return {};
    }
}

} // namespace

int ColumnLayout::contentWidth(const QTableView *table, int column)
{
    const QHeaderView *header = table->horizontalHeader();
    // The header's own hint: its text in this language, the margins and the sort arrow.
    int width = header->sectionSizeHint(column);
    int value = table->fontMetrics().horizontalAdvance(widestValue(column)) + Padding;
    if (column == DownloadListModel::Status) // its icon beside the word
        value += table->style()->pixelMetric(QStyle::PM_SmallIconSize, nullptr, table) + 6;
    width = qMax(width, value);
    if (column == DownloadListModel::Progress)
        width = qMax(width, 90); // a bar that shows progress, not a sliver
    if (column == DownloadListModel::Url)
        width = qMax(width, 300);
    return qMax(width, header->minimumSectionSize());
}

void ColumnLayout::applyDefaults(QTableView *table)
{
    QHeaderView *header = table->horizontalHeader();
    for (int c = 0; c < header->count(); ++c)
        table->setColumnWidth(c, contentWidth(table, c));
    table->setColumnHidden(DownloadListModel::Completed, true);
    table->setColumnHidden(DownloadListModel::Url, true);
    table->setColumnHidden(DownloadListModel::Priority, true);
    // Said already by Progress and Status ("Failed: …", "Retrying 2/5 …"): there for sorting
    // and for wide windows (View ▸ Columns), hidden so that a narrow one keeps Speed and ETA.
    for (const int c : {DownloadListModel::Downloaded, DownloadListModel::Remaining, DownloadListModel::Attempts,
                        DownloadListModel::Error})
        table->setColumnHidden(c, true);
    // Speed and ETA before Added, whatever order the model's columns come in (its numbers
    // stay; only the header's visual order moves).
    for (const int c : {int(DownloadListModel::Speed), int(DownloadListModel::Eta)}) {
        if (header->visualIndex(c) > header->visualIndex(DownloadListModel::Added))
            header->moveSection(header->visualIndex(c), header->visualIndex(DownloadListModel::Added));
    }
    fitName(table);
}

void ColumnLayout::restore(QTableView *table, const QByteArray &state)
{
    QHeaderView *header = table->horizontalHeader();
    applyDefaults(table);
    // A state saved with other columns (an older or newer version) would put widths on the
    // wrong ones: the defaults instead.
    if (!state.isEmpty() && header->restoreState(state) && header->count() != table->model()->columnCount())
        applyDefaults(table);
    // Older versions saved Name as a stretching section; every column is the user's to size.
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setStretchLastSection(false);
    for (int c = 0; c < header->count(); ++c) {
        if (!header->isSectionHidden(c) && header->sectionSize(c) < header->minimumSectionSize())
            table->setColumnWidth(c, contentWidth(table, c));
    }
}

void ColumnLayout::fitName(QTableView *table)
{
    const QHeaderView *header = table->horizontalHeader();
    const int added = header->visualIndex(DownloadListModel::Added);
    int beforeAdded = 0, all = 0;
    for (int v = 0; v < header->count(); ++v) {
        const int c = header->logicalIndex(v);
        if (c == DownloadListModel::Name || header->isSectionHidden(c))
            continue;
        all += header->sectionSize(c);
        if (v < added)
            beforeAdded += header->sectionSize(c);
    }
    // Every column when that leaves Name room for a long name; else what changes (up to ETA)
    // stays in view and Added is the one to scroll to.
    const QFontMetrics fm = table->fontMetrics();
    const int viewport = table->viewport()->width();
    int width = viewport - all;
    if (width < fm.horizontalAdvance(QString(24, u'x')))
        width = viewport - beforeAdded;
    table->setColumnWidth(DownloadListModel::Name, qMax(width, fm.horizontalAdvance(QString(12, u'x'))));
}

} // namespace Hermes
