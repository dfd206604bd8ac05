#include "monitorsession.h"

#include "threadaffinity.h"

#include <utility>

namespace Hermes {

static constexpr int MaxDetailFetches = 50;  // more pending than this: one reload instead
static constexpr int SeenNotifications = 1024;

MonitorSession::MonitorSession(QObject *parent) : QObject(parent)
{
    connect(&m_stream, &EventStreamClient::eventReceived, this, &MonitorSession::onEvent);
    connect(&m_stream, &EventStreamClient::stateChanged, this, &MonitorSession::onStateChanged);
    connect(&m_loader, &SnapshotLoader::loaded, this, &MonitorSession::onLoaded);
    connect(&m_loader, &SnapshotLoader::failed, this, &MonitorSession::onLoadFailed);
    connect(&m_model, &DownloadListModel::statusChanged, this,
            [this](const QString &id, const ReceivedStatus &from, const ReceivedStatus &to) {
        if (from.text == to.text || (to.known != DownloadStatus::Completed && to.known != DownloadStatus::Failed))
            return;
        const DownloadRow *r = m_model.row(id);
        Q_EMIT downloadFinished(id, r ? r->name : id, to.known == DownloadStatus::Completed);
    });
    m_snapshotRetry.setSingleShot(true);
    connect(&m_snapshotRetry, &QTimer::timeout, this, &MonitorSession::reload);
    m_insertTimer.setSingleShot(true);
    m_insertTimer.setInterval(0);
    connect(&m_insertTimer, &QTimer::timeout, this, &MonitorSession::insertSlice);
    m_detailTimer.setSingleShot(true);
    m_detailTimer.setInterval(150);
    connect(&m_detailTimer, &QTimer::timeout, this, &MonitorSession::fetchDetails);
    connect(&m_network, &NetworkWatcher::networkAvailable, this, [this] {
        HERMES_ASSERT_THREAD(this);
        m_stream.retryNow();
        if (m_stale && !m_loader.isRunning())
            reload();
    });
    connect(&m_network, &NetworkWatcher::resumed, this, [this] {
        HERMES_ASSERT_THREAD(this);
        m_stream.resumed();
        if (m_stale && !m_loader.isRunning())
            reload();
    });
    m_model.setLive(false);
}

void MonitorSession::setServer(const QUrl &base)
{
    m_api.setBaseUrl(base);
    QUrl stream = base;
    stream.setPath(base.path().chopped(base.path().endsWith(u'/') ? 1 : 0) + QStringLiteral("/api/v1/events/stream"));
    m_stream.setUrl(stream);
}

void MonitorSession::setApiKey(const QByteArray &key)
{
    m_api.setApiKey(key);
    m_stream.setApiKey(key);
}

void MonitorSession::start()
{
    HERMES_ASSERT_THREAD(this);
    m_stream.open();
}

void MonitorSession::stop()
{
    HERMES_ASSERT_THREAD(this);
    m_stream.close();
    m_loader.cancel();
    m_snapshotRetry.stop();
    m_insertTimer.stop();
    m_inserting = {};
    m_insertAt = 0;
}

QDateTime MonitorSession::lastEventTime() const
{
    return m_lastEventMs ? QDateTime::fromMSecsSinceEpoch(m_lastEventMs) : QDateTime();
}

qint64 MonitorSession::msUntilSnapshotRetry() const
{
    return m_snapshotRetry.isActive() ? m_snapshotDeadline.remainingTime() : -1;
}

void MonitorSession::onStateChanged(EventStreamClient::State state)
{
    const bool connected = state == EventStreamClient::State::Connected;
    m_model.setLive(connected);
    if (!connected)
        return;
    // A connection that resumed with Last-Event-ID gets what it missed (or resync_required);
    // one that could not ask (no id yet) may have missed anything.
    if (!m_haveSnapshot || !m_stream.resumedWithLastEventId())
        reloadAnew();
}

void MonitorSession::refresh()
{
    HERMES_ASSERT_THREAD(this);
    if (m_stream.state() != EventStreamClient::State::Connected)
        m_stream.reconnectNow(); // reloads when connected, if it must
    reload();
}

void MonitorSession::reload()
{
    startLoad(false);
}

void MonitorSession::reloadAnew()
{
    startLoad(true);
}

void MonitorSession::startLoad(bool anew)
{
    HERMES_ASSERT_THREAD(this);
    m_snapshotRetry.stop();
    m_insertTimer.stop();
    m_inserting = {};
    m_insertAt = 0;
    // Events were dropped while a load ran: a kept page may hold a download whose removal was
    // among them, so the pages go, even when asked to walk on (F5, a details reload, a retry).
    if (std::exchange(m_reloadAgain, false))
        anew = true;
    ++m_snapshotsRequested;
    // Events from now on are held until it is merged.
    if (anew) {
        m_changedMeanwhile.clear();
        m_loader.start();
    } else {
        m_loader.resume();
    }
}

void MonitorSession::onLoaded(const QList<DownloadResource> &items, bool complete)
{
    // Known rows are updated (and vanished ones removed) at once; new ones are inserted in
    // slices, events still held meanwhile, so that 5,000 new rows do not freeze the window.
    // A load that says it is not complete removes nothing, and another follows (the cursor
    // loader's loads are complete: a list that moves while it is paged shifts no page).
    m_loadIncomplete = !complete;
    // Pages kept across a failed request may be older than what events brought meanwhile.
    m_inserting = m_model.mergeKnown(items, complete, m_loader.resumedAfterFailure());
    // One of them the pages lack was removed by the merge if complete; if it still exists, its
    // details bring it back (one deleted meanwhile was removed by its event already).
    QSet<QString> lacking = std::exchange(m_changedMeanwhile, {});
    for (const DownloadResource &d : items)
        lacking.remove(d.id);
    for (const QString &id : std::as_const(lacking))
        m_pendingDetails.insert(id);
    if (!lacking.isEmpty() && !m_detailTimer.isActive())
        m_detailTimer.start();
    m_insertAt = 0;
    insertSlice();
}

void MonitorSession::insertSlice()
{
    if (m_loader.isRunning())
        return; // a newer load started; it merges everything again
    const qsizetype left = m_inserting.size() - m_insertAt;
    const qsizetype n = m_insertSlice > 0 ? qMin<qsizetype>(m_insertSlice, left) : left;
    m_model.insertDownloads(m_inserting.mid(m_insertAt, n));
    m_insertAt += n;
    if (m_insertAt < m_inserting.size()) {
        m_insertTimer.start();
        return;
    }
    m_inserting = {};
    m_insertAt = 0;
    finishLoad();
}

void MonitorSession::finishLoad()
{
    m_haveSnapshot = true;
    ++m_snapshots;
    m_snapshotError.clear();
    if (m_loadIncomplete) {
        // Rows the server deleted meanwhile may still show: load again, later each time
        // the list is still moving then.
        const int delay = m_snapshotPolicy.delayMs(++m_snapshotAttempt);
        m_snapshotDeadline = QDeadlineTimer(delay);
        m_snapshotRetry.start(delay);
    } else {
        m_snapshotAttempt = 0;
    }
    // Events that came while the snapshot was on its way; older ones are skipped by the
    // model (their timestamps predate the rows').
    const QList<ReceivedEvent> held = std::exchange(m_held, {});
    for (const ReceivedEvent &e : held)
        apply(e);
    m_model.flushChanges();
    setStale(false);
    Q_EMIT snapshotLoaded();
    if (m_reloadAgain)
        reloadAnew(); // events were dropped
}

void MonitorSession::onLoadFailed(const QString &message)
{
    // Keep what the table shows, apply events on top, say it may be out of date, try again.
    const QList<ReceivedEvent> held = std::exchange(m_held, {});
    for (const ReceivedEvent &e : held)
        apply(e);
    m_snapshotError = message;
    ++m_snapshotAttempt;
    const int delay = m_snapshotPolicy.delayMs(m_snapshotAttempt);
    m_snapshotDeadline = QDeadlineTimer(delay);
    m_snapshotRetry.start(delay);
    setStale(true);
    Q_EMIT errorOccurred(tr("Cannot load the downloads: %1").arg(message));
}

void MonitorSession::setStale(bool stale)
{
    if (stale == m_stale) {
        if (stale)
            Q_EMIT staleChanged(true); // the reason or the countdown changed
        return;
    }
    m_stale = stale;
    Q_EMIT staleChanged(stale);
}

void MonitorSession::onEvent(const SseParser::Event &event)
{
    m_lastEventMs = QDateTime::currentMSecsSinceEpoch();
    if (isType(event.type, EventType::Heartbeat))
        return;
    // Either style: the envelope ({"type","data","timestamp"}) or `event: <type>` with the
    // inner object as data.
    ReceivedEvent received = ReceivedEvent::decode(event.type, event.data);
    const std::optional<EventType> type = fromWire<EventType>(received.type);
    if (type == EventType::ResyncRequired) {
        reloadAnew();
        return;
    }
    if (type == EventType::SystemNotification && !event.lastEventId.isEmpty()) {
        // The same notification twice (a replay overlapping what was seen) is shown once.
        const QString key = event.lastEventId + u'\n' + SystemNotificationEvent::fromJson(received.data).message;
        if (m_seenNotifications.contains(key))
            return;
        m_seenNotifications.insert(key);
        m_seenOrder.enqueue(key);
        if (m_seenOrder.size() > SeenNotifications)
            m_seenNotifications.remove(m_seenOrder.dequeue());
    }
    if (isLoading()) {
        if (m_held.size() >= m_maxHeld) {
            m_held.clear();
            m_reloadAgain = true; // what was dropped is in the next snapshot
        }
        m_held.append(std::move(received));
        return;
    }
    apply(received);
}

void MonitorSession::apply(const ReceivedEvent &event)
{
    const auto changed = [this](const QString &id) {
        if (m_loader.isInterrupted() && !id.isEmpty())
            m_changedMeanwhile.insert(id);
    };
    switch (fromWire<EventType>(event.type).value_or(EventType::Message)) {
    case EventType::DownloadProgress: {
        const DownloadProgressEvent progress = DownloadProgressEvent::fromJson(event.data);
        changed(progress.downloadId);
        m_model.applyProgress(progress, event.timestamp);
        break;
    }
    case EventType::QueueUpdate: {
        const QueueUpdateEvent update = QueueUpdateEvent::fromJson(event.data);
        if (update.action != QueueAction::Removed)
            changed(update.downloadId);
        if (update.action == QueueAction::Removed) {
            // Neither an interrupted load's page nor a details answer may bring it back.
            m_loader.forget(update.downloadId);
            m_pendingDetails.remove(update.downloadId);
            m_changedMeanwhile.remove(update.downloadId);
            const auto inFlight = m_detailsInFlight.find(update.downloadId);
            if (inFlight != m_detailsInFlight.end())
                inFlight->removed = true;
        }
        // A row the table lacks may have moved behind the cursor of the load just merged.
        const bool unknown = update.action != QueueAction::Removed && !m_model.row(update.downloadId);
        m_model.applyQueueUpdate(update, event.timestamp);
        if (update.action == QueueAction::Added || update.action == QueueAction::Reordered || unknown) {
            m_pendingDetails.insert(update.downloadId);
            if (!m_detailTimer.isActive())
                m_detailTimer.start();
        }
        break;
    }
    case EventType::SystemNotification:
        Q_EMIT notificationReceived(SystemNotificationEvent::fromJson(event.data));
        break;
    default:
        break;
    }
}

void MonitorSession::fetchDetails()
{
    const QSet<QString> ids = std::exchange(m_pendingDetails, {});
    if (ids.size() > MaxDetailFetches) {
        reload();
        return;
    }
    for (const QString &id : ids) {
        ++m_detailsInFlight[id].requests;
        m_api.download(id, [this, id, guard = QPointer<MonitorSession>(this)](Result<QJsonObject> answer) {
            if (!guard)
                return;
            const auto it = m_detailsInFlight.find(id);
            const bool removed = it != m_detailsInFlight.end() && it->removed;
            if (it != m_detailsInFlight.end() && --it->requests <= 0)
                m_detailsInFlight.erase(it);
            if (answer && !removed)
                m_model.upsertDownload(DownloadResource::fromJson(*answer));
        });
    }
}

} // namespace Hermes
