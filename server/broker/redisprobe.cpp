#include "broker/redisprobe.h"

#include "broker/redisconnection.h"

#include <hiredis/hiredis.h>

#include <memory>

namespace Hermes {

RedisProbe::RedisProbe(RedisKeyspace keys, int streamLength)
    : m_keys(std::move(keys)), m_streamLength(streamLength)
{
}

bool RedisProbe::evictsHermesKeys(const QByteArray &policy)
{
    return policy.startsWith("allkeys-");
}

QByteArray RedisProbe::infoField(const QByteArray &info, const QByteArray &field)
{
    for (const QByteArray &line : info.split('\n')) {
        if (line.startsWith(field + ':'))
            return line.mid(field.size() + 1).trimmed();
    }
    return {};
}

void RedisProbe::run(RedisConnection &connection, std::function<void(std::optional<Found>)> done) const
{
    // One connection answers in order: the last reply completes the probe.
    auto found = std::make_shared<Found>();
    auto lost = std::make_shared<bool>(false);
    connection.command({"INFO", "server"}, [found, lost](redisReply *r) {
        *lost = *lost || !r;
        if (r && !RedisReply::isError(r))
            found->runId = infoField(RedisReply::string(r), "run_id");
    });
    connection.command({"INFO", "memory"}, [found, lost](redisReply *r) {
        *lost = *lost || !r;
        if (r && !RedisReply::isError(r))
            found->evictionPolicy = infoField(RedisReply::string(r), "maxmemory_policy");
    });
    connection.command({"HSETNX", m_keys.config(), "stream_length", QByteArray::number(m_streamLength)},
                       [lost](redisReply *r) { *lost = *lost || !r; });
    connection.command({"HGET", m_keys.config(), "stream_length"}, [found, lost, done](redisReply *r) {
        if (*lost || !r) {
            done(std::nullopt);
            return;
        }
        bool ok = false;
        const int length = RedisReply::string(r).toInt(&ok);
        found->streamLength = ok && length > 0 ? length : 0;
        done(*found);
    });
}

} // namespace Hermes
