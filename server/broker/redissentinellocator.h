#pragma once

#include "broker/redisaddress.h"
#include "broker/redisconnection.h"
#include "result.h"

#include <QList>
#include <QObject>
#include <QStringList>
#include <QTimer>

namespace Hermes {

/**
 * Finds the Redis master through Redis Sentinel, and says when it moves.
 *
 * locate() asks the sentinels in turn (`SENTINEL get-master-addr-by-name`, starting with the
 * one that answered last) and checks each answer with `ROLE` on the named server: a sentinel
 * that is stale, or cut off from the others, may still name a master that was demoted since,
 * and only a server that says `master` is taken. The first one that does is located(); when
 * none does, failed() says why for each sentinel (the owner retries with its backoff).
 *
 * After a success it subscribes to `+switch-master` on the sentinel that answered (on the
 * next one, a second later, when that one goes away) and emits switched() when the master of
 * its name moves. Knowing the new address is not enough: the owner drops its connections and
 * locates again, so the new master is checked like the first.
 *
 * The sentinel password is used for AUTH only: it is in no message, log line or error.
 * Sentinels are IP addresses (hiredis resolves names synchronously, blocking the thread).
 *
 * Thread contract: its owner's thread only (it drives RedisConnections).
 */
class RedisSentinelLocator final : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        QList<RedisAddress> sentinels; ///< with the sentinels' password
        QString masterName;
        RedisAddress data;             ///< the password, user and database of the data Redis
        int timeoutMs = 5000;
    };

    /// `ip:port` (IPv6: `[ip]:port`) each, or why not (`invalid_redis_sentinels`, naming
    /// HERMES_REDIS_SENTINELS; never the password).
    static Result<QList<RedisAddress>> parseSentinels(const QStringList &entries, const QString &password);

    explicit RedisSentinelLocator(Options options, QObject *parent = nullptr);

    /// Starts over: asks the sentinels. Ends with located() or failed(), from the event loop.
    void locate();
    /// Stops asking (a located() or failed() of the round in progress is not emitted).
    void cancel();
    /// The master last located, `ip:port`; empty before the first.
    QString master() const { return m_master; }
    /// Times a located master differed from the one before (failovers this node followed).
    quint64 switches() const { return m_switches; }

Q_SIGNALS:
    /// The master: `data` with the host and port the sentinels named.
    void located(const Hermes::RedisAddress &master);
    void failed(const QString &reason);
    /// The sentinels moved the master (to `to`, `ip:port`).
    void switched(const QString &to);

private:
    void askNext();
    void ask(int index);
    void probe(int index, const RedisAddress &candidate);
    void onProbeReady();
    void reject(const QString &reason);
    void watch(int index);
    void onWatchMessage(redisReply *reply);
    /// Runs `step` from the event loop unless the round changed meanwhile: hiredis' callbacks
    /// must not free the connection they come from.
    void later(std::function<void()> step);

    Options m_options;
    RedisConnection m_query;   ///< to the sentinel being asked
    RedisConnection m_probe;   ///< to the server it named: ROLE
    RedisConnection m_watch;   ///< subscribed to +switch-master
    QTimer m_rewatch;
    quint64 m_round = 0;       ///< bumped by locate() and cancel(): stale steps do nothing
    bool m_active = false;
    int m_start = 0;           ///< the sentinel that answered last: asked first
    int m_tried = 0;
    int m_current = -1;
    int m_watching = -1;
    bool m_watchUp = false;
    RedisAddress m_candidate;  ///< what the sentinel being asked named
    QStringList m_reasons;
    QString m_master;
    quint64 m_switches = 0;
};

} // namespace Hermes
