#include "broker/redissentinellocator.h"

#include "logging.h"
#include "threadaffinity.h"

#include <hiredis/hiredis.h>

#include <QHostAddress>

namespace Hermes {

namespace {
QString hostPort(const RedisAddress &a)
{
    return a.host.contains(u':') ? QStringLiteral("[%1]:%2").arg(a.host).arg(a.port)
                                 : QStringLiteral("%1:%2").arg(a.host).arg(a.port);
}
} // namespace

Result<QList<RedisAddress>> RedisSentinelLocator::parseSentinels(const QStringList &entries,
                                                                 const QString &password)
{
    QList<RedisAddress> out;
    for (QString entry : entries) {
        entry = entry.trimmed();
        if (entry.isEmpty())
            continue;
        const qsizetype colon = entry.lastIndexOf(u':');
        QString host = colon > 0 ? entry.first(colon) : QString();
        if (host.startsWith(u'[') && host.endsWith(u']'))
            host = host.sliced(1, host.size() - 2);
        bool portOk = false;
        const int port = colon > 0 ? entry.sliced(colon + 1).toInt(&portOk) : 0;
        if (QHostAddress(host).isNull() || !portOk || port <= 0 || port > 65535)
            return Error::invalid("invalid_redis_sentinels",
                                  QStringLiteral("HERMES_REDIS_SENTINELS: \"%1\" is not ip:port (an IP "
                                                 "address: host names would be resolved synchronously, "
                                                 "blocking the server)").arg(entry));
        RedisAddress a;
        a.host = host;
        a.port = port;
        a.password = password;
        out.append(a);
    }
    if (out.isEmpty())
        return Error::invalid("invalid_redis_sentinels", QStringLiteral("HERMES_REDIS_SENTINELS: no sentinel"));
    return out;
}

RedisSentinelLocator::RedisSentinelLocator(Options options, QObject *parent)
    : QObject(parent), m_options(std::move(options))
{
    connect(&m_query, &RedisConnection::ready, this, [this] {
        if (!m_active)
            return;
        const quint64 round = m_round;
        const int index = m_current;
        m_query.command({"SENTINEL", "get-master-addr-by-name", m_options.masterName.toUtf8()},
                        [this, round, index](redisReply *reply) {
            const QString sentinel = hostPort(m_options.sentinels[index]);
            QString why;
            RedisAddress candidate = m_options.data;
            if (!reply)
                why = QStringLiteral("connection lost");
            else if (reply->type == REDIS_REPLY_ERROR)
                why = QString::fromUtf8(RedisReply::string(reply));
            else if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2)
                why = QStringLiteral("does not know a master named \"%1\"").arg(m_options.masterName);
            else {
                bool ok = false;
                candidate.socketPath.clear();
                candidate.host = QString::fromUtf8(RedisReply::string(reply->element[0]));
                candidate.port = RedisReply::string(reply->element[1]).toInt(&ok);
                if (!ok || candidate.host.isEmpty())
                    why = QStringLiteral("gave an unreadable address");
                else if (QHostAddress(candidate.host).isNull())
                    // hiredis would resolve a name synchronously, on the event loop
                    // (sentinels with announce-hostnames / resolve-hostnames yes).
                    why = QStringLiteral("names the master by host name (%1); Hermes needs an IP address: "
                                         "set announce-hostnames no on the sentinels").arg(candidate.host);
            }
            later([this, round, index, why, sentinel, candidate] {
                if (round != m_round)
                    return;
                if (!why.isEmpty())
                    reject(QStringLiteral("sentinel %1: %2").arg(sentinel, why));
                else
                    probe(index, candidate);
            });
        });
    });
    connect(&m_query, &RedisConnection::disconnected, this, [this](const QString &reason) {
        if (m_active && m_current >= 0)
            reject(QStringLiteral("sentinel %1: %2").arg(hostPort(m_options.sentinels[m_current]), reason));
    });
    connect(&m_probe, &RedisConnection::ready, this, &RedisSentinelLocator::onProbeReady);
    connect(&m_probe, &RedisConnection::disconnected, this, [this](const QString &reason) {
        if (m_active && m_current >= 0)
            reject(QStringLiteral("sentinel %1 named %2, which cannot be reached: %3")
                       .arg(hostPort(m_options.sentinels[m_current]), hostPort(m_candidate), reason));
    });
    m_rewatch.setSingleShot(true);
    connect(&m_rewatch, &QTimer::timeout, this, [this] {
        watch((m_watching + 1) % int(m_options.sentinels.size()));
    });
    connect(&m_watch, &RedisConnection::ready, this, [this] {
        m_watchUp = true;
        m_watch.subscribe({"+switch-master"}, [this](redisReply *reply) { onWatchMessage(reply); });
    });
    connect(&m_watch, &RedisConnection::disconnected, this, [this](const QString &reason) {
        if (m_watchUp) // once, not for every sentinel tried after it
            qCWarning(lcBroker).noquote() << "Redis Sentinel: lost the watch on sentinel"
                                          << hostPort(m_options.sentinels[m_watching]) << "-" << reason
                                          << "- trying the others every second";
        m_watchUp = false;
        m_rewatch.start(1000);
    });
}

void RedisSentinelLocator::later(std::function<void()> step)
{
    QMetaObject::invokeMethod(this, std::move(step), Qt::QueuedConnection);
}

void RedisSentinelLocator::locate()
{
    HERMES_ASSERT_THREAD(this);
    cancel();
    m_active = true;
    m_tried = 0;
    m_reasons.clear();
    const quint64 round = m_round;
    later([this, round] {
        if (round == m_round)
            askNext();
    });
}

void RedisSentinelLocator::cancel()
{
    ++m_round;
    m_active = false;
    m_current = -1;
    m_query.close();
    m_probe.close();
}

void RedisSentinelLocator::askNext()
{
    const int count = int(m_options.sentinels.size());
    if (m_tried >= count) {
        m_active = false;
        m_current = -1;
        const QString why = QStringLiteral("no sentinel named a usable master \"%1\": %2")
                                .arg(m_options.masterName, m_reasons.join(QStringLiteral("; ")));
        qCWarning(lcBroker).noquote() << "Redis Sentinel:" << why;
        Q_EMIT failed(why);
        return;
    }
    ask((m_start + m_tried++) % count);
}

void RedisSentinelLocator::ask(int index)
{
    m_current = index;
    m_query.open(m_options.sentinels[index], m_options.timeoutMs);
}

void RedisSentinelLocator::probe(int index, const RedisAddress &candidate)
{
    m_query.close();
    m_current = index;
    m_candidate = candidate;
    m_probe.open(candidate, m_options.timeoutMs);
}

void RedisSentinelLocator::onProbeReady()
{
    if (!m_active || m_current < 0)
        return;
    const quint64 round = m_round;
    m_probe.command({"ROLE"}, [this, round](redisReply *reply) {
        const QByteArray role = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0
            ? RedisReply::string(reply->element[0]) : QByteArray();
        later([this, round, role] {
            if (round != m_round || !m_active || m_current < 0)
                return;
            const QString sentinel = hostPort(m_options.sentinels[m_current]);
            if (role != "master") {
                reject(QStringLiteral("sentinel %1 named %2, which says it is %3")
                           .arg(sentinel, hostPort(m_candidate),
                                role.isEmpty() ? QStringLiteral("no role") : QString::fromUtf8(role)));
                return;
            }
            m_probe.close();
            m_active = false;
            m_start = m_current;
            m_current = -1;
            if (m_watching < 0 || !m_watch.isReady()) {
                m_rewatch.stop();
                watch(m_start);
            }
            // Counted here, not on the announcement: a node that finds the new master by
            // asking again after its connection dropped may never see +switch-master.
            const QString address = hostPort(m_candidate);
            if (!m_master.isEmpty() && address != m_master)
                ++m_switches;
            m_master = address;
            if (!m_reasons.isEmpty()) // a stale or unreachable sentinel is worth knowing about
                qCWarning(lcBroker).noquote() << "Redis Sentinel: skipped" << m_reasons.join(QStringLiteral("; "));
            qCInfo(lcBroker).noquote() << "Redis Sentinel: sentinel" << sentinel << "names" << m_master
                                       << "as master" << m_options.masterName;
            Q_EMIT located(m_candidate);
        });
    });
}

void RedisSentinelLocator::reject(const QString &reason)
{
    m_reasons.append(reason);
    m_query.close();
    m_probe.close();
    const quint64 round = m_round;
    later([this, round] {
        if (round == m_round && m_active)
            askNext();
    });
}

void RedisSentinelLocator::watch(int index)
{
    m_watching = index;
    m_watch.open(m_options.sentinels[index], m_options.timeoutMs);
}

void RedisSentinelLocator::onWatchMessage(redisReply *reply)
{
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
        || RedisReply::string(reply->element[0]) != "message")
        return;
    // "<master name> <old ip> <old port> <new ip> <new port>"
    const QList<QByteArray> words = RedisReply::string(reply->element[2]).split(' ');
    if (words.size() != 5 || QString::fromUtf8(words[0]) != m_options.masterName)
        return;
    // Spelled as hostPort() spells a located master (IPv6 in brackets), so the two compare.
    RedisAddress moved;
    moved.host = QString::fromUtf8(words[3]);
    moved.port = words[4].toInt();
    const QString to = hostPort(moved);
    if (words[1] == words[3] && words[2] == words[4])
        return; // a sentinel catching up re-announces where the master already is
    later([this, to] {
        qCWarning(lcBroker).noquote() << "Redis Sentinel: master" << m_options.masterName << "moved from"
                                      << m_master << "to" << to;
        Q_EMIT switched(to);
    });
}

} // namespace Hermes
