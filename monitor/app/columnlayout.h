#pragma once

#include <QByteArray>

class QFontMetrics;
class QTableView;

namespace Hermes {

/**
 * The download table's columns as an operator wants them at any window size:
 *
 * - every column as wide as its header in the current language (with room for the sort
 *   arrow) and as its widest likely value: the place in the queue up to 6 digits
 *   ("100,000"), a size like "1,023.9 MiB", a speed, an ETA, a date in this locale's short
 *   format, the longest likely status text with its phase or reason ("Retrying 5/5 in
 *   59 min 59 s", in pixels, at most 260 px);
 * - every column resizable by the user, Name included (no stretch that cannot be narrowed);
 *   until the user sizes it, Name takes what the other columns leave of the table's width;
 * - Speed and ETA before Added: what changes is next to what it belongs to, and on a narrow
 *   window the columns that fall off to the right are the ones that never change. The model's
 *   column numbers stay as they are; only the header's visual order moves, so a saved header
 *   state (the user's own order and widths) still applies.
 */
class ColumnLayout final
{
public:
    /// Sizes, orders and hides the columns as a first start shows them.
    static void applyDefaults(QTableView *table);
    /// The saved header state if there is one that fits (the same columns); else the defaults.
    /// Either way every column stays user-resizable.
    static void restore(QTableView *table, const QByteArray &state);
    /// The width a column needs for its header and its widest likely value.
    static int contentWidth(const QTableView *table, int column);
    /// The narrowest Status that still shows every plain status word whole.
    static int statusWordsWidth(const QTableView *table);
    /// Gives Name what the other visible columns leave of the viewport; when that is little,
    /// what those before Added leave (Added is then scrolled to); at least a short name's width.
    /// With `fitStatus`, Status first takes its content width, and yields some of it (down to
    /// statusWordsWidth) when Name would otherwise be narrower than a long name (24 characters)
    /// beside Speed and ETA: at 900 px, in English as in German.
    static void fitName(QTableView *table, bool fitStatus = true);
};

} // namespace Hermes
