#include "broker/redisbroker.h"

#include "logging.h"

#include <hiredis/hiredis.h>

#include <QJsonDocument>

#include <algorithm>

namespace Hermes {

RedisBroker::RedisBroker(Options options, QObject *parent)
    : Broker(parent), m_options(std::move(options)), m_keys(m_options.keyPrefix),
      m_historyReader(m_keys, m_options.streamLength, m_options.historySize, m_options.historyBytes),
      m_tailRead(m_keys, m_options.historySize, m_options.historyBytes),
      m_adopter(m_keys, m_options.streamLength, m_options.adoptWindowSec),
      m_replicaWait(this, &m_commands, m_options.waitReplicas, m_options.waitTimeoutMs),
      m_adoptions(&m_adopter, m_keys, &m_commands,
                  AdoptRetryQueue::Limits{.maxEntries = MaxAdoptRetries,
                                          .maxBytes = MaxAdoptRetryBytes,
                                          .giveUpAfterMs = qint64(m_options.adoptRetryLimitSec) * 1000},
                  [this] { return m_lastDelivered; }),
      m_streamLength(m_options.streamLength), m_probe(m_keys, m_options.streamLength)
{
    connect(&m_adoptions, &RedisAdoptionRetry::lost, this, &Broker::eventsLost);
    // nchan's defaults: 500 ms doubling with jitter, at most 10 s (HERMES_REDIS_RECONNECT_MAX).
    m_backoff.setBaseMs(500);
    m_backoff.setCapMs(m_options.reconnectMaxMs);
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &RedisBroker::connectAll);
    m_probeTimer.setInterval(ProbeIntervalMs);
    connect(&m_probeTimer, &QTimer::timeout, this, [this] { probe(false); });
    if (!m_options.markPath.isEmpty())
        m_markFile = std::make_unique<RedisMarkFile>(m_options.markPath, m_options.markIntervalMs);
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

RedisBroker::~RedisBroker()
{
    if (m_markFile)
        m_markFile->flush();
}

Result<void> RedisBroker::start()
{
    HERMES_ASSERT_THREAD(this);
    m_mark.keyPrefix = m_options.keyPrefix;
    if (m_markFile) {
        const Result<RedisMark> saved = m_markFile->load();
        if (!saved) {
            qCWarning(lcBroker).noquote() << "starting without a record of what this node delivered:"
                                          << saved.error().message;
        } else if (!saved->isNull() && saved->keyPrefix == m_options.keyPrefix) {
            m_mark = *saved;
            qCInfo(lcBroker).noquote() << "this node delivered up to" << m_mark.position.toByteArray()
                                       << "before: the history is checked against it";
        }
    }
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
    m_loaded = false;
    m_probing = false;
    m_probeTimer.stop();
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
            probe(true);
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
    if (const quint32 epoch = RedisScripts::parseReloadNotice(payload)) {
        onReloadNotice(epoch);
        return;
    }
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
    RedisMark mark = m_mark;
    mark.deliver(event);
    remember(mark);
    Q_EMIT eventReceived(event);
}

void RedisBroker::load(Load mode)
{
    m_commands.command(m_historyReader.call(mode, m_lastDelivered, m_epoch, m_mark).command(),
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
        if (mode == Load::Tail) { // the first page: read on, newest first, what fits
            m_tailRead.begin(std::move(*loaded), m_historyReader.readLimit(Load::Tail));
            readTail();
            return;
        }
        onLoaded(mode, *loaded);
    });
}

void RedisBroker::readTail()
{
    const std::optional<RedisScripts::TailPage> page = m_tailRead.next();
    if (!page) {
        ChannelFloors floors;
        const RedisHistoryReader::Loaded loaded = m_tailRead.take(&floors);
        onLoaded(Load::Tail, loaded, floors);
        return;
    }
    m_commands.command(page->command(), [this](redisReply *reply) {
        HERMES_ASSERT_THREAD(this);
        if (!reply)
            return; // the connection was lost: that starts over
        const Result<RedisTailRead::Page> added = m_tailRead.add(reply);
        if (!added)
            loseConnection(added.error().message);
        else if (*added == RedisTailRead::Page::EpochChanged)
            load(Load::Tail); // flushed or replaced meanwhile: read the new one from its top
        else
            readTail();
    });
}

void RedisBroker::onLoaded(Load mode, const RedisHistoryReader::Loaded &loaded, const ChannelFloors &floors)
{
    if (!loaded.damage.isEmpty()) {
        qCWarning(lcBroker).noquote() << "the Redis history lost events this node delivered ("
                                      << loaded.damage << ") - Redis went back in time (restored"
                                      << "from an older snapshot?): a new epoch began; every node"
                                      << "reloads and streams resync";
    }
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
        if (!fillGap(loaded))
            return;
    } else {
        m_epoch = loaded.epoch;
        m_lastDelivered = loaded.events.isEmpty() ? EventId(0, 0, m_epoch) : loaded.events.last().id;
        for (const EventId &t : loaded.trimmed)
            m_lastDelivered = std::max(m_lastDelivered, t);
        m_historyLoaded = true;
        // What this node holds from now on is what it vouches for.
        RedisMark mark = m_mark;
        mark.beginEpoch(m_epoch);
        for (const Event &e : loaded.events)
            mark.deliver(e);
        // The epoch this one replaced (a restore found): kept fresh here too, since Redis
        // restored again from the same snapshot comes back in it.
        mark.recall(loaded.origin);
        remember(mark);
        Q_EMIT historyLoaded(m_epoch, loaded.events, floors);
        m_adoptions.historyReplaced();
        // Live events of an epoch that is gone by now were never kept: drop them.
        std::erase_if(m_incoming, [this](const Event &e) { return e.id.epoch() != m_epoch; });
    }
    if (m_noticedEpoch != 0 && m_noticedEpoch != m_epoch) {
        // Announced while this load was on its way, which may have run before the new epoch.
        m_noticedEpoch = 0;
        load(Load::Tail);
        return;
    }
    m_noticedEpoch = 0;
    m_filling = false;
    m_attempt = 0;
    m_loaded = true;
    if (!m_probeTimer.isActive())
        m_probeTimer.start();
    updateUp();
    drain();
}

bool RedisBroker::fillGap(const RedisHistoryReader::Loaded &loaded)
{
    // A stream that gave a full page may hold more: deliver up to the newest event of the
    // shortest such page (later events of other streams may follow ones not read yet), then
    // read on from there. Never a fixed count: the gap is filled however long it is.
    std::optional<EventId> cutoff;
    for (Channel channel : Channel::all()) {
        if (loaded.more[channel.index()]) { // the page ended at its count or its bytes
            const EventId newest = loaded.newestRead[size_t(channel.index())];
            cutoff = cutoff ? std::min(*cutoff, newest) : newest;
        }
    }
    if (loaded.unreadable > 0)
        discard(QString::fromUtf8(m_keys.eventsChannel()), QStringLiteral("%1 stream entr(ies) that are no event").arg(loaded.unreadable));
    int delivered = 0;
    for (const Event &e : loaded.events) {
        if (cutoff && e.id > *cutoff)
            break;
        deliver(e);
        ++delivered;
    }
    if (cutoff) // read on after the cutoff even where it was an entry that is no event
        m_lastDelivered = std::max(m_lastDelivered, *cutoff);
    if (delivered > 0)
        qCInfo(lcBroker) << "filled the gap with" << delivered << "event(s)" << (cutoff ? "- reading on" : "");
    if (cutoff) {
        load(Load::After); // from m_lastDelivered, now the cutoff
        return false;
    }
    return true;
}

void RedisBroker::onReloadNotice(quint32 epoch)
{
    if (epoch == m_epoch)
        return; // this node is there already (it may be the one that began it)
    qCWarning(lcBroker).noquote() << "another node found the Redis history damaged and began epoch"
                                  << EventId::epochText(epoch) << "- reloading; streams will resync";
    if (m_filling) {
        m_noticedEpoch = epoch; // the load on its way may have run before it
        return;
    }
    m_filling = true;
    load(Load::Tail);
}

void RedisBroker::remember(const RedisMark &mark)
{
    m_mark = mark;
    if (m_markFile)
        m_markFile->update(m_mark);
}

void RedisBroker::updateUp()
{
    setUp(m_loaded && m_blocked.isEmpty());
}

void RedisBroker::probe(bool thenLoad)
{
    if (m_probing && !thenLoad)
        return;
    m_probing = true;
    m_probe.run(m_commands, [this, thenLoad](std::optional<RedisProbe::Found> found) {
        HERMES_ASSERT_THREAD(this);
        m_probing = false;
        if (!found)
            return; // the connection was lost: that starts over
        const bool restarted = !m_runId.isEmpty() && !found->runId.isEmpty() && found->runId != m_runId;
        onProbed(*found);
        if (thenLoad) {
            load(m_historyLoaded ? Load::After : Load::Tail);
        } else if (restarted && !m_filling) {
            // Another Redis behind the same connection (a proxy): check the history now.
            m_filling = true;
            load(Load::After);
        }
    });
}

void RedisBroker::onProbed(const RedisProbe::Found &found)
{
    if (!found.runId.isEmpty()) {
        if (!m_mark.runId.isEmpty() && found.runId != m_mark.runId)
            qCInfo(lcBroker).noquote() << "Redis restarted since this node's mark (run_id"
                                       << m_mark.runId << "->" << found.runId
                                       << "): its history is checked against what this node delivered";
        m_runId = found.runId;
        RedisMark mark = m_mark;
        mark.runId = found.runId;
        remember(mark);
    }
    QString blocked;
    if (RedisProbe::evictsHermesKeys(found.evictionPolicy)) {
        const QString why = QStringLiteral(
            "Redis' maxmemory-policy is %1: Redis may evict Hermes' streams and keys, and clients "
            "would miss their events. Set maxmemory-policy to noeviction (or volatile-*), or "
            "HERMES_REDIS_ALLOW_EVICTION=1 to run anyway").arg(QString::fromUtf8(found.evictionPolicy));
        if (!m_options.allowEviction)
            blocked = why;
        else if (m_lastPolicy != found.evictionPolicy)
            qCWarning(lcBroker).noquote() << why << "(allowed by HERMES_REDIS_ALLOW_EVICTION)";
    }
    m_lastPolicy = found.evictionPolicy;
    if (blocked != m_blocked) {
        if (!blocked.isEmpty())
            qCCritical(lcBroker).noquote() << "not ready:" << blocked;
        else
            qCInfo(lcBroker) << "Redis' maxmemory-policy no longer evicts Hermes' keys";
        m_blocked = blocked;
    }
    if (found.streamLength > 0 && found.streamLength != m_streamLength) {
        qCWarning(lcBroker).noquote()
            << "the deployment keeps" << found.streamLength << "events per stream"
            << "(" + QString::fromUtf8(m_keys.config()) + " stream_length), not"
            << m_streamLength << "- using the deployment's value (HERMES_REDIS_STREAM_LENGTH"
            << "belongs to the deployment: the first node stores it)";
        m_streamLength = found.streamLength;
        m_historyReader.setStreamLength(m_streamLength);
        m_adopter = RedisAdopter(m_keys, m_streamLength, m_options.adoptWindowSec);
    }
    updateUp();
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
        .heads = m_keys.heads(),
        .config = m_keys.config(),
        .maxLength = m_streamLength,
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
