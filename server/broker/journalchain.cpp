#include "broker/journalchain.h"

namespace Hermes::JournalChain {

using JournalSegment::Scan;

static QString where(const File &f)
{
    return QStringLiteral("segment %1").arg(f.number);
}

Plan plan(const QList<File> &files, std::optional<Recorded> recorded, bool cleanStop, EventId lostEnd)
{
    Plan out;
    const qsizetype n = files.size();
    const auto give = [&](qsizetype keepFrom, EventId floor, const QString &what) {
        out.keepFrom = keepFrom;
        out.floor = floor;
        out.damage = what;
    };
    for (qsizetype i = n - 1; i >= 0; --i) {
        const File &f = files[i];
        const Scan &s = f.scan;
        const bool newest = i == n - 1;
        // Bytes after the last whole record: a torn tail is forgiven only at the very end of
        // the newest segment after an unclean stop.
        const bool tornEnd = s.usableEnd() < f.size;
        const bool endForgiven = !tornEnd || (newest && !cleanStop);
        const bool inPlace = s.header && (s.header->number == 0 || s.header->number == f.number);
        const EventId afterThis = newest ? lostEnd : (files[i + 1].scan.header ? files[i + 1].scan.header->previous : lostEnd);
        if (s.header && !inPlace) {
            give(i + 1, afterThis, QStringLiteral("%1 names itself segment %2 (renamed or reordered)")
                                       .arg(where(f)).arg(s.header->number));
            break;
        }
        if (s.damage == Scan::Damage::Middle && endForgiven) {
            // Keep what follows the damage; what it hid is below the floor.
            give(i, s.recoveredFirst.previous(),
                 QStringLiteral("%1: %2 at offset %3").arg(where(f), s.damageWhat).arg(s.damageAt));
            out.rewriteFirst = true;
            break;
        }
        if (!s.header || s.damage != Scan::Damage::None) {
            const bool torn = s.header && s.damage == Scan::Damage::Tail && newest && !cleanStop;
            if (!torn) {
                const QString what = !s.header ? s.headerProblem : s.damageWhat;
                give(i + 1, afterThis, QStringLiteral("%1: %2 at offset %3").arg(where(f), what)
                                           .arg(qMax<qsizetype>(0, s.damageAt)));
                break;
            }
            out.cutLast = true; // a torn tail: never delivered, dropped
        }
        if (i == 0) {
            give(0, s.header->previous, QString());
            break;
        }
        const File &p = files[i - 1];
        QString broken;
        if (p.number != f.number - 1)
            broken = QStringLiteral("segments %1 to %2 are missing").arg(p.number + 1).arg(f.number - 1);
        else if (s.header->previous != p.scan.end())
            broken = QStringLiteral("%1 does not end where %2 begins (cut short, or replaced)").arg(where(p), where(f));
        else if (s.header->chain && *s.header->chain != p.scan.lastCrc)
            broken = QStringLiteral("%1 does not end with the record %2 names (replaced)").arg(where(p), where(f));
        if (!broken.isEmpty()) {
            give(i, s.header->previous, broken);
            break;
        }
    }
    if (n == 0) {
        // Segments were recorded: whatever they held (up to the lost end) is gone.
        if (recorded && recorded->segment > 0 && !std::max(recorded->last, lostEnd).isNull())
            give(0, std::max(recorded->last, lostEnd), QStringLiteral("every segment is missing"));
        return out;
    }
    // The state file knows how far the channel had come: a newest segment that lost its end
    // (cut at a record boundary) or vanished leaves no other trace.
    if (recorded && out.keepFrom < n) {
        const File &newest = files[n - 1];
        QString missing;
        if (newest.number < recorded->segment)
            missing = QStringLiteral("segment %1 is missing").arg(recorded->segment);
        else if (!recorded->last.isNull() && newest.scan.end() < recorded->last)
            missing = QStringLiteral("%1 ends before the event the last stop recorded (cut short)").arg(where(newest));
        if (!missing.isEmpty()) {
            give(n, std::max({out.floor, recorded->last, lostEnd}), missing);
            out.rewriteFirst = false;
            out.cutLast = false;
        }
    }
    if (out.keepFrom == n) {
        out.rewriteFirst = false;
        out.cutLast = false;
    }
    return out;
}

} // namespace Hermes::JournalChain
