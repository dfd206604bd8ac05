#pragma once

#include <QByteArrayView>
#include <QString>

namespace Hermes {

/**
 * UTF-8 to UTF-16, exactly as the WHATWG Encoding Standard's "UTF-8 decoder" (§8.1.1): every
 * invalid sequence becomes one U+FFFD per *maximal subpart* (the longest prefix of a valid
 * sequence), as browsers decode. QString::fromUtf8() differs on truncated sequences: it gives
 * one U+FFFD per byte ("E2 82 41" → two, where the standard says one), so a client that must
 * decode event streams the way EventSource does cannot use it.
 *
 * Streaming: a sequence split across decode() calls is completed by the next call; flush()
 * ends the input (an incomplete sequence left then is one U+FFFD). It does not strip a BOM:
 * the SSE parser does that at the byte level, once per stream.
 */
class Utf8Decoder final
{
public:
    /// Appends the characters of `bytes` to `out`.
    void decode(QByteArrayView bytes, QString &out);
    /// End of input: a pending incomplete sequence becomes U+FFFD.
    void flush(QString &out);
    /// Forgets a pending incomplete sequence.
    void reset() { m_needed = m_seen = 0; m_codePoint = 0; m_lower = 0x80; m_upper = 0xBF; }
    bool hasPending() const { return m_needed != 0; }

    /// One-shot decode of a complete input.
    static QString toString(QByteArrayView bytes);

private:
    char32_t m_codePoint = 0;
    int m_needed = 0;
    int m_seen = 0;
    unsigned char m_lower = 0x80;
    unsigned char m_upper = 0xBF;
};

} // namespace Hermes
