#include "stream/streamframes.h"

#include "event.h"
#include "protocol/payloads.h"

#include <QJsonDocument>
#include <QUuid>

namespace Hermes {

namespace {

QByteArrayView bytesOf(QLatin1StringView text)
{
    return QByteArrayView(text.data(), text.size());
}

// An event of the stream itself: its payload carries the same timestamp as its envelope.
QByteArray encode(EventType type, QJsonObject data, const QString &timestamp, EventId at,
                  EventStyle style)
{
    Event event;
    event.type = QString(wireName(type));
    event.timestamp = timestamp;
    event.data = std::move(data);
    event.id = at;
    return SseEncoder::encode(event, style);
}

} // namespace

QByteArray StreamFrames::chunk(const QByteArray &payload)
{
    return QByteArray::number(payload.size(), 16) + "\r\n" + payload + "\r\n";
}

QByteArray StreamFrames::connected(EventId at, int heartbeatIntervalSec, EventStyle style)
{
    // heartbeat_interval (seconds) is additive to the Python payload: clients size their
    // stall watchdog from it instead of guessing the server's setting. The id is where the
    // stream starts, so a client that receives nothing else before a reconnect still resumes
    // exactly from here.
    ConnectedEvent connected;
    connected.connectionId =
        QStringLiteral("conn_") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    connected.heartbeatIntervalSec = heartbeatIntervalSec;
    connected.timestamp = Event::currentTimestamp();
    return encode(EventType::Connected, connected.toJson(), connected.timestamp, at, style);
}

QByteArray StreamFrames::resyncRequired(ResyncReason reason, const QByteArray &lastEventId,
                                        EventId at, EventStyle style)
{
    ResyncRequiredEvent resync;
    resync.reason = reason;
    if (!lastEventId.isEmpty())
        resync.lastEventId = QString::fromUtf8(lastEventId.left(64));
    resync.timestamp = Event::currentTimestamp();
    // Carries where the stream goes on from (normally the newest id), so a client that
    // reconnects after reloading resumes from there.
    return encode(EventType::ResyncRequired, resync.toJson(), resync.timestamp, at, style);
}

QByteArray StreamFrames::heartbeat()
{
    const HeartbeatEvent heartbeat{Event::currentTimestamp()};
    return SseEncoder::frame(QJsonDocument(heartbeat.toJson()).toJson(QJsonDocument::Compact),
                             bytesOf(wireName(EventType::Heartbeat)));
}

const QByteArray &StreamFrames::waitingComment(bool chunked)
{
    static const QByteArray plain = SseEncoder::comment("waiting for the event history");
    static const QByteArray inChunk = chunk(plain);
    return chunked ? inChunk : plain;
}

QByteArray StreamFrames::end(int retryMs, bool chunked)
{
    const QByteArray retry = SseEncoder::retry(retryMs);
    return chunked ? chunk(retry) + "0\r\n\r\n" : retry;
}

} // namespace Hermes
