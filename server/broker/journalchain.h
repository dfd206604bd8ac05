#pragma once

#include "broker/journalsegment.h"

#include <QList>
#include <QString>

#include <optional>

namespace Hermes::JournalChain {

/**
 * Decides what of one channel's segments an EventJournal can still vouch for — the rule, apart
 * from the files, so it can be tested on its own.
 *
 * The kept history is the longest run of newest segments that are whole and linked: numbers
 * consecutive, each header naming its predecessor's last id and last record's CRC, its own
 * number. Everything before the newest break is given up, and the channel's floor is raised
 * over what may be lost, so a resume across the damage is answered `resync_required` and
 * never with a silent gap. Records found whole after a damaged region of a segment are kept
 * (the segment is rewritten without the damage).
 *
 * A torn tail — bytes at the very end of the newest segment that hold no whole record — is
 * the normal trace of a machine that stopped mid-write, and is cut off; but only after an
 * unclean stop: after a clean one no write can have been torn, so it is damage. The state
 * file's record of each channel's newest segment and id (written at open, each rotation and a
 * clean stop) tells a newest segment that lost its end, or vanished, from one that never had
 * more.
 */

/// One segment file as read.
struct File
{
    int number = 0;
    qsizetype size = 0;
    JournalSegment::Scan scan;
};

/// What the state file recorded of a channel: its newest segment and newest event.
struct Recorded
{
    int segment = 0;
    EventId last; ///< null: the channel had no event
};

struct Plan
{
    qsizetype keepFrom = 0;     ///< index of the first kept file; files.size(): none is kept
    bool rewriteFirst = false;  ///< the first kept file keeps only its recovered records
    bool cutLast = false;       ///< the newest kept file ends in a torn tail, cut at usableEnd()
    EventId floor;              ///< the channel's floor: events up to it may be lost
    QString damage;             ///< empty: none; else what was found, for the log
};

/// `files` in number order. `lostEnd`: the newest id the channel may have had when its
/// newest segment's end cannot be read (the recorded last event after a clean stop, else
/// everything issued so far).
Plan plan(const QList<File> &files, std::optional<Recorded> recorded, bool cleanStop, EventId lostEnd);

} // namespace Hermes::JournalChain
