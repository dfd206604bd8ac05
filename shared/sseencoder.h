#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include "protocol/vocabulary.h"

namespace Hermes {

struct Event;

/**
 * Writes Server-Sent Events frames (WHATWG HTML §9.2).
 *
 * Every function returns complete frames ending in a blank line, ready to be written as they
 * are. The server encodes an event once and shares the bytes (QByteArray is implicitly
 * shared) across every connection: nothing here is per connection.
 */
class SseEncoder
{
public:
    /// A frame with an optional `id:` and `event:` line and the data split on CR, LF and CRLF
    /// into one `data:` line each. Empty `id`/`event` are left out; CR, LF and NUL are removed
    /// from them so a hostile value cannot break the framing.
    static QByteArray frame(QByteArrayView data, QByteArrayView event = {},
                            QByteArrayView id = {});
    /// `retry: <ms>` followed by a blank line.
    static QByteArray retry(int milliseconds);
    /// `: <text>` comment lines (multi-line text gives several comment lines), then a blank line.
    static QByteArray comment(QByteArrayView text);
    /// `event` in the given style (see EventStyle), with its id when it has one.
    static QByteArray encode(const Event &event, EventStyle style);
};

} // namespace Hermes
