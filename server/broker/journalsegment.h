#pragma once

#include "event.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

#include <optional>

namespace Hermes::JournalSegment {

/**
 * The on-disk format of one EventJournal segment, and the reading of one segment file that
 * tells whole records from damaged ones.
 *
 * A segment is a run of records: a little-endian u32 payload length, the payload's CRC-32,
 * the payload. The first record is the header: `H<epoch>\n<previous>\n<number>\n<chain>` —
 * the id of the channel's last event before this segment (empty: none), the segment's own
 * number, and the CRC-32 (8 hex digits) of the last record of the segment before it, so a
 * missing, shortened, renamed or reordered segment breaks the chain at load. Journals written
 * before the chain existed have headers of only the first two lines (read, not checked).
 * Every other record is an event: `E<position>\n<envelope JSON>`.
 */

/// CRC-32 (IEEE 802.3).
quint32 crc32(QByteArrayView data);
/// Appends `payload` as one record; returns its CRC.
quint32 appendRecord(QByteArray &out, QByteArrayView payload);

struct Header
{
    quint32 epoch = 0;
    EventId previous;              ///< null: the channel had no event before this segment
    int number = 0;                ///< 0: an old header without one
    std::optional<quint32> chain;  ///< the previous segment's last record's CRC; none: old header
};

/// The header's payload. `previous` carries no epoch (the epoch is on the first line).
QByteArray headerPayload(quint32 epoch, EventId previous, int number, quint32 chain);
std::optional<Header> parseHeader(QByteArrayView payload);

/// What reading one segment file found.
struct Scan
{
    enum class Damage {
        None,    ///< every byte belongs to a whole record
        Tail,    ///< from damageAt to the end nothing is a whole record (a torn tail, or a lost end)
        Middle,  ///< whole records follow a damaged region: the ones after the last such region
                 ///< are `recovered`
    };

    std::optional<Header> header;  ///< none: the header itself is damaged or missing
    QString headerProblem;         ///< why there is no header, or why it does not fit
    QList<Event> events;           ///< the whole records before any damage, in order
    EventId last;                  ///< the newest id of `events`, or of `recovered` if any
    quint32 lastCrc = 0;           ///< the CRC of the file's last whole record (the chain)
    qsizetype intactBytes = 0;     ///< where the whole records before any damage end

    Damage damage = Damage::None;
    qsizetype damageAt = -1;
    QString damageWhat;

    QList<Event> recovered;        ///< Middle: the whole records after the last damaged region
    EventId recoveredFirst;        ///< the oldest id of `recovered` (kept when a reader drops them)
    qsizetype recoveredFrom = -1;  ///< their bytes: [recoveredFrom, recoveredTo)
    qsizetype recoveredTo = -1;

    /// The events a reader can use from this file, the recovered ones if any.
    const QList<Event> &usable() const { return damage == Damage::Middle ? recovered : events; }
    /// The id the file ends with: its newest event's, or for a file without one the id its
    /// header names (null when neither is known).
    EventId end() const { return last.isNull() && header ? header->previous : last; }
    /// Where the usable whole records end: bytes after it are no whole record.
    qsizetype usableEnd() const { return damage == Damage::Middle ? recoveredTo : intactBytes; }
};

/// Reads `bytes`, one segment of `channel` in `epoch`. A header of another epoch counts as a
/// damaged header (a file from elsewhere). After damage, scans byte by byte for the next whole
/// event record (length, CRC, an id above the last) — a torn tail holds none, damage in the
/// middle leaves the records after it readable.
Scan scan(QByteArrayView bytes, Channel channel, quint32 epoch, int maxRecordBytes);

} // namespace Hermes::JournalSegment
