// The delivery model's judge: which resync_required the history called for (a full history,
// Redis away, or a nemesis that destroyed history), which gaps a nemesis excuses, and the
// figures of the summary.

#include "modelrun.h"

#include <QDateTime>
#include <QJsonDocument>

#include <algorithm>
#include <climits>

namespace Model {

static constexpr qint64 Forever = LLONG_MAX;
/// How long after a nemesis that destroyed Redis history a node that knew may still serve
/// from it before it notices (its reconnect backoff is at most ~10 s), with a margin.
static constexpr qint64 NoticeWindowMs = 20000;

static int channelIndex(quint8 bit)
{
    return bit == Downloads ? 0 : bit == Queue ? 1 : 2;
}

int ModelRun::excusingNemesis(const ModelClient::Item &item, const ModelClient::Connection &c,
                              const Filter &filter) const
{
    // The history truly could not tell: the resume point lies before events a nemesis destroyed
    // on the client's channels (the server cannot know which of them its filter would take).
    const int from = m_log.positionOf(c.sentId);
    const qint64 limitMs = qint64(m_config.adoptRetryLimitSec > 0 ? m_config.adoptRetryLimitSec : 30) * 1000;
    for (qsizetype k = 0; k < m_nemeses.size(); ++k) {
        const NemesisRecord &r = m_nemeses.at(k);
        if (r.lostSeqs.isEmpty() || item.atMs < r.fromMs)
            continue;
        switch (r.kind) {
        case Nemesis::SegmentRemoved:
        case Nemesis::SegmentTruncated:
        case Nemesis::BitFlip:
        case Nemesis::StreamDeleted:
            if ((r.channels & filter.channels) && from >= 0 && from <= r.lastLost)
                return int(k);
            break;
        case Nemesis::RedisRestore:
            // The nodes start a new timeline for everyone: any id of the old one.
            if (from >= 0 && from < r.boundary)
                return int(k);
            break;
        case Nemesis::RedisOom:
            // Outside events never stored: their channels' clients, once the bound is past.
            if ((r.channels & filter.channels) && item.atMs <= r.toMs + limitMs + NoticeWindowMs)
                return int(k);
            break;
        default:
            break;
        }
    }
    return -1;
}

int ModelRun::judgeGap(const QList<int> &missing, const ModelClient::Item &item, qint64 nextResyncMs) const
{
    // After Redis lost history, a node that has not noticed yet may replay what is left and go
    // on: a gap of destroyed events is excused only when a resync_required follows soon.
    for (qsizetype k = 0; k < m_nemeses.size(); ++k) {
        const NemesisRecord &r = m_nemeses.at(k);
        if ((r.kind != Nemesis::RedisRestore && r.kind != Nemesis::StreamDeleted) || r.lostSeqs.isEmpty()
            || item.atMs < r.fromMs || item.atMs > r.toMs + NoticeWindowMs || nextResyncMs < 0
            || nextResyncMs > r.toMs + NoticeWindowMs)
            continue;
        const bool destroyed = std::all_of(missing.begin(), missing.end(), [&](int p) {
            return destroyedBy(r, p);
        });
        if (destroyed)
            return int(k);
    }
    return -1;
}

QString ModelRun::judgeResync(const ModelClient::Item &item, const ModelClient::Connection &c,
                              const Filter &filter) const
{
    // A node that restarts reads its history back (the embedded journal, or Redis), so a
    // restart excuses nothing. Only Redis being away does, and only for an id the node could
    // not get meanwhile (it waited for it, then gave up).
    const QString reason = item.data.value(QStringLiteral("reason")).toString();
    for (const FaultWindow &w : m_windows) {
        if (w.node < 0 && reason == u"unknown_event_id" && c.openedMs <= w.toMs && item.atMs >= w.fromMs)
            return {};
    }
    if (excusingNemesis(item, c, filter) >= 0)
        return {};
    const int from = m_log.positionOf(c.sentId);
    if (from < 0)
        return {}; // not an id of the log: nothing to hold it against
    int to = m_log.positionOf(item.id);
    if (to < 0)
        to = int(m_log.size()) - 1;
    // The resync's id is where the stream goes on from: what its I/O thread had delivered.
    // The node's history may be ahead of that — the hub appends (and evicts for) events that
    // are still queued for the thread — so the history may have moved past the id for events
    // beyond the resync's. Any event published before the client received the resync can have
    // been among them; none published later can.
    for (qint64 seq = 0; seq < item.seqBound; ++seq)
        to = qMax(to, m_log.positionOfSeq(seq));
    const quint8 channels = filter.channels;
    int most = 0;
    for (quint8 bit : {Downloads, Queue, System}) {
        if (!(channels & bit))
            continue;
        const auto &prefix = m_channelPrefix.at(channelIndex(bit));
        const int since = to >= from ? prefix.at(to + 1) - prefix.at(from + 1) : 0;
        if (since >= m_config.historySize - 1)
            return {}; // the history had moved past it
        most = qMax(most, since);
    }
    return QStringLiteral("resync_required (%3): %1 event(s) at most had followed its Last-Event-ID on "
                          "its channels, the history holds %2 per channel, and Redis was not away")
        .arg(most).arg(m_config.historySize).arg(reason);
}

void ModelRun::checkClients(bool final)
{
    const ResyncJudge judge = [this](const ModelClient::Item &item, const ModelClient::Connection &c,
                                     const Filter &filter) {
        ++m_resyncReasons[item.data.value(QStringLiteral("reason")).toString()];
        const QString why = judgeResync(item, c, filter);
        const int k = excusingNemesis(item, c, filter);
        if (why.isEmpty() && k >= 0) {
            NemesisFigures &f = m_figures[int(m_nemeses.at(k).kind)];
            ++f.excusedResyncs;
            ++f.resyncReasons[item.data.value(QStringLiteral("reason")).toString()];
        }
        return why;
    };
    const GapJudge gapJudge = [this](const QList<int> &missing, const ModelClient::Item &item,
                                     qint64 nextResyncMs) {
        const int k = judgeGap(missing, item, nextResyncMs);
        if (k >= 0)
            m_figures[int(m_nemeses.at(k).kind)].excusedGaps += missing.size();
        return k >= 0;
    };
    for (const auto &c : m_clients) {
        const ClientVerdict v = checkClient(m_log, *c, judge, final && !c->isGone(), gapJudge);
        tally(v);
        m_delivered += v.events;
        m_resyncs += v.resyncs;
        m_lost += v.lost;
        m_duplicated += v.duplicated;
        m_renamed += v.renamed;
        m_reordered += v.reordered;
        m_other += v.other + c->protocolProblems().size();
        m_connections += int(c->connections().size());
        m_clientLines << QStringLiteral("%1: %2 connection(s), %3 event(s), %4 resync(s), %5 cut(s), %6 bytes%7")
                             .arg(c->describe()).arg(c->connections().size()).arg(v.events)
                             .arg(v.resyncs).arg(c->cuts()).arg(c->bytesReceived())
                             .arg(c->isGone() ? QStringLiteral(", left") : QString());
        if (v.clean() && c->protocolProblems().isEmpty())
            continue;
        QString text = c->describe() + QStringLiteral(":\n");
        for (const QString &p : v.problems + c->protocolProblems())
            text += QStringLiteral("    %1\n").arg(p);
        // The connections the problems name, and the last few.
        const auto &connections = c->connections();
        QList<int> shown = v.problemConnections;
        for (int i = qMax(0, int(connections.size()) - 3); i < connections.size(); ++i) {
            if (!shown.contains(i))
                shown << i;
        }
        std::sort(shown.begin(), shown.end());
        for (int i : std::as_const(shown)) {
            const auto &k = connections.at(i);
            text += QStringLiteral("    connection %1 at %2 s: node %3, Last-Event-ID \"%4\"%5, HTTP %6, %7 event(s), %8\n")
                        .arg(i).arg(double(k.openedMs - m_startMs) / 1000.0, 0, 'f', 1).arg(k.node)
                        .arg(k.sentId, k.idInQuery ? QStringLiteral(" (query)") : QString())
                        .arg(k.status).arg(k.events).arg(k.end.isEmpty() ? QStringLiteral("open") : k.end);
        }
        m_clientReports << text;
    }
}

QString ModelRun::summary() const
{
    return QStringLiteral(
               "deliverymodel[%1] seed=%2 ops=%3 %4s: events=%5 (api %6, %7 acknowledged; outside %8) "
               "clients=%9 connections=%10 delivered=%11 faults: cuts=%12 closes=%13 away=%14 left=%15 "
               "slow=%16 stalls=%17 node-kills=%18 redis-kills=%19 resyncs=%20; "
               "lost=%21 duplicated=%22 reordered=%23 other=%24 renamed=%25%26")
        .arg(m_config.name).arg(m_limits.seed).arg(m_opsDone).arg(m_seconds, 0, 'f', 1)
        .arg(m_log.size()).arg(m_apiPublishes).arg(m_acked).arg(m_outsidePublishes)
        .arg(m_clients.size()).arg(m_connections).arg(m_delivered)
        .arg(m_cutsArmed).arg(m_closes).arg(m_offline).arg(m_leaves).arg(m_slow).arg(m_stalls)
        .arg(m_nodeKills).arg(m_redisKills).arg(m_resyncs)
        .arg(m_lost).arg(m_duplicated).arg(m_reordered).arg(m_other).arg(m_renamed).arg(nemesisSummary());
}

void ModelRun::tally(const ClientVerdict &verdict)
{
    // Each fault the judge found counts for the nemesis on at the time (or just healed).
    for (const ClientVerdict::Incident &incident : verdict.incidents) {
        int k = -1;
        for (qsizetype i = 0; i < m_nemeses.size(); ++i) {
            const NemesisRecord &r = m_nemeses.at(i);
            if (incident.atMs >= r.fromMs && (r.toMs == Forever || incident.atMs <= r.toMs + NoticeWindowMs))
                k = int(i);
        }
        if (k < 0)
            continue;
        NemesisFigures &f = m_figures[int(m_nemeses.at(k).kind)];
        switch (incident.kind) {
        case ClientVerdict::Incident::Lost: f.lost += incident.count; break;
        case ClientVerdict::Incident::Duplicated: f.duplicated += incident.count; break;
        case ClientVerdict::Incident::Reordered: f.reordered += incident.count; break;
        case ClientVerdict::Incident::Other: f.other += incident.count; break;
        }
    }
}

QString ModelRun::nemesisSummary() const
{
    // Per nemesis: how often it ran, the log events it destroyed, the resyncs and missed
    // events it excused, and what the judge found while it was on.
    QStringList parts;
    for (int k = 0; k < int(Nemesis::Count); ++k) {
        const NemesisFigures &f = m_figures[k];
        if (f.runs == 0)
            continue;
        QStringList why;
        for (auto it = f.resyncReasons.cbegin(); it != f.resyncReasons.cend(); ++it)
            why << QStringLiteral("%1=%2").arg(it.key()).arg(it.value());
        parts << QStringLiteral("%1 runs=%2 events=%3 destroyed=%4 refused=%5 excused-resyncs=%6%7 "
                                "excused-gaps=%8 lost=%9 duplicated=%10 reordered=%11 other=%12")
                     .arg(nemesisName(Nemesis(k))).arg(f.runs).arg(f.events).arg(f.destroyed).arg(f.refused)
                     .arg(f.excusedResyncs)
                     .arg(why.isEmpty() ? QString() : QStringLiteral("(%1)").arg(why.join(u',')))
                     .arg(f.excusedGaps).arg(f.lost).arg(f.duplicated).arg(f.reordered).arg(f.other);
    }
    QStringList reasons;
    for (auto it = m_resyncReasons.cbegin(); it != m_resyncReasons.cend(); ++it)
        reasons << QStringLiteral("%1=%2").arg(it.key().isEmpty() ? QStringLiteral("(none)") : it.key()).arg(it.value());
    QString text;
    if (!reasons.isEmpty())
        text += QStringLiteral(" resyncs by reason: ") + reasons.join(u' ');
    if (!parts.isEmpty())
        text += QStringLiteral("; nemeses: ") + parts.join(QStringLiteral("; "));
    if (m_lossResyncs > 0)
        text += QStringLiteral("; the log's own replay was told resync_required across a recorded loss %1 time(s)")
                    .arg(m_lossResyncs);
    if (!m_nemesisNotes.isEmpty())
        text += QStringLiteral(" (") + m_nemesisNotes.join(QStringLiteral("; ")) + u')';
    return text;
}

QString ModelRun::report() const
{
    QString text = QStringLiteral("FAILED with seed %1 (reproduce: HERMES_MODEL_SEED=%1 HERMES_MODEL_OPS=%2 "
                                  "tst_deliverymodel model:%3)\n%4\n")
                       .arg(m_limits.seed).arg(m_opsDone).arg(m_config.name, summary());
    for (const QString &p : m_problems)
        text += QStringLiteral("  %1\n").arg(p);
    for (qsizetype i = 0; i < qMin<qsizetype>(6, m_clientReports.size()); ++i)
        text += QStringLiteral("  ") + m_clientReports.at(i);
    if (m_clientReports.size() > 6)
        text += QStringLiteral("  (%1 more clients with problems)\n").arg(m_clientReports.size() - 6);
    text += QStringLiteral("  the last operations:\n");
    for (qsizetype i = qMax<qsizetype>(0, m_opLog.size() - 40); i < m_opLog.size(); ++i)
        text += QStringLiteral("    %1\n").arg(m_opLog.at(i));
    return text;
}

} // namespace Model
