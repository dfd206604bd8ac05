#include "sseparser.h"

#include <QStringDecoder>

#include <limits>

namespace Hermes {

static constexpr char Bom[] = "\xEF\xBB\xBF";

void SseParser::feed(QByteArrayView bytes)
{
    const char *p = bytes.data();
    const char *end = p + bytes.size();

    // One leading U+FEFF is stripped (spec: "a single U+FEFF ... at the start of the stream").
    // It may arrive split across feeds, so match it byte by byte and hold the matched prefix.
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
        if (eol == end) {
            m_line.append(p, eol - p);
            return;
        }
        if (m_line.isEmpty()) {
            processLine(QByteArrayView(p, eol - p));
        } else {
            m_line.append(p, eol - p);
            processLine(m_line);
            m_line.clear();
        }
        m_skipLF = *eol == '\r';
        p = eol + 1;
    }
}

void SseParser::finish()
{
    // Spec: "Once the end of the file is reached, any pending data must be discarded. (If the
    // file ends in the middle of an event, before the final empty line, the incomplete event is
    // not dispatched.)"
    m_line.clear();
    m_data.clear();
    m_eventType.clear();
    m_skipLF = false;
}

void SseParser::reset()
{
    finish();
    m_bomMatched = 0;
    m_bomDone = false;
}

void SseParser::processLine(QByteArrayView raw)
{
    if (raw.isEmpty()) {
        dispatch();
        return;
    }
    if (raw.front() == ':')
        return; // comment
    // Decoding per complete line keeps multi-byte characters split across feeds intact;
    // invalid sequences become U+FFFD, as the spec's UTF-8 decode requires.
    // QString::fromUtf8() drops a leading BOM; past the stream's first one it is content.
    const QString line = raw.startsWith(Bom)
        ? QStringDecoder(QStringConverter::Utf8, QStringConverter::Flag::ConvertInitialBom)(raw)
        : QString::fromUtf8(raw);
    const qsizetype colon = line.indexOf(u':');
    QStringView field = line;
    QStringView value;
    if (colon >= 0) {
        field = QStringView(line).first(colon);
        value = QStringView(line).sliced(colon + 1);
        if (value.startsWith(u' '))
            value = value.sliced(1);
    }

    if (field == u"event") {
        m_eventType = value.toString();
    } else if (field == u"data") {
        m_data += value;
        m_data += u'\n';
    } else if (field == u"id") {
        if (!value.contains(QChar(0)))
            m_lastEventId = value.toString();
    } else if (field == u"retry") {
        if (value.isEmpty())
            return;
        for (QChar c : value) {
            if (c < u'0' || c > u'9')
                return;
        }
        // All digits, as the spec requires. Values past INT_MAX are clamped rather than
        // wrapped: a huge reconnection time is what the server asked for.
        bool ok = false;
        const qint64 ms = value.length() > 12 ? -1 : value.toLongLong(&ok);
        const int clamped = ok && ms <= std::numeric_limits<int>::max()
            ? int(ms)
            : std::numeric_limits<int>::max();
        if (m_onRetry)
            m_onRetry(clamped);
    }
    // Any other field is ignored.
}

void SseParser::dispatch()
{
    if (m_data.isEmpty()) {
        m_eventType.clear();
        return;
    }
    m_data.chop(1); // the last LF
    Event event{m_eventType.isEmpty() ? QStringLiteral("message") : m_eventType, m_data,
                m_lastEventId};
    m_data.clear();
    m_eventType.clear();
    if (m_onEvent)
        m_onEvent(event);
}

} // namespace Hermes
