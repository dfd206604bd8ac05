#include "broker/eventjournal.h"

#include "logging.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QThreadPool>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Hermes {

// CRC-32 (IEEE 802.3), so a damaged or torn record is told from a whole one.
static quint32 crc32(const char *data, qsizetype size)
{
    static const std::array<quint32, 256> table = [] {
        std::array<quint32, 256> t{};
        for (quint32 i = 0; i < 256; ++i) {
            quint32 c = i;
            for (int k = 0; k < 8; ++k)
                c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    quint32 c = 0xFFFFFFFFu;
    for (qsizetype i = 0; i < size; ++i)
        c = table[(c ^ quint8(data[i])) & 0xFF] ^ (c >> 8);
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

static void appendRecord(QByteArray &out, const QByteArray &payload)
{
    appendU32(out, quint32(payload.size()));
    appendU32(out, crc32(payload.constData(), payload.size()));
    out += payload;
}

static bool writeAll(int fd, const QByteArray &bytes)
{
    qsizetype done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.constData() + done, size_t(bytes.size() - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += n;
    }
    return true;
}


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

EventJournal::EventJournal(QString directory, int capacityPerChannel, Fsync fsync)
    : m_dir(std::move(directory)), m_capacity(qMax(1, capacityPerChannel)), m_fsync(fsync),
      // Segments of a quarter of the capacity: the disk holds at most 1.25 × the history.
      m_segmentEvents(qMax(16, m_capacity / 4))
{
    for (Channel channel : Channel::all())
        m_lanes[channel.index()].channel = channel;
}

EventJournal::~EventJournal()
{
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
        discardAll();
        out.newEpoch = true;
        // Nothing to say for a first start (NotFound).
        if (kept.error().kind != Error::Kind::NotFound)
            out.whyNew = kept.error().message;
        m_epoch = EventId::randomEpoch();
    }
    out.epoch = m_epoch;
    m_newest = out.newest;
    for (Lane &c : m_lanes) {
        const bool fresh = c.segments.empty();
        const int number = fresh ? 1 : c.segments.back().number;
        if (Result<void> opened = openSegment(c, number, EventId()); !opened)
            return opened.error();
        if (fresh)
            c.segments.push_back(Segment{number, 0, EventId()});
    }
    m_open = true;
    if (Result<void> written = writeState(false); !written)
        return written.error();
    return out;
}

// Reads state.json and every segment. An error when nothing can be trusted, with why; or
// NotFound when there is nothing (a first start).
Result<EventJournal::Loaded> EventJournal::load()
{
    QFile stateFile(m_dir + QStringLiteral("/state.json"));
    if (!stateFile.exists())
        return Error::notFound("no_history", QString()); // a first start
    if (!stateFile.open(QIODevice::ReadOnly) || stateFile.size() > 4096)
        return notTrusted(QStringLiteral("state.json cannot be read"));
    const QJsonObject state = QJsonDocument::fromJson(stateFile.readAll()).object();
    m_epoch = EventId::parseEpoch(state.value(QStringLiteral("epoch")).toString().toLatin1());
    if (m_epoch == 0)
        return notTrusted(QStringLiteral("state.json names no epoch"));
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
    QList<Event> all;
    for (Lane &c : m_lanes) {
        const Result<EventId> floor = loadChannel(c, m_epoch, &all);
        if (!floor)
            return floor.error();
        if (!floor->isNull())
            out.floors[size_t(c.channel.index())] = *floor;
        if (!c.segments.empty())
            out.newest = std::max(out.newest, c.segments.back().last);
    }
    std::sort(all.begin(), all.end(), [](const Event &a, const Event &b) { return a.id < b.id; });
    if (const auto last = EventId::parse(state.value(QStringLiteral("last_id")).toString().toLatin1());
        last && last->epoch() == m_epoch)
        out.newest = std::max(out.newest, *last);
    out.events = std::move(all);
    return out;
}

// Reads one channel's segments into `events`; returns its floor (the id before its oldest
// segment), or why the history cannot be trusted.
Result<EventId> EventJournal::loadChannel(Lane &channel, quint32 epoch, QList<Event> *events)
{
    QDir dir(m_dir + u'/' + channel.channel.shortName());
    QList<int> numbers;
    for (const QString &name : dir.entryList({QStringLiteral("*.log")}, QDir::Files)) {
        bool ok = false;
        const int n = name.chopped(4).toInt(&ok);
        if (ok && n > 0)
            numbers.append(n);
    }
    std::sort(numbers.begin(), numbers.end());
    EventId floor;
    EventId previousId;
    for (qsizetype s = 0; s < numbers.size(); ++s) {
        const bool lastSegment = s == numbers.size() - 1;
        const QString path = segmentPath(channel, numbers[s]);
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return notTrusted(QStringLiteral("%1 cannot be read").arg(path));
        const QByteArray bytes = file.readAll();
        file.close();
        Segment segment{numbers[s], 0, EventId()};
        qsizetype pos = 0;
        bool header = true;
        while (pos < bytes.size()) {
            // A record that is cut short, or fails its CRC as the very last record, of the
            // newest segment was being written when the machine stopped: never delivered,
            // dropped (success: reading the segment ends there). Anything else means the
            // history is damaged.
            const auto damaged = [&](const char *what, bool atEnd) -> Result<void> {
                if (lastSegment && atEnd) {
                    qCWarning(lcBroker).noquote() << "history:" << what << "at the end of" << path
                                                  << "- dropped";
                    ::truncate(QFile::encodeName(path).constData(), off_t(pos));
                    return {};
                }
                return notTrusted(QStringLiteral("%1: %2 at offset %3").arg(path, QLatin1StringView(what)).arg(pos));
            };
            if (bytes.size() - pos < 8) {
                if (Result<void> dropped = damaged("a torn record", true); !dropped)
                    return dropped.error();
                break;
            }
            const quint32 length = readU32(bytes.constData() + pos);
            const quint32 crc = readU32(bytes.constData() + pos + 4);
            if (qsizetype(length) > bytes.size() - pos - 8) {
                if (Result<void> dropped = damaged("a torn record", true); !dropped)
                    return dropped.error();
                break;
            }
            if (length > quint32(MaxRecordBytes))
                return damaged("an oversized record", false).error();
            const char *payload = bytes.constData() + pos + 8;
            if (crc32(payload, length) != crc) {
                if (Result<void> dropped = damaged("a damaged record", pos + 8 + qsizetype(length) == bytes.size());
                    !dropped)
                    return dropped.error();
                break;
            }
            const QByteArrayView record(payload, length);
            pos += 8 + qsizetype(length);
            const qsizetype newline = record.indexOf('\n');
            if (record.isEmpty() || newline < 1)
                return notTrusted(QStringLiteral("%1: a malformed record").arg(path));
            if (header) {
                header = false;
                if (record[0] != 'H'
                    || EventId::parseEpoch(record.sliced(1, newline - 1)) != epoch)
                    return notTrusted(QStringLiteral("%1 belongs to another epoch").arg(path));
                const QByteArrayView prev = record.sliced(newline + 1);
                const auto previous = prev.isEmpty() ? std::optional<EventId>(EventId())
                                                     : EventId::fromPosition(prev, epoch);
                if (!previous)
                    return notTrusted(QStringLiteral("%1: a malformed header").arg(path));
                if (s == 0)
                    floor = *previous;
                continue;
            }
            const auto id = EventId::fromPosition(record.sliced(1, newline - 1), epoch);
            Result<Event> parsed = record[0] == 'E' && id && *id > previousId
                ? Event::fromEnvelope(channel.channel, record.sliced(newline + 1).toByteArray())
                : Result<Event>(Error::invalid("malformed_record", QString()));
            if (!parsed)
                return notTrusted(QStringLiteral("%1: a malformed event record").arg(path));
            Event event = std::move(*parsed);
            event.id = *id;
            previousId = *id;
            events->append(event);
            ++segment.events;
            segment.last = *id;
        }
        if (header) {
            // An empty file: created, then the process stopped before its header was written.
            if (!lastSegment)
                return notTrusted(QStringLiteral("%1 is empty").arg(path));
            QFile::remove(path);
            continue;
        }
        if (segment.last.isNull())
            segment.last = previousId;
        channel.total += segment.events;
        channel.segments.push_back(segment);
    }
    return floor;
}

void EventJournal::discardAll()
{
    for (Lane &c : m_lanes) {
        QDir dir(m_dir + u'/' + c.channel.shortName());
        for (const QString &name : dir.entryList({QStringLiteral("*.log")}, QDir::Files))
            dir.remove(name);
        c.segments.clear();
        c.total = 0;
    }
}

Result<void> EventJournal::openSegment(Lane &channel, int number, EventId previous)
{
    if (channel.fd >= 0) {
        if (m_fsync != Fsync::Never)
            ::fdatasync(channel.fd);
        ::close(channel.fd);
        channel.fd = -1;
    }
    const QString path = segmentPath(channel, number);
    const bool exists = QFile::exists(path);
    channel.fd = ::open(QFile::encodeName(path).constData(),
                        O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (channel.fd < 0)
        return unavailable(QStringLiteral("cannot open %1: %2").arg(path, QString::fromLocal8Bit(std::strerror(errno))));
    if (exists)
        return {};
    QByteArray header = 'H' + EventId::epochText(m_epoch) + '\n'
        + (previous.isNull() ? QByteArray() : previous.position());
    QByteArray bytes;
    appendRecord(bytes, header);
    if (!writeAll(channel.fd, bytes))
        return unavailable(QStringLiteral("cannot write %1: %2").arg(path, QString::fromLocal8Bit(std::strerror(errno))));
    channel.dirty = true;
    if (m_fsync == Fsync::Always) {
        // The new file's name must survive a power loss too.
        const int dir = ::open(QFile::encodeName(QFileInfo(path).absolutePath()).constData(),
                               O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir >= 0) {
            ::fsync(dir);
            ::close(dir);
        }
    }
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
    for (const Event &event : events) {
        const int i = event.channel.index();
        const QByteArray record = 'E' + event.id.position() + '\n' + event.envelopeJson();
        if (record.size() > MaxRecordBytes)
            return unavailable(QStringLiteral("an event of %1 bytes is larger than the history takes").arg(record.size()));
        appendRecord(buffers[i], record);
        ++counts[i];
        lasts[i] = event.id;
    }
    // A full segment is closed before the batch (a batch never spans two segments), so a
    // failed batch leaves nothing to undo but its own bytes.
    for (int i = 0; i < Channel::Count; ++i) {
        Lane &c = m_lanes[i];
        if (counts[i] == 0 || c.segments.back().events < m_segmentEvents)
            continue;
        const Segment full = c.segments.back();
        if (Result<void> opened = openSegment(c, full.number + 1, full.last); !opened)
            return opened;
        c.segments.push_back(Segment{full.number + 1, 0, full.last});
        dropOldSegments(c);
    }
    off_t before[Channel::Count] = {};
    for (int i = 0; i < Channel::Count; ++i) {
        if (counts[i] == 0)
            continue;
        Lane &c = m_lanes[i];
        before[i] = ::lseek(c.fd, 0, SEEK_END);
        if (!writeAll(c.fd, buffers[i])) {
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
        c.segments.back().last = lasts[i];
        c.total += counts[i];
        c.dirty = true;
        m_newest = std::max(m_newest, lasts[i]);
    }
    if (m_fsync == Fsync::Always)
        sync();
    return {};
}

void EventJournal::syncInBackground()
{
    m_thread.check(Q_FUNC_INFO);
    if (m_backgroundSync->exchange(true))
        return; // the previous one is still running: it covers these writes soon enough
    // Duplicates, so a segment closed by a rotation meanwhile stays valid for the sync.
    std::vector<int> fds;
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
    QThreadPool::globalInstance()->start([fds, busy = m_backgroundSync] {
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
    const QJsonObject state{
        {QStringLiteral("epoch"), QString::fromLatin1(EventId::epochText(m_epoch))},
        {QStringLiteral("boot_id"), QString::fromLatin1(m_bootId)},
        {QStringLiteral("clean"), clean},
        {QStringLiteral("fsync"), fsyncName(m_fsync)},
        {QStringLiteral("last_id"), QString::fromLatin1(m_newest.withEpoch(m_epoch).toByteArray())},
    };
    if (!file.open(QIODevice::WriteOnly)
        || file.write(QJsonDocument(state).toJson(QJsonDocument::Compact)) < 0 || !file.commit())
        return unavailable(QStringLiteral("cannot write %1: %2").arg(file.fileName(), file.errorString()));
    return {};
}

} // namespace Hermes
