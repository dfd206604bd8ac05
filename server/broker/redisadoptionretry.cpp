#include "broker/redisadoptionretry.h"

#include "broker/redisconnection.h"
#include "logging.h"

#include <hiredis/hiredis.h>

namespace Hermes {

// The later of two positions; `b` when they are of different epochs (the newer database).
static EventId later(EventId a, EventId b)
{
    return a.epoch() == b.epoch() ? std::max(a, b) : b;
}

RedisAdoptionRetry::RedisAdoptionRetry(const RedisAdopter *adopter, RedisKeyspace keys,
                                       RedisConnection *commands, AdoptRetryQueue::Limits limits,
                                       Delivered delivered, QObject *parent)
    : QObject(parent), m_adopter(adopter), m_keys(std::move(keys)), m_commands(commands),
      m_delivered(std::move(delivered)), m_queue(limits)
{
    m_clock.start();
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &RedisAdoptionRetry::retryDue);
    m_lossTimer.setSingleShot(true);
    connect(&m_lossTimer, &QTimer::timeout, this, &RedisAdoptionRetry::emitLosses);
    m_recordTimer.setSingleShot(true);
    connect(&m_recordTimer, &QTimer::timeout, this, &RedisAdoptionRetry::recordLosses);
    m_recordBackoff.setBaseMs(limits.baseDelayMs);
    m_recordBackoff.setCapMs(limits.maxDelayMs);
}

void RedisAdoptionRetry::adopt(Channel channel, const QByteArray &payload)
{
    const EventId after = m_delivered();
    if (m_queue.isEmpty()) {
        send(0, channel, payload, after);
        return;
    }
    // Others wait: it goes behind them, so one publisher's messages keep their order.
    std::vector<Entry> givenUp;
    m_queue.add(channel, payload, after, now(), false, &givenUp);
    giveUp(givenUp);
    schedule();
}

void RedisAdoptionRetry::send(quint64 ticket, Channel channel, const QByteArray &payload,
                              EventId after)
{
    const Result<RedisScripts::Adopt> call = m_adopter->adoption(channel, payload);
    if (!call) {
        m_queue.succeeded(ticket); // not an envelope: the caller checked, nothing to retry
        return;
    }
    m_commands->command(call->command(), [this, ticket, channel, payload, after](redisReply *r) {
        onReply(ticket, channel, payload, after, r);
    });
}

void RedisAdoptionRetry::onReply(quint64 ticket, Channel channel, const QByteArray &payload,
                                 EventId after, redisReply *reply)
{
    // An id: adopted, by this attempt or another node's (then it was forwarded from there).
    if (!RedisReply::isError(reply) && EventId::parse(RedisReply::string(reply))) {
        if (ticket)
            m_queue.succeeded(ticket);
        schedule();
        return;
    }
    m_lastFailure = reply ? RedisReply::string(reply) : QByteArray("connection lost");
    ++m_failsSinceLog;
    if (!m_failLog.isValid() || m_failLog.elapsed() >= 10000) {
        qCWarning(lcBroker).noquote()
            << QStringLiteral("could not adopt %1 message(s), last on %2 (%3); retrying, %4 waiting")
                   .arg(m_failsSinceLog).arg(channel.name(), QString::fromUtf8(m_lastFailure))
                   .arg(m_queue.size() + (ticket ? 0 : 1));
        m_failsSinceLog = 0;
        m_failLog.start();
    }
    std::vector<Entry> givenUp;
    if (ticket)
        m_queue.failed(ticket, now(), &givenUp);
    else
        m_queue.add(channel, payload, after, now(), true, &givenUp);
    giveUp(givenUp);
    schedule();
}

void RedisAdoptionRetry::retryDue()
{
    std::vector<Entry> givenUp;
    m_queue.expire(now(), &givenUp);
    giveUp(givenUp);
    // In order, on one connection: Redis runs them in that order. (A connection that is down
    // answers each at once with null: they back off.)
    for (const Entry &e : m_queue.startDue(now()))
        send(e.ticket, e.channel, e.payload, e.after);
    schedule();
}

void RedisAdoptionRetry::schedule()
{
    const std::optional<qint64> wake = m_queue.nextWakeMs();
    if (!wake) {
        m_retryTimer.stop();
        return;
    }
    const qint64 in = std::max<qint64>(0, *wake - now());
    if (!m_retryTimer.isActive() || m_retryTimer.remainingTime() > in)
        m_retryTimer.start(int(in));
}

void RedisAdoptionRetry::giveUp(const std::vector<Entry> &entries)
{
    if (entries.empty())
        return;
    // Whoever saw what this node delivered up to now may have missed them.
    const EventId delivered = m_delivered();
    for (const Entry &e : entries) {
        ChannelLoss &loss = m_losses[size_t(e.channel.index())];
        loss.after = loss.count == 0 ? e.after : std::min(loss.after, e.after);
        ++loss.count;
        if (delivered.epoch() != 0)
            loss.unrecorded = later(loss.unrecorded, later(e.after, delivered));
    }
    const Entry &last = entries.back();
    const bool timedOut = now() - last.firstMs >= m_queue.limits().giveUpAfterMs;
    qCWarning(lcBroker).noquote()
        << QStringLiteral("gave up adopting %1 outside message(s), last on %2 after %3 ms and %4 "
                          "attempt(s) (%5); their channels' streams resync")
               .arg(entries.size()).arg(last.channel.name()).arg(now() - last.firstMs).arg(last.attempts)
               .arg(timedOut ? QString::fromUtf8(m_lastFailure)
                             : QStringLiteral("too many waiting: the oldest give up"));
    if (!m_lossTimer.isActive())
        m_lossTimer.start(0);
}

void RedisAdoptionRetry::emitLosses()
{
    for (Channel channel : Channel::all()) {
        ChannelLoss &loss = m_losses[size_t(channel.index())];
        if (loss.count == 0)
            continue;
        const quint64 count = std::exchange(loss.count, 0);
        loss.declared = later(loss.after, m_delivered());
        Q_EMIT lost(channel, loss.after, count);
    }
    m_recordAttempt = 0;
    recordLosses();
}

void RedisAdoptionRetry::recordLosses()
{
    bool waiting = false;
    for (Channel channel : Channel::all()) {
        ChannelLoss &loss = m_losses[size_t(channel.index())];
        if (loss.unrecorded.isNull() || loss.recording)
            continue;
        if (!m_commands->isReady()) {
            waiting = true;
            continue;
        }
        loss.recording = true;
        const EventId through = loss.unrecorded;
        const RedisScripts::MarkLost call{
            .sequence = m_keys.sequence(),
            .epoch = m_keys.epoch(),
            .trimmed = m_keys.trimmed(channel),
            .streams = m_keys.streams(),
            .callerEpoch = EventId::epochText(through.epoch()),
            .after = through.position(),
            .lossesChannel = m_keys.lossesChannel(),
            .channel = channel.nameBytes(),
        };
        m_commands->command(call.command(), [this, channel, through](redisReply *r) {
            onRecorded(channel, through, r);
        });
    }
    if (waiting && !m_recordTimer.isActive())
        m_recordTimer.start(m_recordBackoff.delayMs(++m_recordAttempt));
}

void RedisAdoptionRetry::onRecorded(Channel channel, EventId through, redisReply *reply)
{
    ChannelLoss &loss = m_losses[size_t(channel.index())];
    loss.recording = false;
    const bool answered = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2;
    if (!answered) {
        // Still out of memory, or the connection is gone: again, with backoff, until it works.
        if (!m_recordTimer.isActive())
            m_recordTimer.start(m_recordBackoff.delayMs(++m_recordAttempt));
        return;
    }
    m_recordAttempt = 0;
    const QByteArray what = RedisReply::string(reply->element[0]);
    if (what == "marked") {
        if (const auto id = EventId::parse(RedisReply::string(reply->element[1])))
            loss.recorded = later(loss.recorded, *id);
        qCInfo(lcBroker).noquote() << "recorded the loss on" << channel.name() << "in Redis";
    }
    if (loss.unrecorded == through)
        loss.unrecorded = EventId();
    else
        QMetaObject::invokeMethod(this, &RedisAdoptionRetry::recordLosses, Qt::QueuedConnection);
}

void RedisAdoptionRetry::onAnnouncement(const QByteArray &payload)
{
    const QList<QByteArray> parts = payload.split('\n');
    const auto marker = parts.size() == 3 ? EventId::parse(parts[0]) : std::nullopt;
    const auto channel = parts.size() == 3 ? Channel::fromName(QString::fromUtf8(parts[1])) : std::nullopt;
    const auto after = parts.size() == 3 ? EventId::parse(parts[2]) : std::nullopt;
    const EventId delivered = m_delivered();
    if (!marker || !channel || !after || marker->epoch() != delivered.epoch())
        return; // not one, or of a database that is gone
    ChannelLoss &loss = m_losses[size_t(channel->index())];
    loss.recorded = later(loss.recorded, *marker);
    const EventId lostAfter = after->withEpoch(marker->epoch());
    if (loss.declared.epoch() == lostAfter.epoch() && !(loss.declared < lostAfter))
        return; // this node told its streams already, at or after that position
    // Another node gave a message up that this one did not see (it was down, or not
    // subscribed yet) or saw later: its streams may have missed it too.
    loss.declared = later(lostAfter, delivered);
    qCWarning(lcBroker).noquote() << "another node could not adopt a message on" << channel->name()
                                  << "after" << lostAfter.toByteArray();
    Q_EMIT lost(*channel, lostAfter, 0);
}

void RedisAdoptionRetry::historyReplaced()
{
    const EventId delivered = m_delivered();
    for (Channel channel : Channel::all()) {
        const ChannelLoss &loss = m_losses[size_t(channel.index())];
        // A loss Redis does not hold yet is not among the history's floors: declare it again.
        if (!loss.unrecorded.isNull() && loss.declared.epoch() == delivered.epoch())
            Q_EMIT lost(channel, loss.declared, 0);
    }
}

bool RedisAdoptionRetry::isRecordedLoss(Channel channel, EventId trimmed) const
{
    const EventId recorded = m_losses[size_t(channel.index())].recorded;
    return !recorded.isNull() && recorded.ms() == trimmed.ms() && recorded.seq() == trimmed.seq();
}

} // namespace Hermes
