#include "broker/rediskeyspace.h"

#include <QCryptographicHash>

namespace Hermes {

RedisKeyspace::RedisKeyspace(const QString &prefix) : m_prefix(prefix.toUtf8())
{
}

QByteArray RedisKeyspace::key(const char *name) const
{
    return m_prefix + name;
}

QByteArray RedisKeyspace::sequence() const
{
    return key("seq");
}

QByteArray RedisKeyspace::epoch() const
{
    return key("epoch");
}

QByteArray RedisKeyspace::stream(Channel channel) const
{
    return key("stream:") + channel.nameBytes();
}

std::array<QByteArray, Channel::Count> RedisKeyspace::streams() const
{
    std::array<QByteArray, Channel::Count> out;
    for (Channel c : Channel::all())
        out[size_t(c.index())] = stream(c);
    return out;
}

QByteArray RedisKeyspace::trimmed(Channel channel) const
{
    return key("trimmed:") + channel.nameBytes();
}

std::array<QByteArray, Channel::Count> RedisKeyspace::trimmedKeys() const
{
    std::array<QByteArray, Channel::Count> out;
    for (Channel c : Channel::all())
        out[size_t(c.index())] = trimmed(c);
    return out;
}

QByteArray RedisKeyspace::heads() const
{
    return key("heads");
}

QByteArray RedisKeyspace::config() const
{
    return key("config");
}

QByteArray RedisKeyspace::origin() const
{
    return key("origin");
}

QByteArray RedisKeyspace::adoption(Channel channel, const QByteArray &payload) const
{
    // Keyed by what every node sees alike: the channel and the payload's bytes.
    return key("adopt:")
        + QCryptographicHash::hash(channel.nameBytes() + '\n' + payload,
                                   QCryptographicHash::Sha1).toHex();
}

QByteArray RedisKeyspace::eventsChannel() const
{
    return key("events");
}

QByteArray RedisKeyspace::lossesChannel() const
{
    return key("lost");
}

QList<QByteArray> RedisKeyspace::subscriptions() const
{
    QList<QByteArray> channels{eventsChannel()};
    for (Channel c : Channel::all())
        channels.append(c.nameBytes());
    channels.append(lossesChannel());
    return channels;
}

QByteArray RedisKeyspace::pythonToken(const QByteArray &token)
{
    return "sse:token:" + token;
}

} // namespace Hermes
