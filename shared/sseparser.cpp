#include "sseparser.h"

#include "utf8decoder.h"

#include <limits>

namespace Hermes {

static constexpr char Bom[] = "\xEF\xBB\xBF";

SseParser::~SseParser()
{
    if (m_alive)
        *m_alive = false; // destroyed from a handler: the running feed() must stop
}

QString SseParser::errorString(Error error, qsizetype limit)
{
    switch (error) {
    case Error::None:
        return {};
    case Error::LineTooLong:
        return QStringLiteral("protocol error: a line longer than %1 bytes").arg(limit);
    case Error::EventTooLarge:
        return QStringLiteral("protocol error: an event larger than %1 bytes").arg(limit);
    }
    return {};
}

void SseParser::raise(Error error)
{
    m_error = error;
    // Free what the peer made us hold; nothing of this stream is used any more.
    m_line = QByteArray();
    m_data = QString();
    m_dataBytes = 0;
    m_eventType.clear();
    if (m_onError)
        m_onError(error);
}

void SseParser::feed(QByteArrayView bytes)
{
    if (m_error != Error::None)
        return;
    bool alive = true;
    bool *const outer = m_alive; // feed() may be re-entered from a handler
    m_alive = &alive;
    const quint64 generation = m_generation;
    // Every return below restores the outer flag, unless the parser is gone.
    struct Restore
    {
        bool &alive;
        SseParser *self;
        bool *outer;
        ~Restore()
        {
            if (alive)
                self->m_alive = outer;
            else if (outer)
                *outer = false;
        }
    } restore{alive, this, outer};

    const char *p = bytes.data();
    const char *end = p + bytes.size();

    // One leading U+FEFF is stripped (the UTF-8 decode algorithm strips one BOM). It may arrive
    // split across feeds, so match it byte by byte and hold the matched prefix.
    while (!m_bomDone && p < end) {
        if (*p == Bom[m_bomMatched]) {
            ++p;
            if (++m_bomMatched == 3)
                m_bomDone = true;
            continue;
        }
        // Not a BOM after all: the bytes held so far are ordinary stream content.
        m_line.append(Bom, m_bomMatched);
        m_bomDone = true;
    }

    while (p < end) {
        if (m_skipLF) {
            m_skipLF = false;
            if (*p == '\n') {
                ++p;
                continue;
            }
        }
        // Find the next CR or LF in one pass over the bytes.
        const char *eol = p;
        while (eol < end && *eol != '\n' && *eol != '\r')
            ++eol;
        if (m_line.size() + (eol - p) > m_limit) {
            raise(Error::LineTooLong);
            return;
        }
        if (eol == end) {
            m_line.append(p, eol - p);
            return;
        }
        m_skipLF = *eol == '\r';
        bool goOn;
        if (m_line.isEmpty()) {
            goOn = processLine(QByteArrayView(p, eol - p));
        } else {
            m_line.append(p, eol - p);
            // Taken out first: a handler that resets the parser must not free what is parsed.
            const QByteArray line = std::exchange(m_line, {});
            goOn = processLine(line);
        }
        if (!goOn || !alive || m_generation != generation || m_error != Error::None)
            return;
        p = eol + 1;
    }
}

void SseParser::finish()
{
    // Spec: "Once the end of the file is reached, any pending data must be discarded. (If the
    // file ends in the middle of an event, before the final empty line, the incomplete event is
    // not dispatched.)"
    ++m_generation;
    m_line.clear();
    m_data.clear();
    m_dataBytes = 0;
    m_eventType.clear();
    m_skipLF = false;
}

void SseParser::reset()
{
    finish();
    m_error = Error::None;
    m_bomMatched = 0;
    m_bomDone = false;
    m_idBuffer = m_lastEventId;
}

bool SseParser::processLine(QByteArrayView raw)
{
    if (raw.isEmpty()) {
        dispatch();
        return true;
    }
    if (raw.front() == ':')
        return true; // comment
    // The field name is compared as bytes: the names that mean something are ASCII, and no
    // U+FFFD from an invalid sequence can swallow the colon (maximal subparts never include
    // an ASCII byte), so this is the same as decoding the line first.
    const qsizetype colon = raw.indexOf(':');
    const QByteArrayView field = colon >= 0 ? raw.first(colon) : raw;
    QByteArrayView value;
    if (colon >= 0) {
        value = raw.sliced(colon + 1);
        if (value.startsWith(' '))
            value = value.sliced(1);
    }

    if (field == "data") {
        m_dataBytes += value.size() + 1;
        if (m_dataBytes > m_limit) {
            raise(Error::EventTooLarge);
            return false;
        }
        Utf8Decoder decoder;
        decoder.decode(value, m_data);
        decoder.flush(m_data);
        m_data += u'\n';
    } else if (field == "event") {
        m_eventType = Utf8Decoder::toString(value);
    } else if (field == "id") {
        if (!value.contains('\0'))
            m_idBuffer = Utf8Decoder::toString(value);
    } else if (field == "retry") {
        if (value.isEmpty())
            return true;
        for (char c : value) {
            if (c < '0' || c > '9')
                return true;
        }
        // All ASCII digits, as the spec requires. Values past INT_MAX are clamped rather than
        // wrapped: a huge reconnection time is what the server asked for.
        bool ok = false;
        const qint64 ms = value.size() > 12 ? -1 : value.toLongLong(&ok);
        const int clamped = ok && ms <= std::numeric_limits<int>::max()
            ? int(ms)
            : std::numeric_limits<int>::max();
        if (m_onRetry)
            m_onRetry(clamped);
    }
    // Any other field is ignored.
    return true;
}

void SseParser::dispatch()
{
    // Step 1: the last event ID string follows the buffer at every blank line, also when no
    // event is fired.
    m_lastEventId = m_idBuffer;
    if (m_data.isEmpty()) {
        m_eventType.clear();
        return;
    }
    m_data.chop(1); // the last LF
    Event event{m_eventType.isEmpty() ? QStringLiteral("message") : std::exchange(m_eventType, {}),
                std::exchange(m_data, {}), m_lastEventId};
    m_eventType.clear();
    m_dataBytes = 0;
    if (m_onEvent)
        m_onEvent(event);
}

} // namespace Hermes
