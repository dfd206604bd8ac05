#pragma once

#include "event.h"
#include "result.h"

#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QObject>

#include "threadaffinity.h"

#include <functional>
#include <optional>

namespace Hermes {

/**
 * The signal bus every event travels on.
 *
 * Implementations (the embedded MemoryBroker, a Redis one) give every event an id in the
 * deployment's one total order — unique, above every earlier event's, the same on every
 * node — and emit them with eventReceived() in that order. Before the first event they emit
 * historyLoaded() with the epoch and the history kept so far, and again whenever the history
 * is replaced by another epoch's. The rest of the server cannot tell which broker runs.
 */
class Broker : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    /// Starts the bus (after its subscribers are connected: the history comes first). An error
    /// means the server cannot run (the embedded history cannot be opened); a Redis that is
    /// not there yet is no error, it is retried.
    virtual Result<void> start() = 0;

    /// Short name for health and metrics: "memory", "redis".
    virtual QString name() const = 0;
    virtual bool isUp() const = 0;
    /// Why the broker is not up, where it knows more than "disconnected" (for health and
    /// /readyz); empty otherwise.
    virtual QString statusDetail() const { return {}; }
    /// Where the broker is, for health and metrics when it can change (the Redis master that
    /// Sentinel named: `ip:port`, no credentials); empty otherwise.
    virtual QString location() const { return {}; }

    /// The event's id, or why not (Error::Kind::Unavailable: the broker is down, or the server
    /// is stopping), in words fit for a client (no raw driver text).
    using PublishCallback = std::function<void(Result<EventId>)>;
    /// Publishes `event` (its id is ignored). Every subscriber, this node's hub included,
    /// receives it through eventReceived() with its assigned id.
    virtual void publish(const Event &event, PublishCallback done) = 0;

    /// Whether an event with id `id` (of the current epoch, above everything received here)
    /// may still arrive: false when the broker knows no such id was issued. Any thread: the
    /// stream I/O threads ask while they plan resumes (ResumePlanner), so an implementation
    /// synchronises itself.
    HERMES_ANY_THREAD virtual bool mayStillArrive(EventId id) const = 0;

Q_SIGNALS:
    void eventReceived(const Hermes::Event &event);
    /// The history of `epoch` (events from before this moment, for Last-Event-ID replay only:
    /// they are not sent live). `floors` holds, per channel whose history was cut, the newest
    /// id that is no longer there. Replaces any history of another epoch.
    void historyLoaded(quint32 epoch, const QList<Hermes::Event> &events,
                       const Hermes::ChannelFloors &floors);
    /// Events on `channel` may have been lost after `after` (a per-channel gap): `count`
    /// outside publishers' messages there could not be adopted in time (RedisBroker:
    /// HERMES_REDIS_ADOPT_RETRY_LIMIT). `after` is the newest id this node had delivered when
    /// the first of them arrived; they would have come after it, before whatever comes next.
    /// Every stream on the channel, and every resume on it from an id up to now, resyncs.
    void eventsLost(Hermes::Channel channel, Hermes::EventId after, quint64 count);
    /// A message on a channel was not a valid envelope and was dropped.
    void eventDiscarded();
    void statusChanged(bool up);
};

} // namespace Hermes
