#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QMetaType>
#include <QString>

#include <functional>

namespace Hermes {

/**
 * Incremental Server-Sent Events parser, following WHATWG HTML §9.2.6 ("Interpreting an event
 * stream") exactly.
 *
 * Feed it bytes as they arrive, in pieces of any size (a CRLF may be split across two feeds);
 * it calls the handlers for every dispatched event and every valid `retry:` field. Call
 * finish() at end of stream: an unterminated last event is discarded, as the spec says.
 *
 * The spec's "last event ID buffer" survives across events (an event without an `id:` field
 * reports the previous id) and across reset() is cleared only when asked: a reconnecting client
 * keeps it to send as `Last-Event-ID`.
 */
class SseParser
{
public:
    struct Event
    {
        QString type;        ///< `message` unless an `event:` field set it
        QString data;        ///< `data:` lines joined with LF, the final LF removed
        QString lastEventId; ///< the last event ID buffer at dispatch time
    };

    using EventHandler = std::function<void(const Event &)>;
    using RetryHandler = std::function<void(int milliseconds)>;

    void setEventHandler(EventHandler handler) { m_onEvent = std::move(handler); }
    void setRetryHandler(RetryHandler handler) { m_onRetry = std::move(handler); }

    /// Parses the next piece of the stream.
    void feed(QByteArrayView bytes);
    /// End of stream: drops any partial line and any undispatched event.
    void finish();
    /// Starts a new stream (a reconnect): the BOM may appear again, buffers are cleared, but
    /// the last event ID is kept.
    void reset();

    QString lastEventId() const { return m_lastEventId; }
    void setLastEventId(const QString &id) { m_lastEventId = id; }

private:
    void processLine(QByteArrayView line);
    void dispatch();

    EventHandler m_onEvent;
    RetryHandler m_onRetry;

    QByteArray m_line;            ///< bytes of the current, unterminated line
    qsizetype m_bomMatched = 0;   ///< leading bytes of the stream that matched the BOM so far
    bool m_bomDone = false;       ///< past the point where a BOM may appear
    bool m_skipLF = false;        ///< the last line ended with CR: an LF right after belongs to it
    QString m_data;               ///< data buffer
    QString m_eventType;          ///< event type buffer
    QString m_lastEventId;        ///< last event ID buffer
};

} // namespace Hermes

Q_DECLARE_METATYPE(Hermes::SseParser::Event)
