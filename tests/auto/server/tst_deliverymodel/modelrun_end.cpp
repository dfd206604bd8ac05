// The end of a model run: a quiet period, the log, and the invariant for every client.

#include "modelrun.h"

#include "redisprocess.h"
#include "serverprocess.h"
#include "sseclient.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QSet>
#include <QTest>

#include <algorithm>
#include <climits>

namespace Model {

using namespace Hermes::Test;

static const QByteArray Bearer = "Bearer model-key";

static qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

static int channelIndex(quint8 bit)
{
    return bit == Downloads ? 0 : bit == Queue ? 1 : 2;
}

bool ModelRun::finish()
{
    log(QStringLiteral("final: every fault healed, every client back, no more publishes"));
    checkProcesses();
    healDue(true);
    if (!m_problems.isEmpty())
        return false;
    for (const auto &c : m_clients)
        c->finalize();
    if (!waitUntil([this] { return m_inFlight == 0; }, 20000))
        fail(QStringLiteral("%1 publish request(s) still unanswered after 20 s").arg(m_inFlight));
    // Quiet: no client got an event for a while (heartbeats do not count).
    const auto quiet = [this] {
        qint64 last = 0;
        for (const auto &c : m_clients)
            last = qMax(last, c->lastActivityMs());
        return nowMs() - last > 1500;
    };
    const bool wasQuiet = waitUntil(quiet, 20000);
    log(QStringLiteral("final: %1").arg(wasQuiet ? QStringLiteral("quiet") : QStringLiteral("never quiet in 20 s")));

    // The log: what the snapshots took before each nemesis that destroyed history, then a
    // replay from there (from the genesis, without such nemeses), cross-checked with the other
    // nodes' replays and with the Redis streams.
    if (m_restoreAtOp >= 0)
        log(QStringLiteral("(the Redis snapshot was never restored: the run ended first)"));
    quint16 source = m_world.nodePorts.at(0);
    QString label = QStringLiteral("node 0");
    if (m_config.archiveNode) {
        m_archive = std::make_unique<ServerProcess>();
        if (!m_archive->start(nodeEnv(10000000))) {
            fail(QStringLiteral("the archive node did not start: ") + m_archive->errorString());
            return false;
        }
        source = m_archive->port();
        label = QStringLiteral("the archive node");
    }
    checkProcesses();
    QSet<QString> due = dueIds();
    QList<LogEntry> piece;
    QString resync;
    if (!m_problems.isEmpty() || !replayFrom(source, label, m_anchor, due, &piece, &resync))
        return false;
    if (const QString loss = resync.isEmpty() ? QString() : lossExplaining(resync); !loss.isEmpty()) {
        // A loss recorded since the last snapshot: the log goes on across it, and replays again.
        log(QStringLiteral("final: the replay from %1 got resync_required %2, explained: %3").arg(m_anchor, resync, loss));
        if (!logAcrossLoss(loss))
            return false;
        due = dueIds();
        piece.clear();
        resync.clear();
        if (!replayFrom(source, label, m_anchor, due, &piece, &resync))
            return false;
    }
    if (!resync.isEmpty()) {
        QStringList lengths;
        for (const Node &node : m_nodes)
            lengths << QString::number(node.streamLength);
        fail(QStringLiteral("the replay from %1 from %2 (%3) got resync_required: %4%5")
                 .arg(label, m_anchor, m_anchor == m_genesisId ? QStringLiteral("the genesis")
                                                               : QStringLiteral("where the last snapshot ended"), resync,
                      m_config.redis ? QStringLiteral(" (the nodes' HERMES_REDIS_STREAM_LENGTH: %1; node 0's "
                                                      "first value is the deployment's)").arg(lengths.join(u','))
                                     : QString()));
        return false;
    }
    for (const LogEntry &e : std::as_const(piece))
        appendToLog(e);
    for (const QString &p : m_log.problems())
        fail(p);
    if (!m_config.archiveNode) {
        for (int i = 1; i < int(m_nodes.size()); ++i) {
            QList<LogEntry> other;
            QString otherResync;
            if (!replayFrom(m_world.nodePorts.at(i), QStringLiteral("node %1").arg(i), m_anchor, due, &other, &otherResync))
                continue;
            if (!otherResync.isEmpty()) {
                fail(QStringLiteral("the replay from node %1 from %2 got resync_required: %3").arg(i).arg(m_anchor, otherResync));
                continue;
            }
            const qsizetype n = qMin(other.size(), piece.size());
            for (qsizetype k = 0; k <= n; ++k) {
                if (k == n) {
                    if (other.size() != piece.size())
                        fail(QStringLiteral("node %1 replays %2 events from %3, node 0 %4")
                                 .arg(i).arg(other.size()).arg(m_anchor).arg(piece.size()));
                    break;
                }
                const LogEntry &a = piece.at(k);
                const LogEntry &b = other.at(k);
                if (a.id != b.id || a.seq != b.seq) {
                    fail(QStringLiteral("replays differ at position %1: node 0 has %2 (seq %3), node %4 has %5 (seq %6)")
                             .arg(k).arg(a.id).arg(a.seq).arg(i).arg(b.id).arg(b.seq));
                    break;
                }
            }
        }
    }
    if (m_config.redis)
        crossCheckRedis();
    checkPublishes();
    finishNemeses();

    m_channelPrefix = QList<QList<int>>(3, QList<int>(m_log.size() + 1, 0));
    for (int p = 0; p < m_log.size(); ++p) {
        for (int c = 0; c < 3; ++c)
            m_channelPrefix[c][p + 1] = m_channelPrefix[c][p];
        if (m_log.entries().at(p).channel)
            ++m_channelPrefix[channelIndex(m_log.entries().at(p).channel)][p + 1];
    }

    // Every client still there must get through the log's last event it wants.
    const auto caughtUp = [this] {
        for (const auto &c : m_clients) {
            if (!c->isGone() && !checkClient(m_log, *c, {}, true).caughtUp)
                return false;
        }
        return true;
    };
    // Checking every client against a long log takes a while: not in a tight loop.
    const bool allCaughtUp = waitUntil(caughtUp, 30000, 250);
    log(QStringLiteral("final: log of %1 events; %2").arg(m_log.size())
            .arg(allCaughtUp ? QStringLiteral("every client caught up") : QStringLiteral("not every client caught up in 30 s")));
    checkClients(true);
    return m_problems.isEmpty() && m_clientReports.isEmpty();
}

bool ModelRun::replayFrom(quint16 port, const QString &label, const QString &anchor, QSet<QString> due,
                          QList<LogEntry> *out, QString *resyncWhy, int quietMs)
{
    // The replay is complete once every acknowledged id came (a node may still be loading
    // its history, and a replay is paced) and then nothing more for 2 s: unacknowledged events
    // may be in the log too. Bounded: what never comes is reported missing by the checks.
    // A stream the node ends (HERMES_SSE_CONNECTION_TIMEOUT rotates streams: a node still
    // loading its history at the end of a long soak ended one before its first event, and the
    // log came out empty) is resumed from its last id, as every client does.
    QList<Hermes::SseParser::Event> events;
    QString from = anchor;
    int status = 0;
    int connections = 0;
    std::unique_ptr<SseClient> sse;
    const auto openStream = [&] {
        sse = std::make_unique<SseClient>();
        sse->open(port, "/api/v1/events/stream?style=envelope",
                  {{"Authorization", Bearer}, {"Last-Event-ID", from.toUtf8()}});
        ++connections;
    };
    openStream();
    qsizetype seen = 0;
    bool resync = false;
    QElapsedTimer quiet;
    quiet.start();
    QElapsedTimer total;
    total.start();
    while (total.elapsed() < 180000 && !resync) {
        const QList<Hermes::SseParser::Event> got = sse->nonHeartbeatEvents();
        if (got.size() != seen) {
            for (qsizetype i = seen; i < got.size(); ++i) {
                const Hermes::SseParser::Event &e = got.at(i);
                events.append(e);
                due.remove(e.lastEventId);
                if (!e.lastEventId.isEmpty())
                    from = e.lastEventId;
                const QJsonObject envelope = QJsonDocument::fromJson(e.data.toUtf8()).object();
                const QJsonValue seq = envelope.value(QStringLiteral("data")).toObject().value(QStringLiteral("seq"));
                if (seq.isDouble())
                    due.remove(outsideDue(seq.toInteger()));
                resync = resync || e.data.contains(QLatin1StringView("\"resync_required\""));
            }
            seen = got.size();
            quiet.restart();
        } else if (sse->isClosed()) {
            status = sse->status();
            if (status != 200 || connections >= 300)
                break;
            log(QStringLiteral("final: the replay from %1 was ended by the node after %2 event(s); resuming from %3")
                    .arg(label).arg(events.size()).arg(from));
            QTest::qWait(200); // the nodes' HERMES_SSE_RETRY
            openStream();
            seen = 0;
            continue;
        } else if (due.isEmpty() && quiet.elapsed() > quietMs) {
            break;
        } else if (total.elapsed() > OutsideDueMs
                   && std::all_of(due.cbegin(), due.cend(), [](const QString &d) { return d.startsWith(u's'); })
                   && quiet.elapsed() > quietMs) {
            // An outside event a node got but never stored (it crashed first, or gave up past
            // the adopt retry bound): the checks judge it; the log does not wait for it.
            break;
        }
        QTest::qWait(50);
    }
    if (!sse->isClosed() || status == 0)
        status = sse->status();
    sse->close();
    if (status != 200 || events.isEmpty()) {
        fail(QStringLiteral("the replay from %1 got HTTP %2 and %3 event(s) over %4 connection(s)")
                 .arg(label).arg(status).arg(events.size()).arg(connections));
        return false;
    }
    for (const Hermes::SseParser::Event &e : events) {
        const QJsonObject envelope = QJsonDocument::fromJson(e.data.toUtf8()).object();
        LogEntry entry;
        entry.id = e.lastEventId;
        entry.type = envelope.value(QStringLiteral("type")).toString();
        entry.data = envelope.value(QStringLiteral("data")).toObject();
        entry.timestamp = envelope.value(QStringLiteral("timestamp")).toString();
        if (entry.type == u"connected")
            continue;
        if (entry.type == u"resync_required") {
            if (resyncWhy)
                *resyncWhy = QString::fromUtf8(QJsonDocument(entry.data).toJson(QJsonDocument::Compact));
            return true;
        }
        entry.seq = entry.data.value(QStringLiteral("seq")).toInteger(-1);
        entry.downloadId = entry.data.value(QStringLiteral("download_id")).toString();
        if (entry.seq >= 0 && entry.seq < m_publishes.size())
            entry.channel = m_publishes.at(entry.seq).channel;
        else
            fail(QStringLiteral("the replay from %1 has an event the test did not publish: id %2 %3")
                     .arg(label, entry.id, e.data.left(200)));
        out->append(entry);
    }
    return true;
}

void ModelRun::crossCheckRedis()
{
    if (!m_resp.isConnected() && !m_resp.connectTo(m_redis->port())) {
        fail(QStringLiteral("cannot connect to redis for the cross-check"));
        return;
    }
    struct Entry
    {
        quint64 ms = 0, sq = 0;
        qint64 seq = -1;
        quint8 channel = 0;
        QString type;
        QJsonObject data;
        QByteArray key;
    };
    QList<Entry> entries;
    const QVariantList keys = m_resp.command({"KEYS", "hermes:*"}, 10000).toList();
    for (const QVariant &k : keys) {
        const QByteArray key = k.toByteArray();
        if (m_resp.command({"TYPE", key}).toByteArray() != "stream")
            continue;
        const QVariant range = m_resp.command({"XRANGE", key, "-", "+"}, 30000);
        for (const QVariant &item : range.toList()) {
            const QVariantList pair = item.toList();
            Entry e;
            e.key = key;
            const QList<QByteArray> id = pair.value(0).toByteArray().split('-');
            e.ms = id.value(0).toULongLong();
            e.sq = id.value(1).toULongLong();
            const QVariantList fields = pair.value(1).toList();
            for (const QVariant &v : fields) {
                const QByteArray value = v.toByteArray();
                if (const quint8 c = channelFromName(QString::fromUtf8(value)))
                    e.channel = c;
                const QJsonObject o = QJsonDocument::fromJson(value).object();
                if (o.value(QStringLiteral("data")).isObject()) {
                    e.type = o.value(QStringLiteral("type")).toString();
                    e.data = o.value(QStringLiteral("data")).toObject();
                    e.seq = e.data.value(QStringLiteral("seq")).toInteger(-1);
                }
            }
            for (quint8 bit : {Downloads, Queue, System}) {
                if (key.endsWith(':' + channelName(bit).toUtf8()))
                    e.channel = bit;
            }
            entries.append(e);
        }
    }
    std::stable_sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
        return a.ms != b.ms ? a.ms < b.ms : a.sq < b.sq;
    });
    QHash<qint64, int> bySeq;
    QList<qint64> redisOrder;
    for (int i = 0; i < entries.size(); ++i) {
        const Entry &e = entries.at(i);
        if (e.seq < 0) {
            fail(QStringLiteral("Redis stream %1 holds an entry the test did not publish (%2-%3)")
                     .arg(QString::fromUtf8(e.key)).arg(e.ms).arg(e.sq));
            continue;
        }
        if (bySeq.contains(e.seq)) {
            fail(QStringLiteral("the Redis streams hold seq %1 twice (an outside publish adopted twice?)").arg(e.seq));
            continue;
        }
        bySeq.insert(e.seq, i);
        const int p = m_log.positionOfSeq(e.seq);
        // An outside event adopted again after a restore, before the log went on: the log
        // holds only the destroyed copy (readoptedAfterRestore()), so it has no place in its order.
        const bool readopted = p >= 0 && m_log.mayReappearAt(e.seq)
            && std::any_of(m_nemeses.cbegin(), m_nemeses.cend(), [&](const NemesisRecord &r) { return destroyedBy(r, p); });
        if (!readopted)
            redisOrder << e.seq;
        if (p < 0) {
            fail(QStringLiteral("seq %1 is in Redis stream %2 but not in the replay")
                     .arg(e.seq).arg(QString::fromUtf8(e.key)));
            continue;
        }
        const LogEntry &l = m_log.entries().at(p);
        if (l.channel != e.channel || l.type != e.type || l.data != e.data)
            fail(QStringLiteral("seq %1 differs between Redis (%2 %3) and the replay (%4 %5)")
                     .arg(e.seq).arg(channelName(e.channel), e.type, channelName(l.channel), l.type));
    }
    QList<qint64> replayOrder;
    const QSet<qint64> inRedisOrder(redisOrder.cbegin(), redisOrder.cend());
    for (const LogEntry &l : m_log.entries()) {
        if (l.seq < 0)
            continue;
        const int p = int(&l - m_log.entries().data());
        qint64 destroyedMs = -1;
        for (const NemesisRecord &r : std::as_const(m_nemeses)) {
            if (destroyedBy(r, p))
                destroyedMs = qMax(destroyedMs, r.fromMs);
        }
        // A nemesis took it from Redis; a restore from a snapshot SAVEd before may bring it
        // back, as an event of the old timeline (kept, like the restore's other survivors).
        if (destroyedMs >= 0 && inRedisOrder.contains(l.seq)) {
            const bool restoredLater = std::any_of(m_nemeses.cbegin(), m_nemeses.cend(), [&](const NemesisRecord &r) {
                return r.kind == Nemesis::RedisRestore && r.fromMs >= destroyedMs && p < r.boundary;
            });
            if (!restoredLater)
                fail(QStringLiteral("seq %1 (id %2), destroyed by a nemesis, is in Redis again, and no restore "
                                    "brought it back").arg(l.seq).arg(l.id));
            replayOrder << l.seq;
            continue;
        }
        if (destroyedMs >= 0)
            continue;
        if (!bySeq.contains(l.seq))
            fail(QStringLiteral("seq %1 (id %2) is in the replay but in no Redis stream").arg(l.seq).arg(l.id));
        else
            replayOrder << l.seq;
    }
    redisOrder.removeIf([this](qint64 s) { return m_log.positionOfSeq(s) < 0; });
    for (qsizetype i = 0; i < qMin(redisOrder.size(), replayOrder.size()); ++i) {
        if (redisOrder[i] != replayOrder[i]) {
            fail(QStringLiteral("the Redis stream ids order seq %1 at position %2, the replay seq %3")
                     .arg(redisOrder[i]).arg(i).arg(replayOrder[i]));
            break;
        }
    }
}

void ModelRun::checkPublishes()
{
    struct Acked
    {
        qint64 tick;
        int position;
    };
    QList<Acked> acked;
    for (const PublishRecord &rec : std::as_const(m_publishes)) {
        const int p = m_log.positionOfSeq(rec.seq);
        if (rec.ackTick >= 0) {
            if (p < 0) {
                ++m_lost;
                fail(QStringLiteral("publish seq %1 (%2 via node %3) was acknowledged as %4 but is not in the log")
                         .arg(rec.seq).arg(channelName(rec.channel)).arg(rec.node).arg(rec.ackId));
                continue;
            }
            if (m_log.entries().at(p).id != rec.ackId)
                fail(QStringLiteral("publish seq %1 was acknowledged as %2, the log has it as %3")
                         .arg(rec.seq).arg(rec.ackId, m_log.entries().at(p).id));
            acked.append({rec.ackTick, p});
        }
        // The embedded broker answers an error only for what it did not keep (a full disk: 503):
        // that must never be delivered later.
        if (!m_config.redis && p >= 0 && rec.status != 202 && rec.status != 0)
            fail(QStringLiteral("publish seq %1 was answered HTTP %2, yet it is in the log as %3")
                     .arg(rec.seq).arg(rec.status).arg(m_log.entries().at(p).id));
        if (p >= 0) {
            const LogEntry &e = m_log.entries().at(p);
            if (e.type != rec.type || e.data != rec.data)
                fail(QStringLiteral("seq %1 in the log is not what was published (type %2, published %3)")
                         .arg(rec.seq).arg(e.type, rec.type));
        }
    }
    // Causality: an event acknowledged before another was published comes first in the log.
    std::sort(acked.begin(), acked.end(), [](const Acked &a, const Acked &b) { return a.tick < b.tick; });
    QList<int> prefixMax;
    int best = -1;
    for (const Acked &a : acked) {
        best = qMax(best, a.position);
        prefixMax << best;
    }
    int violations = 0;
    for (const PublishRecord &rec : std::as_const(m_publishes)) {
        const int p = m_log.positionOfSeq(rec.seq);
        if (p < 0)
            continue;
        const auto it = std::lower_bound(acked.begin(), acked.end(), rec.issueTick,
                                         [](const Acked &a, qint64 tick) { return a.tick < tick; });
        const qsizetype k = it - acked.begin();
        if (k > 0 && prefixMax[k - 1] > p && violations++ == 0) {
            const LogEntry &before = m_log.entries().at(prefixMax[k - 1]);
            fail(QStringLiteral("seq %1 was acknowledged before seq %2 was published, yet the log has %2 first (ids %3, %4)")
                     .arg(before.seq).arg(rec.seq).arg(before.id, m_log.entries().at(p).id));
        }
    }
    if (violations > 1)
        fail(QStringLiteral("%1 events in all are logged before events acknowledged ahead of their publish").arg(violations));
}

} // namespace Model
