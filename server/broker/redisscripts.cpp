#include "broker/redisscripts.h"

namespace Hermes::RedisScripts {

// The arguments of EVAL: the script, the number of keys, the keys, the arguments.
static QList<QByteArray> eval(const QByteArray &script, const QList<QByteArray> &keys,
                              const QList<QByteArray> &argv)
{
    return QList<QByteArray>{"EVAL", script, QByteArray::number(keys.size())} + keys + argv;
}

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

-- Whether position a ('<ms>-<seq>') is below position b.
local function below(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end

-- A trimmed key only ever rises: it may hold a recorded loss (MarkLost) above the entries
-- trimming removes, and lowering it would make nodes that load later forget the loss.
local function raise(key, id)
  local old = redis.call('GET', key)
  if not old or below(old, id) then redis.call('SET', key, id) end
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
    raise(trimmedKey, gone[#gone - 1][1])
    redis.call('XTRIM', key, 'MINID', gone[#gone][1])
  end
end
)lua";

// KEYS and ARGV: see Publish. The public copy keeps the Python Hermes' subscribers informed.
static const QByteArray PublishScript = AssignLua + R"lua(
local epoch, id = assign(KEYS[2], KEYS[3], ARGV[4], KEYS[5], KEYS[6], KEYS[7])
append(KEYS[1], KEYS[4], id, ARGV[2], ARGV[1])
local full = epoch .. '-' .. id
redis.call('PUBLISH', ARGV[5], full .. '\n' .. ARGV[3] .. '\n' .. ARGV[2])
redis.call('PUBLISH', ARGV[3], string.sub(ARGV[2], 1, -2) .. ',"id":"' .. full .. '"}')
return full
)lua";

QList<QByteArray> Publish::command() const
{
    return eval(PublishScript,
                {stream, sequence, epoch, trimmed, streams[0], streams[1], streams[2]},
                {QByteArray::number(maxLength), envelope, channel, candidateEpoch, eventsChannel});
}

// An outside publisher's message reaches every node; the first to run this gives it an id
// and forwards it, the others find the adoption key. KEYS and ARGV: see Adopt.
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

QList<QByteArray> Adopt::command() const
{
    return eval(AdoptScript,
                {stream, sequence, epoch, trimmed, adoption, streams[0], streams[1], streams[2]},
                {QByteArray::number(maxLength), envelope, channel, candidateEpoch, eventsChannel,
                 QByteArray::number(windowMs)});
}

// Records that events on a channel may have been lost after `after` (a node gave an outside
// message up): the sequence advances one position, held by no event, and the channel's
// trimmed key rises to it, so a node that loads later sends every client that resumes from
// `after` or before it `resync_required`, and a node that had delivered up to `after` and
// reconnects finds a hole. The loss is announced on the losses channel, after every event
// below the new position: the nodes that did not see the message (down, or not subscribed
// yet) tell their streams then. A loss recorded above `after` already (by another node, or
// trimming) is enough: nothing advances. A database of another epoch lost everything anyway.
// KEYS and ARGV: see MarkLost.
static const QByteArray MarkLostScript = AssignLua + R"lua(
local epoch = redis.call('GET', KEYS[2])
if epoch ~= ARGV[1] then return {'gone', ''} end
local t = redis.call('GET', KEYS[3])
if t and below(ARGV[2], t) then return {'known', epoch .. '-' .. t} end
local _, id = assign(KEYS[1], KEYS[2], ARGV[1], KEYS[4], KEYS[5], KEYS[6])
raise(KEYS[3], id)
redis.call('PUBLISH', ARGV[3], epoch .. '-' .. id .. '\n' .. ARGV[4] .. '\n' .. ARGV[2])
return {'marked', epoch .. '-' .. id}
)lua";

QList<QByteArray> MarkLost::command() const
{
    return eval(MarkLostScript, {sequence, epoch, trimmed, streams[0], streams[1], streams[2]},
                {callerEpoch, after, lossesChannel, channel});
}

// The epoch and, per stream, its newest entries (tail) or the entries after an id (after),
// with the newest id trimming removed from it ('' when none was). KEYS and ARGV: see Load.
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

QList<QByteArray> Load::command() const
{
    return eval(LoadScript,
                {epoch, streams[0], streams[1], streams[2], trimmed[0], trimmed[1], trimmed[2],
                 sequence},
                {candidateEpoch, QByteArray::number(count),
                 mode == Mode::Tail ? QByteArray("tail") : QByteArray("after"), after,
                 callerEpoch});
}

// `<epoch>-<ms>-<seq>\n<channel>\n<envelope>`, as the scripts above publish it.
Result<Event> parseEventMessage(const QByteArray &payload)
{
    const qsizetype first = payload.indexOf('\n');
    const qsizetype second = first < 0 ? -1 : payload.indexOf('\n', first + 1);
    if (second < 0)
        return Error::invalid("not_an_event_message", QStringLiteral("not an event message"));
    const auto id = EventId::parse(QByteArrayView(payload).first(first));
    const auto channel = Channel::fromName(QString::fromUtf8(payload.sliced(first + 1, second - first - 1)));
    if (!id || id->epoch() == 0 || !channel)
        return Error::invalid("bad_id_or_channel", QStringLiteral("bad id or channel"));
    Result<Event> event = Event::fromEnvelope(*channel, payload.sliced(second + 1));
    if (event)
        event->id = *id;
    return event;
}

} // namespace Hermes::RedisScripts
