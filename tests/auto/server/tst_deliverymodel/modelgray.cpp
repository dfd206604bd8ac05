// The delivery model's Redis nemeses: Redis restored from an older snapshot, a stream key
// gone, Redis out of memory under outside publishers, and nodes that disagree on the stream
// length. Each restores what it changed, and says in its record what history it destroyed.

#include "modelrun.h"

#include "redisprocess.h"
#include "serverprocess.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <climits>
#include <csignal>

namespace Model {

using namespace Hermes::Test;

static constexpr qint64 Forever = LLONG_MAX;

static qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

/// The test's seqs in one stream key (or every hermes stream when `key` is empty).
static QHash<qint64, quint8> streamSeqs(RespClient &resp, const QByteArray &onlyKey = {})
{
    QHash<qint64, quint8> out;
    QList<QByteArray> keys;
    if (!onlyKey.isEmpty()) {
        keys << onlyKey;
    } else {
        for (const QVariant &k : resp.command({"KEYS", "hermes:*"}, 10000).toList()) {
            if (resp.command({"TYPE", k.toByteArray()}).toByteArray() == "stream")
                keys << k.toByteArray();
        }
    }
    for (const QByteArray &key : std::as_const(keys)) {
        quint8 channel = 0;
        for (quint8 bit : {Downloads, Queue, System}) {
            if (key.endsWith(':' + channelName(bit).toUtf8()))
                channel = bit;
        }
        for (const QVariant &item : resp.command({"XRANGE", key, "-", "+"}, 30000).toList()) {
            for (const QVariant &v : item.toList().value(1).toList()) {
                const QJsonObject o = QJsonDocument::fromJson(v.toByteArray()).object();
                if (o.value(QStringLiteral("data")).isObject())
                    out.insert(o.value(QStringLiteral("data")).toObject().value(QStringLiteral("seq")).toInteger(-1), channel);
            }
        }
    }
    return out;
}

static QString redisDir(RespClient &resp)
{
    return QString::fromUtf8(resp.command({"CONFIG", "GET", "dir"}).toList().value(1).toByteArray());
}

void ModelRun::saveRedis()
{
    if (!m_redisUp || m_oom >= 0)
        return;
    const QVariant saved = m_resp.command({"SAVE"}, 10000);
    const QString dir = redisDir(m_resp);
    const QString copy = dir + QStringLiteral("/gray-snapshot.rdb");
    QFile::remove(copy);
    if (RespClient::isError(saved) || dir.isEmpty() || !QFile::copy(dir + QStringLiteral("/dump.rdb"), copy)) {
        log(QStringLiteral("(redis-restore: SAVE or its copy failed)"));
        return;
    }
    m_redisSnapshot = copy;
    m_restoreAtOp = m_op + 5 + m_rng.bounded(60);
    log(QStringLiteral("redis-restore: SAVE at seq %1, the copy is restored at #%2").arg(m_world.nextSeq).arg(m_restoreAtOp));
}

void ModelRun::restoreRedis()
{
    m_restoreAtOp = -1;
    // Whatever else is going on ends first: paused nodes hold requests, an OOM holds outside
    // events, and Redis must be up for the snapshot of the log.
    for (int i = 0; i < int(m_nodes.size()); ++i) {
        if (m_nodes[size_t(i)].stopped)
            m_nodes[size_t(i)].contAtMs = 0;
    }
    healDue(false);
    if (m_oom >= 0)
        endOom();
    if (!m_redisUp && !restartRedis())
        return;
    if (!snapshotLog(QStringLiteral("the Redis restore")))
        return;
    // Nodes restart in any order: one more is down across the restore, back a while later.
    const int victim = m_rng.bounded(int(m_nodes.size()));
    const bool killOne = m_rng.bounded(2) == 0 && m_nodes[size_t(victim)].up;
    const QString dir = redisDir(m_resp);
    NemesisRecord &r = record(Nemesis::RedisRestore, QStringLiteral("SIGKILL redis, restart on the SAVEd copy%1")
                                                         .arg(killOne ? QStringLiteral(" (node %1 down across it)").arg(victim) : QString()));
    const qsizetype at = m_nemeses.size() - 1;
    r.boundary = int(m_log.size());
    if (killOne) {
        stopNodeForGood(victim, false);
        m_nodes[size_t(victim)].restartAtOp = m_op + m_rng.bounded(20);
    }
    m_redis->kill();
    m_resp.close();
    m_redisUp = false;
    m_windows.append({-1, nowMs(), Forever});
    // Redis 7 loads its append-only files, not dump.rdb: the snapshot becomes the only base.
    QDir aof(dir + QStringLiteral("/appendonlydir"));
    aof.removeRecursively();
    QDir().mkpath(aof.path());
    QFile::copy(m_redisSnapshot, aof.filePath(QStringLiteral("appendonly.aof.1.base.rdb")));
    QFile manifest(aof.filePath(QStringLiteral("appendonly.aof.manifest")));
    if (!manifest.open(QIODevice::WriteOnly) || manifest.write("file appendonly.aof.1.base.rdb seq 1 type b\n") <= 0)
        fail(QStringLiteral("cannot write the AOF manifest in %1").arg(aof.path()));
    manifest.close();
    m_redisSnapshot.clear();
    if (!restartRedis())
        return;
    const QHash<qint64, quint8> kept = streamSeqs(m_resp);
    NemesisRecord &restored = m_nemeses[at];
    for (const LogEntry &e : m_log.entries()) {
        if (!kept.contains(e.seq)) {
            restored.lostSeqs.insert(e.seq);
            restored.channels |= e.channel;
        }
    }
    restored.toMs = nowMs();
    // An outside event among them may be adopted again (readoptedAfterRestore()), before the
    // log's marker too: then no piece of the log holds the new copy, and clients may get it.
    for (const qint64 seq : std::as_const(restored.lostSeqs)) {
        if (seq >= 0 && seq < m_publishes.size() && m_publishes.at(seq).node < 0)
            m_log.mayReappear(seq);
    }
    m_figures[int(Nemesis::RedisRestore)].destroyed += restored.lostSeqs.size();
    log(QStringLiteral("redis-restore: %1 event(s) of the log lost").arg(restored.lostSeqs.size()));
    // Probes at once, while a node that knew may not have noticed yet.
    probeAround(m_nemeses.at(at));
    reanchor(0);
}

void ModelRun::appendToLog(const LogEntry &entry)
{
    const int before = m_log.repeats();
    m_log.append(entry, [&](const LogEntry &earlier) { return readoptedAfterRestore(earlier, entry); });
    if (m_log.repeats() != before)
        log(QStringLiteral("the log holds outside seq %1 again, as %2: adopted again after the Redis restore "
                           "destroyed it")
                .arg(entry.seq).arg(entry.id));
}

bool ModelRun::readoptedAfterRestore(const LogEntry &earlier, const LogEntry &later) const
{
    // An outside PUBLISH reaches every node, and each adopts it (retrying while Redis is out of
    // memory or away) until one attempt answers an id; the adoption mark makes the others'
    // attempts find the first one's. A restore from an older snapshot takes the adopted event
    // and its mark: a node whose attempt was still waiting then adopts it into the new epoch.
    // That is right: the event is kept rather than lost, once per epoch, and every stream of
    // the old epoch was told resync_required. The log then holds it twice, once per timeline.
    const int earlierAt = m_log.positionOf(earlier.id);
    if (later.seq < 0 || later.seq >= m_publishes.size() || m_publishes.at(later.seq).node >= 0
        || earlier.id.section(u'-', 0, 0) == later.id.section(u'-', 0, 0)
        || earlier.type != later.type || earlier.data != later.data)
        return false;
    return std::any_of(m_nemeses.cbegin(), m_nemeses.cend(), [&](const NemesisRecord &r) {
        return r.kind == Nemesis::RedisRestore && earlierAt >= 0 && earlierAt < r.boundary
            && r.lostSeqs.contains(later.seq) && m_log.size() >= r.boundary;
    });
}

bool ModelRun::destroyedBy(const NemesisRecord &r, int p) const
{
    // A restore destroys the old timeline only: a seq logged again after it (adopted again:
    // readoptedAfterRestore()) is an event of the new one.
    return r.lostSeqs.contains(m_log.entries().at(p).seq) && (r.kind != Nemesis::RedisRestore || p < r.boundary);
}

void ModelRun::deleteStream()
{
    if (!m_redisUp)
        return;
    quint8 bit = quint8(1 << m_rng.bounded(3));
    if (!(m_limits.channels & bit))
        bit = Downloads;
    if (m_oom >= 0)
        endOom();
    if (!snapshotLog(QStringLiteral("deleting a stream")))
        return;
    const QByteArray key = "hermes:stream:" + channelName(bit).toUtf8();
    const QHash<qint64, quint8> gone = streamSeqs(m_resp, key);
    m_resp.command({"DEL", key});
    NemesisRecord &r = record(Nemesis::StreamDeleted, QStringLiteral("DEL %1 (%2 entries)")
                                                          .arg(QString::fromUtf8(key)).arg(gone.size()));
    r.channels = bit;
    for (auto it = gone.cbegin(); it != gone.cend(); ++it)
        r.lostSeqs.insert(it.key());
    r.toMs = nowMs();
    m_figures[int(Nemesis::StreamDeleted)].destroyed += r.lostSeqs.size();
    probeAround(r);
    reanchor(bit);
}

void ModelRun::startOom()
{
    if (!m_redisUp)
        return;
    const int limitMs = (m_config.adoptRetryLimitSec > 0 ? m_config.adoptRetryLimitSec : 30) * 1000;
    // Shorter than the adopt retry bound, with a margin: every outside event published
    // meanwhile must be adopted once memory is back. (Past the bound the nodes record a loss,
    // and a replay across it — the log's own — is rightly told resync_required: the log could
    // not be built. That path is tst_redisadoptretry's; checkNeverStored() still judges it.)
    const int ms = 1000 + m_rng.bounded(qMax(1, qMin(limitMs - 3500, 7000)));
    const QByteArray info = m_resp.command({"INFO", "memory"}).toByteArray();
    qint64 used = 0;
    for (const QByteArray &line : info.split('\n')) {
        if (line.startsWith("used_memory:"))
            used = line.mid(12).trimmed().toLongLong();
    }
    m_resp.command({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
    m_resp.command({"CONFIG", "SET", "maxmemory", QByteArray::number(used + (1 << 20))});
    const QByteArray value(64 * 1024, 'f');
    int written = 0;
    for (int i = 0; i < 400; ++i) {
        const QVariant reply = m_resp.command({"SET", "gray:filler:" + QByteArray::number(m_fillers), value});
        if (RespClient::isError(reply))
            break;
        ++m_fillers;
        ++written;
    }
    m_oom = int(m_nemeses.size());
    m_oomEndMs = nowMs() + ms;
    record(Nemesis::RedisOom, QStringLiteral("maxmemory %1 noeviction, %2 filler keys, for %3 ms")
                                  .arg(used + (1 << 20)).arg(written).arg(ms));
}

void ModelRun::endOom()
{
    log(QStringLiteral("redis-oom: memory back"));
    if (m_redisUp) {
        for (int from = 0; from < m_fillers; from += 100) {
            QList<QByteArray> del{"DEL"};
            for (int i = from; i < qMin(m_fillers, from + 100); ++i)
                del << "gray:filler:" + QByteArray::number(i);
            m_resp.command(del, 5000);
        }
        m_resp.command({"CONFIG", "SET", "maxmemory", "0"});
    }
    m_nemeses[m_oom].toMs = nowMs();
    m_oom = -1;
}

void ModelRun::restartWithStreamLength(int i)
{
    Node &node = m_nodes[size_t(i)];
    const int length = m_config.restartStreamLengths.at(m_rng.bounded(int(m_config.restartStreamLengths.size())));
    if (!node.up || node.stopped || !m_redisUp)
        return;
    NemesisRecord &r = record(Nemesis::StreamLength, QStringLiteral("node %1 restarts with HERMES_REDIS_STREAM_LENGTH=%2 "
                                                                    "(the deployment's, node 0's first: %3)")
                                                         .arg(i).arg(length).arg(10000000));
    r.node = i;
    const qsizetype at = m_nemeses.size() - 1;
    stopNodeForGood(i, true);
    node.streamLength = length;
    restartNode(i);
    m_nemeses[at].toMs = nowMs();
}

void ModelRun::checkNeverStored()
{
    // An outside event published while Redis was out of memory reached the nodes but could
    // not be stored. Within the adopt retry bound, it must be stored once memory is back; past
    // it, the nodes give up, and every client of its channel must hear resync_required.
    const qint64 limitMs = qint64(m_config.adoptRetryLimitSec > 0 ? m_config.adoptRetryLimitSec : 30) * 1000;
    // A message waiting for its next attempt lives in the node's memory only: a node killed (or
    // stopped) before memory is back and its next attempt is due (the retry backoff is at most
    // 5 s) takes it along. When that is every node that had it — each node up when it was
    // published, save one still starting (not subscribed yet) — no one is left to adopt it or
    // to record the loss: the same loss as an outside message whose nodes all crash before
    // adopting it without any OOM, Redis Pub/Sub being at most once. It is destroyed, not
    // lost by the server.
    const auto lostWithItsNodes = [this](const PublishRecord &rec, qint64 oomEndMs) {
        for (int i = 0; i < int(m_nodes.size()); ++i) {
            bool holder = true, gone = false;
            for (const FaultWindow &w : std::as_const(m_windows)) {
                if (w.node != i)
                    continue;
                const qint64 backMs = w.toMs == Forever ? Forever : w.toMs - m_config.faultGraceMs;
                if (w.fromMs <= rec.atMs && backMs + 3000 > rec.atMs)
                    holder = false; // down or starting when it was published
                if (w.fromMs >= rec.atMs && w.fromMs <= oomEndMs + 8000)
                    gone = true;
            }
            if (holder && !gone)
                return false;
        }
        return true;
    };
    // Redis killed, another OOM or a paused node within an event's bound eats into the time
    // the nodes had to adopt it (their retries and reconnects back off, up to 5 s and more):
    // past the bound they rightly give it up and say so (events_lost), as after an OOM longer
    // than the bound. (A 10-minute soak: an OOM, then two Redis kills, a second OOM and a pause
    // of the one node that had the event, all within its 20 s; the node gave it up, and its
    // clients' events_lost was called "not called for".) Only an event whose bound saw nothing
    // but its own OOM must be adopted.
    const auto interrupted = [this, limitMs](const PublishRecord &rec, qsizetype oom) {
        const qint64 until = rec.atMs + limitMs;
        for (const FaultWindow &w : std::as_const(m_windows)) {
            if (w.node < 0 && w.fromMs <= until && w.toMs >= rec.atMs)
                return true;
        }
        for (qsizetype k = 0; k < m_nemeses.size(); ++k) {
            const NemesisRecord &o = m_nemeses.at(k);
            if (k != oom && (o.kind == Nemesis::RedisOom || o.kind == Nemesis::SigStop) && o.fromMs <= until
                && o.toMs >= rec.atMs)
                return true;
        }
        return false;
    };
    for (qsizetype k = 0; k < m_nemeses.size(); ++k) {
        NemesisRecord &r = m_nemeses[k];
        if (r.kind != Nemesis::RedisOom)
            continue;
        for (const PublishRecord &rec : std::as_const(m_publishes)) {
            if (rec.node >= 0 || rec.status < 1 || rec.atMs < r.fromMs || rec.atMs > r.toMs
                || m_log.positionOfSeq(rec.seq) >= 0)
                continue;
            const qint64 waited = r.toMs - rec.atMs;
            if (waited < limitMs - 3000 && interrupted(rec, k)) {
                log(QStringLiteral("outside seq %1, published during a Redis OOM, was not adopted: its bound saw "
                                   "Redis killed, another OOM or a pause too").arg(rec.seq));
                r.lostSeqs.insert(rec.seq);
                r.channels |= rec.channel;
                ++m_figures[int(Nemesis::RedisOom)].destroyed;
                continue;
            }
            if (waited < limitMs - 3000 && lostWithItsNodes(rec, r.toMs)) {
                log(QStringLiteral("outside seq %1, published during a Redis OOM, went with every node that had it")
                        .arg(rec.seq));
                ++m_figures[int(Nemesis::RedisOom)].destroyed;
                continue;
            }
            if (waited < limitMs - 3000) {
                fail(QStringLiteral("outside event seq %1 on %2, published during a Redis OOM that ended %3 s "
                                    "later (within the adopt retry bound of %4 s), was never adopted")
                         .arg(rec.seq).arg(channelName(rec.channel)).arg(double(waited) / 1000, 0, 'f', 1)
                         .arg(limitMs / 1000));
                continue;
            }
            r.lostSeqs.insert(rec.seq);
            r.channels |= rec.channel;
            ++m_figures[int(Nemesis::RedisOom)].destroyed;
            if (waited < limitMs + 3000)
                continue;
            const qint64 heldUntil = rec.atMs + limitMs + 3000;
            // The nodes had the event in hand: at least the clients it was for must hear of it.
            LogEntry event;
            event.channel = rec.channel;
            event.type = rec.type;
            event.data = rec.data;
            event.seq = rec.seq;
            event.downloadId = rec.data.value(QStringLiteral("download_id")).toString();
            for (const auto &client : m_clients) {
                if (!client->spec().filter().matches(event))
                    continue;
                bool streaming = false;
                for (const ModelClient::Connection &c : client->connections())
                    streaming = streaming || (c.connected && c.openedMs <= rec.atMs && (c.endedMs == 0 || c.endedMs >= heldUntil));
                bool told = false;
                for (const ModelClient::Item &item : client->items())
                    told = told || (item.kind == ModelClient::Item::Resync && item.atMs >= rec.atMs && item.atMs <= r.toMs + 20000);
                if (streaming && !told)
                    fail(QStringLiteral("outside event seq %1 on %2 was never stored (Redis out of memory %3 s past "
                                        "it, the bound is %4 s), and %5, streaming all along, got no resync_required")
                             .arg(rec.seq).arg(channelName(rec.channel)).arg(double(waited) / 1000, 0, 'f', 1)
                             .arg(limitMs / 1000).arg(client->describe()));
            }
        }
    }
}

QString ModelRun::lossExplaining(const QString &resync) const
{
    // A node that gives an outside message up (past the adopt retry bound) records the loss
    // (RedisScripts::MarkLost): the channel's floor rises above every id issued so far, so a
    // resume from below it is told resync_required — history_exceeded where a node loads the
    // floor, events_lost on a stream open when the loss is announced. The log's own replay is
    // no exception: the history truly cannot tell what the lost event was. Explained only by
    // an event the judge knows was not stored: an outside PUBLISH that reached a node, which
    // the log does not hold, whose bound has passed and saw Redis out of memory or away; and
    // only if the loss can have been recorded after the anchor was issued (the floor is then
    // above it). Whether giving the event up was right is checkNeverStored()'s to judge.
    const QString reason = QJsonDocument::fromJson(resync.toUtf8()).object().value(QStringLiteral("reason")).toString();
    if (!m_config.redis || (reason != u"history_exceeded" && reason != u"events_lost"))
        return {};
    const qint64 limitMs = qint64(m_config.adoptRetryLimitSec > 0 ? m_config.adoptRetryLimitSec : 30) * 1000;
    const int anchorAt = m_log.positionOf(m_anchor);
    const qint64 anchorSeq = anchorAt >= 0 ? m_log.entries().at(anchorAt).seq : -1;
    const qint64 anchorMs = anchorSeq >= 0 && anchorSeq < m_publishes.size() ? m_publishes.at(anchorSeq).atMs : 0;
    // The give-up comes at the bound (the retry and loss timers add a few seconds); recording it
    // waits while Redis is away.
    static constexpr qint64 RecordMarginMs = 8000;
    const qint64 now = nowMs();
    for (const PublishRecord &rec : std::as_const(m_publishes)) {
        if (rec.node >= 0 || rec.status < 1 || m_log.positionOfSeq(rec.seq) >= 0 || now < rec.atMs + limitMs)
            continue;
        const qint64 giveUpMs = rec.atMs + limitMs;
        QString fault;
        for (const NemesisRecord &o : std::as_const(m_nemeses)) {
            if (o.kind == Nemesis::RedisOom && o.fromMs <= rec.atMs && rec.atMs <= o.toMs)
                fault = QStringLiteral("published during a Redis OOM");
        }
        bool recordedLate = anchorMs <= giveUpMs + RecordMarginMs;
        for (const FaultWindow &w : std::as_const(m_windows)) {
            if (w.node >= 0)
                continue;
            if (w.fromMs <= giveUpMs && w.toMs >= rec.atMs && fault.isEmpty())
                fault = QStringLiteral("Redis away within its bound");
            if (w.fromMs <= giveUpMs + RecordMarginMs && (w.toMs == Forever || w.toMs + RecordMarginMs >= anchorMs))
                recordedLate = true;
        }
        if (fault.isEmpty() || !recordedLate)
            continue;
        return QStringLiteral("outside seq %1 on %2 (%3), not in the log, %4 s past its %5 s bound: a node gave it up "
                              "and recorded the loss above the anchor")
            .arg(rec.seq).arg(channelName(rec.channel), fault).arg(double(now - giveUpMs) / 1000, 0, 'f', 1)
            .arg(limitMs / 1000);
    }
    return {};
}

bool ModelRun::logAcrossLoss(const QString &loss)
{
    // The events after the anchor are still in Redis (a loss takes none): the log takes them
    // from there, in id order, and goes on from a marker above the floor.
    const QString epoch = m_anchor.section(u'-', 0, 0);
    const quint64 anchorMs = m_anchor.section(u'-', 1, 1).toULongLong();
    const quint64 anchorSq = m_anchor.section(u'-', 2, 2).toULongLong();
    if (!m_resp.isConnected() && !m_resp.connectTo(m_redis->port())) {
        fail(QStringLiteral("cannot connect to redis to read the events after %1 (%2)").arg(m_anchor, loss));
        return false;
    }
    const QString current = QString::fromUtf8(m_resp.command({"GET", "hermes:epoch"}).toByteArray());
    if (current != epoch) {
        fail(QStringLiteral("after a loss (%1) Redis is of epoch %2, the anchor %3 of another").arg(loss, current, m_anchor));
        return false;
    }
    struct Entry
    {
        quint64 ms, sq;
        LogEntry e;
    };
    QList<Entry> entries;
    for (quint8 bit : {Downloads, Queue, System}) {
        const QByteArray key = "hermes:stream:" + channelName(bit).toUtf8();
        const QByteArray from = "(" + QByteArray::number(anchorMs) + '-' + QByteArray::number(anchorSq);
        for (const QVariant &item : m_resp.command({"XRANGE", key, from, "+"}, 30000).toList()) {
            const QVariantList pair = item.toList();
            const QList<QByteArray> id = pair.value(0).toByteArray().split('-');
            Entry x{id.value(0).toULongLong(), id.value(1).toULongLong(), {}};
            for (const QVariant &v : pair.value(1).toList()) {
                const QJsonObject o = QJsonDocument::fromJson(v.toByteArray()).object();
                if (!o.value(QStringLiteral("data")).isObject())
                    continue;
                x.e.type = o.value(QStringLiteral("type")).toString();
                x.e.data = o.value(QStringLiteral("data")).toObject();
                x.e.timestamp = o.value(QStringLiteral("timestamp")).toString();
            }
            x.e.id = epoch + u'-' + QString::fromLatin1(pair.value(0).toByteArray());
            x.e.seq = x.e.data.value(QStringLiteral("seq")).toInteger(-1);
            x.e.downloadId = x.e.data.value(QStringLiteral("download_id")).toString();
            x.e.channel = bit;
            if (x.e.seq < 0 || x.e.seq >= m_publishes.size() || m_publishes.at(x.e.seq).channel != bit) {
                fail(QStringLiteral("Redis stream %1 holds an entry the test did not publish there: %2")
                         .arg(QString::fromUtf8(key), x.e.id));
                return false;
            }
            entries.append(x);
        }
    }
    std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
        return a.ms != b.ms ? a.ms < b.ms : a.sq < b.sq;
    });
    for (const Entry &x : std::as_const(entries))
        appendToLog(x.e);
    log(QStringLiteral("the log takes %1 event(s) after %2 from Redis, and goes on from a marker").arg(entries.size()).arg(m_anchor));
    if (!entries.isEmpty())
        m_anchor = entries.last().e.id;
    ++m_lossResyncs;
    return reanchor(0);
}

} // namespace Model
