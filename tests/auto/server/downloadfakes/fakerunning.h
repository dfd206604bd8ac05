#pragma once

#include "downloads/runningdownloads.h"

#include <QHash>
#include <QList>

namespace Hermes::Test {

/// What DownloadService and DownloadEvents see of the running downloads, scripted by a test,
/// with a record of what they asked.
class FakeRunning final : public RunningDownloads
{
public:
    struct Stop
    {
        QString id;
        bool handBack;
        bool deletePart;
        QString why;
    };

    QHash<QString, Download> running;  ///< the downloads "running here"
    QHash<QString, double> speeds;     ///< their live speed
    QList<Stop> stops;                 ///< stopHere() calls for downloads running here
    int claims = 0;

    const Download *runningHere(const QString &id) const override
    {
        const auto it = running.constFind(id);
        return it == running.cend() ? nullptr : &*it;
    }
    std::optional<double> liveSpeed(const QString &id) const override
    {
        if (!running.contains(id))
            return std::nullopt;
        return speeds.value(id);
    }
    void stopHere(const QString &id, bool handBack, bool deletePart, const QString &why) override
    {
        if (running.remove(id))
            stops.append({id, handBack, deletePart, why});
    }
    void setPriorityHere(const QString &id, int priority) override
    {
        if (running.contains(id))
            running[id].priority = priority;
    }
    void claimSoon() override { ++claims; }
};

} // namespace Hermes::Test
