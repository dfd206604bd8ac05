#include "monitorsession.h"

#include <QJsonDocument>

#include <utility>

namespace Hermes {

MonitorSession::MonitorSession(QObject *parent) : QObject(parent)
{
    connect(&m_stream, &EventStreamClient::eventReceived, this, &MonitorSession::onEvent);
    connect(&m_stream, &EventStreamClient::stateChanged, this, [this](EventStreamClient::State s) {
        // Whatever happened while the stream was away, the snapshot has it.
        if (s == EventStreamClient::State::Connected)
            reload();
    });
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
    m_stream.open();
}

void MonitorSession::stop()
{
    m_stream.close();
}

void MonitorSession::reload()
{
    if (m_loading)
        return;
    m_loading = true;
    m_held.clear();
    m_api.listDownloads([this](int status, const QJsonObject &body, const QString &error) {
        m_loading = false;
        if (status != 200) {
            Q_EMIT errorOccurred(QStringLiteral("cannot load the downloads: %1").arg(error));
            m_held.clear();
            return;
        }
        m_model.resetFromSnapshot(body.value(QStringLiteral("items")).toArray());
        ++m_snapshots;
        // Events that came while the snapshot was on its way; older ones are skipped by the
        // model (their timestamps predate the rows').
        const QList<Held> held = std::exchange(m_held, {});
        for (const Held &h : held)
            apply(h.type, h.data, h.timestamp);
        refreshSummary();
        Q_EMIT snapshotLoaded();
    });
}

void MonitorSession::refreshSummary()
{
    m_api.queue([this](int status, const QJsonObject &body, const QString &) {
        if (status != 200)
            return;
        m_summary = body.value(QStringLiteral("summary")).toObject();
        Q_EMIT summaryChanged(m_summary);
    });
}

void MonitorSession::onEvent(const SseParser::Event &event)
{
    m_lastEvent = QDateTime::currentDateTime();
    if (event.type == u"heartbeat")
        return;
    const QJsonObject envelope = QJsonDocument::fromJson(event.data.toUtf8()).object();
    const QString type = envelope.value(QStringLiteral("type")).toString();
    const QJsonObject data = envelope.value(QStringLiteral("data")).toObject();
    const QString timestamp = envelope.value(QStringLiteral("timestamp")).toString();
    if (type == u"resync_required") {
        reload();
        return;
    }
    if (m_loading) {
        m_held.append({type, data, timestamp});
        return;
    }
    apply(type, data, timestamp);
}

void MonitorSession::apply(const QString &type, const QJsonObject &data, const QString &timestamp)
{
    if (type == u"download_progress") {
        m_model.applyProgress(data, timestamp);
        const QString status = data.value(QStringLiteral("status")).toString();
        if (status == u"completed" || status == u"failed")
            Q_EMIT downloadFinished(data.value(QStringLiteral("filename")).toString(), status == u"completed");
    } else if (type == u"queue_update") {
        m_model.applyQueueUpdate(data, timestamp);
        m_summary.insert(QStringLiteral("active"), data.value(QStringLiteral("active")));
        m_summary.insert(QStringLiteral("queued"), data.value(QStringLiteral("queue_length")));
        Q_EMIT summaryChanged(m_summary);
    } else if (type == u"system_notification") {
        Q_EMIT notificationReceived(data.value(QStringLiteral("notification_type")).toString(),
                                    data.value(QStringLiteral("message")).toString());
    }
}

} // namespace Hermes
