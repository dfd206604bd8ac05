#pragma once

#include "broker/broker.h"

#include <QList>

namespace Hermes::Test {

/// A broker that keeps what it is asked to publish, and publishes nothing.
class FakeBroker final : public Broker
{
public:
    QList<Event> published;

    Result<void> start() override { return Result<void>::success(); }
    QString name() const override { return QStringLiteral("fake"); }
    bool isUp() const override { return true; }
    void publish(const Event &event, PublishCallback done) override
    {
        published.append(event);
        if (done)
            done(EventId());
    }
    bool mayStillArrive(EventId) const override { return false; }

    /// The published events of `type`.
    QList<Event> ofType(QStringView type) const
    {
        QList<Event> out;
        for (const Event &e : published) {
            if (e.type == type)
                out.append(e);
        }
        return out;
    }
};

} // namespace Hermes::Test
