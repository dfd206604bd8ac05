#include "jsonwriter.h"

#include <QLocale>

#include <charconv>
#include <cmath>

namespace Hermes {

void JsonWriter::beforeValue()
{
    if (m_afterKey) {
        m_afterKey = false;
        return;
    }
    if (m_depth > 0) {
        const quint64 bit = quint64(1) << (m_depth - 1);
        if (m_hasMembers & bit)
            *m_out += ',';
        m_hasMembers |= bit;
    }
}

void JsonWriter::open(char bracket)
{
    beforeValue();
    Q_ASSERT(m_depth < 64);
    *m_out += bracket;
    ++m_depth;
    m_hasMembers &= ~(quint64(1) << (m_depth - 1));
}

void JsonWriter::close(char bracket)
{
    Q_ASSERT(m_depth > 0 && !m_afterKey);
    --m_depth;
    *m_out += bracket;
}

void JsonWriter::beginObject() { open('{'); }
void JsonWriter::endObject() { close('}'); }
void JsonWriter::beginArray() { open('['); }
void JsonWriter::endArray() { close(']'); }

JsonWriter &JsonWriter::key(QStringView name)
{
    beforeValue();
    *m_out += '"';
    appendEscaped(*m_out, name);
    *m_out += "\":";
    m_afterKey = true;
    return *this;
}

void JsonWriter::string(QStringView text)
{
    beforeValue();
    *m_out += '"';
    appendEscaped(*m_out, text);
    *m_out += '"';
}

void JsonWriter::stringOrNull(QStringView text)
{
    if (text.isEmpty())
        null();
    else
        string(text);
}

void JsonWriter::integer(qint64 value)
{
    beforeValue();
    char buffer[24];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
    m_out->append(buffer, end - buffer);
}

void JsonWriter::number(double value)
{
    // As QJsonValue(double) keeps it: a whole number of at most 2^53 is an integer (100.0 is
    // written 100, 1e6 1000000), anything else the shortest text that reads back the same
    // (1e16 is 1e+16), as QJsonDocument writes it; NaN and the infinities have no JSON form.
    if (!std::isfinite(value)) {
        null();
        return;
    }
    if (std::abs(value) <= 9007199254740992.0 && std::trunc(value) == value) {
        integer(qint64(value));
        return;
    }
    beforeValue();
    *m_out += QByteArray::number(value, 'g', QLocale::FloatingPointShortest);
}

void JsonWriter::boolean(bool value)
{
    beforeValue();
    *m_out += value ? "true" : "false";
}

void JsonWriter::null()
{
    beforeValue();
    *m_out += "null";
}

void JsonWriter::raw(const QByteArray &json)
{
    beforeValue();
    *m_out += json;
}

void JsonWriter::appendEscaped(QByteArray &out, QStringView text)
{
    static constexpr char hex[] = "0123456789abcdef";
    // Room for the worst case (six bytes a UTF-16 unit: \u00xx or a lone surrogate's \uxxxx),
    // written through a pointer, then cut to what was written (a shrink keeps the capacity).
    const qsizetype start = out.size();
    out.resize(start + 6 * text.size());
    char *to = out.data() + start;
    const char16_t *from = text.utf16();
    const char16_t *const end = from + text.size();
    auto escape = [&to](char16_t u) {
        *to++ = '\\';
        *to++ = 'u';
        *to++ = hex[(u >> 12) & 0xf];
        *to++ = hex[(u >> 8) & 0xf];
        *to++ = hex[(u >> 4) & 0xf];
        *to++ = hex[u & 0xf];
    };
    while (from != end) {
        const char16_t u = *from++;
        if (u >= 0x20 && u < 0x80 && u != u'"' && u != u'\\') {
            *to++ = char(u);
        } else if (u < 0x80) {
            *to++ = '\\';
            switch (u) {
            case u'"': *to++ = '"'; break;
            case u'\\': *to++ = '\\'; break;
            case u'\b': *to++ = 'b'; break;
            case u'\f': *to++ = 'f'; break;
            case u'\n': *to++ = 'n'; break;
            case u'\r': *to++ = 'r'; break;
            case u'\t': *to++ = 't'; break;
            default:
                --to; // escape() writes its own backslash
                escape(u);
            }
        } else if (u < 0x800) {
            *to++ = char(0xc0 | (u >> 6));
            *to++ = char(0x80 | (u & 0x3f));
        } else if (!QChar::isSurrogate(u)) {
            *to++ = char(0xe0 | (u >> 12));
            *to++ = char(0x80 | ((u >> 6) & 0x3f));
            *to++ = char(0x80 | (u & 0x3f));
        } else if (QChar::isHighSurrogate(u) && from != end && QChar::isLowSurrogate(*from)) {
            const char32_t c = QChar::surrogateToUcs4(u, *from++);
            *to++ = char(0xf0 | (c >> 18));
            *to++ = char(0x80 | ((c >> 12) & 0x3f));
            *to++ = char(0x80 | ((c >> 6) & 0x3f));
            *to++ = char(0x80 | (c & 0x3f));
        } else {
            escape(u); // a lone surrogate has no UTF-8 form
        }
    }
    out.resize(to - out.constData());
}

} // namespace Hermes
