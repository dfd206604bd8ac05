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
/// The widest default Status column.
constexpr int MaxStatusWidth = 260;
/// A name long enough to tell downloads apart ("ubuntu-24.04-desktop-amd…"): Name gets this
/// before Added stays in view, and before Status shows its long texts.
constexpr int LongNameChars = 24;

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
    default:
        return {};
    }
}

/// The longest texts the Status column commonly shows, in this language: the plain words and
/// the phases and reasons beside them at their widest likely values.
QStringList likelyStatusTexts()
{
    using M = DownloadListModel;
    QStringList texts;
    for (DownloadStatus s : allDownloadStatuses())
        texts << M::statusText(s);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const auto with = [&](DownloadStatus status, std::optional<DownloadPhase> phase) {
        DownloadRow r;
        r.status = ReceivedStatus::of(status);
        if (phase)
            r.phase = DownloadPhaseInfo::of(*phase);
        return r;
    };
    for (const DownloadPhase p : {DownloadPhase::WaitingForConnection, DownloadPhase::Connecting, DownloadPhase::Stalled})
        texts << M::statusText(with(DownloadStatus::Downloading, p), now);
    DownloadRow retry = with(DownloadStatus::Pending, DownloadPhase::Retrying);
    retry.phase.attempt = 5;
    retry.phase.maxAttempts = 5;
    retry.phase.nextAttemptAt = now.addSecs(59 * 60 + 59);
    texts << M::statusText(retry, now);
    DownloadRow failed = with(DownloadStatus::Failed, std::nullopt);
    failed.error = QStringLiteral("checksum mismatch"); // the server's words, not translated
    texts << M::statusText(failed, now);
    return texts;
}

int statusIconWidth(const QTableView *table)
{
    return table->style()->pixelMetric(QStyle::PM_SmallIconSize, nullptr, table) + 6;
}

} // namespace

int ColumnLayout::statusWordsWidth(const QTableView *table)
{
    int text = 0;
    for (DownloadStatus s : allDownloadStatuses())
        text = qMax(text, table->fontMetrics().horizontalAdvance(DownloadListModel::statusText(s)));
    return qMax(text + statusIconWidth(table) + Padding, table->horizontalHeader()->sectionSizeHint(DownloadListModel::Status));
}

int ColumnLayout::contentWidth(const QTableView *table, int column)
{
    const QHeaderView *header = table->horizontalHeader();
    // The header's own hint: its text in this language, the margins and the sort arrow.
    int width = header->sectionSizeHint(column);
    const QFontMetrics fm = table->fontMetrics();
    int value = fm.horizontalAdvance(widestValue(column)) + Padding;
    if (column == DownloadListModel::Status) {
        // Measured in pixels, its icon included; at most MaxStatusWidth (a longer reason is
        // cut, and fitName narrows it further on a narrow window).
        int text = 0;
        for (const QString &t : likelyStatusTexts())
            text = qMax(text, fm.horizontalAdvance(t));
        value = qMin(text + statusIconWidth(table) + Padding, MaxStatusWidth);
    }
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

void ColumnLayout::fitName(QTableView *table, bool fitStatus)
{
    const QHeaderView *header = table->horizontalHeader();
    const int added = header->visualIndex(DownloadListModel::Added);
    fitStatus = fitStatus && !header->isSectionHidden(DownloadListModel::Status)
        && header->visualIndex(DownloadListModel::Status) < added;
    if (fitStatus)
        table->setColumnWidth(DownloadListModel::Status, contentWidth(table, DownloadListModel::Status));
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
    const int shortName = fm.horizontalAdvance(QString(12, u'x'));
    const int longName = fm.horizontalAdvance(QString(LongNameChars, u'x'));
    int width = viewport - all;
    if (width < longName)
        width = viewport - beforeAdded;
    if (fitStatus && width < longName) {
        // Still too narrow (900 px, in English as in German): Status gives up the room of its
        // long texts (a failure's reason is in the tooltip and in Details), never its plain
        // words, so that Name stays readable beside Speed and ETA.
        const int status = header->sectionSize(DownloadListModel::Status);
        const int narrower = qMin(status, qMax(statusWordsWidth(table), status - (longName - width)));
        table->setColumnWidth(DownloadListModel::Status, narrower);
        width += status - narrower;
    }
    table->setColumnWidth(DownloadListModel::Name, qMax(width, shortName));
}

} // namespace Hermes
