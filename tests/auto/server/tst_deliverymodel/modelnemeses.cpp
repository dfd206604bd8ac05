// The nemeses of the delivery model that need no Redis: a node paused past its timeouts, and
// the embedded journal damaged between runs or out of space; and the log's snapshots, which
// every nemesis that destroys history takes first (see snapshotLog()).

#include "modelrun.h"

#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QDirIterator>
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

QString nemesisName(Nemesis kind)
{
    switch (kind) {
    case Nemesis::SigStop: return QStringLiteral("sigstop");
    case Nemesis::SegmentRemoved: return QStringLiteral("segment-removed");
    case Nemesis::SegmentTruncated: return QStringLiteral("segment-truncated");
    case Nemesis::BitFlip: return QStringLiteral("bit-flip");
    case Nemesis::DiskFull: return QStringLiteral("disk-full");
    case Nemesis::RedisRestore: return QStringLiteral("redis-restore");
    case Nemesis::StreamDeleted: return QStringLiteral("stream-deleted");
    case Nemesis::RedisOom: return QStringLiteral("redis-oom");
    case Nemesis::StreamLength: return QStringLiteral("stream-length");
    case Nemesis::Count: break;
    }
    return QString();
}

Nemesis nemesisFromName(QStringView name)
{
    for (int k = 0; k < int(Nemesis::Count); ++k) {
        if (name == nemesisName(Nemesis(k)))
            return Nemesis(k);
    }
    return Nemesis::Count;
}

NemesisRecord &ModelRun::record(Nemesis kind, const QString &detail)
{
    NemesisRecord r;
    r.kind = kind;
    r.op = m_op;
    r.fromMs = nowMs();
    r.detail = detail;
    m_nemeses.append(r);
    ++m_figures[int(kind)].runs;
    log(QStringLiteral("NEMESIS %1: %2").arg(nemesisName(kind), detail));
    return m_nemeses.last();
}

void ModelRun::nemesisStep(Nemesis kind)
{
    const int nodes = int(m_nodes.size());
    switch (kind) {
    case Nemesis::SigStop:
        sigStop(m_rng.bounded(nodes));
        break;
    case Nemesis::SegmentRemoved:
    case Nemesis::SegmentTruncated:
    case Nemesis::BitFlip:
        if (!m_config.redis)
            damageJournal(kind);
        break;
    case Nemesis::DiskFull:
        if (!m_config.redis && m_diskFull < 0 && !m_historyMount.isEmpty())
            fillDisk();
        break;
    case Nemesis::RedisRestore:
        if (m_config.redis && m_redisSnapshot.isEmpty())
            saveRedis(); // the restore itself comes later (healDue)
        break;
    case Nemesis::StreamDeleted:
        if (m_config.redis)
            deleteStream();
        break;
    case Nemesis::RedisOom:
        if (m_config.redis && m_oom < 0)
            startOom();
        break;
    case Nemesis::StreamLength:
        if (m_config.redis && !m_config.restartStreamLengths.isEmpty())
            restartWithStreamLength(m_rng.bounded(nodes));
        break;
    case Nemesis::Count:
        break;
    }
}

static void signalProcess(QProcess &process, int sig)
{
    // Never kill(0, …): a process that is gone has no id, and 0 is the whole process group.
    if (process.state() == QProcess::Running && process.processId() > 0)
        ::kill(pid_t(process.processId()), sig);
}

void ModelRun::sigStop(int i)
{
    Node &node = m_nodes[size_t(i)];
    // Longer than the heartbeat (1 s), the send timeout (2 s) and the Redis connect timeout
    // (2 s): the node wakes up to timers long overdue and a world that went on without it.
    // On Redis, shorter than the adopt retry bound: an outside event that only this node got
    // (the others down) is adopted when it wakes up; a longer pause rightly records a loss,
    // across which the log's own replay would be told resync_required.
    const int most = m_config.adoptRetryLimitSec > 0 ? qMin(7500, m_config.adoptRetryLimitSec * 1000 - 4000) : 7500;
    const int ms = 2500 + m_rng.bounded(qMax(1, most));
    if (!node.up || node.stopped)
        return;
    signalProcess(node.process->process(), SIGSTOP);
    node.stopped = true;
    node.contAtMs = nowMs() + ms;
    record(Nemesis::SigStop, QStringLiteral("SIGSTOP node %1 for %2 ms").arg(i).arg(ms)).node = i;
}

void ModelRun::continueNode(int i)
{
    Node &node = m_nodes[size_t(i)];
    if (!node.stopped)
        return;
    log(QStringLiteral("SIGCONT node %1").arg(i));
    signalProcess(node.process->process(), SIGCONT);
    node.stopped = false;
    for (NemesisRecord &r : m_nemeses) {
        if (r.kind == Nemesis::SigStop && r.node == i && r.toMs == Forever)
            r.toMs = nowMs();
    }
}

int ModelRun::servingNode() const
{
    for (int i = 0; i < int(m_nodes.size()); ++i) {
        if (m_nodes[size_t(i)].up && !m_nodes[size_t(i)].stopped)
            return i;
    }
    return -1;
}

bool ModelRun::stopNodeForGood(int i, bool clean)
{
    Node &node = m_nodes[size_t(i)];
    continueNode(i);
    if (!node.up)
        return true;
    log(QStringLiteral("%1 node %2").arg(clean ? QStringLiteral("SIGTERM") : QStringLiteral("SIGKILL")).arg(i));
    if (clean && node.process->terminate(15000) != 0)
        log(QStringLiteral("(node %1 did not exit cleanly)").arg(i));
    else if (!clean)
        node.process->kill();
    node.up = false;
    m_windows.append({i, nowMs(), Forever}); // what it held in memory is gone (checkNeverStored())
    return true;
}

QSet<QString> ModelRun::dueIds() const
{
    QSet<QString> due;
    for (const PublishRecord &rec : std::as_const(m_publishes)) {
        if (rec.ackTick >= 0 && rec.seq > 0 && m_log.positionOf(rec.ackId) < 0)
            due.insert(rec.ackId);
    }
    return due;
}

bool ModelRun::snapshotLog(const QString &why)
{
    // A nemesis is about to destroy history the log is built from: take what the deployment
    // holds now, with nothing in flight (a publish answered later could land after it).
    log(QStringLiteral("snapshot of the log before %1").arg(why));
    if (!waitUntil([this] { return m_inFlight == 0; }, 25000)) {
        fail(QStringLiteral("%1 publish request(s) unanswered for 25 s before %2").arg(m_inFlight).arg(why));
        return false;
    }
    // Paused nodes go on, and if every node is down one comes back: the snapshot needs one.
    for (int k = 0; k < int(m_nodes.size()) && servingNode() < 0; ++k)
        continueNode(k);
    for (int k = 0; k < int(m_nodes.size()) && servingNode() < 0; ++k) {
        if (!m_nodes[size_t(k)].up && !(m_diskFull >= 0 && k == 0))
            restartNode(k);
    }
    const int i = servingNode();
    if (i < 0) {
        fail(QStringLiteral("no node up to take a snapshot of the log before %1").arg(why));
        return false;
    }
    QList<LogEntry> piece;
    QString resync;
    // Short: an event that comes later has a later id, and the next piece takes it.
    // Outside events are acknowledged by Redis, not by a node: one PUBLISHed since the last
    // snapshot may not be adopted yet, and if it lands after the nemesis (a stream DEL) and
    // before the marker it would be in no piece of the log. The replay waits for those too.
    QSet<QString> due = dueIds();
    for (const PublishRecord &rec : std::as_const(m_publishes)) {
        if (rec.node < 0 && rec.status > 0 && rec.seq >= m_snapshotSeq && m_log.positionOfSeq(rec.seq) < 0)
            due.insert(outsideDue(rec.seq));
    }
    if (!replayFrom(m_world.nodePorts.at(i), QStringLiteral("node %1").arg(i), m_anchor, due, &piece, &resync, 300))
        return false;
    m_snapshotSeq = m_world.nextSeq;
    if (!resync.isEmpty()) {
        const QString loss = lossExplaining(resync);
        if (!loss.isEmpty()) {
            log(QStringLiteral("before %1: the replay from %2 got resync_required %3, explained: %4")
                    .arg(why, m_anchor, resync, loss));
            return logAcrossLoss(loss);
        }
        fail(QStringLiteral("before %1: a replay on node %2 from %3, the newest event of the log so far "
                            "(its history holds everything after it), got resync_required: %4")
                 .arg(why).arg(i).arg(m_anchor, resync));
        return false;
    }
    for (const LogEntry &e : std::as_const(piece))
        appendToLog(e);
    if (!piece.isEmpty())
        m_anchor = piece.last().id;
    return true;
}

QString ModelRun::connectedId(quint16 port)
{
    SseClient sse;
    sse.open(port, "/api/v1/events/stream?style=envelope", {{"Authorization", "Bearer model-key"}});
    waitUntil([&sse] { return !sse.nonHeartbeatEvents().isEmpty() || sse.isClosed(); }, 5000);
    const QList<Hermes::SseParser::Event> events = sse.nonHeartbeatEvents();
    sse.close();
    return sse.status() == 200 && !events.isEmpty() ? events.first().lastEventId : QString();
}

bool ModelRun::reanchor(quint8 avoid)
{
    // History was destroyed: the log goes on from where a fresh stream starts once every node
    // is back on Redis and they agree on the timeline (nothing is published meanwhile).
    QStringList seen;
    const bool settled = waitUntil([&] {
        seen.clear();
        QSet<QString> epochs;
        for (int i = 0; i < int(m_nodes.size()); ++i) {
            const Node &node = m_nodes[size_t(i)];
            if (!node.up || node.stopped)
                continue;
            if (httpRequest(m_world.nodePorts.at(i), "GET", "/readyz", {}, {}, 2000).status != 200) {
                seen << QStringLiteral("node %1 not ready").arg(i);
                return false;
            }
            const QString at = connectedId(m_world.nodePorts.at(i));
            seen << QStringLiteral("node %1 at %2").arg(i).arg(at);
            if (at.isEmpty())
                return false;
            epochs.insert(at.section(u'-', 0, 0));
        }
        return epochs.size() == 1;
    }, 30000, 500);
    if (!settled) {
        fail(QStringLiteral("the nodes did not agree on a timeline within 30 s: %1").arg(seen.join(QStringLiteral(", "))));
        return false;
    }
    log(QStringLiteral("the nodes agree (%1)").arg(seen.join(QStringLiteral(", "))));
    // The position a fresh stream starts at may be the id of a destroyed event, which no node
    // can place any more: the log goes on from a marker event published now, on a channel the
    // nemesis left alone, taken with its envelope from a stream opened before it.
    const int i = servingNode();
    quint8 channel = System;
    for (quint8 bit : {System, Downloads, Queue}) {
        if (!(avoid & bit)) {
            channel = bit;
            break;
        }
    }
    SseClient sse;
    sse.open(m_world.nodePorts.at(i), "/api/v1/events/stream?style=envelope", {{"Authorization", "Bearer model-key"}});
    waitUntil([&sse] { return !sse.nonHeartbeatEvents().isEmpty() || sse.isClosed(); }, 5000);
    PublishRecord rec;
    rec.seq = m_world.nextSeq++;
    rec.channel = channel;
    rec.type = typesOf(channel).first();
    rec.data = {{QStringLiteral("seq"), rec.seq}, {QStringLiteral("marker"), true}};
    rec.node = i;
    rec.issueTick = ++m_tick;
    rec.atMs = nowMs();
    const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("channel"), channelName(channel)},
                                                      {QStringLiteral("type"), rec.type},
                                                      {QStringLiteral("data"), rec.data}})
                                .toJson(QJsonDocument::Compact);
    const HttpReply reply = httpRequest(m_world.nodePorts.at(i), "POST", "/api/v1/events/publish",
                                        {{"Authorization", "Bearer model-key"}, {"Content-Type", "application/json"}},
                                        body, 10000);
    rec.status = reply.status;
    if (reply.status == 202) {
        rec.ackId = QJsonDocument::fromJson(reply.body).object().value(QStringLiteral("id")).toString();
        rec.ackTick = ++m_tick;
        ++m_acked;
    }
    m_publishes.append(rec);
    ++m_apiPublishes;
    const auto arrived = [&] {
        for (const Hermes::SseParser::Event &e : sse.nonHeartbeatEvents()) {
            if (!rec.ackId.isEmpty() && e.lastEventId == rec.ackId)
                return true;
        }
        return false;
    };
    if (reply.status != 202 || !waitUntil(arrived, 10000)) {
        fail(QStringLiteral("the marker publish after the nemesis got HTTP %1 and %2 on a stream of node %3")
                 .arg(reply.status).arg(arrived() ? QStringLiteral("arrived") : QStringLiteral("never arrived")).arg(i));
        return false;
    }
    for (const Hermes::SseParser::Event &e : sse.nonHeartbeatEvents()) {
        if (e.lastEventId != rec.ackId)
            continue;
        const QJsonObject envelope = QJsonDocument::fromJson(e.data.toUtf8()).object();
        LogEntry entry;
        entry.id = rec.ackId;
        entry.channel = channel;
        entry.type = envelope.value(QStringLiteral("type")).toString();
        entry.data = envelope.value(QStringLiteral("data")).toObject();
        entry.timestamp = envelope.value(QStringLiteral("timestamp")).toString();
        entry.seq = rec.seq;
        m_log.append(entry);
    }
    sse.close();
    log(QStringLiteral("the log goes on from the marker seq %1, %2").arg(rec.seq).arg(rec.ackId));
    m_anchor = rec.ackId;
    return true;
}

namespace {

/// A journal segment as the test reads it (the format of server/broker/eventjournal.cpp):
/// records of a little-endian length, a CRC and a payload; a header `H<epoch>\n<prev>`, then
/// events `E<ms>-<seq>\n<envelope>`.
struct SegmentFile
{
    QString path;
    QByteArray bytes;
    QByteArray epoch;
    QStringList ids;          ///< the events' ids, `<epoch>-<ms>-<seq>`
    QList<qsizetype> ends;    ///< where each record ends (the header's first)
    QList<qsizetype> starts;  ///< where each event record's payload starts
};

quint32 readU32(const char *p)
{
    return quint32(quint8(p[0])) | quint32(quint8(p[1])) << 8 | quint32(quint8(p[2])) << 16
        | quint32(quint8(p[3])) << 24;
}

SegmentFile readSegment(const QString &path)
{
    SegmentFile s;
    s.path = path;
    QFile f(path);
    if (f.open(QIODevice::ReadOnly))
        s.bytes = f.readAll();
    qsizetype pos = 0;
    while (s.bytes.size() - pos >= 8) {
        const quint32 length = readU32(s.bytes.constData() + pos);
        if (qsizetype(length) > s.bytes.size() - pos - 8)
            break;
        const QByteArray payload = s.bytes.mid(pos + 8, length);
        const qsizetype newline = payload.indexOf('\n');
        if (payload.startsWith('H') && newline > 0) {
            s.epoch = payload.mid(1, newline - 1);
        } else if (payload.startsWith('E') && newline > 0) {
            s.ids << QString::fromLatin1(s.epoch + '-' + payload.mid(1, newline - 1));
            s.starts << pos + 8;
        }
        pos += 8 + qsizetype(length);
        s.ends << pos;
    }
    return s;
}

QList<int> segmentNumbers(const QString &dir)
{
    QList<int> numbers;
    for (const QString &name : QDir(dir).entryList({QStringLiteral("*.log")}, QDir::Files)) {
        bool ok = false;
        const int n = name.chopped(4).toInt(&ok);
        if (ok && n > 0)
            numbers << n;
    }
    std::sort(numbers.begin(), numbers.end());
    return numbers;
}

QString shortChannelName(quint8 bit)
{
    return bit == Downloads ? QStringLiteral("downloads") : bit == Queue ? QStringLiteral("queue")
                                                                         : QStringLiteral("system");
}

} // namespace

void ModelRun::damageJournal(Nemesis kind)
{
    Node &node = m_nodes[0];
    if (m_diskFull >= 0)
        freeDisk();
    continueNode(0);
    if (!node.up && !restartNode(0))
        return;
    if (!snapshotLog(nemesisName(kind)))
        return;
    stopNodeForGood(0, m_rng.bounded(2) == 0);
    // Never the newest segment of a channel: damage at its very end is a torn write (dropped,
    // as it should be), which no reader could tell from a crash.
    const QString history = node.process->dataDir() + QStringLiteral("/history");
    QList<QString> candidates;
    for (quint8 bit : {Downloads, Queue, System}) {
        const QString dir = history + u'/' + shortChannelName(bit);
        const QList<int> numbers = segmentNumbers(dir);
        const int first = kind == Nemesis::SegmentRemoved ? 1 : 0; // a *middle* one
        for (qsizetype k = first; k + 1 < numbers.size(); ++k)
            candidates << dir + QStringLiteral("/%1.log").arg(numbers[k], 8, 10, QLatin1Char('0'));
    }
    const int pick = candidates.isEmpty() ? -1 : m_rng.bounded(int(candidates.size()));
    const quint32 draw = m_rng.generate();
    if (pick < 0) {
        log(QStringLiteral("(%1: no segment to damage yet)").arg(nemesisName(kind)));
        restartNode(0);
        return;
    }
    const SegmentFile segment = readSegment(candidates.at(pick));
    QByteArray damaged;
    QString how;
    // The events a reader can no longer vouch for: the damaged file's (it is moved aside), or
    // what a cut took.
    QStringList destroyed = segment.ids;
    const bool remove = kind == Nemesis::SegmentRemoved || segment.ids.isEmpty();
    if (remove) {
        QFile::remove(segment.path);
        how = QStringLiteral("removed");
    } else if (kind == Nemesis::SegmentTruncated) {
        // Cut at a record boundary: after the header and k of its events, k < all of them.
        const int keep = int(draw % quint32(segment.ids.size()));
        damaged = segment.bytes.left(segment.ends.at(keep));
        destroyed = segment.ids.mid(keep);
        how = QStringLiteral("cut after %1 of its %2 events").arg(keep).arg(segment.ids.size());
    } else {
        const int r = int(draw % quint32(segment.ids.size()));
        const qsizetype payloadEnd = segment.ends.at(r + 1);
        const qsizetype at = segment.starts.at(r) + qsizetype((draw >> 8) % quint32(payloadEnd - segment.starts.at(r)));
        damaged = segment.bytes;
        damaged[at] = char(damaged[at] ^ char(1 << (draw >> 28 & 7)));
        // The whole file: its records after the flipped one are whole, but the file is what
        // is moved aside (its chain broken), so a resume inside it may resync.
        how = QStringLiteral("a bit flipped at offset %1 (event %2 of %3)").arg(at).arg(r + 1).arg(segment.ids.size());
    }
    if (!remove) {
        QFile f(segment.path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(damaged) != damaged.size())
            fail(QStringLiteral("cannot damage %1").arg(segment.path));
    }
    NemesisRecord &r = record(kind, QStringLiteral("%1 (%2 events) %3")
                                        .arg(QDir(history).relativeFilePath(segment.path)).arg(segment.ids.size()).arg(how));
    const qsizetype at = m_nemeses.size() - 1;
    for (const QString &id : std::as_const(destroyed)) {
        const int p = m_log.positionOf(id);
        if (p >= 0) {
            r.lostSeqs.insert(m_log.entries().at(p).seq);
            r.channels |= m_log.entries().at(p).channel;
        }
    }
    m_figures[int(kind)].destroyed += r.lostSeqs.size();
    restartNode(0);
    m_nemeses[at].toMs = nowMs();
    probeAround(m_nemeses.at(at));
    if (damaged.isEmpty())
        return;
    // Damage is moved aside, never deleted: its bytes must still be somewhere in the data dir.
    QDirIterator it(node.process->dataDir(), QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        if (QFileInfo(path).size() != damaged.size())
            continue;
        QFile f(path);
        if (f.open(QIODevice::ReadOnly) && f.readAll() == damaged)
            return;
    }
    fail(QStringLiteral("the damaged %1 (%2) is nowhere in the data dir after the restart: deleted, "
                        "not moved aside").arg(QDir(history).relativeFilePath(segment.path), how));
}

void ModelRun::openProbe(const QString &fromId, const QString &why)
{
    // A client that resumes from a chosen point of the log: across what a nemesis destroyed
    // (it must hear resync_required), or just after it (it must get everything). Unfiltered,
    // so the checker holds it to every channel.
    const int index = int(m_clients.size());
    ClientSpec spec;
    spec.style = ClientSpec::Style::Envelope;
    auto client = std::make_unique<ModelClient>(index, spec, &m_world, m_rng.generate64());
    log(QStringLiteral("probe client %1 resumes from %2 (%3)").arg(index).arg(fromId, why));
    // It has made its point once it is past the destroyed events: it leaves, so a soak does not
    // pile up hundreds of them.
    m_probes.append({index, m_op + 40});
    client->resumeFrom(fromId);
    client->connectNow();
    m_clients.push_back(std::move(client));
    m_offlineUntilOp << -1;
}

void ModelRun::probeAround(const NemesisRecord &r)
{
    int first = INT_MAX, last = -1;
    for (const qint64 seq : r.lostSeqs) {
        const int p = m_log.positionOfSeq(seq);
        if (p >= 0) {
            first = qMin(first, p);
            last = qMax(last, p);
        }
    }
    if (last < 0)
        return;
    if (first > 0)
        openProbe(m_log.entries().at(first - 1).id, QStringLiteral("just before what %1 destroyed").arg(nemesisName(r.kind)));
    if (last + 1 < m_log.size())
        openProbe(m_log.entries().at(last + 1).id, QStringLiteral("just after what %1 destroyed").arg(nemesisName(r.kind)));
}

void ModelRun::fillDisk()
{
    if (!m_nodes[0].up)
        return;
    // Everything the file system has left, to the last page the kernel gives.
    QFile filler(m_historyMount + QStringLiteral("/.gray-filler"));
    if (!filler.open(QIODevice::WriteOnly | QIODevice::Unbuffered)) {
        log(QStringLiteral("(disk-full: cannot create the filler)"));
        return;
    }
    qint64 written = 0;
    for (const qint64 chunk : {qint64(1) << 20, qint64(4096), qint64(1)}) {
        const QByteArray bytes(chunk, 'x');
        for (int i = 0; i < 200000; ++i) {
            const qint64 n = filler.write(bytes);
            if (n <= 0)
                break;
            written += n;
        }
    }
    filler.close();
    m_diskFull = int(m_nemeses.size());
    m_diskFreeAtOp = m_op + 5 + m_rng.bounded(30);
    record(Nemesis::DiskFull, QStringLiteral("the journal's tmpfs filled (%1 bytes), freed at #%2")
                                  .arg(written).arg(m_diskFreeAtOp)).node = 0;
}

void ModelRun::freeDisk()
{
    QFile::remove(m_historyMount + QStringLiteral("/.gray-filler"));
    log(QStringLiteral("disk-full: space freed, clean restart of node 0"));
    m_nemeses[m_diskFull].toMs = nowMs();
    m_diskFull = -1;
    stopNodeForGood(0, true);
    restartNode(0);
}

void ModelRun::finishNemeses()
{
    for (NemesisRecord &r : m_nemeses) {
        if (r.toMs == Forever)
            r.toMs = nowMs();
        for (const qint64 seq : std::as_const(r.lostSeqs))
            r.lastLost = qMax(r.lastLost, m_log.positionOfSeq(seq));
        for (const PublishRecord &p : std::as_const(m_publishes)) {
            if (p.node >= 0 && p.status == 503 && p.atMs >= r.fromMs && p.atMs <= r.toMs)
                ++m_figures[int(r.kind)].refused;
            if (p.atMs >= r.fromMs && p.atMs <= r.toMs && m_log.positionOfSeq(p.seq) >= 0)
                ++m_figures[int(r.kind)].events;
        }
    }
    checkNeverStored();
}

} // namespace Model
