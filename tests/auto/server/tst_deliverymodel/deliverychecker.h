#pragma once

#include "modelclient.h"
#include "modeltypes.h"

#include <QHash>
#include <QList>
#include <QSet>
#include <QStringList>

#include <functional>

namespace Model {

/// The deployment's events in the log's order, indexed by id and by the test's seq.
class EventLog
{
public:
    /// Appends the next event; a repeated id or seq is recorded as a problem (and not indexed
    /// again), since the log must hold every event once — unless `mayRepeat` says the entry
    /// logged for the seq before was rightly published again (an outside event a Redis restore
    /// destroyed, adopted again after it): then its seq stands for the new entry.
    void append(const LogEntry &entry,
                const std::function<bool(const LogEntry &earlier)> &mayRepeat = {});
    /// The event logged for `seq` was destroyed and may be published again under an id the
    /// log does not hold (an outside event adopted again after a Redis restore, before the
    /// log went on): the checker takes such a copy after a resync into its epoch.
    void mayReappear(qint64 seq) { m_reappearing.insert(seq); }
    bool mayReappearAt(qint64 seq) const { return m_reappearing.contains(seq); }
    /// How many seqs the log holds twice because `mayRepeat` allowed it.
    int repeats() const { return m_repeats; }
    const QList<LogEntry> &entries() const { return m_entries; }
    qsizetype size() const { return m_entries.size(); }
    int positionOf(const QString &id) const { return m_byId.value(id, -1); }
    int positionOfSeq(qint64 seq) const { return m_bySeq.value(seq, -1); }
    qint64 maxSeq() const { return m_maxSeq; }
    const QStringList &problems() const { return m_problems; }

private:
    QList<LogEntry> m_entries;
    QHash<QString, int> m_byId;
    QHash<qint64, int> m_bySeq;
    qint64 m_maxSeq = -1;
    int m_repeats = 0;
    QSet<qint64> m_reappearing;
    QStringList m_problems;
};

/// What one client's record says against the log.
struct ClientVerdict
{
    int events = 0;
    int resyncs = 0;
    qint64 lost = 0;        ///< log events it should have received and did not
    qint64 duplicated = 0;  ///< events received twice within a segment
    qint64 reordered = 0;   ///< events received out of the log's order
    qint64 other = 0;       ///< unknown ids, content that differs, filter violations, bad resyncs
    qint64 excusedGaps = 0; ///< missed events a nemesis destroyed, with the resync that follows
    /// events received under a later epoch's id for the same Redis entry, after the resync
    /// into that epoch, which the client never had under the log's id (see the checker)
    qint64 renamed = 0;
    bool caughtUp = true;   ///< its last segment reaches the log's last matching event
    QStringList problems;
    QList<int> problemConnections; ///< the connections the problems are about
    /// When each fault the counts above hold was seen (the item's time), to tell which
    /// nemesis was active: the summary's per-nemesis figures.
    struct Incident
    {
        enum Kind { Lost, Duplicated, Reordered, Other } kind;
        qint64 atMs;
        qint64 count;
    };
    QList<Incident> incidents;

    bool clean() const { return !lost && !duplicated && !reordered && !other && caughtUp; }
};

/// Says why a resync (on the given connection of a client with the given filter) was not
/// called for; "" when it was.
using ResyncJudge = std::function<QString(const ModelClient::Item &, const ModelClient::Connection &,
                                          const Filter &)>;

/// Says whether a gap — the log positions a client missed, noticed at `item`, whose client's
/// next resync_required (after `item`) arrived at `nextResyncMs` (-1: none) — is excused: only
/// events a fault destroyed, and a resync soon enough. Without one, every gap is a loss.
using GapJudge = std::function<bool(const QList<int> &missing, const ModelClient::Item &item,
                                    qint64 nextResyncMs)>;

/**
 * The invariant: a client's items, split into segments at each fresh start and each
 * resync_required, must within each segment be exactly the log's events that match its
 * filter between the segment's first and last event — no gap, no duplicate, log order —
 * each with the log's id and content. A segment also may not start late: a resync anchors
 * it after the resync's id, and a fresh start (or a resync) requires every matching event
 * published after it arrived. With `requireCaughtUp`, the last segment must reach the log's
 * last matching event.
 */
ClientVerdict checkClient(const EventLog &log, const Filter &filter,
                          const QList<ModelClient::Item> &items,
                          const QList<ModelClient::Connection> &connections,
                          const ResyncJudge &judge, bool requireCaughtUp,
                          const GapJudge &gapJudge = {});
ClientVerdict checkClient(const EventLog &log, const ModelClient &client,
                          const ResyncJudge &judge, bool requireCaughtUp,
                          const GapJudge &gapJudge = {});

} // namespace Model
