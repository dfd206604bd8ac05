#pragma once

#include "broker/adoptretryqueue.h"
#include "broker/redisadopter.h"
#include "broker/rediskeyspace.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <array>
#include <functional>

struct redisReply;

namespace Hermes {

class RedisConnection;

/**
 * Adopts outside publishers' messages for RedisBroker, and sees each one through: an adoption
 * that fails (Redis out of memory under `noeviction`, a script error, the connection lost
 * before the answer) is retried with backoff (AdoptRetryQueue) until HERMES_REDIS_ADOPT_RETRY_LIMIT;
 * adoption is idempotent for the adoption window, so the retries of every node still give one
 * event. A message given up (its time is over, or a flood pushed it out of the full queue) is
 * a loss on its channel: lost() says so (coalesced per channel and event-loop turn), and the
 * loss is recorded in Redis (RedisScripts::MarkLost: the channel's trimmed key rises above
 * what this node had delivered), retried until Redis takes writes again, so a node that
 * loads later sends the clients that resume from before it `resync_required` too.
 *
 * It remembers the positions it recorded as losses: the broker's gap fill must not take them
 * for trimming past what it delivered (isRecordedLoss()).
 *
 * Thread contract: the broker's thread (its connection's).
 */
class RedisAdoptionRetry final : public QObject
{
    Q_OBJECT
public:
    /// The newest id the node delivered, with its epoch (null before the first history).
    using Delivered = std::function<EventId()>;

    RedisAdoptionRetry(const RedisAdopter *adopter, RedisKeyspace keys, RedisConnection *commands,
                       AdoptRetryQueue::Limits limits, Delivered delivered,
                       QObject *parent = nullptr);

    /// Adopts `payload`, received on the public `channel` (a valid envelope: see
    /// RedisAdopter::adoption()).
    void adopt(Channel channel, const QByteArray &payload);
    /// A message on the losses channel (RedisKeyspace::lossesChannel()): a loss another node
    /// (or this one) recorded. Streams resync unless this node declared it already.
    void onAnnouncement(const QByteArray &payload);
    /// The broker loaded a history in place of the one it had (same epoch or not): losses this
    /// node declared and Redis does not hold yet (still out of memory) are not among its floors,
    /// so they are declared again (lost(), count 0).
    void historyReplaced();
    /// Whether `trimmed` (a position of `channel`'s trimmed key) is a recorded loss this node
    /// knows (it recorded it, or heard it announced).
    bool isRecordedLoss(Channel channel, EventId trimmed) const;
    int waiting() const { return m_queue.size(); }

Q_SIGNALS:
    /// See Broker::eventsLost().
    void lost(Hermes::Channel channel, Hermes::EventId after, quint64 count);

private:
    using Entry = AdoptRetryQueue::Entry;

    qint64 now() const { return m_clock.elapsed(); }
    /// Sends one adoption; `ticket` 0: its first attempt (not queued yet).
    void send(quint64 ticket, Channel channel, const QByteArray &payload, EventId after);
    void onReply(quint64 ticket, Channel channel, const QByteArray &payload, EventId after,
                 redisReply *reply);
    void retryDue();
    void schedule();
    void giveUp(const std::vector<Entry> &entries);
    void emitLosses();
    void recordLosses();
    void onRecorded(Channel channel, EventId through, redisReply *reply);

    const RedisAdopter *m_adopter;
    RedisKeyspace m_keys;
    RedisConnection *m_commands;
    Delivered m_delivered;
    AdoptRetryQueue m_queue;
    QElapsedTimer m_clock;
    QTimer m_retryTimer;
    QTimer m_lossTimer;   ///< emits the losses of one turn together
    QTimer m_recordTimer; ///< retries recording losses in Redis
    ReconnectBackoff m_recordBackoff;
    int m_recordAttempt = 0;

    struct ChannelLoss
    {
        quint64 count = 0;       ///< given up, not reported yet
        EventId after;           ///< the oldest of those messages' `after`
        EventId unrecorded;      ///< to record in Redis: lost up to here (null: nothing)
        bool recording = false;  ///< a MarkLost is on its way
        EventId recorded;        ///< the newest recorded loss known (MarkLost's position)
        EventId declared;        ///< the newest position this node's streams were told at
    };
    std::array<ChannelLoss, Channel::Count> m_losses;
    QElapsedTimer m_failLog;
    quint64 m_failsSinceLog = 0;
    QByteArray m_lastFailure;
};

} // namespace Hermes
