#pragma once

#include "event.h"

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

Q_SIGNALS:
    void eventReceived(const Hermes::Event &event);
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

private:
    EventIdGenerator m_ids;
};

} // namespace Hermes
