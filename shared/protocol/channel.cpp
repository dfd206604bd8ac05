#include "protocol/channel.h"

#include "protocol/wirenames.h"

namespace Hermes {

static constexpr WireNames<Channel::Id, Channel::Count> Names{
    {QLatin1StringView("download:updates"), QLatin1StringView("queue:updates"),
     QLatin1StringView("system:notifications")}};
static constexpr WireNames<Channel::Id, Channel::Count> ShortNames{
    {QLatin1StringView("downloads"), QLatin1StringView("queue"), QLatin1StringView("system")}};

QLatin1StringView Channel::name() const
{
    return Names(m_id);
}

QLatin1StringView Channel::shortName() const
{
    return ShortNames(m_id);
}

std::optional<Channel> Channel::fromName(QStringView name)
{
    if (const auto id = Names.parse(name))
        return Channel(*id);
    return std::nullopt;
}

std::optional<Channel> Channel::fromAnyName(QStringView name)
{
    if (const auto id = ShortNames.parse(name))
        return Channel(*id);
    return fromName(name);
}

std::optional<Channel> Channel::fromIndex(int index)
{
    if (index < 0 || index >= Count)
        return std::nullopt;
    return Channel(Id(index));
}

} // namespace Hermes
