#pragma once

#include <QStyledItemDelegate>

namespace Hermes {

/// Draws the Progress column as a progress bar with its percentage, over the item's normal
/// background (so a selected row still looks selected), in the view's palette and direction.
class ProgressDelegate final : public QStyledItemDelegate
{
    Q_OBJECT
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;
};

} // namespace Hermes
