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


bool EventJournal::parseFsync(const QString &text, Fsync *out)
{
    if (text == u"always")
        *out = Fsync::Always;
    else if (text == u"everysec")
        *out = Fsync::EverySecond;
    else if (text == u"no")
        *out = Fsync::Never;
    else
        return false;
    return true;
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

bool EventJournal::open(Loaded *out, QString *error, const QByteArray &bootId)
{
    m_bootId = bootId;
    if (m_bootId.isEmpty()) {
        QFile f(QStringLiteral("/proc/sys/kernel/random/boot_id"));
        if (f.open(QIODevice::ReadOnly))
            m_bootId = f.readAll().trimmed();
    }
    for (Channel channel : Channel::all()) {
        if (!QDir().mkpath(m_dir + u'/' + channel.shortName())) {
            *error = QStringLiteral("cannot create %1/%2").arg(m_dir, channel.shortName());
            return false;
        }
    }
    QString why;
    if (!load(out, &why)) {
        discardAll();
        out->events.clear();
        out->floors = {};
        out->newEpoch = true;
        out->whyNew = why;
        out->newest = EventId();
        m_epoch = EventId::randomEpoch();
    }
    out->epoch = m_epoch;
    m_newest = out->newest;
    for (Lane &c : m_lanes) {
        const bool fresh = c.segments.empty();
        const int number = fresh ? 1 : c.segments.back().number;
        if (!openSegment(c, number, EventId(), error))
            return false;
        if (fresh)
            c.segments.push_back(Segment{number, 0, EventId()});
    }
    m_open = true;
    return writeState(false, error);
}

// Reads state.json and every segment into `out`. False when nothing can be trusted (or there
// is nothing), with `why` empty for a first start.
bool EventJournal::load(Loaded *out, QString *why)
{
    QFile stateFile(m_dir + QStringLiteral("/state.json"));
    if (!stateFile.exists())
        return false; // a first start
    if (!stateFile.open(QIODevice::ReadOnly) || stateFile.size() > 4096) {
        *why = QStringLiteral("state.json cannot be read");
        return false;
    }
    const QJsonObject state = QJsonDocument::fromJson(stateFile.readAll()).object();
    m_epoch = EventId::parseEpoch(state.value(QStringLiteral("epoch")).toString().toLatin1());
    if (m_epoch == 0) {
        *why = QStringLiteral("state.json names no epoch");
        return false;
    }
    Fsync previous = Fsync::EverySecond;
    parseFsync(state.value(QStringLiteral("fsync")).toString(), &previous);
    const bool clean = state.value(QStringLiteral("clean")).toBool();
    const QByteArray lastBoot = state.value(QStringLiteral("boot_id")).toString().toLatin1();
    // An unknown boot counts as another one: trusting it could hide a loss.
    if (!clean && previous != Fsync::Always && (lastBoot != m_bootId || m_bootId.isEmpty())) {
        // Written events not yet on disk die with the machine, and some of them may already
        // have been delivered: a client resuming across them would miss them silently.
        *why = QStringLiteral("the server did not stop cleanly and the machine restarted since "
                              "(HERMES_SSE_HISTORY_FSYNC=%1)").arg(fsyncName(previous));
        return false;
    }
    QList<Event> all;
    for (Lane &c : m_lanes) {
        EventId floor;
        if (!loadChannel(c, m_epoch, &all, &floor, why))
            return false;
        if (!floor.isNull())
            out->floors[size_t(c.channel.index())] = floor;
        if (!c.segments.empty())
            out->newest = std::max(out->newest, c.segments.back().last);
    }
    std::sort(all.begin(), all.end(), [](const Event &a, const Event &b) { return a.id < b.id; });
    if (const auto last = EventId::parse(state.value(QStringLiteral("last_id")).toString().toLatin1());
        last && last->epoch() == m_epoch)
        out->newest = std::max(out->newest, *last);
    out->events = std::move(all);
    return true;
}

bool EventJournal::loadChannel(Lane &channel, quint32 epoch, QList<Event> *events,
                               EventId *floor, QString *why)
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
    EventId previousId;
    for (qsizetype s = 0; s < numbers.size(); ++s) {
        const bool lastSegment = s == numbers.size() - 1;
        const QString path = segmentPath(channel, numbers[s]);
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            *why = QStringLiteral("%1 cannot be read").arg(path);
            return false;
        }
        const QByteArray bytes = file.readAll();
        file.close();
        Segment segment{numbers[s], 0, EventId()};
        qsizetype pos = 0;
        bool header = true;
        while (pos < bytes.size()) {
            // A record that is cut short, or fails its CRC as the very last record, of the
            // newest segment was being written when the machine stopped: never delivered,
            // dropped. Anything else means the history is damaged.
            const auto damaged = [&](const char *what, bool atEnd) {
                if (lastSegment && atEnd) {
                    qCWarning(lcBroker).noquote() << "history:" << what << "at the end of" << path
                                                  << "- dropped";
                    ::truncate(QFile::encodeName(path).constData(), off_t(pos));
                    return true;
                }
                *why = QStringLiteral("%1: %2 at offset %3").arg(path, QLatin1StringView(what)).arg(pos);
                return false;
            };
            if (bytes.size() - pos < 8) {
                if (!damaged("a torn record", true))
                    return false;
                break;
            }
            const quint32 length = readU32(bytes.constData() + pos);
            const quint32 crc = readU32(bytes.constData() + pos + 4);
            if (qsizetype(length) > bytes.size() - pos - 8) {
                if (!damaged("a torn record", true))
                    return false;
                break;
            }
            if (length > quint32(MaxRecordBytes)) {
                damaged("an oversized record", false);
                return false;
            }
            const char *payload = bytes.constData() + pos + 8;
            if (crc32(payload, length) != crc) {
                if (!damaged("a damaged record", pos + 8 + qsizetype(length) == bytes.size()))
                    return false;
                break;
            }
            const QByteArrayView record(payload, length);
            pos += 8 + qsizetype(length);
            const qsizetype newline = record.indexOf('\n');
            if (record.isEmpty() || newline < 1) {
                *why = QStringLiteral("%1: a malformed record").arg(path);
                return false;
            }
            if (header) {
                header = false;
                if (record[0] != 'H'
                    || EventId::parseEpoch(record.sliced(1, newline - 1)) != epoch) {
                    *why = QStringLiteral("%1 belongs to another epoch").arg(path);
                    return false;
                }
                const QByteArrayView prev = record.sliced(newline + 1);
                const auto previous = prev.isEmpty() ? std::optional<EventId>(EventId())
                                                     : EventId::fromPosition(prev, epoch);
                if (!previous) {
                    *why = QStringLiteral("%1: a malformed header").arg(path);
                    return false;
                }
                if (s == 0)
                    *floor = *previous;
                continue;
            }
            const auto id = EventId::fromPosition(record.sliced(1, newline - 1), epoch);
            Event event;
            QString parseError;
            if (record[0] != 'E' || !id || *id <= previousId
                || !Event::fromEnvelope(channel.channel, record.sliced(newline + 1).toByteArray(),
                                        &event, &parseError)) {
                *why = QStringLiteral("%1: a malformed event record").arg(path);
                return false;
            }
            event.id = *id;
            previousId = *id;
            events->append(event);
            ++segment.events;
            segment.last = *id;
        }
        if (header) {
            // An empty file: created, then the process stopped before its header was written.
            if (!lastSegment) {
                *why = QStringLiteral("%1 is empty").arg(path);
                return false;
            }
            QFile::remove(path);
            continue;
        }
        if (segment.last.isNull())
            segment.last = previousId;
        channel.total += segment.events;
        channel.segments.push_back(segment);
    }
    return true;
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

bool EventJournal::openSegment(Lane &channel, int number, EventId previous, QString *error)
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
    if (channel.fd < 0) {
        *error = QStringLiteral("cannot open %1: %2").arg(path, QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    if (exists)
        return true;
    QByteArray header = 'H' + EventId::epochText(m_epoch) + '\n'
        + (previous.isNull() ? QByteArray() : previous.position());
    QByteArray bytes;
    appendRecord(bytes, header);
    if (!writeAll(channel.fd, bytes)) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
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
    return true;
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

bool EventJournal::append(const QList<Event> &events, QString *error)
{
    if (!m_open) {
        *error = QStringLiteral("the history journal is not open");
        return false;
    }
    QByteArray buffers[Channel::Count];
    int counts[Channel::Count] = {};
    EventId lasts[Channel::Count];
    for (const Event &event : events) {
        const int i = event.channel.index();
        const QByteArray record = 'E' + event.id.position() + '\n' + event.envelopeJson();
        if (record.size() > MaxRecordBytes) {
            *error = QStringLiteral("an event of %1 bytes is larger than the history takes").arg(record.size());
            return false;
        }
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
        if (!openSegment(c, full.number + 1, full.last, error))
            return false;
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
            *error = QStringLiteral("cannot write the history: %1")
                         .arg(QString::fromLocal8Bit(std::strerror(errno)));
            for (int j = 0; j <= i; ++j) {
                if (counts[j] > 0)
                    ::ftruncate(m_lanes[j].fd, before[j]);
            }
            return false;
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
    return true;
}

void EventJournal::syncInBackground()
{
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
    for (Lane &c : m_lanes) {
        if (c.fd >= 0 && c.dirty) {
            ::fdatasync(c.fd);
            c.dirty = false;
        }
    }
}

void EventJournal::close()
{
    if (!m_open)
        return;
    sync();
    QString error;
    if (!writeState(true, &error))
        qCWarning(lcBroker).noquote() << "history:" << error;
    for (Lane &c : m_lanes) {
        if (c.fd >= 0)
            ::close(c.fd);
        c.fd = -1;
    }
    m_open = false;
}

bool EventJournal::writeState(bool clean, QString *error)
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
        || file.write(QJsonDocument(state).toJson(QJsonDocument::Compact)) < 0 || !file.commit()) {
        *error = QStringLiteral("cannot write %1: %2").arg(file.fileName(), file.errorString());
        return false;
    }
    return true;
}

} // namespace Hermes
