#include "broker/redismark.h"

#include "logging.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

namespace Hermes {

void RedisMark::deliver(const Event &event)
{
    if (event.id.epoch() != epoch) {
        *this = RedisMark{keyPrefix, event.id.epoch(), {}, {}, runId};
    }
    position = std::max(position, event.id);
    EventId &channel = channels[size_t(event.channel.index())];
    channel = std::max(channel, event.id);
}

QByteArray RedisMark::toJson() const
{
    QJsonArray perChannel;
    for (const EventId &id : channels)
        perChannel.append(id.isNull() ? QString() : QString::fromUtf8(id.position()));
    const QJsonObject o{
        {QStringLiteral("version"), 1},
        {QStringLiteral("key_prefix"), keyPrefix},
        {QStringLiteral("epoch"), QString::fromUtf8(EventId::epochText(epoch))},
        {QStringLiteral("position"), QString::fromUtf8(position.position())},
        {QStringLiteral("channels"), perChannel},
        {QStringLiteral("run_id"), QString::fromUtf8(runId)},
    };
    return QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
}

Result<RedisMark> RedisMark::fromJson(const QByteArray &json)
{
    const auto bad = [](const QString &why) { return Error::invalid("bad_mark", why); };
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (!doc.isObject())
        return bad(QStringLiteral("not a JSON object: %1").arg(error.errorString()));
    const QJsonObject o = doc.object();
    if (o.value(QStringLiteral("version")).toInt() != 1)
        return bad(QStringLiteral("unknown version"));
    RedisMark mark;
    mark.keyPrefix = o.value(QStringLiteral("key_prefix")).toString();
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
    mark.runId = o.value(QStringLiteral("run_id")).toString().toUtf8();
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
