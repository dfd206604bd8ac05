#include "broker/redismark.h"

#include "logging.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include <algorithm>

namespace Hermes {

void RedisMark::beginEpoch(quint32 next)
{
    if (next == epoch)
        return;
    Epoch resumed{next, EventId(), {}};
    for (const Epoch &e : earlier) {
        if (e.epoch == next)
            resumed = e;
    }
    earlier.removeIf([next](const Epoch &e) { return e.epoch == next; });
    if (epoch != 0 && !position.isNull())
        earlier.prepend(Epoch{epoch, position, channels});
    while (earlier.size() > KeptEpochs)
        earlier.removeLast();
    epoch = next;
    position = resumed.position;
    channels = resumed.channels;
}

void RedisMark::recall(const Epoch &left)
{
    if (left.epoch == 0 || left.epoch == epoch)
        return;
    Epoch merged = left;
    for (const Epoch &e : earlier) {
        if (e.epoch != left.epoch)
            continue;
        merged.position = std::max(merged.position, e.position);
        for (size_t c = 0; c < merged.channels.size(); ++c)
            merged.channels[c] = std::max(merged.channels[c], e.channels[c]);
    }
    for (const EventId &id : merged.channels) // a channel's id is never above the position
        merged.position = std::max(merged.position, id);
    if (merged.position.isNull())
        return; // nothing delivered: nothing to check
    earlier.removeIf([&left](const Epoch &e) { return e.epoch == left.epoch; });
    earlier.prepend(merged);
    while (earlier.size() > KeptEpochs)
        earlier.removeLast();
}

void RedisMark::deliver(const Event &event)
{
    beginEpoch(event.id.epoch());
    position = std::max(position, event.id);
    EventId &channel = channels[size_t(event.channel.index())];
    channel = std::max(channel, event.id);
}

static QJsonObject epochJson(quint32 epoch, const EventId &position, const ChannelFloors &channels)
{
    QJsonArray perChannel;
    for (const EventId &id : channels)
        perChannel.append(id.isNull() ? QString() : QString::fromUtf8(id.position()));
    return {
        {QStringLiteral("epoch"), QString::fromUtf8(EventId::epochText(epoch))},
        {QStringLiteral("position"), QString::fromUtf8(position.position())},
        {QStringLiteral("channels"), perChannel},
    };
}

QByteArray RedisMark::toJson() const
{
    QJsonObject o = epochJson(epoch, position, channels);
    o.insert(QStringLiteral("version"), 1);
    o.insert(QStringLiteral("key_prefix"), keyPrefix);
    o.insert(QStringLiteral("run_id"), QString::fromUtf8(runId));
    QJsonArray before;
    for (const Epoch &e : earlier)
        before.append(epochJson(e.epoch, e.position, e.channels));
    o.insert(QStringLiteral("earlier"), before);
    return QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
}

static Result<RedisMark::Epoch> epochFromJson(const QJsonObject &o)
{
    const auto bad = [](const QString &why) { return Error::invalid("bad_mark", why); };
    RedisMark::Epoch mark;
    mark.epoch = EventId::parseEpoch(o.value(QStringLiteral("epoch")).toString().toUtf8());
    if (mark.epoch == 0)
        return bad(QStringLiteral("no valid epoch"));
    const auto position = EventId::fromPosition(o.value(QStringLiteral("position")).toString().toUtf8(), mark.epoch);
    if (!position)
        return bad(QStringLiteral("no valid position"));
    mark.position = *position;
    const QJsonArray perChannel = o.value(QStringLiteral("channels")).toArray();
    if (perChannel.size() != Channel::Count)
        return bad(QStringLiteral("not one id per channel"));
    for (int c = 0; c < Channel::Count; ++c) {
        const QString text = perChannel[c].toString();
        if (text.isEmpty())
            continue;
        const auto id = EventId::fromPosition(text.toUtf8(), mark.epoch);
        if (!id || *id > mark.position)
            return bad(QStringLiteral("a channel's id is not valid"));
        mark.channels[size_t(c)] = *id;
    }
    return mark;
}

Result<RedisMark> RedisMark::fromJson(const QByteArray &json)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (!doc.isObject())
        return Error::invalid("bad_mark", QStringLiteral("not a JSON object: %1").arg(error.errorString()));
    const QJsonObject o = doc.object();
    if (o.value(QStringLiteral("version")).toInt() != 1)
        return Error::invalid("bad_mark", QStringLiteral("unknown version"));
    const Result<Epoch> current = epochFromJson(o);
    if (!current)
        return current.error();
    RedisMark mark;
    mark.keyPrefix = o.value(QStringLiteral("key_prefix")).toString();
    mark.epoch = current->epoch;
    mark.position = current->position;
    mark.channels = current->channels;
    mark.runId = o.value(QStringLiteral("run_id")).toString().toUtf8();
    for (const QJsonValue &v : o.value(QStringLiteral("earlier")).toArray()) {
        const Result<Epoch> e = epochFromJson(v.toObject());
        if (!e)
            return e.error();
        if (mark.earlier.size() < KeptEpochs)
            mark.earlier.append(*e);
    }
    return mark;
}

RedisMarkFile::RedisMarkFile(QString path, int intervalMs, QObject *parent)
    : QObject(parent), m_path(std::move(path))
{
    m_pool.setMaxThreadCount(1);
    m_timer.setSingleShot(true);
    m_timer.setInterval(intervalMs);
    connect(&m_timer, &QTimer::timeout, this, &RedisMarkFile::writeSoon);
}

RedisMarkFile::~RedisMarkFile()
{
    m_pool.waitForDone();
}

Result<RedisMark> RedisMarkFile::load()
{
    QFile file(m_path);
    if (!file.exists())
        return RedisMark{};
    if (!file.open(QIODevice::ReadOnly)) {
        return Error::unavailable("unreadable_mark", QStringLiteral("cannot read %1: %2")
                                                        .arg(m_path, file.errorString()));
    }
    Result<RedisMark> mark = RedisMark::fromJson(file.read(64 * 1024));
    file.close();
    if (!mark) {
        // Kept for a look, out of the way of the next save.
        QFile::remove(m_path + QStringLiteral(".damaged"));
        QFile::rename(m_path, m_path + QStringLiteral(".damaged"));
        return Error::invalid("bad_mark", QStringLiteral("%1 is damaged (%2); moved to %1.damaged")
                                              .arg(m_path, mark.error().message));
    }
    m_mark = *mark;
    return mark;
}

void RedisMarkFile::update(const RedisMark &mark)
{
    if (mark == m_mark)
        return;
    m_mark = mark;
    m_dirty = true;
    if (!m_timer.isActive())
        m_timer.start();
}

void RedisMarkFile::writeSoon()
{
    if (!m_dirty)
        return;
    if (m_pool.activeThreadCount() > 0) {
        m_timer.start(); // the last write is still on its way (a slow disk): the next one later
        return;
    }
    m_dirty = false;
    m_pool.start([this, path = m_path, bytes = m_mark.toJson()] {
        if (write(path, bytes))
            ++m_writes;
    });
}

void RedisMarkFile::flush()
{
    m_timer.stop();
    m_pool.waitForDone();
    if (m_dirty && write(m_path, m_mark.toJson()))
        ++m_writes;
    m_dirty = false;
}

bool RedisMarkFile::write(const QString &path, const QByteArray &bytes)
{
    QSaveFile file(path);
    if (file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size() && file.commit())
        return true;
    qCWarning(lcBroker).noquote() << "cannot save the Redis mark" << path << ":" << file.errorString();
    return false;
}

} // namespace Hermes
