#pragma once

#include <QList>
#include <QMap>
#include <QSet>
#include <QString>

#include <climits>

// The gray faults of the delivery model (README, "Delivery model test"): what each one did,
// so the judge can tell a resync the history called for from one it did not.
namespace Model {

enum class Nemesis {
    SigStop,          ///< a node paused (SIGSTOP) past its timeouts, then continued
    SegmentRemoved,   ///< embedded: a middle journal segment deleted between runs
    SegmentTruncated, ///< embedded: a segment cut at a record boundary between runs
    BitFlip,          ///< embedded: one bit of a record flipped between runs
    DiskFull,         ///< embedded: the journal's file system full, then freed and a clean restart
    RedisRestore,     ///< Redis SIGKILLed and started on an older snapshot
    StreamDeleted,    ///< a channel's stream key gone (an eviction's stand-in: DEL)
    RedisOom,         ///< Redis out of memory (noeviction), outside publishers going on
    StreamLength,     ///< a node restarted with another HERMES_REDIS_STREAM_LENGTH
    Count
};
QString nemesisName(Nemesis kind);
/// The nemesis named `name` (as nemesisName() spells it), or Count.
Nemesis nemesisFromName(QStringView name);

/// How often each nemesis is drawn: per mille of the operations.
struct NemesisWeights
{
    int weight[int(Nemesis::Count)] = {};
    int &operator[](Nemesis kind) { return weight[int(kind)]; }
    int operator[](Nemesis kind) const { return weight[int(kind)]; }
    int total() const
    {
        int sum = 0;
        for (int w : weight)
            sum += w;
        return sum;
    }
};

/// One nemesis as it happened.
struct NemesisRecord
{
    Nemesis kind = Nemesis::Count;
    qint64 op = 0;
    qint64 fromMs = 0;          ///< wall clock when the fault began
    qint64 toMs = LLONG_MAX;    ///< when it was healed (the node back, memory back...)
    int node = -1;
    quint8 channels = 0;        ///< the channels whose history it destroyed
    QSet<qint64> lostSeqs;      ///< events of the log it destroyed (or, OOM: never stored)
    int lastLost = -1;          ///< the log position of the last of them (set at the end)
    int boundary = -1;          ///< restore: log positions below this are the old timeline
    QString detail;
};

/// The summary's figures for one nemesis.
struct NemesisFigures
{
    int runs = 0;
    qint64 events = 0;          ///< events of the log published while it was on
    qint64 destroyed = 0;       ///< events of the log it destroyed
    int excusedResyncs = 0;
    QMap<QString, int> resyncReasons; ///< the resyncs it excused, by reason
    qint64 excusedGaps = 0;     ///< missed events, each followed by a resync in time
    qint64 refused = 0;         ///< publishes answered 503 while it was on
    qint64 lost = 0, duplicated = 0, reordered = 0, other = 0; ///< the judge's, while it was on
};

} // namespace Model
