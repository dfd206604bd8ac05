#pragma once

#include "event.h"

#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QObject>

#include <functional>
#include <optional>

namespace Hermes {

/**
 * The signal bus every event travels on.
 *
 * Implementations (the embedded MemoryBroker, a Redis one) assign each event its id and emit it
 * with eventReceived(); the rest of the server cannot tell which broker runs.
 */
class Broker : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    /// Short name for health and metrics: "memory", "redis".
    virtual QString name() const = 0;
    virtual bool isUp() const = 0;

    /// `id` is set on success; otherwise `error` says why (e.g. the broker is down).
    using PublishCallback = std::function<void(std::optional<EventId> id, const QString &error)>;
    /// Publishes `event` (its id is ignored). Every subscriber, this node's hub included,
    /// receives it through eventReceived() with its assigned id.
    virtual void publish(const Event &event, PublishCallback done) = 0;

    /// Ids below this were issued before the broker's history begins: a client resuming from
    /// one cannot be given what it missed and must resync.
    virtual EventId historyStart() const = 0;

    /// A stream token minted elsewhere (the Python Hermes API keeps them in Redis under
    /// `sse:token:<token>`): its JSON record, or nothing. The embedded broker knows none.
    using TokenCallback = std::function<void(std::optional<QJsonObject> record)>;
    virtual void lookupToken(const QByteArray &/*token*/, TokenCallback done) { done(std::nullopt); }

Q_SIGNALS:
    void eventReceived(const Hermes::Event &event);
    /// Events from before this node started (the shared history), for Last-Event-ID replay
    /// only: they are not sent live. `floors` holds, per channel whose history was cut, the
    /// newest id that is no longer there.
    void historyLoaded(const QList<Hermes::Event> &events,
                       const QHash<QString, Hermes::EventId> &floors);
    /// A message on a channel was not a valid envelope and was dropped.
    void eventDiscarded();
    void statusChanged(bool up);
};

/// The embedded broker: in-process, nothing to install. Ids from the wall clock.
class MemoryBroker final : public Broker
{
    Q_OBJECT
public:
    using Broker::Broker;

    QString name() const override { return QStringLiteral("memory"); }
    bool isUp() const override { return true; }
    void publish(const Event &event, PublishCallback done) override;
    /// Nothing survives a restart of the embedded broker: its history starts with the process.
    EventId historyStart() const override { return m_start; }

private:
    EventIdGenerator m_ids;
    EventId m_start{quint64(QDateTime::currentMSecsSinceEpoch()), 0};
};

} // namespace Hermes
