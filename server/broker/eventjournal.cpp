#include "broker/eventjournal.h"

#include "broker/historybudget.h"
#include "broker/journalfiles.h"

#include "logging.h"
#include "pooltask.h"

#include <QDateTime>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QThreadPool>

#include <algorithm>
#include <utility>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace Hermes {



std::optional<EventJournal::Fsync> EventJournal::parseFsync(QStringView text)
{
    if (text == u"always")
        return Fsync::Always;
    if (text == u"everysec")
        return Fsync::EverySecond;
    if (text == u"no")
        return Fsync::Never;
    return std::nullopt;
}

static QString fsyncName(EventJournal::Fsync f)
{
    switch (f) {
    case EventJournal::Fsync::Always: return QStringLiteral("always");
    case EventJournal::Fsync::EverySecond: return QStringLiteral("everysec");
    case EventJournal::Fsync::Never: return QStringLiteral("no");
    }
    return {};
}

EventJournal::EventJournal(QString directory, int capacityPerChannel, Fsync fsync, qint64 bytesPerChannel)
    : m_dir(std::move(directory)), m_capacity(qMax(1, capacityPerChannel)), m_fsync(fsync),
      m_byteBudget(qMax<qint64>(1, bytesPerChannel)),
      // Segments of a quarter of the capacity: the disk holds at most 1.25 × the history.
      m_segmentEvents(qMax(16, m_capacity / 4)),
      // ... and of a quarter of the byte budget: a load reads one segment at a time, so a
      // journal of large events never costs it more than a part of the budget per file (a
      // segment exceeds it only by holding one larger event alone: see append()).
      m_segmentBytes(m_byteBudget == Unbounded ? Unbounded : qMax<qint64>(64 << 10, m_byteBudget / 4)),
      m_quarantine(m_dir)
{
    for (Channel channel : Channel::all())
        m_lanes[channel.index()].channel = channel;
    m_syncPool.setMaxThreadCount(1);
}

EventJournal::~EventJournal()
{
    for (int fd : m_retired)
        ::close(fd);
    for (Lane &c : m_lanes) {
        if (c.fd >= 0)
            ::close(c.fd);
    }
}

QString EventJournal::segmentPath(const Lane &lane, int number) const
{
    // One directory per channel, named by its short name.
    return QStringLiteral("%1/%2/%3.log")
        .arg(m_dir, lane.channel.shortName())
        .arg(number, 8, 10, QLatin1Char('0'));
}

// The errors of a journal that cannot be used: the server cannot keep its history.
static Error unavailable(QString message)
{
    return Error::failed("history_unavailable", std::move(message));
}

// Why a kept history is not trusted (see the class comment).
static Error notTrusted(QString message)
{
    return Error::failed("history_not_trusted", std::move(message));
}

// Why a kept history cannot be read at all: its files are moved aside, not deleted.
static Error damaged(QString message)
{
    return Error::failed("history_damaged", std::move(message));
}

Result<EventJournal::Loaded> EventJournal::open(const QByteArray &bootId)
{
    m_thread.check(Q_FUNC_INFO);
    m_bootId = bootId;
    if (m_bootId.isEmpty()) {
        QFile f(QStringLiteral("/proc/sys/kernel/random/boot_id"));
        if (f.open(QIODevice::ReadOnly))
            m_bootId = f.readAll().trimmed();
    }
    for (Channel channel : Channel::all()) {
        if (!QDir().mkpath(m_dir + u'/' + channel.shortName()))
            return unavailable(QStringLiteral("cannot create %1/%2").arg(m_dir, channel.shortName()));
    }
    Result<Loaded> kept = load();
    Loaded out;
    if (kept) {
        out = std::move(*kept);
    } else {
        if (kept.error().code == "history_damaged") {
            // Without the state file nothing can be vouched for; the files are evidence.
            QStringList paths{m_dir + QStringLiteral("/state.json")};
            for (Lane &c : m_lanes) {
                QDir dir(m_dir + u'/' + c.channel.shortName());
                for (const QString &name : dir.entryList({QStringLiteral("*.log")}, QDir::Files | QDir::System))
                    paths.append(dir.filePath(name));
            }
            const QStringList moved = m_quarantine.moveAside(paths);
            qCCritical(lcBroker).noquote() << "history damaged:" << kept.error().message << "- moved"
                                           << moved.size() << "file(s) to" << m_quarantine.directory()
                                           << "; clients that resume will resync";
            out.damage.append(kept.error().message);
        }
        discardAll();
        out.newEpoch = true;
        // Nothing to say for a first start (NotFound).
        if (kept.error().kind != Error::Kind::NotFound)
            out.whyNew = kept.error().message;
        m_epoch = EventId::randomEpoch();
    }
    out.epoch = m_epoch;
    for (const EventId &floor : out.floors)
        out.newest = std::max(out.newest, floor); // ids go on above whatever may be lost
    m_newest = out.newest;
    for (Lane &c : m_lanes) {
        if (Result<void> opened = c.segments.empty() ? createSegment(c, c.nextNumber, c.floor) : openNewest(c);
            !opened)
            return opened.error();
    }
    m_open = true;
    if (Result<void> written = writeState(false); !written)
        return written.error();
    return out;
}

bool EventJournal::anySegments() const
{
    for (const Lane &c : m_lanes) {
        if (!QDir(m_dir + u'/' + c.channel.shortName()).entryList({QStringLiteral("*.log")}, QDir::Files | QDir::System).isEmpty())
            return true;
    }
    return false;
}

// Reads state.json and every segment. An error when nothing can be trusted, with why; or
// NotFound when there is nothing (a first start).
Result<EventJournal::Loaded> EventJournal::load()
{
    QFile stateFile(m_dir + QStringLiteral("/state.json"));
    if (!stateFile.exists()) {
        if (anySegments())
            return damaged(QStringLiteral("state.json is missing beside the segments"));
        return Error::notFound("no_history", QString()); // a first start
    }
    if (!stateFile.open(QIODevice::ReadOnly) || stateFile.size() > 64 * 1024)
        return damaged(QStringLiteral("state.json cannot be read"));
    const QJsonObject state = QJsonDocument::fromJson(stateFile.readAll()).object();
    m_epoch = EventId::parseEpoch(state.value(QStringLiteral("epoch")).toString().toLatin1());
    if (m_epoch == 0)
        return damaged(QStringLiteral("state.json names no epoch"));
    const Fsync previous = parseFsync(state.value(QStringLiteral("fsync")).toString())
                               .value_or(Fsync::EverySecond);
    const bool clean = state.value(QStringLiteral("clean")).toBool();
    const QByteArray lastBoot = state.value(QStringLiteral("boot_id")).toString().toLatin1();
    // An unknown boot counts as another one: trusting it could hide a loss.
    if (!clean && previous != Fsync::Always && (lastBoot != m_bootId || m_bootId.isEmpty())) {
        // Written events not yet on disk die with the machine, and some of them may already
        // have been delivered: a client resuming across them would miss them silently.
        return notTrusted(QStringLiteral("the server did not stop cleanly and the machine restarted since "
                                         "(HERMES_SSE_HISTORY_FSYNC=%1)").arg(fsyncName(previous)));
    }
    Loaded out;
    const auto position = [this](const QJsonValue &v) {
        return EventId::fromPosition(v.toString().toLatin1(), m_epoch).value_or(EventId());
    };
    if (const auto last = EventId::parse(state.value(QStringLiteral("last_id")).toString().toLatin1());
        last && last->epoch() == m_epoch)
        out.newest = *last;
    // After an unclean stop the channel may have gone on past anything recorded: its lost end
    // is everything issued until now (ids follow the wall clock).
    // (The next millisecond, sequence 0: above every id of this millisecond, and no sequence
    // number at its maximum for the generator to overflow.)
    const EventId now(quint64(QDateTime::currentMSecsSinceEpoch()) + 1, 0, m_epoch);
    const QJsonObject channels = state.value(QStringLiteral("channels")).toObject();
    QList<Event> all;
    for (Lane &c : m_lanes) {
        std::optional<JournalChain::Recorded> recorded;
        if (const QJsonValue v = channels.value(c.channel.shortName()); v.isObject()) {
            recorded = JournalChain::Recorded{v[QStringLiteral("segment")].toInt(),
                                              position(v[QStringLiteral("last")])};
        }
        EventId lostEnd = recorded && clean ? recorded->last : out.newest;
        if (!clean)
            lostEnd = std::max({lostEnd, now, recorded ? recorded->last : EventId()});
        const EventId floor = loadChannel(c, recorded, clean, lostEnd, &all, &out.damage);
        if (!floor.isNull())
            out.floors[size_t(c.channel.index())] = floor;
        if (!c.segments.empty())
            out.newest = std::max(out.newest, c.segments.back().last);
    }
    std::sort(all.begin(), all.end(), [](const Event &a, const Event &b) { return a.id < b.id; });
    out.events = std::move(all);
    return out;
}


// Reads one channel's segments into `events`, after JournalChain's plan: what it cannot vouch
// for is moved aside, a torn tail cut off; only the newest events that fit the history's bounds
// are kept (HistoryBudget). Returns the channel's floor.
EventId EventJournal::loadChannel(Lane &lane, std::optional<JournalChain::Recorded> recorded, bool clean,
                                  EventId lostEnd, QList<Event> *events, QStringList *damage)
{
    QDir dir(m_dir + u'/' + lane.channel.shortName());
    // A rotation that never finished: the segment was not made (its name was never given).
    for (const QString &name : dir.entryList({QStringLiteral("*.log.tmp")}, QDir::Files | QDir::System))
        dir.remove(name);
    QList<int> numbers;
    for (const QString &name : dir.entryList({QStringLiteral("*.log")}, QDir::Files | QDir::System)) {
        bool ok = false;
        const int n = name.chopped(4).toInt(&ok);
        if (ok && n > 0 && name == QFileInfo(segmentPath(lane, n)).fileName())
            numbers.append(n);
    }
    std::sort(numbers.begin(), numbers.end());
    // Newest first, one file at a time, and only the newest events that fit the history's
    // bounds are kept of each (the same rule as EventHub's): a journal of large events is never
    // held whole. The chain's checks need every file's header and ends, not its events.
    QList<JournalChain::File> files(numbers.size());
    QList<int> usableCounts(numbers.size());
    HistoryBudget budget{m_capacity, m_byteBudget};
    EventId leftOut; // the newest event not kept for the bounds
    for (qsizetype i = numbers.size() - 1; i >= 0; --i) {
        files[i] = JournalFiles::readSegment(segmentPath(lane, numbers[i]), numbers[i], MaxRecordBytes,
                                             lane.channel, m_epoch);
        JournalSegment::Scan &scan = files[i].scan;
        QList<Event> &usable = scan.damage == JournalSegment::Scan::Damage::Middle ? scan.recovered : scan.events;
        usableCounts[i] = int(usable.size());
        const qsizetype from = budget.keepNewest(usable);
        if (from > 0) {
            leftOut = std::max(leftOut, usable[from - 1].id);
            // A copy of what is kept, not remove(): Qt 6 keeps a list's capacity, and a file
            // of a million small events would hold its whole array until the load ends.
            usable = usable.sliced(from);
        }
        // The other list is not usable (see Scan::usable()): nothing to hold.
        (&usable == &scan.events ? scan.recovered : scan.events) = {};
    }
    const JournalChain::Plan plan = JournalChain::plan(files, recorded, clean, lostEnd);
    lane.nextNumber = std::max(numbers.isEmpty() ? 0 : numbers.back(), recorded ? recorded->segment : 0) + 1;
    lane.floor = plan.floor;
    if (!plan.damage.isEmpty()) {
        QStringList aside;
        for (qsizetype i = 0; i < plan.keepFrom; ++i)
            aside.append(segmentPath(lane, files[i].number));
        QStringList moved = m_quarantine.moveAside(aside);
        if (plan.rewriteFirst) {
            const Result<QString> replaced = JournalFiles::replaceWithRecovered(
                segmentPath(lane, files[plan.keepFrom].number), files[plan.keepFrom], m_epoch, plan.floor, m_quarantine);
            if (replaced)
                moved.append(*replaced);
            else // the damaged file stays; the next start finds the same damage and tries again
                qCCritical(lcBroker).noquote() << "history:" << replaced.error().message;
        }
        const QString line = QStringLiteral("%1: %2; resumes from before %3 will resync")
                                 .arg(lane.channel.name(), plan.damage,
                                      QString::fromLatin1(plan.floor.withEpoch(m_epoch).toByteArray()));
        qCCritical(lcBroker).noquote() << "history damaged:" << line << "- moved" << moved.size()
                                       << "file(s) to" << (moved.isEmpty() ? QStringLiteral("(none)") : m_quarantine.directory());
        damage->append(line);
    }
    for (qsizetype i = plan.keepFrom; i < files.size(); ++i) {
        const JournalChain::File &f = files[i];
        if (i == files.size() - 1 && plan.cutLast) {
            qCWarning(lcBroker).noquote() << "history: a torn tail of" << (f.size - f.scan.usableEnd())
                                          << "byte(s) at the end of" << segmentPath(lane, f.number) << "- dropped";
            ::truncate(QFile::encodeName(segmentPath(lane, f.number)).constData(), off_t(f.scan.usableEnd()));
        }
        const QList<Event> &usable = f.scan.usable();
        events->append(usable);
        const int count = usableCounts[i];
        const EventId last = count == 0 ? (f.scan.header ? f.scan.header->previous : plan.floor) : f.scan.last;
        lane.segments.push_back(Segment{f.number, count, last, f.scan.usableEnd()});
        lane.total += count;
        lane.lastCrc = f.scan.lastCrc;
    }
    // What was left out for the bounds is below the floor, as if the history had evicted it
    // (the files keep it: the chain is unchanged).
    return std::max(plan.floor, leftOut);
}



void EventJournal::discardAll()
{
    for (Lane &c : m_lanes) {
        QDir dir(m_dir + u'/' + c.channel.shortName());
        for (const QString &name : dir.entryList({QStringLiteral("*.log"), QStringLiteral("*.log.tmp")},
                                                 QDir::Files | QDir::System))
            dir.remove(name);
        c.segments.clear();
        c.total = 0;
        c.floor = EventId();
        c.nextNumber = 1;
        c.lastCrc = 0;
    }
}

static Error ioError(const QString &what, const QString &path)
{
    return unavailable(QStringLiteral("cannot %1 %2: %3").arg(what, path, QString::fromLocal8Bit(std::strerror(errno))));
}

Result<void> EventJournal::openNewest(Lane &lane)
{
    const QString path = segmentPath(lane, lane.segments.back().number);
    lane.fd = ::open(QFile::encodeName(path).constData(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (lane.fd < 0)
        return ioError(QStringLiteral("open"), path);
    return {};
}

// Makes segment `number` whole before it has its name: the header is written and synced under
// a temporary name, then renamed. Only then is the previous segment closed, so a failure (a
// full disk) changes nothing.
Result<void> EventJournal::createSegment(Lane &lane, int number, EventId previous)
{
    const QString path = segmentPath(lane, number);
    const QString temporary = path + QStringLiteral(".tmp");
    QByteArray bytes;
    const quint32 crc = JournalSegment::appendRecord(
        bytes, JournalSegment::headerPayload(m_epoch, previous, number, lane.segments.empty() ? 0 : lane.lastCrc));
    const int fd = ::open(QFile::encodeName(temporary).constData(),
                          O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return ioError(QStringLiteral("create"), temporary);
    // Synced before it has its name only where a power loss must not cost the history; under
    // the other policies a power loss makes the whole history untrusted anyway.
    const bool written = JournalFiles::writeAll(fd, bytes) && (m_fsync != Fsync::Always || ::fdatasync(fd) == 0);
    if (!written || ::rename(QFile::encodeName(temporary).constData(), QFile::encodeName(path).constData()) != 0) {
        const Error error = ioError(QStringLiteral("write"), path);
        ::close(fd);
        QFile::remove(temporary);
        return error;
    }
    if (m_fsync == Fsync::Always) {
        // The new name must survive a power loss too.
        const int dir = ::open(QFile::encodeName(QFileInfo(path).absolutePath()).constData(),
                               O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir >= 0) {
            ::fsync(dir);
            ::close(dir);
        }
    }
    if (lane.fd >= 0) {
        // The full segment's last writes reach the disk with the next sync, on the pool
        // thread: a rotation never waits on the disk (under `always` it was synced already).
        if (m_fsync == Fsync::EverySecond && lane.dirty)
            m_retired.push_back(lane.fd);
        else
            ::close(lane.fd);
    }
    lane.dirty = m_fsync != Fsync::Always; // the new header
    lane.fd = fd;
    lane.lastCrc = crc;
    lane.segments.push_back(Segment{number, 0, previous, bytes.size()});
    return {};
}

void EventJournal::dropOldSegments(Lane &channel)
{
    // Keep every segment needed for the newest `capacity` events of the channel.
    while (channel.segments.size() > 1
           && channel.total - channel.segments.front().events >= m_capacity) {
        QFile::remove(segmentPath(channel, channel.segments.front().number));
        channel.total -= channel.segments.front().events;
        channel.segments.erase(channel.segments.begin());
    }
}

Result<void> EventJournal::append(const QList<Event> &events)
{
    m_thread.check(Q_FUNC_INFO);
    if (!m_open)
        return unavailable(QStringLiteral("the history journal is not open"));
    QByteArray buffers[Channel::Count];
    int counts[Channel::Count] = {};
    EventId lasts[Channel::Count];
    quint32 crcs[Channel::Count] = {};
    for (const Event &event : events) {
        const int i = event.channel.index();
        const QByteArray record = 'E' + event.id.position() + '\n' + event.envelopeJson();
        if (record.size() > MaxRecordBytes)
            return unavailable(QStringLiteral("an event of %1 bytes is larger than the history takes").arg(record.size()));
        crcs[i] = JournalSegment::appendRecord(buffers[i], record);
        ++counts[i];
        lasts[i] = event.id;
    }
    // A segment the batch would not fit is closed before it (a batch never spans two
    // segments), so a failed batch leaves nothing to undo but its own bytes. With batches of
    // appendable() size, a segment is thus at most m_segmentBytes, or holds one event that is
    // larger alone: what a load reads per file is bounded (tst_eventjournal).
    for (int i = 0; i < Channel::Count; ++i) {
        Lane &c = m_lanes[i];
        const Segment &newest = c.segments.back();
        if (counts[i] == 0 || newest.events == 0
            || (newest.events < m_segmentEvents && newest.bytes + buffers[i].size() <= m_segmentBytes))
            continue;
        const Segment full = c.segments.back();
        if (Result<void> created = createSegment(c, full.number + 1, full.last); !created)
            return created;
        dropOldSegments(c);
        // The state file learns of the new segment, so it can tell if it goes missing.
        if (const Result<void> written = writeState(false); !written)
            qCWarning(lcBroker).noquote() << "history:" << written.error().message;
    }
    off_t before[Channel::Count] = {};
    for (int i = 0; i < Channel::Count; ++i) {
        if (counts[i] == 0)
            continue;
        Lane &c = m_lanes[i];
        before[i] = ::lseek(c.fd, 0, SEEK_END);
        if (!JournalFiles::writeAll(c.fd, buffers[i])) {
            // Cut the batch off again, so no half-written record stays for the next one to
            // follow; nothing of it is delivered.
            const Error error = unavailable(QStringLiteral("cannot write the history: %1")
                                                .arg(QString::fromLocal8Bit(std::strerror(errno))));
            for (int j = 0; j <= i; ++j) {
                if (counts[j] > 0)
                    ::ftruncate(m_lanes[j].fd, before[j]);
            }
            return error;
        }
    }
    for (int i = 0; i < Channel::Count; ++i) {
        if (counts[i] == 0)
            continue;
        Lane &c = m_lanes[i];
        c.segments.back().events += counts[i];
        c.segments.back().bytes += buffers[i].size();
        c.segments.back().last = lasts[i];
        c.lastCrc = crcs[i];
        c.total += counts[i];
        c.dirty = true;
        m_newest = std::max(m_newest, lasts[i]);
    }
    if (m_fsync == Fsync::Always)
        sync();
    return {};
}

qsizetype EventJournal::appendable(const QList<Event> &events, qsizetype from) const
{
    // Room for a new segment's header (under 100 bytes: epoch, position, number, chain).
    const qint64 room = m_segmentBytes == Unbounded ? Unbounded : m_segmentBytes - 128;
    qint64 bytes = 0;
    qsizetype end = from;
    while (end < events.size()) {
        const Event &e = events[end];
        // As append() frames it: length, CRC, 'E', the position, '\n', the envelope.
        bytes += 8 + 2 + e.id.position().size() + e.envelopeJson().size();
        if (end > from && bytes > room)
            break;
        ++end;
    }
    return end;
}

void EventJournal::syncInBackground()
{
    m_thread.check(Q_FUNC_INFO);
    if (m_backgroundSync->exchange(true))
        return; // the previous one is still running: it covers these writes soon enough
    // Duplicates, so a segment closed by a rotation meanwhile stays valid for the sync; the
    // segments rotated out since the last sync are handed over to be synced and closed.
    std::vector<int> fds = std::exchange(m_retired, {});
    for (Lane &c : m_lanes) {
        if (c.fd >= 0 && c.dirty) {
            const int dup = ::fcntl(c.fd, F_DUPFD_CLOEXEC, 0);
            if (dup >= 0)
                fds.push_back(dup);
            c.dirty = false;
        }
    }
    if (fds.empty()) {
        m_backgroundSync->store(false);
        return;
    }
    startPoolTask(m_syncPool, [fds, busy = m_backgroundSync] {
        for (int fd : fds) {
            ::fdatasync(fd);
            ::close(fd);
        }
        busy->store(false);
    });
}

void EventJournal::sync()
{
    m_thread.check(Q_FUNC_INFO);
    for (int fd : std::exchange(m_retired, {})) {
        ::fdatasync(fd);
        ::close(fd);
    }
    for (Lane &c : m_lanes) {
        if (c.fd >= 0 && c.dirty) {
            ::fdatasync(c.fd);
            c.dirty = false;
        }
    }
}

void EventJournal::close()
{
    m_thread.check(Q_FUNC_INFO);
    if (!m_open)
        return;
    sync();
    if (const Result<void> written = writeState(true); !written)
        qCWarning(lcBroker).noquote() << "history:" << written.error().message;
    for (Lane &c : m_lanes) {
        if (c.fd >= 0)
            ::close(c.fd);
        c.fd = -1;
    }
    m_open = false;
}

Result<void> EventJournal::writeState(bool clean)
{
    QSaveFile file(m_dir + QStringLiteral("/state.json"));
    // Each channel's newest segment and event: what a later start must find at least.
    QJsonObject channels;
    for (const Lane &c : m_lanes) {
        if (c.segments.empty())
            continue;
        const Segment &newest = c.segments.back();
        channels.insert(c.channel.shortName(),
                        QJsonObject{{QStringLiteral("segment"), newest.number},
                                    {QStringLiteral("last"), newest.last.isNull() ? QString()
                                                                                  : QString::fromLatin1(newest.last.position())}});
    }
    const QJsonObject state{
        {QStringLiteral("epoch"), QString::fromLatin1(EventId::epochText(m_epoch))},
        {QStringLiteral("boot_id"), QString::fromLatin1(m_bootId)},
        {QStringLiteral("clean"), clean},
        {QStringLiteral("fsync"), fsyncName(m_fsync)},
        {QStringLiteral("last_id"), QString::fromLatin1(m_newest.withEpoch(m_epoch).toByteArray())},
        {QStringLiteral("channels"), channels},
    };
    const QByteArray bytes = QJsonDocument(state).toJson(QJsonDocument::Compact);
    if (clean || m_fsync == Fsync::Always) {
        if (!file.open(QIODevice::WriteOnly) || file.write(bytes) < 0 || !file.commit())
            return unavailable(QStringLiteral("cannot write %1: %2").arg(file.fileName(), file.errorString()));
        return {};
    }
    // Not synced (the event loop must not wait on the disk at every rotation): under this
    // policy a power loss makes the whole history untrusted anyway, and a process crash
    // keeps what write() handed the kernel. Still atomic: a new name, then rename.
    return JournalFiles::replace(file.fileName(), bytes, false);
}

} // namespace Hermes
