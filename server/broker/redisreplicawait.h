#pragma once

#include "broker/broker.h"

#include <QElapsedTimer>

#include <memory>
#include <vector>

namespace Hermes {

class RedisConnection;

/**
 * HERMES_REDIS_WAIT_REPLICAS: a publish is acknowledged only once `WAIT N timeout` says N
 * replicas have it, so a failover to one of them loses no acknowledged event.
 *
 * WAIT covers every write sent before it on its connection, and blocks that connection while
 * it waits: the writes sent in one turn of the event loop share one WAIT, and only one WAIT is
 * outstanding at a time (writes sent meanwhile wait behind it in Redis and share the next). So
 * however many publishes come, no command on the connection stays unanswered much longer than
 * the timeout — which must stay below the connection's own (a command unanswered that long
 * means a lost connection).
 *
 * A write that is not confirmed in time answers Unavailable: the event may still be delivered
 * (the master has it and has published it), it is only not known to survive a failover.
 *
 * Thread contract: its connection's thread.
 */
class RedisReplicaWait final
{
public:
    using Done = Broker::PublishCallback;

    /// `context`: the queued sending of WAIT is dropped when it is destroyed.
    RedisReplicaWait(QObject *context, RedisConnection *connection, int replicas, int timeoutMs);

    bool isOn() const { return m_replicas > 0; }
    /// Call when the write has just been sent on the connection; `done` is answered after the
    /// WAIT that follows it. Returns what to call with the write's own result.
    Done add(Done done);

private:
    struct Entry
    {
        Done done;
        Result<EventId> written = Error::unavailable("broker_unavailable", QStringLiteral("no reply"));
        bool answered = false;
    };
    void sendWait();

    QObject *m_context;
    RedisConnection *m_connection;
    int m_replicas;
    int m_timeoutMs;
    std::vector<std::shared_ptr<Entry>> m_unsent; ///< written, no WAIT sent after them yet
    bool m_waiting = false;    ///< a WAIT is outstanding
    bool m_scheduled = false;  ///< sendWait() is queued
    QElapsedTimer m_lastLog;
};

} // namespace Hermes
