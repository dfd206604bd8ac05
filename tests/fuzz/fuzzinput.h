#pragma once

#include <QByteArrayView>

#include <cstddef>
#include <cstdint>

namespace Hermes::Fuzz {

/// Splits a fuzzer input into the pieces a network would deliver: the first byte seeds the
/// piece sizes (1 to 64 bytes, or all at once when it is 0), the rest is the payload. Lets one
/// harness check that any split of the bytes parses like the whole.
class Pieces
{
public:
    Pieces(const uint8_t *data, size_t size)
        : m_seed(size > 0 ? data[0] : 0),
          m_payload(reinterpret_cast<const char *>(data) + (size > 0 ? 1 : 0),
                    qsizetype(size > 0 ? size - 1 : 0))
    {
    }
    QByteArrayView payload() const { return m_payload; }
    /// The next piece, empty at the end.
    QByteArrayView next()
    {
        if (m_pos >= m_payload.size())
            return {};
        qsizetype n = m_payload.size() - m_pos;
        if (m_seed != 0) {
            m_state = m_state * 1103515245u + 12345u + m_seed;
            n = qMin<qsizetype>(n, 1 + (m_state >> 16) % 64);
        }
        const QByteArrayView piece = m_payload.sliced(m_pos, n);
        m_pos += n;
        return piece;
    }

private:
    uint8_t m_seed;
    uint32_t m_state = 1;
    QByteArrayView m_payload;
    qsizetype m_pos = 0;
};

} // namespace Hermes::Fuzz

/// A property the harness checks: abort (a finding) when it does not hold.
#define FUZZ_CHECK(cond)                                                                    \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "FUZZ_CHECK failed: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)
