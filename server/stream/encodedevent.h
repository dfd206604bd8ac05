#pragma once

#include "event.h"
#include "sseencoder.h"

#include <QByteArray>
#include <QSet>
#include <QString>

#include <memory>

namespace Hermes {

/**
 * An event as the hub fans it out: encoded once per style, shared read-only by every
 * connection and by the replay history. The filter keys (channel, type, download id) are
 * extracted once here so the hot path does no JSON work per connection.
 */
struct EncodedEvent
{
    EventId id;
    Channel channel;
    QString type;
    QString downloadId;
    QByteArray frames[2]; ///< indexed by EventStyle

    const QByteArray &frame(EventStyle style) const { return frames[int(style)]; }
    static std::shared_ptr<const EncodedEvent> encode(const Event &event);

    /// The memory this event pins while something holds it: the shared object with its
    /// control block, every frame and string as allocated (capacity, header, the
    /// allocator's own overhead) and one pointer to it. What EventHistory counts against
    /// HERMES_SSE_HISTORY_BYTES: the frames each carry the payload, so an event weighs about
    /// twice its JSON. The same figure every time it is asked (the event does not change).
    qint64 heldBytes() const;
};
using EncodedEventPtr = std::shared_ptr<const EncodedEvent>;

/// What one stream wants to see.
struct StreamFilter
{
    Channel::Mask channels = Channel::AllMask; ///< one bit per channel (Channel::bit())
    QSet<QString> types;  ///< empty: every type
    QString downloadId;   ///< non-empty: only events about this download

    bool matchesEverything() const
    {
        return channels == Channel::AllMask && types.isEmpty() && downloadId.isEmpty();
    }
    /// Equal for equal filters: streams with the same filter share one buffer per flush.
    QString key() const;
    bool matches(const EncodedEvent &event) const
    {
        return event.channel.isIn(channels) && (types.isEmpty() || types.contains(event.type))
            && (downloadId.isEmpty() || event.downloadId == downloadId);
    }
};

/// What a new stream asked for, as the HTTP routes hand it to the hub.
struct StreamParams
{
    StreamFilter filter;
    EventStyle style = EventStyle::Envelope;
    QByteArray lastEventId;  ///< empty: no resume
    QByteArray owner;        ///< the credential it counts against for quotas; empty: none
    /// HTTP/1.1 chunked framing; false for an HTTP/1.0 client, whose stream is
    /// close-delimited. (Honoured by StreamWorker once the delivery rework lands.)
    bool chunked = true;
};

} // namespace Hermes
