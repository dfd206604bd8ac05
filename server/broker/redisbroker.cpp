#include "broker/redisbroker.h"

#include "logging.h"

#include <hiredis/hiredis.h>

#include <QCryptographicHash>
#include <QJsonDocument>

#include <algorithm>

namespace Hermes {

// XADD and PUBLISH in one step, so no subscriber ever sees an event the stream lacks. The
// envelope is ours (compact, ending in '}'), so the id is appended as text: cjson would
// reorder the keys and round big numbers.
static const QByteArray PublishScript = R"lua(
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[2])
redis.call('PUBLISH', ARGV[3], string.sub(ARGV[2], 1, -2) .. ',"id":"' .. id .. '"}')
return id
)lua";

// An outside publisher's message reaches every node; the first to run this adds it to the
// stream, and all of them get that one id back for the adoption window.
static const QByteArray AdoptScript = R"lua(
local id = redis.call('GET', KEYS[2])
if id then return id end
id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[2])
redis.call('SET', KEYS[2], id, 'PX', ARGV[3])
return id
)lua";

static const QList<QLatin1StringView> AllChannels{Channels::Downloads, Channels::Queue,
                                                  Channels::System};

RedisBroker::RedisBroker(Options options, QObject *parent)
    : Broker(parent), m_options(std::move(options))
{
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

void RedisBroker::start()
{
    qCInfo(lcBroker).noquote() << "connecting to" << m_options.address.display();
    connectAll();
}

QByteArray RedisBroker::streamKey(QStringView channel) const
{
    return (m_options.keyPrefix + QStringLiteral("stream:") + channel.toString()).toUtf8();
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
    QList<QByteArray> channels;
    for (QLatin1StringView c : AllChannels)
        channels.append(QByteArray(c.data(), c.size()));
    m_filling = true; // live messages wait until the streams have been read
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
    ++m_discardsSinceLog;
    if (m_lastDiscardLog.isValid() && m_lastDiscardLog.elapsed() < 10000)
        return;
    qCWarning(lcBroker).noquote() << "dropped" << m_discardsSinceLog << "invalid message(s) on"
                                  << channel << "- last:" << why;
    m_discardsSinceLog = 0;
    m_lastDiscardLog.start();
}

void RedisBroker::onMessage(redisReply *reply)
{
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3)
        return;
    const QByteArray kind = RedisReply::string(reply->element[0]);
    if (kind == "subscribe") {
        if (++m_subscriptionsConfirmed == int(AllChannels.size()))
            loadStreams();
        return;
    }
    if (kind != "message")
        return;
    const QString channel = QString::fromUtf8(RedisReply::string(reply->element[1]));
    const QByteArray payload = RedisReply::string(reply->element[2]);
    Incoming incoming;
    QString error;
    if (!Event::fromEnvelope(channel, payload, &incoming.event, &error)) {
        Q_EMIT eventDiscarded();
        discard(channel, error);
        return;
    }
    incoming.ready = !incoming.event.id.isNull();
    m_incoming.push_back(incoming);
    if (incoming.ready) {
        drain();
        return;
    }
    const QByteArray adoptKey = (m_options.keyPrefix + QStringLiteral("adopt:")).toUtf8()
        + QCryptographicHash::hash(channel.toUtf8() + '\n' + payload, QCryptographicHash::Sha1).toHex();
    Incoming *slot = &m_incoming.back();
    m_commands.command({"EVAL", AdoptScript, "2", streamKey(channel), adoptKey,
                        QByteArray::number(m_options.streamLength), payload,
                        QByteArray::number(qint64(m_options.adoptWindowSec) * 1000)},
                       [this, slot](redisReply *r) {
        // std::deque keeps element addresses while elements are added at the back and
        // removed at the front, and a lost connection clears it only after these callbacks.
        if (const auto id = EventId::parse(RedisReply::string(r)); id && !RedisReply::isError(r))
            slot->event.id = *id;
        slot->ready = true; // without an id it is dropped by drain()
        drain();
    });
}

void RedisBroker::drain()
{
    while (!m_filling && !m_incoming.empty() && m_incoming.front().ready) {
        const Event event = m_incoming.front().event;
        m_incoming.pop_front();
        if (!event.id.isNull())
            deliver(event);
    }
}

void RedisBroker::deliver(const Event &event)
{
    EventId &last = m_lastSeen[event.channel];
    if (event.id <= last)
        return; // already handed on (the gap fill and a live message overlap)
    last = event.id;
    Q_EMIT eventReceived(event);
}

static EventId entryId(const redisReply *entry)
{
    return EventId::parse(RedisReply::string(entry->element[0])).value_or(EventId());
}

void RedisBroker::loadStreams()
{
    auto collected = std::make_shared<QList<Event>>();
    auto remaining = std::make_shared<int>(int(AllChannels.size()));
    auto failed = std::make_shared<bool>(false);
    for (QLatin1StringView c : AllChannels) {
        const QString channel = c;
        const auto last = m_lastSeen.find(channel);
        const QByteArray count = QByteArray::number(m_options.streamLength);
        QList<QByteArray> args;
        if (!m_historyLoaded)
            args = {"XREVRANGE", streamKey(channel), "+", "-", "COUNT", count};
        else if (last != m_lastSeen.end())
            args = {"XRANGE", streamKey(channel), '(' + last->second.toByteArray(), "+", "COUNT", count};
        else
            args = {"XRANGE", streamKey(channel), "-", "+", "COUNT", count};
        m_commands.command(args, [this, channel, collected, remaining, failed](redisReply *reply) {
            if (RedisReply::isError(reply) || reply->type != REDIS_REPLY_ARRAY) {
                *failed = true; // the lost connection is reported separately
            } else {
                for (size_t i = 0; i < reply->elements; ++i) {
                    const redisReply *entry = reply->element[i];
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
                            event.id = entryId(entry);
                            collected->append(event);
                        }
                    }
                }
            }
            if (--*remaining > 0 || *failed)
                return;
            std::sort(collected->begin(), collected->end(),
                      [](const Event &a, const Event &b) { return a.id < b.id; });
            if (!m_historyLoaded) {
                QHash<QString, int> perChannel;
                QHash<QString, EventId> floors;
                for (const Event &e : *collected) {
                    m_lastSeen[e.channel] = std::max(m_lastSeen[e.channel], e.id);
                    if (++perChannel[e.channel] == 1) // sorted: the channel's oldest entry
                        floors.insert(e.channel, e.id.previous());
                }
                // A stream shorter than its cap was never trimmed: it holds everything.
                for (auto it = perChannel.cbegin(); it != perChannel.cend(); ++it) {
                    if (it.value() < m_options.streamLength)
                        floors.remove(it.key());
                }
                Q_EMIT historyLoaded(*collected, floors);
                m_historyLoaded = true;
            } else {
                if (!collected->isEmpty())
                    qCInfo(lcBroker) << "filled the gap with" << collected->size() << "event(s)";
                for (const Event &e : *collected)
                    deliver(e);
            }
            m_filling = false;
            m_attempt = 0;
            setUp(true);
            drain();
        });
    }
}

void RedisBroker::publish(const Event &event, PublishCallback done)
{
    if (!m_up) {
        done(std::nullopt, QStringLiteral("the Redis broker is down"));
        return;
    }
    m_commands.command({"EVAL", PublishScript, "1", streamKey(event.channel),
                        QByteArray::number(m_options.streamLength), event.envelopeJson(),
                        event.channel.toUtf8()},
                       [done](redisReply *reply) {
        const auto id = EventId::parse(RedisReply::string(reply));
        if (RedisReply::isError(reply) || !id) {
            done(std::nullopt, reply ? QString::fromUtf8(RedisReply::string(reply))
                                     : QStringLiteral("the Redis connection was lost"));
            return;
        }
        done(*id, QString());
    });
}

void RedisBroker::lookupToken(const QByteArray &token, TokenCallback done)
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
