#include "columnlayout.h"

#include "downloadlistmodel.h"

#include <QDateTime>
#include <QHeaderView>
#include <QLocale>
#include <QTableView>

namespace Hermes {

namespace {

/// Cell padding: the style's item margins on both sides, and a little air.
constexpr int Padding = 18;

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
    width = qMax(width, table->fontMetrics().horizontalAdvance(widestValue(column)) + Padding);
    if (column == DownloadListModel::Progress)
        width = qMax(width, 110); // a bar that shows progress, not a sliver
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
    // Speed and ETA right after Status, before Added (the model's numbers stay).
    header->moveSection(header->visualIndex(DownloadListModel::Speed), header->visualIndex(DownloadListModel::Added));
    header->moveSection(header->visualIndex(DownloadListModel::Eta), header->visualIndex(DownloadListModel::Speed) + 1);
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
    int others = 0;
    for (int v = 0; v < header->count() && v < added; ++v) {
        const int c = header->logicalIndex(v);
        if (c != DownloadListModel::Name && !header->isSectionHidden(c))
            others += header->sectionSize(c);
    }
    const int available = table->viewport()->width() - others;
    table->setColumnWidth(DownloadListModel::Name, qMax(available, table->fontMetrics().horizontalAdvance(QString(16, u'x'))));
}

} // namespace Hermes
