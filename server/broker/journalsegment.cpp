#include "broker/journalsegment.h"

#include <array>

namespace Hermes::JournalSegment {

quint32 crc32(QByteArrayView data)
{
    // CRC-32 (ISO-HDLC, zlib's), eight bytes a step ("slicing-by-8"): the start reads the
    // whole journal through here, and byte by byte was a fifth of a cold start's CPU.
    static const std::array<std::array<quint32, 256>, 8> tables = [] {
        std::array<std::array<quint32, 256>, 8> t{};
        for (quint32 i = 0; i < 256; ++i) {
            quint32 c = i;
            for (int k = 0; k < 8; ++k)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[0][i] = c;
        }
        for (quint32 i = 0; i < 256; ++i) {
            for (size_t k = 1; k < 8; ++k)
                t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
        }
        return t;
    }();
    quint32 c = 0xFFFFFFFFu;
    const auto *p = reinterpret_cast<const quint8 *>(data.data());
    qsizetype n = data.size();
    for (; n >= 8; n -= 8, p += 8) {
        const quint32 lo = c ^ (quint32(p[0]) | quint32(p[1]) << 8 | quint32(p[2]) << 16 | quint32(p[3]) << 24);
        const quint32 hi = quint32(p[4]) | quint32(p[5]) << 8 | quint32(p[6]) << 16 | quint32(p[7]) << 24;
        c = tables[7][lo & 0xFF] ^ tables[6][(lo >> 8) & 0xFF] ^ tables[5][(lo >> 16) & 0xFF] ^ tables[4][lo >> 24]
            ^ tables[3][hi & 0xFF] ^ tables[2][(hi >> 8) & 0xFF] ^ tables[1][(hi >> 16) & 0xFF] ^ tables[0][hi >> 24];
    }
    for (; n > 0; --n, ++p)
        c = tables[0][(c ^ *p) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static void appendU32(QByteArray &out, quint32 v)
{
    const char bytes[4] = {char(v & 0xFF), char((v >> 8) & 0xFF), char((v >> 16) & 0xFF),
                           char((v >> 24) & 0xFF)};
    out.append(bytes, 4);
}

static quint32 readU32(const char *p)
{
    return quint32(quint8(p[0])) | quint32(quint8(p[1])) << 8 | quint32(quint8(p[2])) << 16
        | quint32(quint8(p[3])) << 24;
}

quint32 appendRecord(QByteArray &out, QByteArrayView payload)
{
    const quint32 crc = crc32(payload);
    appendU32(out, quint32(payload.size()));
    appendU32(out, crc);
    out.append(payload.data(), payload.size());
    return crc;
}

QByteArray headerPayload(quint32 epoch, EventId previous, int number, quint32 chain)
{
    return 'H' + EventId::epochText(epoch) + '\n'
        + (previous.isNull() ? QByteArray() : previous.position()) + '\n'
        + QByteArray::number(number) + '\n' + QByteArray::number(chain, 16).rightJustified(8, '0');
}

std::optional<Header> parseHeader(QByteArrayView payload)
{
    if (payload.isEmpty() || payload[0] != 'H')
        return std::nullopt;
    const QList<QByteArray> lines = payload.sliced(1).toByteArray().split('\n');
    if (lines.size() != 2 && lines.size() != 4)
        return std::nullopt;
    Header header;
    header.epoch = EventId::parseEpoch(lines[0]);
    if (header.epoch == 0)
        return std::nullopt;
    if (!lines[1].isEmpty()) {
        const auto previous = EventId::fromPosition(lines[1], header.epoch);
        if (!previous)
            return std::nullopt;
        header.previous = *previous;
    }
    if (lines.size() == 4) {
        bool numberOk = false;
        bool chainOk = false;
        header.number = lines[2].toInt(&numberOk);
        const quint32 chain = lines[3].size() == 8 ? lines[3].toUInt(&chainOk, 16) : 0;
        if (!numberOk || header.number <= 0 || !chainOk)
            return std::nullopt;
        header.chain = chain;
    }
    return header;
}

namespace {

struct Record
{
    QByteArrayView payload;
    qsizetype size = 0; ///< with its length and CRC
    quint32 crc = 0;
    const char *problem = nullptr; ///< set when it is not a whole record
};

Record readRecord(QByteArrayView bytes, qsizetype pos, int maxRecordBytes)
{
    Record r;
    if (bytes.size() - pos < 8) {
        r.problem = "a torn record";
        return r;
    }
    const quint32 length = readU32(bytes.data() + pos);
    r.crc = readU32(bytes.data() + pos + 4);
    if (length > quint32(maxRecordBytes)) {
        r.problem = "an oversized record";
        return r;
    }
    if (qsizetype(length) > bytes.size() - pos - 8) {
        r.problem = "a torn record";
        return r;
    }
    r.payload = bytes.sliced(pos + 8, length);
    r.size = 8 + qsizetype(length);
    if (crc32(r.payload) != r.crc)
        r.problem = "a damaged record";
    return r;
}

// The event of an `E<position>\n<envelope>` record whose id is above `after`.
std::optional<Event> parseEvent(QByteArrayView payload, Channel channel, quint32 epoch, EventId after)
{
    const qsizetype newline = payload.indexOf('\n');
    if (payload.isEmpty() || payload[0] != 'E' || newline < 2)
        return std::nullopt;
    const auto id = EventId::fromPosition(payload.sliced(1, newline - 1), epoch);
    if (!id || (!after.isNull() && *id <= after))
        return std::nullopt;
    Result<Event> parsed = Event::fromEnvelope(channel, payload.sliced(newline + 1).toByteArray());
    if (!parsed)
        return std::nullopt;
    Event event = std::move(*parsed);
    event.id = *id;
    return event;
}

} // namespace

Scan scan(QByteArrayView bytes, Channel channel, quint32 epoch, int maxRecordBytes)
{
    Scan out;
    qsizetype pos = 0;
    const Record first = readRecord(bytes, 0, maxRecordBytes);
    if (bytes.isEmpty()) {
        out.headerProblem = QStringLiteral("an empty file");
    } else if (first.problem) {
        out.headerProblem = QStringLiteral("%1 where the header belongs").arg(QLatin1StringView(first.problem));
    } else if (const auto header = parseHeader(first.payload); !header) {
        out.headerProblem = QStringLiteral("no valid header");
    } else if (header->epoch != epoch) {
        out.headerProblem = QStringLiteral("a header of another epoch");
    } else {
        out.header = header;
        out.lastCrc = first.crc;
        pos = first.size;
        out.intactBytes = pos;
    }

    // The next offset from `from` where a whole event record above `after` starts, or -1.
    // Only records that start with 'E' are checked in full, so this stays linear in practice.
    const auto nextWhole = [&](qsizetype from, EventId after) -> qsizetype {
        for (qsizetype q = from; q + 9 <= bytes.size(); ++q) {
            if (bytes[q + 8] != 'E')
                continue;
            const quint32 length = readU32(bytes.data() + q);
            if (length < 2 || qsizetype(length) > bytes.size() - q - 8)
                continue;
            // An event record starts with its position: checked before any CRC is computed,
            // so a long run of garbage costs a few byte compares per offset, not a CRC each.
            const QByteArrayView start = bytes.sliced(q + 9, qMin<qsizetype>(length - 1, 48));
            const qsizetype newline = start.indexOf('\n');
            if (newline < 3 || !EventId::fromPosition(start.first(newline), epoch))
                continue;
            const Record r = readRecord(bytes, q, maxRecordBytes);
            if (!r.problem && parseEvent(r.payload, channel, epoch, after))
                return q;
        }
        return -1;
    };

    bool inRecovered = false;
    if (!out.header) {
        // The header is gone: whatever whole records follow are still worth reading.
        const qsizetype q = nextWhole(0, EventId());
        if (q < 0) {
            out.damage = Scan::Damage::Tail;
            out.damageAt = 0;
            out.damageWhat = out.headerProblem;
            return out;
        }
        out.damage = Scan::Damage::Middle;
        out.damageAt = 0;
        out.damageWhat = out.headerProblem;
        out.recoveredFrom = out.recoveredTo = pos = q;
        inRecovered = true;
    }
    while (pos < bytes.size()) {
        const Record r = readRecord(bytes, pos, maxRecordBytes);
        const std::optional<Event> event = r.problem ? std::nullopt : parseEvent(r.payload, channel, epoch, out.last);
        if (event) {
            if (inRecovered && out.recovered.isEmpty())
                out.recoveredFirst = event->id;
            (inRecovered ? out.recovered : out.events).append(*event);
            out.last = event->id;
            out.lastCrc = r.crc;
            pos += r.size;
            (inRecovered ? out.recoveredTo : out.intactBytes) = pos;
            continue;
        }
        const QString what = r.problem ? QString::fromLatin1(r.problem) : QStringLiteral("a malformed event record");
        const qsizetype q = nextWhole(pos + 1, out.last);
        if (out.damage == Scan::Damage::None) {
            out.damageAt = pos;
            out.damageWhat = what;
            out.damage = q < 0 ? Scan::Damage::Tail : Scan::Damage::Middle;
        }
        if (q < 0)
            break; // nothing whole after it: a torn tail, or the end of what was recovered
        // Records after a second damaged region replace the ones after the first: only a run
        // up to the end of the file can be chained to what follows.
        out.recovered.clear();
        out.recoveredFrom = out.recoveredTo = pos = q;
        inRecovered = true;
    }
    return out;
}

} // namespace Hermes::JournalSegment
