#include "sseencoder.h"

#include "event.h"

namespace Hermes {

static void appendField(QByteArray &out, QByteArrayView name, QByteArrayView value)
{
    out += name;
    out += ": ";
    for (char c : value) {
        if (c != '\r' && c != '\n' && c != '\0')
            out += c;
    }
    out += '\n';
}

// One `<prefix>: line` per line of `text`, splitting on CRLF, CR and LF alike.
static void appendLines(QByteArray &out, QByteArrayView prefix, QByteArrayView text)
{
    qsizetype start = 0;
    const qsizetype n = text.size();
    for (qsizetype i = 0; i <= n; ++i) {
        if (i < n && text[i] != '\r' && text[i] != '\n')
            continue;
        out += prefix;
        out += text.sliced(start, i - start);
        out += '\n';
        if (i + 1 < n && text[i] == '\r' && text[i + 1] == '\n')
            ++i;
        start = i + 1;
    }
}

QByteArray SseEncoder::frame(QByteArrayView data, QByteArrayView event, QByteArrayView id)
{
    QByteArray out;
    out.reserve(data.size() + event.size() + id.size() + 24);
    if (!id.isEmpty())
        appendField(out, "id", id);
    if (!event.isEmpty())
        appendField(out, "event", event);
    appendLines(out, "data: ", data);
    out += '\n';
    return out;
}

QByteArray SseEncoder::retry(int milliseconds)
{
    return "retry: " + QByteArray::number(milliseconds) + "\n\n";
}

QByteArray SseEncoder::comment(QByteArrayView text)
{
    QByteArray out;
    appendLines(out, ": ", text);
    out += '\n';
    return out;
}

QByteArray SseEncoder::encode(const Event &event, EventStyle style)
{
    const QByteArray id = event.id.isNull() ? QByteArray() : event.id.toByteArray();
    if (style == EventStyle::Named)
        return frame(event.dataJson(), event.type.toUtf8(), id);
    return frame(event.envelopeJson(), {}, id);
}

} // namespace Hermes
