#pragma once

#include "broker/broker.h"
#include "broker/redisconnection.h"
#include "reconnectbackoff.h"

#include <QElapsedTimer>
#include <QTimer>

#include <deque>
#include <map>

namespace Hermes {

/**
 * The Redis broker: several hermes-server nodes, and outside publishers, share one stream.
 *
 * - Publishing runs one Lua script that XADDs the envelope to the channel's capped stream
 *   (`<prefix>stream:<channel>`, MAXLEN ~ N) and PUBLISHes it with its stream id added as
 *   `"id"`, atomically: the stream id is the SSE id on every node.
 * - An outside publisher's bare PUBLISH (no `"id"`) is adopted: every node runs a script that
 *   XADDs it once (keyed by the SHA-1 of channel and payload, for a short window) and hands
 *   every node the same id.
 * - On start the streams fill the replay history, so a client may resume on any node. After
 *   a lost connection the broker reconnects with backoff, re-subscribes, and reads what it
 *   missed from the streams before live messages resume: nothing that reached Redis is lost.
 * - Envelopes that are not valid JSON are logged (rate-limited) and dropped.
 */
class RedisBroker final : public Broker
{
    Q_OBJECT
public:
    struct Options
    {
        RedisAddress address;
        QString keyPrefix = QStringLiteral("hermes:");
        int streamLength = 10000;
        int connectTimeoutMs = 5000;
        int adoptWindowSec = 60;
    };

    explicit RedisBroker(Options options, QObject *parent = nullptr);

    void start();
    QString name() const override { return QStringLiteral("redis"); }
    bool isUp() const override { return m_up; }
    EventId historyStart() const override { return {}; }
    void publish(const Event &event, PublishCallback done) override;
    void lookupToken(const QByteArray &token, TokenCallback done) override;

    quint64 reconnects() const { return m_reconnects; }

private:
    struct Incoming
    {
        Event event;
        bool ready = false;
    };

    void connectAll();
    void onConnectionReady();
    void onConnectionLost(const QString &reason);
    void onMessage(redisReply *reply);
    void loadStreams();
    void drain();
    void deliver(const Event &event);
    QByteArray streamKey(QStringView channel) const;
    void setUp(bool up);
    void discard(const QString &channel, const QString &why);

    Options m_options;
    RedisConnection m_commands;
    RedisConnection m_subscriber;
    ReconnectBackoff m_backoff;
    QTimer m_reconnectTimer;
    int m_attempt = 0;
    bool m_up = false;
    bool m_historyLoaded = false;  ///< the first load went to the history, later ones are gap fills
    bool m_filling = false;        ///< reading the streams: live messages wait behind it
    int m_subscriptionsConfirmed = 0;
    std::deque<Incoming> m_incoming;
    std::map<QString, EventId> m_lastSeen; ///< per channel, the newest id handed on
    quint64 m_reconnects = 0;
    QElapsedTimer m_lastDiscardLog;
    quint64 m_discardsSinceLog = 0;
};

} // namespace Hermes
