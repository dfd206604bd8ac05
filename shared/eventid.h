#pragma once

#include <QByteArray>
#include <QtGlobal>

#include <compare>
#include <limits>
#include <optional>

namespace Hermes {

/**
 * An event id: `<epoch>-<unix-ms>-<seq>`, e.g. `k3x9q2-1795560047588-3`.
 *
 * `<ms>-<seq>` is the position in the deployment's one total order of events (the Redis stream
 * id format); ids compare numerically, (ms, seq) lexicographically. `<epoch>` (6 base-36
 * characters) names the history the position belongs to: a Redis database that was flushed or
 * recreated, or an embedded history that could not be kept, starts a new epoch, and a client
 * that resumes from another epoch's id must resync instead of being given a silent gap.
 *
 * Ids without an epoch (`<ms>-<seq>`, as Hermes wrote them before epochs, or a bare `<ms>`)
 * still parse, with epoch 0, which no history has.
 */
class EventId
{
public:
    constexpr EventId() = default;
    constexpr EventId(quint64 ms, quint64 seq, quint32 epoch = 0)
        : m_epoch(epoch), m_ms(ms), m_seq(seq)
    {
    }

    /// `<epoch>-<ms>-<seq>`, `<ms>-<seq>` or `<ms>` (decimal without sign; the epoch 1-7
    /// lowercase base-36 characters, not zero). Nothing else: no spaces, no signs, no overflow.
    static std::optional<EventId> parse(QByteArrayView text);
    /// Parses a Redis stream id (`<ms>-<seq>`) and gives it `epoch`.
    static std::optional<EventId> fromPosition(QByteArrayView text, quint32 epoch);

    /// A fresh random epoch (never 0; always 6 characters as text).
    static quint32 randomEpoch();
    static QByteArray epochText(quint32 epoch);
    /// Parses an epoch's text; 0 when it is not one.
    static quint32 parseEpoch(QByteArrayView text);

    /// No id at all (no epoch, no position). `<epoch>-0-0`, the start of an epoch, is not null.
    constexpr bool isNull() const { return m_epoch == 0 && m_ms == 0 && m_seq == 0; }
    constexpr quint32 epoch() const { return m_epoch; }
    constexpr quint64 ms() const { return m_ms; }
    constexpr quint64 seq() const { return m_seq; }
    constexpr EventId withEpoch(quint32 epoch) const { return EventId(m_ms, m_seq, epoch); }
    /// The SSE id: `<epoch>-<ms>-<seq>`, or `<ms>-<seq>` without an epoch.
    QByteArray toByteArray() const;
    /// `<ms>-<seq>`: the position alone, as a Redis stream entry id.
    QByteArray position() const;
    /// The greatest id below this one in the same epoch (null stays null).
    EventId previous() const
    {
        if (m_seq > 0)
            return EventId(m_ms, m_seq - 1, m_epoch);
        return m_ms > 0 ? EventId(m_ms - 1, std::numeric_limits<quint64>::max(), m_epoch)
                        : EventId(0, 0, m_epoch);
    }

    /// Epoch first: ids of one epoch order by position. Code that compares ids of different
    /// epochs must check epoch() itself; their order means nothing.
    constexpr auto operator<=>(const EventId &) const = default;

private:
    quint32 m_epoch = 0;
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
    /// Never hand out an id at or below `id`'s position (e.g. the newest id seen before a
    /// restart). Ids take `id`'s epoch.
    void advanceTo(EventId id);
    void setEpoch(quint32 epoch) { m_last = m_last.withEpoch(epoch); }

private:
    EventId m_last;
};

} // namespace Hermes
