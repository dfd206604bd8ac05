#pragma once

#include <QByteArray>
#include <QtGlobal>

#include <compare>
#include <limits>
#include <optional>

namespace Hermes {

/**
 * An event id in the Redis stream id format `<unix-ms>-<seq>`.
 *
 * The same format on the embedded and on the Redis broker lets a client resume with
 * `Last-Event-ID` on any node. Ids compare numerically, (ms, seq) lexicographically.
 */
class EventId
{
public:
    constexpr EventId() = default;
    constexpr EventId(quint64 ms, quint64 seq) : m_ms(ms), m_seq(seq) {}

    /// Parses `<ms>-<seq>` (both unsigned decimal) or a bare `<ms>` (seq 0). Nothing else.
    static std::optional<EventId> parse(QByteArrayView text);

    constexpr bool isNull() const { return m_ms == 0 && m_seq == 0; }
    constexpr quint64 ms() const { return m_ms; }
    constexpr quint64 seq() const { return m_seq; }
    QByteArray toByteArray() const;
    /// The greatest id below this one (null stays null).
    EventId previous() const
    {
        if (m_seq > 0)
            return EventId(m_ms, m_seq - 1);
        return m_ms > 0 ? EventId(m_ms - 1, std::numeric_limits<quint64>::max()) : EventId();
    }

    constexpr auto operator<=>(const EventId &) const = default;

private:
    quint64 m_ms = 0;
    quint64 m_seq = 0;
};

/// Hands out strictly increasing ids from the wall clock, like Redis XADD `*`: a clock that
/// stalls or steps back only increments the sequence.
class EventIdGenerator
{
public:
    EventId next();
    EventId next(quint64 nowMs);
    EventId last() const { return m_last; }
    /// Never hand out an id at or below `id` (e.g. the newest id seen before a restart).
    void advanceTo(EventId id);

private:
    EventId m_last;
};

} // namespace Hermes
