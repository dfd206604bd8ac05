#include "broker/redisbroker.h"

#include "logging.h"

#include <hiredis/hiredis.h>

#include <QCryptographicHash>
#include <QJsonDocument>

#include <algorithm>

namespace Hermes {

// Gives the next id of the one sequence: above the last one issued, from Redis' clock (so it
// resembles `<ms>-<seq>` of XADD `*`), in the database's epoch (created when missing). With no
// sequence yet (a first start, or an upgrade) it starts above every stream's newest entry.
static const QByteArray AssignLua = R"lua(
local function assign(seqKey, epochKey, candidate, s1, s2, s3)
  local epoch = redis.call('GET', epochKey)
  if not epoch then
    epoch = candidate
    redis.call('SET', epochKey, epoch)
  end
  local lms, lseq = 0, -1
  local last = redis.call('GET', seqKey)
  if last then
    local a, b = string.match(last, '^(%d+)-(%d+)$')
    lms, lseq = tonumber(a), tonumber(b)
  else
    for _, k in ipairs({s1, s2, s3}) do
      local top = redis.call('XREVRANGE', k, '+', '-', 'COUNT', 1)
      if top[1] then
        local a, b = string.match(top[1][1], '^(%d+)-(%d+)$')
        a, b = tonumber(a), tonumber(b)
        if a > lms or (a == lms and b > lseq) then lms, lseq = a, b end
      end
    end
  end
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local ms, seq = now, 0
  if now <= lms then ms, seq = lms, lseq + 1 end
  local id = string.format('%d-%d', ms, seq)
  redis.call('SET', seqKey, id)
  return epoch, id
end

-- Adds the entry and keeps the stream near maxlen. The trimming is exact (XTRIM MINID, in
-- steps of an eighth), and the newest id it removed is kept in trimmedKey, so a node knows
-- precisely which ids are gone (XADD MAXLEN ~ would not say).
local function append(key, trimmedKey, id, payload, maxlen)
  redis.call('XADD', key, id, 'e', payload)
  maxlen = tonumber(maxlen)
  local len = redis.call('XLEN', key)
  if len > maxlen + math.max(64, math.floor(maxlen / 8)) then
    local gone = redis.call('XRANGE', key, '-', '+', 'COUNT', len - maxlen + 1)
    redis.call('SET', trimmedKey, gone[#gone - 1][1])
    redis.call('XTRIM', key, 'MINID', gone[#gone][1])
  end
end
)lua";

// KEYS: stream, seq, epoch, the stream's trimmed key, the three streams. ARGV: maxlen,
// envelope, channel, candidate epoch, internal channel. The public copy keeps the Python
// Hermes' subscribers informed.
static const QByteArray PublishScript = AssignLua + R"lua(
local epoch, id = assign(KEYS[2], KEYS[3], ARGV[4], KEYS[5], KEYS[6], KEYS[7])
append(KEYS[1], KEYS[4], id, ARGV[2], ARGV[1])
local full = epoch .. '-' .. id
redis.call('PUBLISH', ARGV[5], full .. '\n' .. ARGV[3] .. '\n' .. ARGV[2])
redis.call('PUBLISH', ARGV[3], string.sub(ARGV[2], 1, -2) .. ',"id":"' .. full .. '"}')
return full
)lua";

// An outside publisher's message reaches every node; the first to run this gives it an id
// and forwards it, the others find the adoption key. KEYS: stream, seq, epoch, the stream's
// trimmed key, adoption key, the three streams. ARGV: maxlen, envelope, channel, candidate
// epoch, internal channel, window (ms).
static const QByteArray AdoptScript = AssignLua + R"lua(
local done = redis.call('GET', KEYS[5])
if done then return done end
local epoch, id = assign(KEYS[2], KEYS[3], ARGV[4], KEYS[6], KEYS[7], KEYS[8])
append(KEYS[1], KEYS[4], id, ARGV[2], ARGV[1])
local full = epoch .. '-' .. id
redis.call('SET', KEYS[5], full, 'PX', ARGV[6])
redis.call('PUBLISH', ARGV[5], full .. '\n' .. ARGV[3] .. '\n' .. ARGV[2])
return full
)lua";

// The epoch and, per stream, its newest entries (tail) or the entries after an id (after),
// with the newest id trimming removed from it ('' when none was). KEYS: epoch, the three
// streams, their three trimmed keys, seq. ARGV: candidate epoch, count, mode, after, the
// caller's epoch.
//
// A database that went back in time within its epoch (restored from an older snapshot: RDB
// persistence after a crash, a replica promoted, a backup) has a sequence below what the
// caller already delivered: the events after it are gone for good, yet nothing else would
// tell. The epoch is then replaced (the sequence kept above the caller's), so every node
// resets its history and its clients resync.
static const QByteArray LoadScript = R"lua(
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
end
if ARGV[3] == 'after' and epoch == ARGV[5] then
  local ams, aseq = string.match(ARGV[4], '^(%d+)-(%d+)$')
  ams, aseq = tonumber(ams), tonumber(aseq)
  local sms, sseq = -1, -1
  local seq = redis.call('GET', KEYS[8])
  if seq then
    local a, b = string.match(seq, '^(%d+)-(%d+)$')
    sms, sseq = tonumber(a), tonumber(b)
  end
  if sms < ams or (sms == ams and sseq < aseq) then
    epoch = ARGV[1]
    redis.call('SET', KEYS[1], epoch)
    redis.call('SET', KEYS[8], ARGV[4])
  end
end
local out = {epoch}
local deleted = {}
for i = 2, 4 do
  if ARGV[3] == 'tail' then
    out[#out + 1] = redis.call('XREVRANGE', KEYS[i], '+', '-', 'COUNT', ARGV[2])
  else
    out[#out + 1] = redis.call('XRANGE', KEYS[i], '(' .. ARGV[4], '+', 'COUNT', ARGV[2])
  end
  deleted[#deleted + 1] = redis.call('GET', KEYS[i + 3]) or ''
end
out[#out + 1] = deleted
return out
)lua";

// Scripts go as EVAL with their text, every time. EVALSHA would save the bytes, but a Redis
// that forgot a script (restarted, SCRIPT FLUSH) answers NOSCRIPT, and re-sending that one
// command lets commands sent after it overtake it: the order of adoptions is the order of
// events. Redis compiles each script once (it caches them by their SHA-1 either way).
void RedisBroker::evalScript(const QByteArray &script, const QList<QByteArray> &args,
                             RedisConnection::Callback done)
{
    m_commands.command(QList<QByteArray>{"EVAL", script} + args, std::move(done));
}

struct RedisBroker::Loaded
{
    quint32 epoch = 0;
    QList<Event> events;                 ///< in id order
    EventId trimmed[Channel::Count];     ///< per channel: the newest id trimming removed
    int counts[Channel::Count] = {};
};

RedisBroker::RedisBroker(Options options, QObject *parent)
    : Broker(parent), m_options(std::move(options))
{
    m_eventsChannel = key("events");
    // nchan's defaults: 500 ms doubling with jitter, at most 10 s between attempts.
    m_backoff.setBaseMs(500);
    m_backoff.setCapMs(10000);
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &RedisBroker::connectAll);
    for (RedisConnection *c : {&m_commands, &m_subscriber}) {
        connect(c, &RedisConnection::ready, this, &RedisBroker::onConnectionReady);
        connect(c, &RedisConnection::disconnected, this, &RedisBroker::onConnectionLost);
    }
}

Result<void> RedisBroker::start()
{
    qCInfo(lcBroker).noquote() << "connecting to" << m_options.address.display();
    connectAll();
    return {};
}

QByteArray RedisBroker::key(const char *name) const
{
    return m_options.keyPrefix.toUtf8() + name;
}

QByteArray RedisBroker::streamKey(Channel channel) const
{
    return (m_options.keyPrefix + QStringLiteral("stream:") + channel.name()).toUtf8();
}

QList<QByteArray> RedisBroker::sequenceKeys() const
{
    QList<QByteArray> keys{key("seq"), key("epoch")};
    for (Channel c : Channel::all())
        keys.append(streamKey(c));
    return keys;
}

QByteArray RedisBroker::trimmedKey(Channel channel) const
{
    return (m_options.keyPrefix + QStringLiteral("trimmed:") + channel.name()).toUtf8();
}

void RedisBroker::connectAll()
{
    m_subscriptionsConfirmed = 0;
    m_commands.open(m_options.address, m_options.connectTimeoutMs);
    m_subscriber.open(m_options.address, m_options.connectTimeoutMs);
}

void RedisBroker::onConnectionReady()
{
    if (!m_commands.isReady() || !m_subscriber.isReady())
        return;
    QList<QByteArray> channels{m_eventsChannel};
    for (Channel c : Channel::all())
        channels.append(c.nameBytes());
    m_filling = true; // live events wait until the streams have been read
    m_subscriber.subscribe(channels, [this](redisReply *reply) { onMessage(reply); });
}

void RedisBroker::onConnectionLost(const QString &reason)
{
    if (m_reconnectTimer.isActive())
        return; // the other connection already reported it
    if (m_up || m_attempt == 0)
        qCWarning(lcBroker).noquote() << "Redis connection lost:" << reason;
    setUp(false);
    m_commands.close();
    m_subscriber.close();
    m_incoming.clear(); // whatever reached a stream comes back with the gap fill
    ++m_attempt;
    ++m_reconnects;
    const int delay = m_backoff.delayMs(m_attempt);
    qCInfo(lcBroker) << "reconnecting to Redis in" << delay << "ms (attempt" << m_attempt << ")";
    m_reconnectTimer.start(delay);
}

// From inside a hiredis callback the connections must not be freed: queued.
void RedisBroker::loseConnection(const QString &reason)
{
    QMetaObject::invokeMethod(this, [this, reason] { onConnectionLost(reason); },
                              Qt::QueuedConnection);
}

void RedisBroker::setUp(bool up)
{
    if (up == m_up)
        return;
    m_up = up;
    if (up)
        qCInfo(lcBroker).noquote() << "Redis is up at" << m_options.address.display();
    Q_EMIT statusChanged(up);
}

void RedisBroker::discard(const QString &channel, const QString &why)
{
    Q_EMIT eventDiscarded();
    ++m_discardsSinceLog;
    if (m_lastDiscardLog.isValid() && m_lastDiscardLog.elapsed() < 10000)
        return;
    qCWarning(lcBroker).noquote() << "dropped" << m_discardsSinceLog << "invalid message(s) on"
                                  << channel << "- last:" << why;
    m_discardsSinceLog = 0;
    m_lastDiscardLog.start();
}

// What a node publishes on a public channel for the Python Hermes' subscribers: the envelope
// with `"id":"<epoch>-<ms>-<seq>"` appended. The nodes deliver the copy on the internal
// channel instead.
static bool relayedByHermes(const QByteArray &payload)
{
    if (!payload.endsWith("\"}"))
        return false;
    const qsizetype at = payload.lastIndexOf(",\"id\":\"");
    const qsizetype start = at + 7;
    if (at < 0 || start > payload.size() - 2)
        return false;
    const auto id = EventId::parse(QByteArrayView(payload).sliced(start, payload.size() - 2 - start));
    return id && id->epoch() != 0;
}

void RedisBroker::onMessage(redisReply *reply)
{
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3)
        return;
    const QByteArray kind = RedisReply::string(reply->element[0]);
    if (kind == "subscribe") {
        if (++m_subscriptionsConfirmed == Channel::Count + 1)
            load(m_historyLoaded ? Load::After : Load::Tail);
        return;
    }
    if (kind != "message")
        return;
    const QByteArray channel = RedisReply::string(reply->element[1]);
    const QByteArray payload = RedisReply::string(reply->element[2]);
    if (channel == m_eventsChannel) {
        onEventMessage(payload);
        return;
    }
    if (relayedByHermes(payload))
        return;
    if (const auto known = Channel::fromName(QString::fromUtf8(channel)))
        adopt(*known, payload);
}

// `<epoch>-<ms>-<seq>\n<channel>\n<envelope>`, as the scripts publish it.
void RedisBroker::onEventMessage(const QByteArray &payload)
{
    const qsizetype first = payload.indexOf('\n');
    const qsizetype second = first < 0 ? -1 : payload.indexOf('\n', first + 1);
    if (second < 0) {
        discard(QString::fromUtf8(m_eventsChannel), QStringLiteral("not an event message"));
        return;
    }
    Event event;
    QString error;
    const auto id = EventId::parse(QByteArrayView(payload).first(first));
    const auto channel = Channel::fromName(QString::fromUtf8(payload.sliced(first + 1, second - first - 1)));
    if (!id || id->epoch() == 0 || !channel
        || !Event::fromEnvelope(*channel, payload.sliced(second + 1), &event, &error)) {
        discard(QString::fromUtf8(m_eventsChannel), error.isEmpty() ? QStringLiteral("bad id or channel") : error);
        return;
    }
    event.id = *id;
    if (m_incoming.size() >= MaxHeldEvents) {
        // Held behind a fill that takes too long: let go of them; the gap fill after the
        // reconnect reads them back from the streams.
        loseConnection(QStringLiteral("too many events waiting behind the history"));
        return;
    }
    m_incoming.push_back(std::move(event));
    drain();
}

void RedisBroker::adopt(Channel channel, const QByteArray &payload)
{
    Event event;
    QString error;
    if (!Event::fromEnvelope(channel, payload, &event, &error)) {
        discard(channel.name(), error);
        return;
    }
    // Every node that adopts it offers the same normalised envelope but a timestamp of its
    // own for a bare payload; the first one's is kept and forwarded, so all deliver one text.
    const QByteArray adoptKey = key("adopt:")
        + QCryptographicHash::hash(channel.nameBytes() + '\n' + payload,
                                   QCryptographicHash::Sha1).toHex();
    const QList<QByteArray> keys = sequenceKeys();
    evalScript(AdoptScript, {"8", streamKey(channel), keys[0], keys[1],
                        trimmedKey(channel), adoptKey, keys[2], keys[3], keys[4],
                        QByteArray::number(m_options.streamLength),
                        event.envelopeJson(), channel.nameBytes(),
                        EventId::epochText(EventId::randomEpoch()), m_eventsChannel,
                        QByteArray::number(qint64(m_options.adoptWindowSec) * 1000)},
                       [channel](redisReply *r) {
        if (RedisReply::isError(r))
            qCWarning(lcBroker).noquote() << "could not adopt a message on" << channel.name() << ":"
                                          << (r ? RedisReply::string(r) : QByteArray("connection lost"));
    });
}

void RedisBroker::drain()
{
    while (!m_filling && !m_incoming.empty()) {
        const Event event = std::move(m_incoming.front());
        m_incoming.pop_front();
        if (event.id.epoch() != m_epoch) {
            // The database was flushed or replaced while we were connected: read the new
            // history before anything else is delivered.
            m_incoming.push_front(event);
            m_filling = true;
            load(Load::Tail);
            return;
        }
        deliver(event);
    }
}

void RedisBroker::deliver(const Event &event)
{
    if (event.id <= m_lastDelivered)
        return; // already handed on (the gap fill and a live message overlap)
    m_lastDelivered = event.id;
    Q_EMIT eventReceived(event);
}

static EventId entryPosition(const redisReply *entry, quint32 epoch)
{
    return EventId::fromPosition(RedisReply::string(entry->element[0]), epoch).value_or(EventId());
}

void RedisBroker::load(Load mode)
{
    const QList<QByteArray> keys = sequenceKeys();
    const QByteArray after = m_lastDelivered.isNull() ? QByteArray("0-0") : m_lastDelivered.position();
    // Streams are capped near streamLength, so twice that reads whatever is left of a gap.
    const QByteArray count = QByteArray::number(
        mode == Load::Tail ? m_options.streamLength : 2 * m_options.streamLength + 1000);
    evalScript(LoadScript, {"8", keys[1], keys[2], keys[3], keys[4],
                        trimmedKey(Channel::Downloads), trimmedKey(Channel::Queue),
                        trimmedKey(Channel::System), keys[0],
                        EventId::epochText(EventId::randomEpoch()), count,
                        mode == Load::Tail ? QByteArray("tail") : QByteArray("after"), after,
                        EventId::epochText(m_epoch)},
                       [this, mode](redisReply *reply) {
        if (!reply)
            return; // the connection was lost: that starts over
        if (RedisReply::isError(reply) || reply->type != REDIS_REPLY_ARRAY || reply->elements != 5) {
            // Not a passing state to wait out (live events would pile up behind the fill):
            // start over, with backoff.
            loseConnection(QStringLiteral("cannot read the streams: %1")
                               .arg(QString::fromUtf8(RedisReply::string(reply))));
            return;
        }
        Loaded loaded;
        loaded.epoch = EventId::parseEpoch(RedisReply::string(reply->element[0]));
        const redisReply *deleted = reply->element[4];
        for (Channel channel : Channel::all()) {
            const int c = channel.index();
            const redisReply *entries = reply->element[1 + c];
            for (size_t i = 0; entries->type == REDIS_REPLY_ARRAY && i < entries->elements; ++i) {
                const redisReply *entry = entries->element[i];
                if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2)
                    continue;
                const redisReply *fields = entry->element[1];
                for (size_t f = 0; f + 1 < fields->elements; f += 2) {
                    if (RedisReply::string(fields->element[f]) != "e")
                        continue;
                    Event event;
                    QString error;
                    if (Event::fromEnvelope(channel, RedisReply::string(fields->element[f + 1]),
                                            &event, &error)) {
                        event.id = entryPosition(entry, loaded.epoch);
                        loaded.events.append(event);
                        ++loaded.counts[c];
                    }
                }
            }
            const QByteArray trimmed = deleted->type == REDIS_REPLY_ARRAY && size_t(c) < deleted->elements
                ? RedisReply::string(deleted->element[c]) : QByteArray();
            if (const auto id = EventId::fromPosition(trimmed, loaded.epoch))
                loaded.trimmed[c] = *id;
        }
        std::sort(loaded.events.begin(), loaded.events.end(),
                  [](const Event &a, const Event &b) { return a.id < b.id; });
        onLoaded(mode, loaded);
    });
}

void RedisBroker::onLoaded(Load mode, const Loaded &loaded)
{
    if (loaded.epoch == 0) {
        loseConnection(QStringLiteral("%1 holds no valid epoch").arg(QString::fromUtf8(key("epoch"))));
        return;
    }
    if (mode == Load::After) {
        bool hole = loaded.epoch != m_epoch;
        for (int c = 0; c < Channel::Count && !hole; ++c)
            hole = loaded.trimmed[c].withEpoch(m_epoch) > m_lastDelivered;
        if (hole) {
            qCWarning(lcBroker) << (loaded.epoch != m_epoch
                                        ? "the Redis database was flushed or replaced"
                                        : "the streams were trimmed past what this node delivered")
                                << "- reloading the history; streams will resync";
            load(Load::Tail);
            return;
        }
        if (!loaded.events.isEmpty())
            qCInfo(lcBroker) << "filled the gap with" << loaded.events.size() << "event(s)";
        for (const Event &e : loaded.events)
            deliver(e);
    } else {
        ChannelFloors floors;
        for (int c = 0; c < Channel::Count; ++c) {
            EventId floor = loaded.trimmed[c];
            if (loaded.counts[c] >= m_options.streamLength) {
                // Read to the count: older entries may be there, but not in this history.
                for (const Event &e : loaded.events) {
                    if (e.channel.index() == c) {
                        floor = std::max(floor, e.id.previous());
                        break;
                    }
                }
            }
            floors[size_t(c)] = floor;
        }
        m_epoch = loaded.epoch;
        m_lastDelivered = loaded.events.isEmpty() ? EventId(0, 0, m_epoch) : loaded.events.last().id;
        for (const EventId &t : loaded.trimmed)
            m_lastDelivered = std::max(m_lastDelivered, t);
        m_historyLoaded = true;
        Q_EMIT historyLoaded(m_epoch, loaded.events, floors);
        // Live events of an epoch that is gone by now were never kept: drop them.
        std::erase_if(m_incoming, [this](const Event &e) { return e.id.epoch() != m_epoch; });
    }
    m_filling = false;
    m_attempt = 0;
    setUp(true);
    drain();
}

void RedisBroker::publish(const Event &event, PublishCallback done)
{
    if (!m_up) {
        if (done)
            done(Error::unavailable("broker_unavailable", QStringLiteral("the Redis broker is down")));
        return;
    }
    const QList<QByteArray> keys = sequenceKeys();
    evalScript(PublishScript, {"7", streamKey(event.channel), keys[0], keys[1],
                        trimmedKey(event.channel), keys[2], keys[3], keys[4],
                        QByteArray::number(m_options.streamLength),
                        event.envelopeJson(), event.channel.nameBytes(),
                        EventId::epochText(EventId::randomEpoch()), m_eventsChannel},
                       [done](redisReply *reply) {
        const auto id = EventId::parse(RedisReply::string(reply));
        if (RedisReply::isError(reply) || !id) {
            // The driver's words stay in the log; the client gets a plain reason.
            qCWarning(lcBroker).noquote() << "publish failed:"
                                          << (reply ? RedisReply::string(reply) : QByteArray("connection lost"));
            if (done)
                done(Error::unavailable("broker_unavailable", QStringLiteral("the Redis broker did not accept the event")));
            return;
        }
        if (done)
            done(*id);
    });
}

void RedisBroker::lookupToken(const QByteArray &token, Callback done)
{
    if (!m_commands.isReady()) {
        done(std::nullopt);
        return;
    }
    m_commands.command({"GET", "sse:token:" + token}, [done](redisReply *reply) {
        if (!reply || reply->type != REDIS_REPLY_STRING) {
            done(std::nullopt);
            return;
        }
        const QJsonDocument doc = QJsonDocument::fromJson(RedisReply::string(reply));
        done(doc.isObject() ? std::optional<QJsonObject>(doc.object()) : std::nullopt);
    });
}

} // namespace Hermes
