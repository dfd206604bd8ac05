#include "modelclient.h"

#include "sseclient.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QUrl>

namespace Model {

using Hermes::Test::SseClient;

static qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

ModelClient::ModelClient(int index, const ClientSpec &spec, const World *world, quint64 seed,
                         QObject *parent)
    : QObject(parent), m_index(index), m_spec(spec), m_world(world), m_rng(seed)
{
    m_proxy.listen(0);
    connect(&m_proxy, &Hermes::Test::CuttingProxy::cut, this, [this] { ++m_cuts; });
    m_reconnect.setSingleShot(true);
    connect(&m_reconnect, &QTimer::timeout, this, [this] {
        if (m_state == State::Idle)
            connectNow();
    });
    m_watchdog.setSingleShot(true);
    connect(&m_watchdog, &QTimer::timeout, this, [this] {
        if (m_state == State::Connecting) {
            detach(QStringLiteral("no response within 10 s"));
            scheduleReconnect(100);
        }
    });
}

ModelClient::~ModelClient()
{
    if (m_sse)
        m_sse->disconnect(this);
}

void ModelClient::setToken(const QByteArray &token, qint64 mintedMs)
{
    m_token = token;
    m_tokenMintedMs = mintedMs;
    m_tokenRejected = false;
}

QString ModelClient::describe() const
{
    return QStringLiteral("client %1 %2").arg(m_index).arg(m_spec.describe());
}

void ModelClient::problem(const QString &what)
{
    if (m_problems.size() < 20)
        m_problems << QStringLiteral("connection %1: %2").arg(m_connections.size() - 1).arg(what);
}

void ModelClient::connectNow(int node)
{
    if (m_state == State::Gone)
        return;
    m_reconnect.stop();
    if (m_sse)
        detach(QStringLiteral("replaced"));
    Connection c;
    c.node = node >= 0 ? node : int(m_rng.bounded(int(m_world->nodePorts.size())));
    c.sentId = m_resumeId;
    c.idInQuery = !m_resumeId.isEmpty() && m_rng.bounded(8) == 0; // the polyfill way
    c.openedMs = nowMs();
    m_connections.append(c);

    const bool token = m_spec.useToken && !m_token.isEmpty() && !m_tokenRejected;
    QByteArray path = m_spec.path(token ? m_token : QByteArray());
    QList<QPair<QByteArray, QByteArray>> headers;
    if (!token)
        headers.append({"Authorization", "Bearer " + m_world->apiKey});
    if (c.idInQuery)
        path += (path.contains('?') ? "&lastEventId=" : "?lastEventId=")
            + QUrl::toPercentEncoding(m_resumeId);
    else if (!m_resumeId.isEmpty())
        headers.append({"Last-Event-ID", m_resumeId.toUtf8()});

    m_proxy.setUpstreamPort(m_world->nodePorts.at(c.node));
    m_sse = new SseClient(this);
    m_sse->setLastEventId(m_resumeId);
    m_sse->setRecording(false);
    connect(m_sse, &SseClient::headersReceived, this, &ModelClient::onHeaders);
    connect(m_sse, &SseClient::eventDispatched, this, &ModelClient::onEvent);
    connect(m_sse, &SseClient::closed, this, &ModelClient::onClosed);
    m_state = State::Connecting;
    m_watchdog.start(10000);
    m_sse->open(m_proxy.port(), path, headers);
}

void ModelClient::onHeaders()
{
    Connection &c = m_connections.last();
    c.status = m_sse->status();
    m_watchdog.stop();
    if (c.status == 200)
        return;
    if (c.status == 401 && m_spec.useToken)
        m_tokenRejected = true; // expired: the driver mints another, the key serves meanwhile
    detach(QStringLiteral("HTTP %1").arg(c.status));
    ++m_failures;
    scheduleReconnect(qMin(3000, 100 << qMin(m_failures, 5)));
}

void ModelClient::onEvent(const Hermes::SseParser::Event &e)
{
    Connection &c = m_connections.last();
    m_resumeId = e.lastEventId; // dispatch sets the last event ID string
    if (e.type == u"heartbeat")
        return;
    QString type = e.type;
    QJsonObject data;
    QString timestamp;
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(e.data.toUtf8(), &error);
    if (!doc.isObject()) {
        problem(QStringLiteral("data is not a JSON object: %1").arg(e.data.left(120)));
        return;
    }
    if (m_spec.named()) {
        data = doc.object();
    } else {
        if (e.type != u"message")
            problem(QStringLiteral("envelope style event has event type %1").arg(e.type));
        const QJsonObject envelope = doc.object();
        type = envelope.value(QStringLiteral("type")).toString();
        data = envelope.value(QStringLiteral("data")).toObject();
        timestamp = envelope.value(QStringLiteral("timestamp")).toString();
        if (type.isEmpty() || !envelope.value(QStringLiteral("data")).isObject() || timestamp.isEmpty())
            problem(QStringLiteral("not an envelope: %1").arg(e.data.left(120)));
    }
    if (type == u"connected") {
        if (c.connected || c.events > 0)
            problem(QStringLiteral("a second connected event"));
        c.connected = true;
        m_state = State::Streaming;
        m_failures = 0;
        if (c.sentId.isEmpty()) {
            Item item;
            item.kind = Item::Fresh;
            item.seqBound = m_world->nextSeq;
            item.connection = int(m_connections.size()) - 1;
            item.atMs = nowMs();
            m_items.append(item);
        }
        return;
    }
    if (!c.connected)
        problem(QStringLiteral("%1 before the connected event").arg(type));
    ++c.events;
    m_lastActivityMs = nowMs(); // events only: the quiet period ignores connects and heartbeats
    Item item;
    item.kind = type == u"resync_required" ? Item::Resync : Item::Event;
    item.id = e.lastEventId;
    item.type = type;
    item.data = data;
    item.timestamp = timestamp;
    item.connection = int(m_connections.size()) - 1;
    item.atMs = m_lastActivityMs;
    if (item.kind == Item::Resync) {
        item.sentId = c.sentId;
        item.seqBound = m_world->nextSeq;
    } else if (item.id.isEmpty()) {
        problem(QStringLiteral("event %1 without an id").arg(type));
    }
    m_items.append(item);
}

void ModelClient::onClosed()
{
    Connection &c = m_connections.last();
    const bool streamed = c.connected;
    detach(c.status == 200 ? QStringLiteral("closed") : QStringLiteral("failed"));
    if (m_state == State::Offline || m_state == State::Gone)
        return;
    if (streamed) {
        scheduleReconnect(20 + int(m_rng.bounded(500)));
        return;
    }
    // Refused or failed before streaming (a node that is down): back off, with jitter.
    ++m_failures;
    const int cap = qMin(3000, 100 << qMin(m_failures, 5));
    scheduleReconnect(cap / 2 + int(m_rng.bounded(cap / 2 + 1)));
}

void ModelClient::detach(const QString &why)
{
    m_watchdog.stop();
    if (!m_sse)
        return;
    if (m_connections.last().end.isEmpty()) {
        m_connections.last().end = why;
        m_connections.last().endedMs = nowMs();
    }
    SseClient *sse = m_sse;
    m_sse = nullptr;
    sse->disconnect(this);
    sse->close();
    sse->deleteLater();
    if (m_state == State::Connecting || m_state == State::Streaming)
        m_state = State::Idle;
}

void ModelClient::scheduleReconnect(int delayMs)
{
    if (m_state == State::Gone)
        return;
    m_reconnect.start(qMax(0, delayMs));
}

void ModelClient::disconnectNow(int delayMs)
{
    if (m_state == State::Gone || m_state == State::Offline)
        return;
    detach(QStringLiteral("closed by the client"));
    scheduleReconnect(delayMs);
}

void ModelClient::goOffline()
{
    if (m_state == State::Gone)
        return;
    detach(QStringLiteral("client went away"));
    m_reconnect.stop();
    m_state = State::Offline;
}

void ModelClient::comeBack()
{
    if (m_state != State::Offline)
        return;
    m_state = State::Idle;
    connectNow();
}

void ModelClient::leave()
{
    detach(QStringLiteral("client left for good"));
    m_reconnect.stop();
    m_state = State::Gone;
}

void ModelClient::finalize()
{
    m_proxy.setRate(0);
    m_proxy.disarm();
    if (m_state == State::Offline)
        comeBack();
    else if (m_state == State::Idle)
        connectNow();
}

} // namespace Model
