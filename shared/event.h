#pragma once

#include "eventid.h"
#include "protocol/channel.h"
#include "result.h"

#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>
#include <QString>

#include <array>

namespace Hermes {

/**
 * One event on the bus.
 *
 * The envelope `{"type","data","timestamp"}` is byte-compatible with what the Python Hermes
 * PUBLISHes on its Redis channels, so events from either side are interchangeable.
 * `id` is assigned by the broker (see EventId); it is null until then.
 */
struct Event
{
    EventId id;
    Channel channel;
    QString type;
    QJsonObject data;
    QString timestamp; ///< ISO-8601 UTC, kept as text so a foreign envelope round-trips unchanged

    /// `{"type":…,"data":…,"timestamp":…}` in compact JSON.
    QByteArray envelopeJson() const;
    /// The inner `data` object in compact JSON (what the "named" SSE style carries).
    QByteArray dataJson() const;
    /// `data.download_id` when it is a string, else empty: used by per-download stream filters.
    QString downloadId() const;

    /// Parses an envelope received on `channel`. An error (Invalid, `invalid_envelope`, its
    /// message saying what is wrong) when the bytes are not a JSON object, or an envelope (an
    /// object with `data`) without a non-empty string `type` and an object `data`. A missing timestamp is filled with the current time. A JSON
    /// object without `data` is a bare payload: it becomes the data of an event typed by its own
    /// `type` member, or `message`. An `"id"` member (added by Hermes nodes relaying
    /// through Redis) sets `id`.
    static Result<Event> fromEnvelope(Channel channel, const QByteArray &json);

    /// The current UTC time as ISO-8601 with milliseconds and a `Z` suffix.
    static QString currentTimestamp();
};

/// Per channel (by Channel::index()), the newest id of a history that is no longer kept (a
/// capped store dropped it); a null id: nothing was dropped.
using ChannelFloors = std::array<EventId, Channel::Count>;

} // namespace Hermes
