#include "eventrecorder.h"

#include "sseclient.h"

#include <QJsonDocument>

namespace DlModel {

using Hermes::Test::SseClient;

// With a heartbeat every second, 3 s of silence means the node does not answer.
static constexpr int QuietMs = 3000;

EventRecorder::EventRecorder(std::function<QList<quint16>()> ports, QByteArray authorization)
    : m_ports(std::move(ports)), m_auth(std::move(authorization))
{
}

EventRecorder::~EventRecorder() = default;

void EventRecorder::start()
{
    poll();
}

void EventRecorder::poll()
{
    const bool ended = !m_client || m_client->isClosed();
    if (!ended && m_quiet.elapsed() < QuietMs)
        return;
    const QList<quint16> ports = m_ports();
    if (ports.isEmpty())
        return;
    // Round robin over the nodes that may answer: the one that just went quiet comes last.
    quint16 port = ports.at(m_next++ % ports.size());
    if (port == m_port && ports.size() > 1)
        port = ports.at(m_next++ % ports.size());
    connectTo(port);
}

void EventRecorder::connectTo(quint16 port)
{
    if (m_client) {
        m_client->disconnect(this);
        m_client->close();
        m_client.release()->deleteLater(); // its socket may be mid-signal
    }
    ++m_reconnects;
    m_port = port;
    m_client = std::make_unique<SseClient>();
    m_client->setRecording(false);
    connect(m_client.get(), &SseClient::eventDispatched, this, [this](const Hermes::SseParser::Event &e) {
        m_quiet.restart();
        if (e.type == u"heartbeat")
            return;
        onEvent(e.data, e.lastEventId);
    });
    QList<QPair<QByteArray, QByteArray>> headers{{"Authorization", m_auth}};
    if (!m_lastId.isEmpty())
        headers.append({"Last-Event-ID", m_lastId.toLatin1()});
    m_quiet.restart();
    m_client->open(port, "/api/v1/events/stream?channels=downloads,queue", headers);
}

void EventRecorder::onEvent(const QString &data, const QString &id)
{
    const QJsonObject envelope = QJsonDocument::fromJson(data.toUtf8()).object();
    const QString type = envelope.value(QStringLiteral("type")).toString();
    const QJsonObject d = envelope.value(QStringLiteral("data")).toObject();
    if (!id.isEmpty()) {
        if (m_seenIds.contains(id) && type != u"connected")
            return; // delivered twice (a delivery fault, tst_deliverymodel's business): one publish
        m_seenIds.insert(id);
        m_lastId = id;
    }
    ++m_events;
    if (type == u"resync_required") {
        // The history is far longer than the run: the stream cannot be checked whole.
        m_problems << QStringLiteral("the stream got resync_required (%1) at %2: its record of the "
                                     "status changes may have a gap")
                          .arg(d.value(QStringLiteral("reason")).toString(), id);
        return;
    }
    const QString download = d.value(QStringLiteral("download_id")).toString();
    if (download.isEmpty())
        return;
    const QString status = d.value(QStringLiteral("status")).toString();
    if (type == u"queue_update" && d.value(QStringLiteral("action")).toString() == u"status_changed") {
        m_transitions[download].append(SeenChange{status, id, wallMs()});
    } else if (type == u"download_progress") {
        if (status == u"failed")
            m_failures[download].append({status, d.value(QStringLiteral("error_message")).toString()});
        if (status == u"completed" && !m_completedAt.contains(download))
            m_completedAt.insert(download, wallMs());
    }
}

} // namespace DlModel
