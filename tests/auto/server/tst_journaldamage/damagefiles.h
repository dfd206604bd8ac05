#pragma once

// tst_journaldamage's means: the journal's files (segments, records, what was moved aside),
// writing a channel, and the check that every resume is whole or resyncs.

#include "../journalfixture/journalfixture.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>

namespace Hermes {

inline QList<EventId> idsOf(const QList<Event> &events, int channel = -1)
{
    QList<EventId> out;
    for (const Event &e : events) {
        if (channel < 0 || e.channel.index() == channel)
            out.append(e.id);
    }
    return out;
}

inline QString channelDir(const QString &dir, int channel)
{
    return dir + u'/' + Channel::fromIndex(channel)->shortName();
}

inline QStringList segments(const QString &dir, int channel)
{
    QDir d(channelDir(dir, channel));
    QStringList out;
    for (const QString &name : d.entryList({QStringLiteral("*.log")}, QDir::Files | QDir::System, QDir::Name))
        out.append(d.filePath(name));
    return out;
}

// Every file under damaged/ (what was moved aside).
inline QStringList movedAside(const QString &dir)
{
    QStringList out;
    QDirIterator it(dir + QStringLiteral("/damaged"), QDir::Files | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext())
        out.append(it.next());
    return out;
}

// Where each record of a segment file starts (the header's first).
inline QList<qsizetype> recordOffsets(const QByteArray &bytes)
{
    QList<qsizetype> out;
    qsizetype pos = 0;
    while (bytes.size() - pos >= 8) {
        const quint32 length = quint32(quint8(bytes[pos])) | quint32(quint8(bytes[pos + 1])) << 8
            | quint32(quint8(bytes[pos + 2])) << 16 | quint32(quint8(bytes[pos + 3])) << 24;
        if (qsizetype(length) > bytes.size() - pos - 8)
            break;
        out.append(pos);
        pos += 8 + qsizetype(length);
    }
    return out;
}

inline QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

inline bool writeAll(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

// A journal of capacity 64 (segments of 16 events) holding `count` events of channel 2, closed
// cleanly. Returns them.
inline QList<Event> writeChannel(const QString &dir, int count, bool clean = true, int channel = 2,
                                 qint64 bytes = EventJournal::Unbounded)
{
    EventJournal journal(dir, 64, EventJournal::Fsync::Never, bytes);
    const Result<EventJournal::Loaded> loaded = journal.open("boot-1");
    if (!loaded)
        return {};
    EventIdGenerator ids;
    ids.setEpoch(loaded->epoch);
    ids.advanceTo(loaded->newest);
    QList<Event> out;
    for (int i = 0; i < count; ++i) {
        out.append(makeJournalEvent(ids, channel, i));
        if (!journal.append({out.last()}))
            return {};
    }
    if (clean)
        journal.close();
    return out;
}

// The invariant: a resume from `after` on `channel` is either below the floor (resync) or given
// exactly the written events after it.
inline bool resumeIsWhole(const EventJournal::Loaded &loaded, const QList<Event> &written, int channel,
                          EventId after, QString *why)
{
    const EventId floor = loaded.floors[size_t(channel)];
    if (!floor.isNull() && after < floor)
        return true; // resync_required
    QList<EventId> want, got;
    for (const Event &e : written) {
        if (e.channel.index() == channel && e.id > after)
            want.append(e.id);
    }
    for (const Event &e : loaded.events) {
        if (e.channel.index() == channel && e.id > after)
            got.append(e.id);
    }
    if (want == got)
        return true;
    *why = QStringLiteral("resume from %1 (floor %2): %3 event(s) wanted, %4 given")
               .arg(QString::fromLatin1(after.toByteArray()), QString::fromLatin1(floor.toByteArray()))
               .arg(want.size()).arg(got.size());
    return false;
}

} // namespace Hermes

#define VERIFY_EVERY_RESUME(loaded, written, channel)                                              \
    do {                                                                                           \
        QString why_;                                                                              \
        QVERIFY2(resumeIsWhole(loaded, written, channel, EventId(0, 0, (loaded).epoch), &why_), qPrintable(why_)); \
        for (const Event &e_ : written)                                                            \
            QVERIFY2(resumeIsWhole(loaded, written, channel, e_.id, &why_), qPrintable(why_));      \
    } while (false)

