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
local function pos(id)
  local a, b = string.match(id or '', '^(%d+)-(%d+)$')
  if not a then return nil end
  return {tonumber(a), tonumber(b)}
end
local function below(x, y)
  return x[1] < y[1] or (x[1] == y[1] and x[2] < y[2])
end
-- A trimmed key only ever rises: what is gone stays gone. It may hold a recorded loss
-- (MarkLost) or a vanished stream's head above the entries trimming removes, and lowering it
-- would make nodes that load later forget them.
local function raise(key, id)
  local cur = pos(redis.call('GET', key))
  if not cur or below(cur, pos(id)) then redis.call('SET', key, id) end
end
-- A stream that lost its newest entries (its key evicted or deleted: its newest entry is below
-- the channel's head, or it has none) keeps what it had as a floor: its trimmed key rises to
-- the head, so a resume from before it resyncs instead of skipping the lost events.
local function keepVanished(key, trimmedKey, headsKey, channel)
  local head = redis.call('HGET', headsKey, channel)
  if not head then return end
  local top = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if not top[1] or below(pos(top[1][1]), pos(head)) then raise(trimmedKey, head) end
end
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
-- precisely which ids are gone (XADD MAXLEN ~ would not say). The channel's head (headsKey)
-- outlives a stream key that is lost: see the Load script.
local function append(key, trimmedKey, id, payload, maxlen, headsKey, channel, configKey)
  -- The deployment's length (the first node stored it) wins over the caller's: a node started
  -- with a shorter HERMES_REDIS_STREAM_LENGTH, before it has read the stored one, must not cut
  -- the history the others keep.
  local stored = tonumber(redis.call('HGET', configKey, 'stream_length'))
  if stored and stored > 0 then maxlen = stored end
  keepVanished(key, trimmedKey, headsKey, channel)
  redis.call('XADD', key, id, 'e', payload)
  redis.call('HSET', headsKey, channel, id)
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
append(KEYS[1], KEYS[4], id, ARGV[2], ARGV[1], KEYS[8], ARGV[3], KEYS[9])
local full = epoch .. '-' .. id
redis.call('PUBLISH', ARGV[5], full .. '\n' .. ARGV[3] .. '\n' .. ARGV[2])
redis.call('PUBLISH', ARGV[3], string.sub(ARGV[2], 1, -2) .. ',"id":"' .. full .. '"}')
return full
)lua";

QList<QByteArray> Publish::command() const
{
    return eval(PublishScript,
                {stream, sequence, epoch, trimmed, streams[0], streams[1], streams[2], heads, config},
                {QByteArray::number(maxLength), envelope, channel, candidateEpoch, eventsChannel});
}

// An outside publisher's message reaches every node; the first to run this gives it an id
// and forwards it, the others find the adoption key. KEYS and ARGV: see Adopt.
static const QByteArray AdoptScript = AssignLua + R"lua(
local done = redis.call('GET', KEYS[5])
if done then return done end
local epoch, id = assign(KEYS[2], KEYS[3], ARGV[4], KEYS[6], KEYS[7], KEYS[8])
append(KEYS[1], KEYS[4], id, ARGV[2], ARGV[1], KEYS[9], ARGV[3], KEYS[10])
local full = epoch .. '-' .. id
redis.call('SET', KEYS[5], full, 'PX', ARGV[6])
redis.call('PUBLISH', ARGV[5], full .. '\n' .. ARGV[3] .. '\n' .. ARGV[2])
return full
)lua";

QList<QByteArray> Adopt::command() const
{
    return eval(AdoptScript,
                {stream, sequence, epoch, trimmed, adoption, streams[0], streams[1], streams[2], heads, config},
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
if t and below(pos(ARGV[2]), pos(t)) then return {'known', epoch .. '-' .. t} end
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

// Up to `count` entries of a stream from `from` on (newest first when `rev`, `from` '+' or
// '(<id>'; else oldest first), ending once they carry `bytes` of values; the first entry is
// read however large. What a node reads in one reply is bounded in bytes, not only in entries:
// a stream of large events (a Redis entry may be up to 512 MB) never arrives whole. Steps of 32
// entries keep the script's own reads small. Returns the entries and '1' when the stream may
// hold more in that direction, '' when it was read to its end.
static const QByteArray PageLua = R"lua(
local function page(key, rev, from, count, bytes)
  local out, held = {}, 0
  while #out < count and held < bytes do
    local want = math.min(count - #out, 32)
    local got
    if rev then
      got = redis.call('XREVRANGE', key, from, '-', 'COUNT', want)
    else
      got = redis.call('XRANGE', key, from, '+', 'COUNT', want)
    end
    for _, e in ipairs(got) do
      if held >= bytes then return out, '1' end
      out[#out + 1] = e
      for j = 2, #e[2], 2 do held = held + #e[2][j] end
    end
    if #got < want then return out, '' end
    from = '(' .. got[#got][1]
  end
  return out, '1'
end
)lua";

// The epoch and, per stream, its newest entries (tail) or the entries after an id (after),
// with the newest id trimming removed from it ('' when none was), and why the history was
// found damaged ('' when it was not). KEYS and ARGV: see Load.
//
// Two checks run first, on every load, by every node, atomically with the read:
//
// - A channel whose stream lost its newest entries (the key evicted or deleted: its newest
//   entry is below the channel's head, or there is none) gets its trimmed key raised to the
//   head: a floor, so a resume from before it resyncs instead of skipping the lost events.
// - Continuity against the caller's mark (what it delivered, in its epoch; it survives the
//   node's restarts in its data dir): the sequence must not be below the mark's position, and
//   each channel's newest id the caller delivered must still be in its stream or at or below
//   its trimmed id. A database that went back in time (restored from an older snapshot: RDB
//   after a crash, a promoted replica, a backup) fails it: the events after the snapshot are
//   gone for good, yet nothing else would tell. The epoch is then replaced (the sequence kept
//   above the mark), so every node resets its history and its clients resync, and every node
//   is told at once on the internal channel (`reload\n<epoch>`).
//   The epoch it replaced and the caller's mark of it go to the origin key: every node that
//   loads the new epoch remembers them (RedisMark::recall()). Redis restored again from the
//   same snapshot comes back in the replaced epoch, and a node's own list of earlier epochs is
//   bounded: without this, only the node that found the damage would keep that epoch fresh,
//   and after enough restores every node but one (maybe stopped) would have forgotten it.
static const QByteArray LoadScript = AssignLua + PageLua + R"lua(
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
end
for i = 1, 3 do keepVanished(KEYS[1 + i], KEYS[4 + i], KEYS[9], ARGV[11 + i]) end
-- The caller's mark of this epoch: ARGV[6..10], or one of the earlier ones from ARGV[16].
local m = nil
if epoch == ARGV[6] then m = 6 end
for k = 16, #ARGV - 4, 5 do
  if not m and epoch == ARGV[k] then m = k end
end
local why = ''
if m or (ARGV[3] == 'after' and epoch == ARGV[5]) then
  local seq = pos(redis.call('GET', KEYS[8]))
  local mark = nil
  if m then mark = pos(ARGV[m + 1]) end
  if ARGV[3] == 'after' and epoch == ARGV[5] then
    local after = pos(ARGV[4])
    if after and (not mark or below(mark, after)) then mark = after end
  end
  if mark and mark[1] == 0 and mark[2] == 0 then mark = nil end
  if mark and (not seq or below(seq, mark)) then
    why = 'the sequence is below what was delivered'
  end
  for i = 1, 3 do
    local id = m and pos(ARGV[m + 1 + i])
    if why == '' and id then
      local t = pos(redis.call('GET', KEYS[4 + i]))
      local text = ARGV[m + 1 + i]
      if (not t or below(t, id)) and #redis.call('XRANGE', KEYS[1 + i], text, text) == 0 then
        why = 'delivered event ' .. text .. ' of ' .. ARGV[11 + i] .. ' is gone'
      end
    end
  end
  if why ~= '' then
    local c = {'', '', ''}
    if m then c = {ARGV[m + 2], ARGV[m + 3], ARGV[m + 4]} end
    local p = '0-0'
    if mark then p = string.format('%d-%d', mark[1], mark[2]) end
    redis.call('SET', KEYS[10], epoch .. '\n' .. p .. '\n' .. c[1] .. '\n' .. c[2] .. '\n' .. c[3])
    epoch = ARGV[1]
    redis.call('SET', KEYS[1], epoch)
    if mark and (not seq or below(seq, mark)) then
      redis.call('SET', KEYS[8], string.format('%d-%d', mark[1], mark[2]))
    end
    redis.call('PUBLISH', ARGV[11], 'reload\n' .. epoch)
  end
end
local out = {epoch}
local deleted = {}
local more = {}
for i = 2, 4 do
  local entries, further
  if ARGV[3] == 'tail' then
    entries, further = page(KEYS[i], true, '+', tonumber(ARGV[2]), tonumber(ARGV[15]))
  else
    entries, further = page(KEYS[i], false, '(' .. ARGV[4], tonumber(ARGV[2]), tonumber(ARGV[15]))
  end
  out[#out + 1] = entries
  more[#more + 1] = further
  deleted[#deleted + 1] = redis.call('GET', KEYS[i + 3]) or ''
end
out[#out + 1] = deleted
out[#out + 1] = why
out[#out + 1] = more
out[#out + 1] = redis.call('GET', KEYS[10]) or ''
return out
)lua";

QList<QByteArray> Load::command() const
{
    return eval(LoadScript,
                {epoch, streams[0], streams[1], streams[2], trimmed[0], trimmed[1], trimmed[2],
                 sequence, heads, origin},
                QList<QByteArray>{candidateEpoch, QByteArray::number(count),
                                  mode == Mode::Tail ? QByteArray("tail") : QByteArray("after"), after,
                                  callerEpoch, markEpoch, markPosition, markChannels[0], markChannels[1],
                                  markChannels[2], eventsChannel, channels[0], channels[1], channels[2],
                                  QByteArray::number(pageBytes)}
                    + earlierMarks);
}

// One more page of a stream's tail, below `before`, for a node that reads the history in
// pages (RedisTailRead): its entries as the Load script's, whether there may be more, and the
// stream's trimmed id and the database's epoch at the same instant. KEYS and ARGV: see TailPage.
// The stream vanishing between two pages (evicted, deleted) is checked as Load checks it: the
// read would otherwise end there as if the stream had been read to its end, and a resume from
// before the entries read so far would skip what was lost.
static const QByteArray TailPageScript = AssignLua + PageLua + R"lua(
keepVanished(KEYS[2], KEYS[3], KEYS[4], ARGV[4])
local entries, more = page(KEYS[2], true, '(' .. ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
return {redis.call('GET', KEYS[1]) or '', entries, more, redis.call('GET', KEYS[3]) or ''}
)lua";

QList<QByteArray> TailPage::command() const
{
    return eval(TailPageScript, {epoch, stream, trimmed, heads},
                {before, QByteArray::number(count), QByteArray::number(pageBytes), channel});
}

QByteArray reloadNotice(quint32 epoch)
{
    return "reload\n" + EventId::epochText(epoch);
}

quint32 parseReloadNotice(const QByteArray &payload)
{
    if (!payload.startsWith("reload\n"))
        return 0;
    return EventId::parseEpoch(QByteArrayView(payload).sliced(7));
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
