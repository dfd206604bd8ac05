#pragma once

#include "broker/broker.h"
#include "broker/redisadopter.h"
#include "broker/redisadoptionretry.h"
#include "broker/redisconnection.h"
#include "broker/redishistoryreader.h"
#include "broker/redistailread.h"
#include "broker/rediskeyspace.h"
#include "broker/redismark.h"
#include "broker/redisprobe.h"
#include "broker/redisreplicawait.h"
#include "broker/redissentinellocator.h"
#include "broker/tokenlookup.h"
#include "reconnectbackoff.h"
#include "settings/redissettings.h"

#include <QElapsedTimer>
#include <QTimer>

#include <deque>
#include <memory>

namespace Hermes {

/**
 * The Redis broker: several hermes-server nodes, and outside publishers, share one bus.
 *
 * - One total order: every event, on any channel, gets its position from one sequence
 *   (`<prefix>seq`, advanced from Redis' own clock inside a Lua script, so it only grows)
 *   and the epoch (`<prefix>epoch`) of the Redis database it lives in. The script adds the
 *   event to its channel's capped stream (`<prefix>stream:<channel>`, trimmed exactly to about
 *   N entries, the newest trimmed id kept in `<prefix>trimmed:<channel>`; per channel, so a
 *   busy channel never pushes a quiet one's events out of the history) and publishes it
 *   with its id on the internal channel `<prefix>events` — all atomically, so every node
 *   receives every event there in id order. Events published through a node are also
 *   PUBLISHed on their public channel (with an extra `"id"` member) for the Python Hermes'
 *   subscribers.
 * - An outside publisher's bare PUBLISH on a public channel is adopted: every node that sees
 *   it runs a script that gives it an id and forwards it, once (keyed by the SHA-1 of channel
 *   and payload, for a short window); the forwarded copy is what the nodes deliver. An
 *   adoption that fails (Redis out of memory…) is retried, and given up after
 *   HERMES_REDIS_ADOPT_RETRY_LIMIT: eventsLost() (RedisAdoptionRetry).
 * - On start the streams fill the replay history. After a lost connection the broker
 *   reconnects with backoff, re-subscribes, and reads what it missed from the streams before
 *   live messages resume. A database that was flushed or replaced (another epoch) replaces the
 *   history: streams resync. Streams trimmed or deleted past what this node had delivered
 *   reload it too, in the same epoch: only the streams whose channels lost events resync
 *   (StreamWorker::applyHistory()). Gap fills
 *   page through the streams until they reach the live events.
 * - Continuity: the node's mark (what it delivered; kept in the data dir, RedisMarkFile) goes
 *   with every load, and the Load script checks that it is all still there; when not (Redis
 *   went back in time) it starts a new epoch and announces it, so every node reloads and its
 *   streams resync. A stream key that vanished gets a floor from `<prefix>heads`.
 * - The deployment (RedisProbe, on connecting and every few seconds): the stream length is
 *   the deployment's, and a maxmemory-policy that may evict Hermes' keys keeps the node down
 *   (not ready, publishes refused; events are still delivered) unless allowed.
 * - Envelopes that are not valid JSON are logged (rate-limited) and dropped.
 * - With sentinels (HERMES_REDIS_SENTINELS) every connect asks them for the master first
 *   (RedisSentinelLocator); a failover (`+switch-master`, the master lost, or ROLE on it no
 *   longer saying master) is a lost connection: the reconnect locates the new master and the
 *   gap fill reads what was missed. With HERMES_REDIS_WAIT_REPLICAS a publish is
 *   acknowledged only once that many replicas have it (RedisReplicaWait).
 *
 * The names of keys and channels are RedisKeyspace's, the scripts and their arguments
 * RedisScripts', reading the streams is RedisHistoryReader's, recognising outside messages
 * RedisAdopter's; this class composes them: the connections, reconnecting with backoff,
 * filling the history then draining live events, publishing.
 *
 * Thread contract: it lives on the main thread (its connections are driven by that thread's
 * event loop); only mayStillArrive() may be called from any thread.
 */
class RedisBroker final : public Broker, public ExternalTokenLookup
{
    Q_OBJECT
public:
    /// The HERMES_REDIS_* settings group, and the address parsed from its url.
    struct Options : RedisSettings
    {
        RedisAddress address;                ///< with sentinels: the password and database only
        QList<RedisAddress> sentinelAddresses; ///< empty: `address` is the Redis
        QString markPath; ///< the node's mark file (in the data dir); empty: kept in memory only
        int markIntervalMs = RedisMarkFile::DefaultIntervalMs; ///< saved at most this often (and at the stop)
        /// The history's bounds per channel (HERMES_SSE_HISTORY_SIZE, _BYTES): a load reads
        /// no more of the streams' tails than fits them (RedisTailRead).
        int historySize = std::numeric_limits<int>::max();
        qint64 historyBytes = std::numeric_limits<qint64>::max();
    };

    explicit RedisBroker(Options options, QObject *parent = nullptr);
    /// Saves the mark.
    ~RedisBroker() override;

    /// Connects (and keeps reconnecting); never fails.
    Result<void> start() override;
    QString name() const override { return QStringLiteral("redis"); }
    bool isUp() const override { return m_up; }
    QString location() const override;
    void publish(const Event &event, PublishCallback done) override;
    /// Another node may have issued it: only the bus can bring it, so wait for it.
    HERMES_ANY_THREAD bool mayStillArrive(EventId) const override { return true; }
    void lookupToken(const QByteArray &token, Callback done) override;

    quint64 reconnects() const { return m_reconnects; }
    /// Why the broker is not up although connected (an evicting maxmemory-policy); empty: none.
    QString statusDetail() const override { return m_blocked; }
    /// The stream length in use: the deployment's once known, else this node's setting.
    int streamLength() const { return m_streamLength; }
    /// What this node delivered (its mark).
    const RedisMark &mark() const { return m_mark; }
    /// Failovers the sentinels announced (+switch-master); 0 without sentinels.
    quint64 masterSwitches() const { return m_sentinel ? m_sentinel->switches() : 0; }

private:
    using Load = RedisHistoryReader::Mode;
    /// Live events held while the streams are read; beyond it the node reconnects.
    static constexpr size_t MaxHeldEvents = 100000;
    /// How often the deployment is probed again (RedisProbe) while connected.
    static constexpr int ProbeIntervalMs = 5000;
    /// Outside messages waiting for another adoption attempt, at most (the oldest give up).
    static constexpr int MaxAdoptRetries = 10000;
    static constexpr qint64 MaxAdoptRetryBytes = 16 << 20;

    void connectAll();
    void openConnections();
    void onMasterLocated(const RedisAddress &master);
    void checkRole();
    void onConnectionReady();
    void onConnectionLost(const QString &reason);
    void loseConnection(const QString &reason);
    void onMessage(redisReply *reply);
    void onEventMessage(const QByteArray &payload);
    void adopt(Channel channel, const QByteArray &payload);
    void probe(bool thenLoad);
    void onProbed(const RedisProbe::Found &found);
    void load(Load mode);
    /// Tail mode: the first page is in; reads the rest (RedisTailRead), then onLoaded().
    void readTail();
    /// `floors`: Tail mode's, per channel the newest id not in the history loaded.
    void onLoaded(Load mode, const RedisHistoryReader::Loaded &loaded, const ChannelFloors &floors = {});
    /// After mode: delivers the gap; false when it asked for the next page.
    bool fillGap(const RedisHistoryReader::Loaded &loaded);
    void onReloadNotice(quint32 epoch);
    void remember(const RedisMark &mark);
    void updateUp();
    void drain();
    void deliver(const Event &event);
    void setUp(bool up);
    void discard(const QString &channel, const QString &why);

    Options m_options;
    RedisKeyspace m_keys;
    RedisHistoryReader m_historyReader;
    RedisTailRead m_tailRead;      ///< a tail load's pages
    RedisAdopter m_adopter;
    RedisConnection m_commands;
    RedisConnection m_subscriber;
    RedisReplicaWait m_replicaWait;
    std::unique_ptr<RedisSentinelLocator> m_sentinel; ///< null without sentinels
    QTimer m_roleCheck;            ///< with sentinels: is the master still one?
    RedisAdoptionRetry m_adoptions; ///< after m_commands, which it sends on
    ReconnectBackoff m_backoff = ReconnectBackoff::fullJitter();
    QTimer m_reconnectTimer;
    int m_attempt = 0;
    bool m_up = false;
    bool m_historyLoaded = false;  ///< the first load went to the history, later ones fill gaps
    bool m_filling = false;        ///< reading the streams: live events wait behind it
    int m_subscriptionsConfirmed = 0;
    std::deque<Event> m_incoming;  ///< live events held while filling
    quint32 m_epoch = 0;
    EventId m_lastDelivered;       ///< the newest id handed on
    quint64 m_reconnects = 0;
    int m_streamLength;            ///< the deployment's, once probed
    RedisProbe m_probe;
    QTimer m_probeTimer;
    bool m_probing = false;
    QByteArray m_runId;            ///< the run_id of the Redis connected to
    QByteArray m_lastPolicy;       ///< the maxmemory-policy last seen
    QString m_blocked;             ///< why the node is kept down while connected
    bool m_loaded = false;         ///< the history is loaded on this connection
    quint32 m_noticedEpoch = 0;    ///< a reload notice's epoch, while a load is in flight
    RedisMark m_mark;
    std::unique_ptr<RedisMarkFile> m_markFile;
    QElapsedTimer m_lastDiscardLog;
    quint64 m_discardsSinceLog = 0;
};

} // namespace Hermes
