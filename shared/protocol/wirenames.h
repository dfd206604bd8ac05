#pragma once

#include <QLatin1StringView>
#include <QStringView>

#include <array>
#include <cstddef>
#include <optional>

namespace Hermes {

/**
 * The wire spelling of each value of a protocol enum, in one array indexed by the value.
 *
 * Every enum of the protocol (EventType, DownloadStatus, …) is spelled on the wire by exactly
 * one table of these, so the server and the clients cannot drift apart; values are dense and
 * start at 0.
 */
template<typename Enum, std::size_t N>
struct WireNames
{
    std::array<QLatin1StringView, N> names;

    constexpr QLatin1StringView operator()(Enum value) const { return names[std::size_t(value)]; }

    /// The value spelled `text` exactly (case-sensitive), or nothing.
    std::optional<Enum> parse(QStringView text) const
    {
        for (std::size_t i = 0; i < N; ++i) {
            if (text == names[i])
                return Enum(i);
        }
        return std::nullopt;
    }

    /// Every value, in order.
    static constexpr std::array<Enum, N> values()
    {
        std::array<Enum, N> out{};
        for (std::size_t i = 0; i < N; ++i)
            out[i] = Enum(i);
        return out;
    }
};

} // namespace Hermes
