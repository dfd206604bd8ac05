#pragma once

#include "downloads/download.h"
#include "protocol/payloads.h"
#include "threadaffinity.h"

#include <functional>

namespace Hermes {

class Broker;
class RunningDownloads;

/**
 * How the downloads look to clients: the events that announce every change (download_progress
 * on download:updates, queue_update on queue:updates, system_notification on
 * system:notifications) and the REST representation, all through the protocol's payload types.
 *
 * A download this node runs is shown with its live figures (the speed over the last seconds,
 * the bytes that arrived since the last save); any other with what its node last saved. Every
 * A URL's `user:password@` is shown as `user:***@` (UrlCredentials::redacted) in both. Every
 * change is saved first and published after, once, by the node that made it: the callers see
 * to that. Main thread only.
 */
class DownloadEvents final
{
public:
    DownloadEvents(Broker *broker, const RunningDownloads *running);

    /// The `progress` object of the events and of the REST representation.
    DownloadProgressInfo progressOf(const Download &download) const;
    /// The `phase`, `attempt`, `max_attempts` and `next_attempt_at` of the events and of the
    /// REST representation: live for a download this node runs; for one running on another
    /// node, the phase that node saved (while its lease holds), and a waiting retry's time
    /// from the store.
    /// `live`: the phase of a download running here as it was when its change was saved (it
    /// may have moved on, or ended, by the time the event goes out).
    DownloadPhaseInfo phaseOf(const Download &download, std::optional<DownloadPhase> live = std::nullopt) const;
    /// The REST representation; live figures when this node runs it.
    DownloadResource resourceOf(const Download &stored) const;

    /// Whether the broker took an event (for a saved change that is released only once published).
    using Published = std::function<void(bool)>;
    void publishProgress(const Download &download, Published done = {},
                         std::optional<DownloadPhase> live = std::nullopt);
    void publishQueue(QueueAction action, const Download &download, const QueueSummary &summary,
                      Published done = {});
    /// A notice for people; `download` is the one it is about, if any.
    void notify(NotificationType type, const QString &message, const Download *download = nullptr);

private:
    double speedOf(const Download &download) const;

    Broker *m_broker;
    const RunningDownloads *m_running;
    ThreadAffinity m_thread;
};

} // namespace Hermes
