#include "downloads/downloadevents.h"

#include "broker/broker.h"
#include "downloads/runningdownloads.h"
#include "downloads/urlcredentials.h"
#include "logging.h"

#include <cmath>

namespace Hermes {

DownloadEvents::DownloadEvents(Broker *broker, const RunningDownloads *running)
    : m_broker(broker), m_running(running)
{
    m_thread.bind();
}

double DownloadEvents::speedOf(const Download &d) const
{
    if (const std::optional<double> live = m_running->liveSpeed(d.id))
        return *live;
    return d.status == DownloadStatus::Downloading ? d.speed : 0.0;
}

DownloadProgressInfo DownloadEvents::progressOf(const Download &d) const
{
    m_thread.check(Q_FUNC_INFO);
    DownloadProgressInfo p;
    p.percentage = d.percent;
    p.status = ReceivedStatus::of(d.status);
    p.downloadedBytes = d.downloadedBytes;
    if (d.totalBytes >= 0)
        p.totalBytes = d.totalBytes;
    p.speed = speedOf(d);
    if (p.speed > 0 && d.totalBytes >= 0) {
        const qint64 eta = qint64(std::ceil(double(d.totalBytes - d.downloadedBytes) / p.speed));
        if (eta >= 0) // more bytes than announced: unknown
            p.eta = eta;
    }
    return p;
}

DownloadPhaseInfo DownloadEvents::phaseOf(const Download &d, std::optional<DownloadPhase> live) const
{
    m_thread.check(Q_FUNC_INFO);
    DownloadPhaseInfo p;
    if (d.status == DownloadStatus::Downloading) {
        // Running here: as it is now. Elsewhere: as its node last saved it (the store shows a
        // saved phase only while that node's lease holds).
        const std::optional<DownloadPhase> phase = live ? live
            : m_running->runningHere(d.id) ? m_running->phaseHere(d.id) : d.phase;
        if (phase)
            p = DownloadPhaseInfo::of(*phase);
    } else if (d.status == DownloadStatus::Pending) {
        // Only while the retry is still ahead: once due, it is queued like any other. Released
        // here: the time this node chose; otherwise the store's, as the row was read.
        QDateTime at = m_running->nextAttemptAt(d.id);
        if (!at.isValid() && d.retryDueInMs > 0)
            at = QDateTime::currentDateTimeUtc().addMSecs(d.retryDueInMs);
        if (at.isValid() && at > QDateTime::currentDateTimeUtc()) {
            p = DownloadPhaseInfo::of(DownloadPhase::Retrying);
            p.nextAttemptAt = at;
        }
    }
    if (!p.isEmpty()) {
        p.attempt = d.attempts + 1; // `attempts` counts the failed ones
        if (const int max = m_running->maxAttempts(); max > 0)
            p.maxAttempts = max;
    }
    return p;
}

DownloadResource DownloadEvents::resourceOf(const Download &stored) const
{
    m_thread.check(Q_FUNC_INFO);
    Download d = stored;
    if (const Download *live = m_running->runningHere(d.id); live && live->status == d.status) {
        // Running here: the live figures rather than the last saved ones.
        d.downloadedBytes = live->downloadedBytes;
        d.totalBytes = live->totalBytes;
        d.percent = qMax(d.percent, live->percent);
    }
    DownloadResource r;
    r.id = d.id;
    r.url = UrlCredentials::redacted(d.url); // the credentials are the transfer's alone
    r.filename = d.filename;
    r.status = ReceivedStatus::of(d.status);
    r.priority = d.priority;
    r.position = d.position;
    r.progress = progressOf(d);
    r.downloadedBytes = d.downloadedBytes;
    if (d.totalBytes >= 0)
        r.totalBytes = d.totalBytes;
    r.sha256 = d.sha256;
    r.errorMessage = d.errorMessage;
    r.note = d.note;
    r.attempts = d.attempts;
    r.phase = phaseOf(d);
    r.createdAt = d.createdAt;
    r.updatedAt = isoTimestamp(d.updatedAt);
    r.completedAt = d.completedAt;
    return r;
}

void DownloadEvents::publishProgress(const Download &d, Published done, std::optional<DownloadPhase> live)
{
    m_thread.check(Q_FUNC_INFO);
    DownloadProgressEvent payload;
    payload.downloadId = d.id;
    payload.status = ReceivedStatus::of(d.status);
    payload.progress = progressOf(d);
    payload.errorMessage = d.errorMessage;
    payload.filename = d.filename;
    // Stream tokens read these: the URL's credentials never go out (stored, they stay for
    // the transfer to resume with).
    payload.url = UrlCredentials::redacted(d.url);
    // Additive to the Python payload: a client's Attempts stays right through automatic
    // retries without fetching the download again.
    payload.attempts = d.attempts;
    payload.note = d.note; // e.g. why it restarted from zero (the percentage went down)
    payload.phase = phaseOf(d, live); // additive too: what `downloading` or `pending` means right now
    if (d.status == DownloadStatus::Completed)
        payload.result = DownloadResult{UrlCredentials::redacted(d.url), d.filename, d.totalBytes};
    Event e;
    e.channel = Channel::Downloads;
    e.type = wireName(EventType::DownloadProgress);
    e.data = payload.toJson();
    e.timestamp = Event::currentTimestamp();
    m_broker->publish(e, [done](Result<EventId> id) {
        if (!id)
            qCWarning(lcHub).noquote() << "a download event was not published:" << id.error().message;
        if (done)
            done(bool(id));
    });
}

void DownloadEvents::publishQueue(QueueAction action, const Download &d, const QueueSummary &summary,
                                  Published done)
{
    m_thread.check(Q_FUNC_INFO);
    QueueUpdateEvent payload;
    payload.action = action;
    payload.downloadId = d.id;
    payload.status = ReceivedStatus::of(d.status);
    payload.queueLength = summary.queued;
    payload.active = summary.active;
    // Additive to the Python payload: a client keeps its queue order from the event, without
    // fetching the download again.
    payload.priority = d.priority;
    payload.position = d.position;
    payload.createdAt = d.createdAt;
    Event e;
    e.channel = Channel::Queue;
    e.type = wireName(EventType::QueueUpdate);
    e.data = payload.toJson();
    e.timestamp = Event::currentTimestamp();
    m_broker->publish(e, [done](Result<EventId> id) {
        if (done)
            done(bool(id));
    });
}

void DownloadEvents::notify(NotificationType type, const QString &message, const Download *d)
{
    m_thread.check(Q_FUNC_INFO);
    SystemNotificationEvent payload;
    payload.notificationType = type;
    payload.message = message;
    if (d)
        payload.downloadId = d->id;
    Event e;
    e.channel = Channel::System;
    e.type = wireName(EventType::SystemNotification);
    e.data = payload.toJson();
    e.timestamp = Event::currentTimestamp();
    m_broker->publish(e, {});
}

} // namespace Hermes
