#include "eventid.h"

#include <QDateTime>
#include <QRandomGenerator>

namespace Hermes {

static std::optional<quint64> parseUnsigned(QByteArrayView digits)
{
    if (digits.isEmpty() || digits.size() > 20)
        return std::nullopt;
    for (char c : digits) {
        if (c < '0' || c > '9')
            return std::nullopt;
    }
    bool ok = false;
    const quint64 value = digits.toULongLong(&ok);
    return ok ? std::optional<quint64>(value) : std::nullopt;
}

quint32 EventId::parseEpoch(QByteArrayView text)
{
    if (text.isEmpty() || text.size() > 7)
        return 0;
    quint64 value = 0;
    for (char c : text) {
        int digit;
        if (c >= '0' && c <= '9')
            digit = c - '0';
        else if (c >= 'a' && c <= 'z')
            digit = c - 'a' + 10;
        else
            return 0;
        value = value * 36 + quint64(digit);
    }
    return value <= std::numeric_limits<quint32>::max() ? quint32(value) : 0;
}

QByteArray EventId::epochText(quint32 epoch)
{
    return QByteArray::number(epoch, 36);
}

quint32 EventId::randomEpoch()
{
    // 36^5 .. 36^6 - 1: six characters, so ids of every epoch have the same shape.
    constexpr quint32 low = 60466176u, high = 2176782336u;
    return low + QRandomGenerator::global()->bounded(high - low);
}

std::optional<EventId> EventId::fromPosition(QByteArrayView text, quint32 epoch)
{
    const qsizetype dash = text.indexOf('-');
    if (dash < 0)
        return std::nullopt;
    const auto ms = parseUnsigned(text.first(dash));
    const auto seq = parseUnsigned(text.sliced(dash + 1));
    if (!ms || !seq)
        return std::nullopt;
    return EventId(*ms, *seq, epoch);
}

std::optional<EventId> EventId::parse(QByteArrayView text)
{
    const qsizetype first = text.indexOf('-');
    if (first < 0) {
        const auto ms = parseUnsigned(text);
        return ms ? std::optional<EventId>(EventId(*ms, 0)) : std::nullopt;
    }
    const qsizetype second = text.sliced(first + 1).indexOf('-');
    if (second < 0)
        return fromPosition(text, 0);
    const quint32 epoch = parseEpoch(text.first(first));
    if (epoch == 0)
        return std::nullopt;
    return fromPosition(text.sliced(first + 1), epoch);
}

QByteArray EventId::position() const
{
    return QByteArray::number(m_ms) + '-' + QByteArray::number(m_seq);
}

QByteArray EventId::toByteArray() const
{
    return m_epoch ? epochText(m_epoch) + '-' + position() : position();
}

EventId EventIdGenerator::next()
{
    return next(quint64(QDateTime::currentMSecsSinceEpoch()));
}

EventId EventIdGenerator::next(quint64 nowMs)
{
    m_last = nowMs > m_last.ms() ? EventId(nowMs, 0, m_last.epoch())
                                 : EventId(m_last.ms(), m_last.seq() + 1, m_last.epoch());
    return m_last;
}

void EventIdGenerator::advanceTo(EventId id)
{
    if (EventId(id.ms(), id.seq()) > EventId(m_last.ms(), m_last.seq()))
        m_last = EventId(id.ms(), id.seq(), m_last.epoch());
    m_last = m_last.withEpoch(id.epoch() ? id.epoch() : m_last.epoch());
}

} // namespace Hermes
