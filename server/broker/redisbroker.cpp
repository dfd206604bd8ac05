#include "broker/redisbroker.h"

#include "logging.h"

#include <hiredis/hiredis.h>

#include <QJsonDocument>

#include <algorithm>

namespace Hermes {

RedisBroker::RedisBroker(Options options, QObject *parent)
    : Broker(parent), m_options(std::move(options)), m_keys(m_options.keyPrefix),
      m_historyReader(m_keys, m_options.streamLength),
      m_adopter(m_keys, m_options.streamLength, m_options.adoptWindowSec),
      m_replicaWait(this, &m_commands, m_options.waitReplicas, m_options.waitTimeoutMs),
      m_adoptions(&m_adopter, m_keys, &m_commands,
                  AdoptRetryQueue::Limits{.maxEntries = MaxAdoptRetries,
                                          .maxBytes = MaxAdoptRetryBytes,
                                          .giveUpAfterMs = qint64(m_options.adoptRetryLimitSec) * 1000},
                  [this] { return m_lastDelivered; })
{
    connect(&m_adoptions, &RedisAdoptionRetry::lost, this, &Broker::eventsLost);
    // nchan's defaults: 500 ms doubling with jitter, at most 10 s between attempts.
    m_backoff.setBaseMs(500);
    m_backoff.setCapMs(10000);
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &RedisBroker::connectAll);
    for (RedisConnection *c : {&m_commands, &m_subscriber}) {
        connect(c, &RedisConnection::ready, this, &RedisBroker::onConnectionReady);
        connect(c, &RedisConnection::disconnected, this, &RedisBroker::onConnectionLost);
    }
    if (!m_options.sentinelAddresses.isEmpty()) {
        m_sentinel = std::make_unique<RedisSentinelLocator>(RedisSentinelLocator::Options{
            .sentinels = m_options.sentinelAddresses,
            .masterName = m_options.sentinelMaster,
            .data = m_options.address,
            .timeoutMs = m_options.connectTimeoutMs,
        });
        connect(m_sentinel.get(), &RedisSentinelLocator::located, this, &RedisBroker::onMasterLocated);
        connect(m_sentinel.get(), &RedisSentinelLocator::failed, this, [this](const QString &why) {
            onConnectionLost(QStringLiteral("Redis Sentinel: ") + why);
        });
        connect(m_sentinel.get(), &RedisSentinelLocator::switched, this, [this](const QString &to) {
            if (m_reconnectTimer.isActive()) {
                // Waiting out a backoff grown while the old master was gone: the new one is
                // there now (a short jitter still spreads the nodes).
                const int soon = m_backoff.delayMs(1);
                if (m_reconnectTimer.remainingTime() > soon)
                    m_reconnectTimer.start(soon);
                return;
            }
            // Already on it: a reconnect that located it before the announcement arrived.
            if (!(m_up && m_sentinel->master() == to))
                onConnectionLost(QStringLiteral("the sentinels moved the master to ") + to);
        });
        // A missed +switch-master (no sentinel reachable at that moment) or a master demoted
        // under us: a replica answers reads and refuses writes, so ask.
        m_roleCheck.setInterval(1000);
        connect(&m_roleCheck, &QTimer::timeout, this, &RedisBroker::checkRole);
        m_roleCheck.start();
    }
}

Result<void> RedisBroker::start()
{
    HERMES_ASSERT_THREAD(this);
    if (m_sentinel)
        qCInfo(lcBroker).noquote() << "asking" << m_options.sentinelAddresses.size()
                                   << "sentinel(s) for the Redis master" << m_options.sentinelMaster;
    else
        qCInfo(lcBroker).noquote() << "connecting to" << m_options.address.display();
    connectAll();
    return {};
}

void RedisBroker::connectAll()
{
    m_subscriptionsConfirmed = 0;
    if (m_sentinel) {
        m_sentinel->locate(); // then onMasterLocated(), or a lost connection
        return;
    }
    openConnections();
}

void RedisBroker::openConnections()
{
    m_commands.open(m_options.address, m_options.connectTimeoutMs);
    m_subscriber.open(m_options.address, m_options.connectTimeoutMs);
}

void RedisBroker::onMasterLocated(const RedisAddress &master)
{
    HERMES_ASSERT_THREAD(this);
    if (m_reconnectTimer.isActive())
        return; // lost meanwhile: the next attempt locates again
    m_options.address = master;
    openConnections();
}

void RedisBroker::checkRole()
{
    if (!m_commands.isReady())
        return;
    m_commands.command({"ROLE"}, [this](redisReply *reply) {
        if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements == 0)
            return; // a lost connection is reported by itself
        const QByteArray role = RedisReply::string(reply->element[0]);
        if (role != "master")
            loseConnection(QStringLiteral("%1 is no longer the master (ROLE: %2)")
                               .arg(m_options.address.display(), QString::fromUtf8(role)));
    });
}

QString RedisBroker::location() const
{
    if (!m_sentinel)
        return {};
    return m_sentinel->master();
}

void RedisBroker::onConnectionReady()
{
    HERMES_ASSERT_THREAD(this);
    if (!m_commands.isReady() || !m_subscriber.isReady())
        return;
    m_filling = true; // live events wait until the streams have been read
    m_subscriber.subscribe(m_keys.subscriptions(), [this](redisReply *reply) { onMessage(reply); });
}

void RedisBroker::onConnectionLost(const QString &reason)
{
    HERMES_ASSERT_THREAD(this);
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

void RedisBroker::onMessage(redisReply *reply)
{
    HERMES_ASSERT_THREAD(this);
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3)
        return;
    const QByteArray kind = RedisReply::string(reply->element[0]);
    if (kind == "subscribe") {
        if (++m_subscriptionsConfirmed == m_keys.subscriptions().size())
            load(m_historyLoaded ? Load::After : Load::Tail);
        return;
    }
    if (kind != "message")
        return;
    const QByteArray channel = RedisReply::string(reply->element[1]);
    const QByteArray payload = RedisReply::string(reply->element[2]);
    if (channel == m_keys.eventsChannel()) {
        onEventMessage(payload);
        return;
    }
    if (channel == m_keys.lossesChannel()) {
        m_adoptions.onAnnouncement(payload);
        return;
    }
    if (RedisAdopter::isRelayedCopy(payload))
        return;
    if (const auto known = Channel::fromName(QString::fromUtf8(channel)))
        adopt(*known, payload);
}

void RedisBroker::onEventMessage(const QByteArray &payload)
{
    Result<Event> event = RedisScripts::parseEventMessage(payload);
    if (!event) {
        discard(QString::fromUtf8(m_keys.eventsChannel()), event.error().message);
        return;
    }
    if (m_incoming.size() >= MaxHeldEvents) {
        // Held behind a fill that takes too long: let go of them; the gap fill after the
        // reconnect reads them back from the streams.
        loseConnection(QStringLiteral("too many events waiting behind the history"));
        return;
    }
    m_incoming.push_back(std::move(*event));
    drain();
}

void RedisBroker::adopt(Channel channel, const QByteArray &payload)
{
    const Result<RedisScripts::Adopt> adoption = m_adopter.adoption(channel, payload);
    if (!adoption) {
        discard(channel.name(), adoption.error().message);
        return;
    }
    m_adoptions.adopt(channel, payload); // retried until adopted, or given up: eventsLost()
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

void RedisBroker::load(Load mode)
{
    m_commands.command(m_historyReader.call(mode, m_lastDelivered, m_epoch).command(),
                       [this, mode](redisReply *reply) {
        HERMES_ASSERT_THREAD(this);
        if (!reply)
            return; // the connection was lost: that starts over
        const Result<RedisHistoryReader::Loaded> loaded = m_historyReader.parse(reply);
        if (!loaded) {
            // Not a passing state to wait out (live events would pile up behind the fill):
            // start over, with backoff.
            loseConnection(loaded.error().message);
            return;
        }
        onLoaded(mode, *loaded);
    });
}

void RedisBroker::onLoaded(Load mode, const RedisHistoryReader::Loaded &loaded)
{
    if (mode == Load::After) {
        bool hole = loaded.epoch != m_epoch;
        for (int c = 0; c < Channel::Count && !hole; ++c)
            hole = loaded.trimmed[size_t(c)].withEpoch(m_epoch) > m_lastDelivered
                && !m_adoptions.isRecordedLoss(Channel::all()[c], loaded.trimmed[size_t(c)]);
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
        const ChannelFloors floors = loaded.floors(m_historyReader.readLimit(Load::Tail));
        m_epoch = loaded.epoch;
        m_lastDelivered = loaded.events.isEmpty() ? EventId(0, 0, m_epoch) : loaded.events.last().id;
        for (const EventId &t : loaded.trimmed)
            m_lastDelivered = std::max(m_lastDelivered, t);
        m_historyLoaded = true;
        Q_EMIT historyLoaded(m_epoch, loaded.events, floors);
        m_adoptions.historyReplaced();
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
    HERMES_ASSERT_THREAD(this);
    if (!m_up) {
        if (done)
            done(Error::unavailable("broker_unavailable", QStringLiteral("the Redis broker is down")));
        return;
    }
    const RedisScripts::Publish call{
        .stream = m_keys.stream(event.channel),
        .sequence = m_keys.sequence(),
        .epoch = m_keys.epoch(),
        .trimmed = m_keys.trimmed(event.channel),
        .streams = m_keys.streams(),
        .maxLength = m_options.streamLength,
        .envelope = event.envelopeJson(),
        .channel = event.channel.nameBytes(),
        .candidateEpoch = EventId::epochText(EventId::randomEpoch()),
        .eventsChannel = m_keys.eventsChannel(),
    };
    // With HERMES_REDIS_WAIT_REPLICAS the answer waits for the WAIT sent after this write.
    if (m_replicaWait.isOn())
        done = m_replicaWait.add(std::move(done));
    m_commands.command(call.command(), [this, done](redisReply *reply) {
        const auto id = EventId::parse(RedisReply::string(reply));
        if (RedisReply::isError(reply) || !id) {
            // The driver's words stay in the log; the client gets a plain reason.
            qCWarning(lcBroker).noquote() << "publish failed:"
                                          << (reply ? RedisReply::string(reply) : QByteArray("connection lost"));
            // A master demoted under us (a failover it missed): find the new one.
            if (m_sentinel && reply && RedisReply::string(reply).startsWith("READONLY"))
                loseConnection(QStringLiteral("%1 refuses writes: it is a replica now").arg(m_options.address.display()));
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
    HERMES_ASSERT_THREAD(this);
    const auto unreachable = [] {
        return Error::unavailable("broker_unavailable", QStringLiteral("Redis is not connected"));
    };
    const auto unknown = [] { return Error::notFound("unknown_token", QStringLiteral("no such stream token")); };
    if (!m_commands.isReady()) {
        done(unreachable());
        return;
    }
    m_commands.command({"GET", RedisKeyspace::pythonToken(token)}, [done, unreachable, unknown](redisReply *reply) {
        if (!reply) {
            done(unreachable()); // the connection went away before the answer
            return;
        }
        if (reply->type != REDIS_REPLY_STRING) {
            done(unknown());
            return;
        }
        const QJsonDocument doc = QJsonDocument::fromJson(RedisReply::string(reply));
        if (!doc.isObject()) {
            done(unknown());
            return;
        }
        done(doc.object());
    });
}

} // namespace Hermes
