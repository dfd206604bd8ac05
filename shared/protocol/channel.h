#pragma once

#include <QByteArray>
#include <QLatin1StringView>
#include <QStringView>
#include <QtGlobal>

#include <array>
#include <optional>

namespace Hermes {

/**
 * One of the three channels of the signal bus, named as the Python Hermes names its Redis
 * channels.
 *
 * The one place a channel is spelled: its wire name (`download:updates`), its short name in
 * `?channels=` (`downloads`), its index (0, 1, 2: for arrays of per-channel figures) and its bit
 * (for a stream's channel filter, one AND per event). `Channel::all()` is the one list of them.
 */
class Channel
{
public:
    enum Id : quint8 { Downloads, Queue, System };
    /// How many channels there are: the size of every per-channel array.
    static constexpr int Count = 3;
    /// A set of channels, one bit each (see bit()).
    using Mask = quint8;
    static constexpr Mask AllMask = (1u << Count) - 1;

    constexpr Channel(Id id = Downloads) : m_id(id) {}

    constexpr Id id() const { return m_id; }
    /// 0 … Count − 1.
    constexpr int index() const { return int(m_id); }
    constexpr Mask bit() const { return bitOf(m_id); }
    static constexpr Mask bitOf(Id id) { return Mask(1u << int(id)); }
    constexpr bool isIn(Mask mask) const { return (mask & bit()) != 0; }

    /// The wire name: `download:updates`, `queue:updates`, `system:notifications`.
    QLatin1StringView name() const;
    /// The wire name as bytes (a Redis channel or key).
    QByteArray nameBytes() const { return QByteArray(name().data(), name().size()); }
    /// The short name of `?channels=`: `downloads`, `queue`, `system`.
    QLatin1StringView shortName() const;

    /// The channel of a wire name, or nothing.
    static std::optional<Channel> fromName(QStringView name);
    /// The channel of a short name or a wire name (what `?channels=` accepts), or nothing.
    static std::optional<Channel> fromAnyName(QStringView name);
    /// The channel of index `index` (0 … Count − 1), or nothing.
    static std::optional<Channel> fromIndex(int index);

    /// Every channel, in index order.
    static constexpr std::array<Channel, Count> all() { return {Downloads, Queue, System}; }

    friend constexpr bool operator==(Channel a, Channel b) { return a.m_id == b.m_id; }

private:
    Id m_id;
};

} // namespace Hermes
