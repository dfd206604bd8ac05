#include "broker/redisreplicawait.h"

#include "broker/redisconnection.h"
#include "logging.h"

#include <hiredis/hiredis.h>

namespace Hermes {

RedisReplicaWait::RedisReplicaWait(QObject *context, RedisConnection *connection, int replicas,
                                   int timeoutMs)
    : m_context(context), m_connection(connection), m_replicas(replicas), m_timeoutMs(timeoutMs)
{
}

RedisReplicaWait::Done RedisReplicaWait::add(Done done)
{
    auto entry = std::make_shared<Entry>();
    entry->done = std::move(done);
    m_unsent.push_back(entry);
    if (!m_waiting && !m_scheduled) {
        m_scheduled = true;
        QMetaObject::invokeMethod(m_context, [this] { sendWait(); }, Qt::QueuedConnection);
    }
    return [entry](Result<EventId> written) {
        if (!written && !entry->answered) {
            entry->answered = true; // not written: nothing to wait for
            if (entry->done)
                entry->done(written);
            return;
        }
        entry->written = std::move(written);
    };
}

void RedisReplicaWait::sendWait()
{
    m_scheduled = false;
    if (m_unsent.empty() || m_waiting)
        return;
    m_waiting = true;
    std::vector<std::shared_ptr<Entry>> batch;
    batch.swap(m_unsent);
    m_connection->command({"WAIT", QByteArray::number(m_replicas), QByteArray::number(m_timeoutMs)},
                          [this, batch = std::move(batch)](redisReply *reply) {
        m_waiting = false;
        const long long confirmed = reply && reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;
        const bool enough = confirmed >= m_replicas;
        if (!enough && (!m_lastLog.isValid() || m_lastLog.elapsed() >= 10000)) {
            m_lastLog.start(); // once per 10 s: replicas gone for a minute are one story
            qCWarning(lcBroker).noquote()
                << "publish not confirmed by" << m_replicas << "replica(s) within" << m_timeoutMs << "ms:"
                << (confirmed >= 0 ? QStringLiteral("%1 confirmed").arg(confirmed)
                                   : reply ? QString::fromUtf8(RedisReply::string(reply))
                                           : QStringLiteral("connection lost"))
                << "- answered 503 to" << batch.size() << "publish(es)";
        }
        for (const auto &entry : batch) {
            if (entry->answered)
                continue;
            entry->answered = true;
            if (!entry->done)
                continue;
            if (enough && entry->written)
                entry->done(entry->written);
            else
                entry->done(Error::unavailable("broker_unavailable",
                                               QStringLiteral("the event was not confirmed on enough Redis "
                                                              "replicas in time (it may still be delivered)")));
        }
        if (!m_unsent.empty())
            sendWait();
    });
}

} // namespace Hermes
