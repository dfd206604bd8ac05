#include "utf8decoder.h"

namespace Hermes {

static constexpr char16_t Replacement = 0xFFFD;

static void append(QString &out, char32_t cp)
{
    if (cp < 0x10000) {
        out.append(QChar(char16_t(cp)));
    } else {
        const QChar pair[2] = {QChar::highSurrogate(cp), QChar::lowSurrogate(cp)};
        out.append(pair, 2);
    }
}

void Utf8Decoder::decode(QByteArrayView bytes, QString &out)
{
    const auto *p = reinterpret_cast<const unsigned char *>(bytes.data());
    const auto *end = p + bytes.size();
    while (p < end) {
        const unsigned char b = *p;
        if (m_needed == 0) {
            // ASCII runs are the common case of event streams: copy them without state.
            if (b < 0x80) {
                const auto *run = p;
                while (p < end && *p < 0x80)
                    ++p;
                out.append(QLatin1StringView(reinterpret_cast<const char *>(run), p - run));
                continue;
            }
            ++p;
            if (b >= 0xC2 && b <= 0xDF) {
                m_needed = 1;
                m_codePoint = b & 0x1F;
            } else if (b >= 0xE0 && b <= 0xEF) {
                if (b == 0xE0)
                    m_lower = 0xA0; // no overlong three-byte forms
                if (b == 0xED)
                    m_upper = 0x9F; // no surrogates
                m_needed = 2;
                m_codePoint = b & 0xF;
            } else if (b >= 0xF0 && b <= 0xF4) {
                if (b == 0xF0)
                    m_lower = 0x90; // no overlong four-byte forms
                if (b == 0xF4)
                    m_upper = 0x8F; // nothing past U+10FFFF
                m_needed = 3;
                m_codePoint = b & 0x7;
            } else {
                out.append(QChar(Replacement)); // 80..C1, F5..FF: never valid
            }
            continue;
        }
        if (b < m_lower || b > m_upper) {
            // The maximal subpart ends before this byte: one U+FFFD for it, and the byte is
            // looked at again as the start of something new ("prepend byte to stream").
            reset();
            out.append(QChar(Replacement));
            continue;
        }
        ++p;
        m_lower = 0x80;
        m_upper = 0xBF;
        m_codePoint = (m_codePoint << 6) | (b & 0x3F);
        if (++m_seen == m_needed) {
            append(out, m_codePoint);
            reset();
        }
    }
}

void Utf8Decoder::flush(QString &out)
{
    if (m_needed != 0) {
        reset();
        out.append(QChar(Replacement));
    }
}

QString Utf8Decoder::toString(QByteArrayView bytes)
{
    Utf8Decoder decoder;
    QString out;
    decoder.decode(bytes, out);
    decoder.flush(out);
    return out;
}

} // namespace Hermes
