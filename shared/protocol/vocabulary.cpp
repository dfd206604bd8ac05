#include "protocol/vocabulary.h"

#include "protocol/wirenames.h"

namespace Hermes {

// The wire spelling of every value, once. The Python Hermes defines the download, queue and
// notification names; connected, heartbeat and message are its stream's; resync_required and
// its reasons are Hermes-C++'s additions (README, "Resume: what is guaranteed").
static constexpr WireNames<EventType, 7> EventTypes{
    {QLatin1StringView("connected"), QLatin1StringView("heartbeat"),
     QLatin1StringView("resync_required"), QLatin1StringView("download_progress"),
     QLatin1StringView("queue_update"), QLatin1StringView("system_notification"),
     QLatin1StringView("message")}};
static constexpr WireNames<ResyncReason, 6> ResyncReasons{
    {QLatin1StringView("history_exceeded"), QLatin1StringView("unknown_history"),
     QLatin1StringView("unknown_event_id"), QLatin1StringView("invalid_last_event_id"),
     QLatin1StringView("history_reset"), QLatin1StringView("events_lost")}};
static constexpr WireNames<QueueAction, 4> QueueActions{
    {QLatin1StringView("added"), QLatin1StringView("removed"), QLatin1StringView("reordered"),
     QLatin1StringView("status_changed")}};
static constexpr WireNames<NotificationType, 3> NotificationTypes{
    {QLatin1StringView("info"), QLatin1StringView("warning"), QLatin1StringView("error")}};

static constexpr WireNames<EventStyle, 2> EventStyles{
    {QLatin1StringView("envelope"), QLatin1StringView("named")}};

QLatin1StringView wireName(EventType type) { return EventTypes(type); }
QLatin1StringView wireName(EventStyle style) { return EventStyles(style); }
QLatin1StringView wireName(ResyncReason reason) { return ResyncReasons(reason); }
QLatin1StringView wireName(QueueAction action) { return QueueActions(action); }
QLatin1StringView wireName(NotificationType type) { return NotificationTypes(type); }

template<> std::optional<EventType> fromWire<EventType>(QStringView text)
{
    return EventTypes.parse(text);
}

template<> std::optional<ResyncReason> fromWire<ResyncReason>(QStringView text)
{
    return ResyncReasons.parse(text);
}

template<> std::optional<QueueAction> fromWire<QueueAction>(QStringView text)
{
    return QueueActions.parse(text);
}

template<> std::optional<NotificationType> fromWire<NotificationType>(QStringView text)
{
    return NotificationTypes.parse(text);
}

template<> std::optional<EventStyle> fromWire<EventStyle>(QStringView text)
{
    return EventStyles.parse(text);
}

} // namespace Hermes
