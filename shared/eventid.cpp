#include "eventid.h"

#include <QDateTime>

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

std::optional<EventId> EventId::parse(QByteArrayView text)
{
    const qsizetype dash = text.indexOf('-');
    const auto ms = parseUnsigned(dash < 0 ? text : text.first(dash));
    if (!ms)
        return std::nullopt;
    if (dash < 0)
        return EventId(*ms, 0);
    const auto seq = parseUnsigned(text.sliced(dash + 1));
    if (!seq)
        return std::nullopt;
    return EventId(*ms, *seq);
}

QByteArray EventId::toByteArray() const
{
    return QByteArray::number(m_ms) + '-' + QByteArray::number(m_seq);
}

EventId EventIdGenerator::next()
{
    return next(quint64(QDateTime::currentMSecsSinceEpoch()));
}

EventId EventIdGenerator::next(quint64 nowMs)
{
    m_last = nowMs > m_last.ms() ? EventId(nowMs, 0) : EventId(m_last.ms(), m_last.seq() + 1);
    return m_last;
}

void EventIdGenerator::advanceTo(EventId id)
{
    if (id > m_last)
        m_last = id;
}

} // namespace Hermes
