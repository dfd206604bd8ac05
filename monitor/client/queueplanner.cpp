#include "queueplanner.h"

#include <algorithm>

namespace Hermes {

// Whether the server surely runs `a` before `b` at equal priority. Creation times stand for
// the server's arrival order; two created in the same millisecond may be in either order, so
// a plan never relies on one of them being first.
static bool arrivesBefore(const QueuePlanner::Entry &a, const QueuePlanner::Entry &b)
{
    return a.added < b.added;
}

QStringList QueuePlanner::order(QList<Entry> entries)
{
    std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
        if (a.priority != b.priority)
            return a.priority > b.priority;
        return a.added != b.added ? a.added < b.added : a.id < b.id;
    });
    QStringList ids;
    for (const Entry &e : std::as_const(entries))
        ids.append(e.id);
    return ids;
}

QStringList QueuePlanner::reorder(const QStringList &order, const QSet<QString> &selected, Move move)
{
    QStringList moved, rest;
    for (const QString &id : order)
        (selected.contains(id) ? moved : rest).append(id);
    switch (move) {
    case Move::Top:
        return moved + rest;
    case Move::Bottom:
        return rest + moved;
    case Move::Up: {
        // Each selected download passes the unselected one above it (a block moves as one).
        QStringList out = order;
        for (int i = 1; i < out.size(); ++i) {
            if (selected.contains(out[i]) && !selected.contains(out[i - 1]))
                out.swapItemsAt(i, i - 1);
        }
        return out;
    }
    case Move::Down: {
        QStringList out = order;
        for (int i = int(out.size()) - 2; i >= 0; --i) {
            if (selected.contains(out[i]) && !selected.contains(out[i + 1]))
                out.swapItemsAt(i, i + 1);
        }
        return out;
    }
    }
    return order;
}

QHash<QString, int> QueuePlanner::priorities(const QList<Entry> &entries, const QStringList &desired,
                                             const QSet<QString> &moved)
{
    QHash<QString, Entry> byId;
    for (const Entry &e : entries)
        byId.insert(e.id, e);
    QList<Entry> list;
    QStringList ids;
    for (const QString &id : desired) {
        if (byId.contains(id)) {
            list.append(byId.value(id));
            ids.append(id);
        }
    }
    const int n = int(list.size());
    QList<int> current(n);
    for (int i = 0; i < n; ++i)
        current[i] = list[i].priority;
    // The smallest priority that puts list[i] above list[i+1], given p.
    auto lowest = [&](const QList<int> &p, int i) { return arrivesBefore(list[i], list[i + 1]) ? p[i + 1] : p[i + 1] + 1; };
    auto fits = [](const QList<int> &p) {
        return std::all_of(p.cbegin(), p.cend(), [](int v) { return v >= MinPriority && v <= MaxPriority; });
    };
    // Sorted when every download surely runs before the next one.
    auto holds = [&](const QList<int> &p) {
        for (int i = 0; i + 1 < n; ++i) {
            if (!(p[i] > p[i + 1] || (p[i] == p[i + 1] && arrivesBefore(list[i], list[i + 1]))))
                return false;
        }
        return true;
    };

    // First try: change only the moved downloads, from the bottom up: each just above the one
    // below it when it is not already; the last of the queue just below the unmoved one above.
    QList<int> p = current;
    for (int i = n - 1; i >= 0; --i) {
        if (!moved.contains(list[i].id))
            continue;
        if (i + 1 < n) {
            const int low = lowest(p, i);
            if (moved.contains(list[i + 1].id) || p[i] < low)
                p[i] = low;
            continue;
        }
        int a = i - 1;
        while (a >= 0 && moved.contains(list[a].id))
            --a;
        if (a >= 0)
            p[i] = std::min(p[i], arrivesBefore(list[a], list[i]) ? p[a] : p[a] - 1);
    }
    if (!fits(p) || !holds(p)) {
        // Otherwise from the bottom up: whatever is not above the one below it is raised just
        // enough (equal priorities leave no room in between); past the server's range, the
        // whole queue is numbered afresh.
        p = current;
        for (int i = n - 2; i >= 0; --i) {
            if (!(p[i] > p[i + 1] || (p[i] == p[i + 1] && arrivesBefore(list[i], list[i + 1]))))
                p[i] = lowest(p, i);
        }
        if (!fits(p)) {
            const int top = std::min(MaxPriority, MinPriority + n - 1);
            for (int i = 0; i < n; ++i)
                p[i] = std::max(MinPriority, top - i);
        }
    }
    QHash<QString, int> changes;
    for (int i = 0; i < n; ++i) {
        if (p[i] != current[i])
            changes.insert(list[i].id, p[i]);
    }
    return changes;
}

} // namespace Hermes
