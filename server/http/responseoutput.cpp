#include "http/responseoutput.h"

#include <QIODevice>

namespace Hermes {

void ResponseOutput::append(const QByteArray &bytes)
{
    if (bytes.isEmpty())
        return;
    m_parts.push_back(bytes);
    m_pending += bytes.size();
}

qint64 ResponseOutput::writeTo(QIODevice &device, qint64 room)
{
    qint64 total = 0;
    while (!m_parts.empty() && total < room) {
        const QByteArray &part = m_parts.front();
        const qint64 size = qMin<qint64>(part.size() - m_offset, room - total);
        const qint64 n = device.write(part.constData() + m_offset, size);
        if (n < 0)
            return -1;
        total += n;
        m_pending -= n;
        m_offset += qsizetype(n);
        if (m_offset == part.size()) {
            m_parts.pop_front(); // the last reference of a one-off body goes here
            m_offset = 0;
        }
        if (n < size)
            break; // the device took less: it is full for now
    }
    return total;
}

void ResponseOutput::clear()
{
    m_parts.clear();
    m_offset = 0;
    m_pending = 0;
}

} // namespace Hermes
