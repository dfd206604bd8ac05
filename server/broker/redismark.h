#pragma once

#include "event.h"
#include "result.h"

#include <QByteArray>
#include <QObject>
#include <QString>
#include <QThreadPool>
#include <QTimer>

#include <atomic>

namespace Hermes {

/**
 * A node's high-water mark on a Redis deployment: what it delivered (the epoch, the newest
 * position, per channel the newest id) and which Redis process it last saw (run_id). Every
 * load hands it to the Load script, which checks that all of it is still in Redis (see
 * RedisScripts::Load); kept in the data dir, so a restarted node still knows.
 */
struct RedisMark
{
    /// What was delivered in one epoch.
    struct Epoch
    {
        quint32 epoch = 0;      ///< 0: none
        EventId position;       ///< the newest id delivered
        ChannelFloors channels; ///< per channel the newest id delivered (null: none)
        bool operator==(const Epoch &) const = default;
    };
    /// Earlier epochs kept: a Redis restored from a snapshot of an epoch this node has left
    /// is checked against what it delivered in that epoch.
    static constexpr int KeptEpochs = 8;

    QString keyPrefix;     ///< a mark of another prefix says nothing about this one's keys
    quint32 epoch = 0;     ///< 0: no mark (nothing delivered yet, or none remembered)
    EventId position;      ///< the newest id delivered
    ChannelFloors channels; ///< per channel the newest id delivered (null: none)
    QByteArray runId;      ///< Redis' run_id (INFO server) when last connected
    QList<Epoch> earlier;  ///< the epochs before, newest first (at most KeptEpochs)

    bool isNull() const { return epoch == 0; }
    /// Records a delivered event (of this epoch, or of a new one: see beginEpoch()).
    void deliver(const Event &event);
    /// From now on `epoch`: the current one is kept among the earlier ones. An epoch this node
    /// had left (Redis came back in it, and it held all the node had delivered there) is
    /// taken up where it was: what was delivered in it before still counts, so an older
    /// snapshot of it restored later still fails the check.
    void beginEpoch(quint32 epoch);
    /// Remembers what was delivered in an epoch that was left behind (`left`: the one Redis'
    /// current epoch replaced, as the node that found it damaged delivered it; see
    /// RedisHistoryReader::Loaded::origin): merged with what this node knows of it, and moved
    /// to the front of the earlier ones. A Redis restored again and again from one snapshot
    /// comes back in that epoch each time: it must not be the one forgotten.
    void recall(const Epoch &left);

    QByteArray toJson() const;
    /// The mark `json` holds, or why it is not one (Error::Kind::Invalid).
    static Result<RedisMark> fromJson(const QByteArray &json);
    bool operator==(const RedisMark &) const = default;
};

/**
 * The mark's file in the data dir. Written atomically (QSaveFile: a crash leaves the old or
 * the new file, never half of one), off the event loop (a slow disk never holds up delivery),
 * at most once per `intervalMs` while the mark changes, and at once by flush() at the stop.
 * A node killed (SIGKILL, power) remembers what it delivered up to one interval before.
 */
class RedisMarkFile final : public QObject
{
    Q_OBJECT
public:
    /// A SIGKILLed node's mark is at most this far behind what it delivered.
    static constexpr int DefaultIntervalMs = 1000;
    explicit RedisMarkFile(QString path, int intervalMs = DefaultIntervalMs, QObject *parent = nullptr);
    ~RedisMarkFile() override;

    /// The mark saved, a null mark when there is no file (a first start), or why the file
    /// cannot be used (damaged, unreadable: the caller starts without a mark and says so; the
    /// file is moved aside to `<path>.damaged` for a look).
    Result<RedisMark> load();
    /// The mark to save (at the next interval).
    void update(const RedisMark &mark);
    /// Writes the newest mark now and waits for it (the stop).
    void flush();
    QString path() const { return m_path; }
    /// Writes that completed (tests).
    quint64 writes() const { return m_writes; }

private:
    void writeSoon();
    static bool write(const QString &path, const QByteArray &bytes);

    QString m_path;
    RedisMark m_mark;
    bool m_dirty = false;
    QTimer m_timer;
    QThreadPool m_pool; ///< one thread: writes never overlap
    std::atomic<quint64> m_writes = 0;
};

} // namespace Hermes
