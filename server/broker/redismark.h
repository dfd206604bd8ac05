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
    /// From now on `epoch`: the current one is kept among the earlier ones.
    void beginEpoch(quint32 epoch);

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
    explicit RedisMarkFile(QString path, int intervalMs = 1000, QObject *parent = nullptr);
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
