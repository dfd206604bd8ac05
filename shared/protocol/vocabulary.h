#pragma once

#include <QLatin1StringView>
#include <QString>
#include <QStringView>

#include <optional>

namespace Hermes {

/**
 * The event types Hermes itself sends or understands. Publishers may send any other type: an
 * Event's type stays a string, and these are the names the server and the clients act on.
 */
enum class EventType : quint8 {
    Connected,          ///< the first event of every stream
    Heartbeat,          ///< every HERMES_SSE_HEARTBEAT_INTERVAL, without an id
    ResyncRequired,     ///< a resume point that cannot be served: reload over REST
    DownloadProgress,   ///< download:updates
    QueueUpdate,        ///< queue:updates
    SystemNotification, ///< system:notifications
    Message,            ///< a bare JSON payload without a type of its own
};

/// Why a stream gets `resync_required` (its `reason`; see the README's table).
enum class ResyncReason : quint8 {
    HistoryExceeded,
    UnknownHistory,
    UnknownEventId,
    InvalidLastEventId,
    HistoryReset,
    EventsLost,
};

/// The two ways Hermes writes an Event as SSE.
enum class EventStyle : quint8 {
    /// The Hermes guide's format: no `event:` line, an `id:` line, and `data:` holding the
    /// whole envelope `{"type","data","timestamp"}`.
    Envelope,
    /// What the Python Hermes server writes: `event: <type>` and `data:` holding only the
    /// inner data object (plus our `id:` line, which its web app ignores).
    Named,
};

/// The `action` of a `queue_update`.
enum class QueueAction : quint8 { Added, Removed, Reordered, StatusChanged };

/// The `notification_type` of a `system_notification`.
enum class NotificationType : quint8 { Info, Warning, Error };

QLatin1StringView wireName(EventType type);
QLatin1StringView wireName(ResyncReason reason);
QLatin1StringView wireName(QueueAction action);
QLatin1StringView wireName(NotificationType type);
/// `envelope` or `named`: `?style=` and HERMES_SSE_EVENT_STYLE.
QLatin1StringView wireName(EventStyle style);

/// The value spelled `text` on the wire, or nothing (`fromWire<EventType>(u"heartbeat")`).
template<typename Enum>
std::optional<Enum> fromWire(QStringView text);
template<> std::optional<EventType> fromWire<EventType>(QStringView text);
template<> std::optional<ResyncReason> fromWire<ResyncReason>(QStringView text);
template<> std::optional<QueueAction> fromWire<QueueAction>(QStringView text);
template<> std::optional<NotificationType> fromWire<NotificationType>(QStringView text);
template<> std::optional<EventStyle> fromWire<EventStyle>(QStringView text);

/// Whether `type` (an Event's type string) is `expected`.
inline bool isType(QStringView type, EventType expected)
{
    return type == wireName(expected);
}

} // namespace Hermes
