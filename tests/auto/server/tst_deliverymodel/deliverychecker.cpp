#include "deliverychecker.h"

#include <algorithm>
#include <climits>

namespace Model {

void EventLog::append(const LogEntry &entry, const std::function<bool(const LogEntry &)> &mayRepeat)
{
    const int position = int(m_entries.size());
    m_entries.append(entry);
    if (m_byId.contains(entry.id)) {
        m_problems << QStringLiteral("the log holds id %1 twice (seq %2 at %3, seq %4 at %5)")
                          .arg(entry.id)
                          .arg(m_entries.at(m_byId.value(entry.id)).seq)
                          .arg(m_byId.value(entry.id))
                          .arg(entry.seq)
                          .arg(position);
    } else {
        m_byId.insert(entry.id, position);
    }
    if (entry.seq < 0)
        return;
    if (m_bySeq.contains(entry.seq) && mayRepeat && mayRepeat(m_entries.at(m_bySeq.value(entry.seq)))) {
        ++m_repeats;
        m_bySeq.insert(entry.seq, position); // the newest: what Redis holds now
    } else if (m_bySeq.contains(entry.seq)) {
        m_problems << QStringLiteral("the log holds seq %1 twice (ids %2 and %3)")
                          .arg(entry.seq)
                          .arg(m_entries.at(m_bySeq.value(entry.seq)).id, entry.id);
    } else {
        m_bySeq.insert(entry.seq, position);
    }
    m_maxSeq = qMax(m_maxSeq, entry.seq);
}

namespace {

/// A run of items between two segment boundaries.
struct Segment
{
    int requiredFrom = INT_MAX; ///< the first rank it must include (INT_MAX: none)
    int anchorNext = -1;        ///< a resync's: the first rank after its id; -1: no anchor
    int firstRank = -1;
    int lastRank = -1;
    QSet<int> seen;
    QString origin;             ///< for messages
    int connection = -1;        ///< where it began
    int firstItem = -1;         ///< the index of its first event
    QString resyncEpoch;        ///< the epoch of the resync_required's id it began with, if any
    QString lastRenamed;        ///< the newest renamed event it got (see onRenamed())
    QSet<int> renamedSeen;      ///< the log positions of the renamed events it got
};

/// An id's epoch (what comes before its first '-') and its position (the rest).
QString epochOf(const QString &id)
{
    return id.section(u'-', 0, 0);
}
QString positionOf(const QString &id)
{
    return id.section(u'-', 1);
}
/// Orders two ids' positions, `<ms>-<seq>`, as numbers.
bool positionBefore(const QString &a, const QString &b)
{
    const auto ms = [](const QString &p) { return p.section(u'-', 0, 0).toULongLong(); };
    const auto sq = [](const QString &p) { return p.section(u'-', 1, 1).toULongLong(); };
    return ms(a) != ms(b) ? ms(a) < ms(b) : sq(a) < sq(b);
}

class Checker
{
public:
    Checker(const EventLog &log, const Filter &filter, const QList<ModelClient::Item> &items,
            const QList<ModelClient::Connection> &connections, const ResyncJudge &judge,
            const GapJudge &gapJudge)
        : m_log(log), m_items(items), m_connections(connections), m_judge(judge),
          m_gapJudge(gapJudge), m_filter(filter)
    {
        // Per item: when the client's next resync_required came (-1: never).
        m_nextResyncMs.fill(-1, items.size());
        qint64 next = -1;
        for (qsizetype i = items.size() - 1; i >= 0; --i) {
            m_nextResyncMs[i] = next;
            if (items.at(i).kind == ModelClient::Item::Resync)
                next = items.at(i).atMs;
        }
        m_rankOf.fill(-1, log.size());
        for (int p = 0; p < log.size(); ++p) {
            if (m_filter.matches(log.entries().at(p))) {
                m_rankOf[p] = int(m_matches.size());
                m_matches.append(p);
            }
        }
        // m_fromSeq[s]: the lowest rank among matching events whose seq is >= s.
        m_fromSeq.fill(INT_MAX, int(log.maxSeq()) + 2);
        for (int r = 0; r < m_matches.size(); ++r) {
            const qint64 seq = log.entries().at(m_matches.at(r)).seq;
            if (seq >= 0)
                m_fromSeq[int(seq)] = qMin(m_fromSeq[int(seq)], r);
        }
        for (int s = int(m_fromSeq.size()) - 2; s >= 0; --s)
            m_fromSeq[s] = qMin(m_fromSeq[s], m_fromSeq[s + 1]);
    }

    ClientVerdict run(bool requireCaughtUp)
    {
        Segment segment;
        segment.origin = QStringLiteral("its first connection");
        // A client that starts by resuming (a probe) must get everything after its id.
        if (!m_connections.isEmpty() && !m_connections.first().sentId.isEmpty()) {
            const int position = m_log.positionOf(m_connections.first().sentId);
            if (position >= 0) {
                segment.anchorNext = int(std::upper_bound(m_matches.begin(), m_matches.end(), position)
                                         - m_matches.begin());
                segment.requiredFrom = segment.anchorNext;
                segment.connection = 0;
                segment.origin = QStringLiteral("its first connection's resume from %1").arg(m_connections.first().sentId);
            }
        }
        for (m_index = 0; m_index < m_items.size(); ++m_index) {
            const ModelClient::Item &item = m_items.at(m_index);
            switch (item.kind) {
            case ModelClient::Item::Fresh:
                finish(segment, false);
                segment = Segment();
                segment.origin = QStringLiteral("the fresh stream of connection %1 (node %2)")
                                     .arg(item.connection)
                                     .arg(m_connections.at(item.connection).node);
                segment.requiredFrom = requiredFromSeq(item.seqBound);
                segment.connection = item.connection;
                break;
            case ModelClient::Item::Resync:
                onResync(item, &segment);
                break;
            case ModelClient::Item::Event:
                onEvent(item, &segment);
                break;
            }
        }
        finish(segment, requireCaughtUp);
        return m_verdict;
    }

private:
    int requiredFromSeq(qint64 seq) const
    {
        if (seq < 0 || seq >= m_fromSeq.size())
            return INT_MAX;
        return m_fromSeq.at(int(seq));
    }

    QString at(int rank) const
    {
        if (rank < 0 || rank >= m_matches.size())
            return QStringLiteral("(none)");
        const LogEntry &e = m_log.entries().at(m_matches.at(rank));
        return QStringLiteral("%1 (seq %2, %3)").arg(e.id).arg(e.seq).arg(e.type);
    }

    void incident(ClientVerdict::Incident::Kind kind, qint64 atMs, qint64 count)
    {
        m_verdict.incidents.append({kind, atMs, count});
    }

    /// Whether the gap of ranks [from, to) noticed at item `index` is excused (see GapJudge).
    bool gapExcused(int from, int to, int index)
    {
        if (!m_gapJudge || index < 0 || from >= to)
            return false;
        QList<int> missing;
        for (int r = from; r < to; ++r)
            missing << m_matches.at(r);
        if (!m_gapJudge(missing, m_items.at(index), m_nextResyncMs.at(index)))
            return false;
        m_verdict.excusedGaps += to - from;
        return true;
    }

    void problem(const QString &text, int connection)
    {
        if (m_verdict.problems.size() < 12)
            m_verdict.problems << text;
        if (connection >= 0 && !m_verdict.problemConnections.contains(connection))
            m_verdict.problemConnections << connection;
    }

    QString where(const ModelClient::Item &item) const
    {
        const auto &c = m_connections.at(item.connection);
        return QStringLiteral("connection %1 (node %2, Last-Event-ID \"%3\")")
            .arg(item.connection).arg(c.node).arg(c.sentId);
    }

    void onResync(const ModelClient::Item &item, Segment *segment)
    {
        ++m_verdict.resyncs;
        const QString unjustified =
            m_judge ? m_judge(item, m_connections.at(item.connection), m_filter) : QString();
        if (!unjustified.isEmpty()) {
            ++m_verdict.other;
            incident(ClientVerdict::Incident::Other, item.atMs, 1);
            problem(QStringLiteral("resync_required (%1) on %2 was not called for: %3")
                        .arg(item.data.value(QStringLiteral("reason")).toString(), where(item),
                             unjustified), item.connection);
        }
        finish(*segment, false);
        *segment = Segment();
        m_received.clear(); // a resync starts over: what came before it may come again
        segment->origin = QStringLiteral("the resync_required (id \"%1\") on %2").arg(item.id, where(item));
        segment->connection = item.connection;
        segment->resyncEpoch = item.id.isEmpty() || item.id == item.sentId ? QString() : epochOf(item.id);
        segment->requiredFrom = requiredFromSeq(item.seqBound);
        // Its id is where to resume: everything after it must follow. (Without an id of its
        // own the parser reports the id the connection resumed from, which is no anchor.)
        const int position = item.id.isEmpty() || item.id == item.sentId ? -1 : m_log.positionOf(item.id);
        if (position >= 0) {
            segment->anchorNext = int(std::upper_bound(m_matches.begin(), m_matches.end(), position)
                                      - m_matches.begin());
            segment->requiredFrom = qMin(segment->requiredFrom, segment->anchorNext);
        }
    }

    /// A log event under another epoch's id with the same position: Redis kept the entry
    /// across a restore, and the epoch that began then renamed it. A node that had not
    /// delivered it yet (it was away from Redis while the others did) rightly sends it on to
    /// its streams after the resync_required into that epoch: each stream goes on from its
    /// position in the new epoch (StreamWorker::applyHistory()), and the log, which holds the
    /// event under the id the other nodes gave it, cannot hold the renamed copy (the replay
    /// after the restore begins after it). Accepted only after a resync into the copy's epoch,
    /// with the log's content, when the client did not have it under the log's id since its
    /// last resync (a resync starts over, as for the log's own ids: a resync_required of
    /// unknown_event_id may place a stream below its Last-Event-ID), and each once and in
    /// order in its segment; otherwise it is the duplicate it looks like (false).
    bool onRenamed(const ModelClient::Item &item, qint64 seq, Segment *segment)
    {
        const int logged = m_log.positionOfSeq(seq);
        const LogEntry &e = m_log.entries().at(logged);
        // Or an outside event a restore destroyed, adopted again into the new epoch before
        // the log went on (EventLog::mayReappear()): a new copy, at a position of its own, which
        // the client may have had in the old timeline too.
        const bool renamed = positionOf(item.id) == positionOf(e.id) && !m_received.contains(logged);
        if (segment->resyncEpoch.isEmpty() || epochOf(item.id) != segment->resyncEpoch
            || epochOf(item.id) == epochOf(e.id) || e.type != item.type || e.data != item.data
            || !(renamed || m_log.mayReappearAt(seq)))
            return false;
        if (m_rankOf.at(logged) < 0) {
            ++m_verdict.other;
            incident(ClientVerdict::Incident::Other, item.atMs, 1);
            problem(QStringLiteral("received the renamed %1 (seq %2, %3) on %4, which its filter excludes")
                        .arg(item.id).arg(seq).arg(e.type, where(item)), item.connection);
            return true;
        }
        ++m_verdict.events;
        ++m_verdict.renamed;
        if (segment->renamedSeen.contains(logged)) {
            ++m_verdict.duplicated;
            incident(ClientVerdict::Incident::Duplicated, item.atMs, 1);
            problem(QStringLiteral("received the renamed %1 (seq %2) twice, again on %3")
                        .arg(item.id).arg(seq).arg(where(item)), item.connection);
        } else if (!segment->lastRenamed.isEmpty()
                   && !positionBefore(positionOf(segment->lastRenamed), positionOf(item.id))) {
            ++m_verdict.reordered;
            incident(ClientVerdict::Incident::Reordered, item.atMs, 1);
            problem(QStringLiteral("received the renamed %1 (seq %2) on %3 after %4: out of order")
                        .arg(item.id).arg(seq).arg(where(item), segment->lastRenamed), item.connection);
        }
        segment->renamedSeen.insert(logged);
        segment->lastRenamed = item.id;
        return true;
    }

    void onEvent(const ModelClient::Item &item, Segment *segment)
    {
        const int position = m_log.positionOf(item.id);
        const qint64 seq = item.data.value(QStringLiteral("seq")).toInteger(-1);
        if (position < 0 && seq >= 0 && m_log.positionOfSeq(seq) >= 0 && onRenamed(item, seq, segment))
            return;
        if (position < 0 && seq >= 0 && m_log.positionOfSeq(seq) >= 0) {
            // An event it may well have had, delivered again under an id of its own (a node
            // that renamed its history): a duplicate to the client.
            ++m_verdict.duplicated;
            incident(ClientVerdict::Incident::Duplicated, item.atMs, 1);
            problem(QStringLiteral("received seq %1 (%2) again under another id, %3, on %4; the log has it as %5")
                        .arg(seq).arg(item.type, item.id, where(item),
                                      m_log.entries().at(m_log.positionOfSeq(seq)).id), item.connection);
            return;
        }
        if (position < 0) {
            ++m_verdict.other;
            incident(ClientVerdict::Incident::Other, item.atMs, 1);
            problem(QStringLiteral("received id %1 (seq %2, %3) on %4, which the log does not hold")
                        .arg(item.id).arg(item.data.value(QStringLiteral("seq")).toInteger(-1))
                        .arg(item.type, where(item)), item.connection);
            return;
        }
        const LogEntry &e = m_log.entries().at(position);
        if (e.type != item.type || e.data != item.data
            || (!item.timestamp.isEmpty() && item.timestamp != e.timestamp)) {
            ++m_verdict.other;
            incident(ClientVerdict::Incident::Other, item.atMs, 1);
            problem(QStringLiteral("id %1 on %2 carries seq %3 (%4), the log's seq %5 (%6)")
                        .arg(item.id, where(item))
                        .arg(item.data.value(QStringLiteral("seq")).toInteger(-1))
                        .arg(item.type).arg(e.seq).arg(e.type), item.connection);
            return;
        }
        const int rank = m_rankOf.at(position);
        if (rank < 0) {
            ++m_verdict.other;
            incident(ClientVerdict::Incident::Other, item.atMs, 1);
            problem(QStringLiteral("received %1 (seq %2, %3) on %4, which its filter excludes")
                        .arg(e.id).arg(e.seq).arg(e.type, where(item)), item.connection);
            return;
        }
        ++m_verdict.events;
        m_received.insert(position);
        if (segment->lastRank < 0) {
            segment->firstRank = rank;
            segment->firstItem = m_index;
            if (segment->anchorNext >= 0 && rank < segment->anchorNext) {
                ++m_verdict.reordered;
                incident(ClientVerdict::Incident::Reordered, item.atMs, 1);
                problem(QStringLiteral("after %1 the first event is %2, at or before the resync's id")
                            .arg(segment->origin, at(rank)), item.connection);
            }
        } else if (rank == segment->lastRank + 1) {
            // the expected next one
        } else if (rank > segment->lastRank + 1) {
            const int missing = rank - segment->lastRank - 1;
            if (!gapExcused(segment->lastRank + 1, rank, m_index)) {
                m_verdict.lost += missing;
                incident(ClientVerdict::Incident::Lost, item.atMs, missing);
                problem(QStringLiteral("lost %1 event(s) between %2 and %3 on %4: first missing %5")
                            .arg(missing).arg(at(segment->lastRank), at(rank), where(item),
                                              at(segment->lastRank + 1)), item.connection);
            }
        } else if (segment->seen.contains(rank)) {
            ++m_verdict.duplicated;
            incident(ClientVerdict::Incident::Duplicated, item.atMs, 1);
            problem(QStringLiteral("received %1 twice (again on %2, after %3)")
                        .arg(at(rank), where(item), at(segment->lastRank)), item.connection);
        } else {
            ++m_verdict.reordered;
            incident(ClientVerdict::Incident::Reordered, item.atMs, 1);
            problem(QStringLiteral("received %1 on %2 after %3: out of order")
                        .arg(at(rank), where(item), at(segment->lastRank)), item.connection);
        }
        segment->seen.insert(rank);
        segment->lastRank = qMax(segment->lastRank, rank);
    }

    void finish(const Segment &segment, bool mustReachEnd)
    {
        if (segment.firstRank >= 0 && segment.requiredFrom < segment.firstRank
            && !gapExcused(segment.requiredFrom, segment.firstRank, segment.firstItem)) {
            const int missing = segment.firstRank - segment.requiredFrom;
            m_verdict.lost += missing;
            incident(ClientVerdict::Incident::Lost, m_items.at(segment.firstItem).atMs, missing);
            problem(QStringLiteral("after %1 the first event is %2, but %3 event(s) from %4 on were due")
                        .arg(segment.origin, at(segment.firstRank)).arg(missing)
                        .arg(at(segment.requiredFrom)), segment.connection);
        }
        if (!mustReachEnd)
            return;
        const int end = int(m_matches.size()) - 1;
        const bool due = segment.firstRank >= 0 ? segment.lastRank < end : segment.requiredFrom <= end;
        if (!due)
            return;
        m_verdict.caughtUp = false;
        const int from = segment.firstRank >= 0 ? segment.lastRank + 1 : segment.requiredFrom;
        m_missingAtEnd = end - from + 1;
        problem(QStringLiteral("did not catch up: after %1 it lacks %2 event(s), %3 to %4")
                    .arg(segment.origin).arg(m_missingAtEnd).arg(at(from), at(end)), segment.connection);
    }

public:
    int m_missingAtEnd = 0;

private:
    const EventLog &m_log;
    const QList<ModelClient::Item> &m_items;
    const QList<ModelClient::Connection> &m_connections;
    const ResyncJudge &m_judge;
    const GapJudge &m_gapJudge;
    const Filter m_filter;
    QList<qint64> m_nextResyncMs;
    qsizetype m_index = -1;
    QList<int> m_rankOf;
    QList<int> m_matches;
    QList<int> m_fromSeq;
    QSet<int> m_received;      ///< the log positions it got under their log ids since its last resync
    ClientVerdict m_verdict;
};

} // namespace

ClientVerdict checkClient(const EventLog &log, const ModelClient &client,
                          const ResyncJudge &judge, bool requireCaughtUp, const GapJudge &gapJudge)
{
    return checkClient(log, client.spec().filter(), client.items(), client.connections(), judge,
                       requireCaughtUp, gapJudge);
}

ClientVerdict checkClient(const EventLog &log, const Filter &filter,
                          const QList<ModelClient::Item> &items,
                          const QList<ModelClient::Connection> &connections,
                          const ResyncJudge &judge, bool requireCaughtUp, const GapJudge &gapJudge)
{
    Checker checker(log, filter, items, connections, judge, gapJudge);
    ClientVerdict verdict = checker.run(requireCaughtUp);
    // A client that never caught up lost what it lacks.
    if (!verdict.caughtUp)
        verdict.lost += checker.m_missingAtEnd;
    return verdict;
}

} // namespace Model
