#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QMetaType>
#include <QString>

#include <functional>

namespace Hermes {

/**
 * Incremental Server-Sent Events parser, following WHATWG HTML §9.2.6 ("Interpreting an event
 * stream") to the letter, with bounded memory.
 *
 * Feed it bytes as they arrive, in pieces of any size (a CRLF or a UTF-8 sequence may be split
 * across two feeds); it calls the handlers for every dispatched event and every valid `retry:`
 * field. Call finish() at end of stream: an unterminated last event is discarded, as the spec
 * says. Text is decoded as the WHATWG UTF-8 decoder does (one U+FFFD per maximal subpart).
 *
 * Ids: the spec's *last event ID buffer* is set by `id:` fields; the *last event ID string*
 * is set from the buffer only when an event is dispatched (a blank line), and only the string
 * is what a reconnecting client sends as `Last-Event-ID` (lastEventId()). So a stream cut after
 * `id: 42` but before its blank line resumes from the previous id, and event 42 is not lost.
 * A new stream (reset()) starts its buffer from the string, as browsers do; the spec's literal
 * "initialized to the empty string" would make the first id-less event of a reconnected stream
 * (Hermes' `connected`) forget where to resume from.
 *
 * Limits: a line, or an event's data buffer, longer than limit() bytes is a protocol error:
 * the parser stops (error() is set, the error handler is called, buffers are freed) and
 * ignores input until reset(). Memory stays bounded by about twice the limit whatever the peer
 * sends.
 *
 * Re-entrancy: a handler may call reset() or finish(), or destroy the parser; the feed() in
 * progress then stops at once and delivers nothing more from the bytes it was given.
 */
class SseParser
{
public:
    struct Event
    {
        QString type;        ///< `message` unless an `event:` field set it
        QString data;        ///< `data:` lines joined with LF, the final LF removed
        QString lastEventId; ///< the last event ID string once this event was dispatched
    };
    enum class Error { None, LineTooLong, EventTooLarge };

    static constexpr qsizetype DefaultLimit = 1024 * 1024;

    using EventHandler = std::function<void(const Event &)>;
    using RetryHandler = std::function<void(int milliseconds)>;
    using ErrorHandler = std::function<void(Error error)>;

    SseParser() = default;
    ~SseParser();
    SseParser(const SseParser &) = delete;
    SseParser &operator=(const SseParser &) = delete;

    void setEventHandler(EventHandler handler) { m_onEvent = std::move(handler); }
    void setRetryHandler(RetryHandler handler) { m_onRetry = std::move(handler); }
    void setErrorHandler(ErrorHandler handler) { m_onError = std::move(handler); }

    /// The largest line and the largest data buffer, in bytes (at least 64).
    void setLimit(qsizetype bytes) { m_limit = qMax<qsizetype>(64, bytes); }
    qsizetype limit() const { return m_limit; }

    /// Parses the next piece of the stream.
    void feed(QByteArrayView bytes);
    /// End of stream: drops any partial line and any undispatched event.
    void finish();
    /// Starts a new stream (a reconnect): buffers and errors are cleared, the BOM may appear
    /// again, and the last event ID buffer starts from the last event ID string.
    void reset();

    /// The last event ID string: the id to send as Last-Event-ID.
    QString lastEventId() const { return m_lastEventId; }
    /// The last event ID buffer: the newest `id:` seen, dispatched or not.
    QString lastEventIdBuffer() const { return m_idBuffer; }
    /// Sets both (e.g. a --last-event-id given by the user).
    void setLastEventId(const QString &id) { m_lastEventId = m_idBuffer = id; }

    Error error() const { return m_error; }
    static QString errorString(Error error, qsizetype limit);

private:
    bool processLine(QByteArrayView line);
    void dispatch();
    void raise(Error error);

    EventHandler m_onEvent;
    RetryHandler m_onRetry;
    ErrorHandler m_onError;

    qsizetype m_limit = DefaultLimit;
    QByteArray m_line;            ///< bytes of the current, unterminated line
    qsizetype m_bomMatched = 0;   ///< leading bytes of the stream that matched the BOM so far
    bool m_bomDone = false;       ///< past the point where a BOM may appear
    bool m_skipLF = false;        ///< the last line ended with CR: an LF right after belongs to it
    Error m_error = Error::None;
    quint64 m_generation = 0;     ///< bumped by reset()/finish(): a feed() in progress stops
    bool *m_alive = nullptr;      ///< cleared by the destructor while a feed() is running
    QString m_data;               ///< data buffer
    qsizetype m_dataBytes = 0;    ///< bytes of the lines that went into the data buffer
    QString m_eventType;          ///< event type buffer
    QString m_idBuffer;           ///< last event ID buffer
    QString m_lastEventId;        ///< last event ID string
};

} // namespace Hermes

Q_DECLARE_METATYPE(Hermes::SseParser::Event)
