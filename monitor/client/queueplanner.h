#pragma once

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QSet>
#include <QStringList>

namespace Hermes {

/**
 * Queue moves (top, up, down, bottom) expressed in the only thing the server lets a client
 * change: priorities. The server runs unfinished downloads by priority (higher first), then by
 * arrival; so moving a download means giving it, and as few others as possible, a priority
 * that puts it where the user wants it.
 */
class QueuePlanner final
{
public:
    struct Entry
    {
        QString id;
        int priority = 0;
        QDateTime added;   ///< stands for the server's arrival order
    };
    enum class Move { Top, Up, Down, Bottom };

    static constexpr int MinPriority = -1000;
    static constexpr int MaxPriority = 1000;

    /// The order after moving `selected` (they keep their relative order).
    static QStringList reorder(const QStringList &order, const QSet<QString> &selected, Move move);
    /// New priorities (only those that change) that make the server's order `desired`, trying
    /// first to change only the `moved` downloads. `entries` are the queued downloads.
    static QHash<QString, int> priorities(const QList<Entry> &entries, const QStringList &desired,
                                          const QSet<QString> &moved);
    /// The server's order of `entries`: priority, then arrival (then id, where the creation
    /// times are equal and the server's own order is not known).
    static QStringList order(QList<Entry> entries);
};

} // namespace Hermes
