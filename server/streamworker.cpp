#include "streamworker.h"

#include "eventhistory.h"
#include "json.h"
#include "logging.h"
#include "metrics.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QTcpSocket>
#include <QUuid>

namespace Hermes {

StreamWorker::StreamWorker(const Options &options, const EventHistory *history,
                           Metrics *metrics, QObject *parent)
    : QObject(parent), m_options(options), m_history(history), m_metrics(metrics)
{
    m_heartbeat.setInterval(options.heartbeatIntervalSec * 1000);
    connect(&m_heartbeat, &QTimer::timeout, this, &StreamWorker::sendHeartbeat);
    m_heartbeat.start();
    if (options.connectionTimeoutSec > 0) {
        m_expiry.setInterval(qMin(1000, options.connectionTimeoutSec * 1000));
        connect(&m_expiry, &QTimer::timeout, this, &StreamWorker::expireStreams);
        m_expiry.start();
    }
}

StreamWorker::~StreamWorker()
{
    for (auto &c : m_connections)
        QObject::disconnect(c->disconnectWatch);
}

QByteArray StreamWorker::chunk(const QByteArray &payload)
{
    return QByteArray::number(payload.size(), 16) + "\r\n" + payload + "\r\n";
}

static Event hubEvent(const char *type, QJsonObject data)
{
    Event e;
    e.type = QString::fromLatin1(type);
    e.timestamp = Event::currentTimestamp();
    data.insert(QStringLiteral("timestamp"), e.timestamp);
    e.data = std::move(data);
    return e;
}

QByteArray StreamWorker::openingFrames(const StreamFilter &filter, EventStyle style,
                                       const QByteArray &lastEventId, EventId historyStart,
                                       EventId *skipUpTo) const
{
    const QString connectionId =
        QStringLiteral("conn_") + QUuid::createUuid().toString(QUuid::WithoutBraces);
    QByteArray out = SseEncoder::encode(
        hubEvent("connected", {{QStringLiteral("connection_id"), connectionId}}), style);
    if (lastEventId.isEmpty())
        return out;

    // Missed events are replayed up to what this worker has already flushed; anything newer
    // is still queued here and reaches the new stream with the next flush.
    const std::optional<EventId> last = EventId::parse(lastEventId);
    QString reason;
    std::vector<EncodedEventPtr> missed;
    if (!last)
        reason = QStringLiteral("invalid_last_event_id");
    else if (*last < historyStart)
        reason = QStringLiteral("history_unavailable"); // from before this server's history
    else if (!m_history->eventsAfter(*last, filter.channels, &missed))
        reason = QStringLiteral("history_exceeded");
    if (!reason.isEmpty()) {
        Event resync = hubEvent("resync_required",
                                {{QStringLiteral("reason"), reason},
                                 {QStringLiteral("last_event_id"),
                                  QString::fromUtf8(lastEventId.left(64))}});
        // Carries the newest id, so a client that reconnects after reloading resumes from here.
        resync.id = m_flushedUpTo;
        out += SseEncoder::encode(resync, style);
        *skipUpTo = m_flushedUpTo;
        return out;
    }
    for (const EncodedEventPtr &e : missed) {
        if (e->id <= m_flushedUpTo && filter.matches(*e))
            out += e->frame(style);
    }
    *skipUpTo = *last;
    return out;
}

void StreamWorker::addStream(QTcpSocket *socket, const QByteArray &head,
                             const StreamFilter &filter, EventStyle style,
                             const QByteArray &lastEventId, EventId historyStart)
{
    EventId skipUpTo;
    const QByteArray opening = openingFrames(filter, style, lastEventId, historyStart, &skipUpTo);
    const qint64 deadline = m_options.connectionTimeoutSec > 0
        ? QDateTime::currentMSecsSinceEpoch() + qint64(m_options.connectionTimeoutSec) * 1000
        : 0;
    m_connections.push_back(
        std::make_unique<StreamConnection>(socket, filter, style, skipUpTo, deadline));
    auto it = std::prev(m_connections.end());
    (*it)->disconnectWatch = connect(socket, &QTcpSocket::disconnected, this, [this, it] {
        remove(it, Removal::ClientClosed);
    });
    m_metrics->connectionOpened();
    socket->write(head + "\r\n" + chunk(opening));
    m_metrics->bytesSent(quint64(opening.size()));
}

void StreamWorker::deliver(const EncodedEventPtr &event)
{
    m_pending.push_back(event);
    if (!m_flushScheduled) {
        m_flushScheduled = true;
        QMetaObject::invokeMethod(this, &StreamWorker::flush, Qt::QueuedConnection);
    }
}

void StreamWorker::flush()
{
    m_flushScheduled = false;
    if (m_pending.empty())
        return;
    const std::vector<EncodedEventPtr> pending = std::move(m_pending);
    m_pending.clear();
    m_flushedUpTo = std::max(m_flushedUpTo, pending.back()->id);

    quint64 perChannel[8] = {};
    for (const auto &e : pending)
        ++perChannel[e->channel];
    QByteArray shared[2]; // built on first use, then the same bytes for every unfiltered client
    Failures failed;
    for (auto it = m_connections.begin(); it != m_connections.end(); ++it) {
        const StreamConnection &c = **it;
        const int style = int(c.style());
        if (c.filter().matchesEverything() && c.skipUpTo() < pending.front()->id) {
            if (shared[style].isEmpty()) {
                QByteArray frames;
                for (const auto &e : pending)
                    frames += e->frames[style];
                shared[style] = chunk(frames);
            }
            for (quint8 bit : {DownloadsBit, QueueBit, SystemBit})
                m_metrics->eventsDelivered(bit, perChannel[bit]);
            write(it, shared[style], &failed);
            continue;
        }
        QByteArray frames;
        for (const auto &e : pending) {
            if (e->id > c.skipUpTo() && c.filter().matches(*e)) {
                frames += e->frames[style];
                m_metrics->eventsDelivered(e->channel, 1);
            }
        }
        if (!frames.isEmpty())
            write(it, chunk(frames), &failed);
    }
    for (const auto &[it, why] : failed)
        remove(it, why);
}

void StreamWorker::write(ConnectionList::iterator it, const QByteArray &bytes,
                         Failures *failed)
{
    switch ((*it)->write(bytes, m_options.maxClientBuffer)) {
    case StreamConnection::WriteResult::Ok:
        m_metrics->bytesSent(quint64(bytes.size()));
        break;
    // Removed by the caller after its loop, which is still walking the list.
    case StreamConnection::WriteResult::Overflow:
        failed->push_back({it, Removal::SlowClient});
        break;
    case StreamConnection::WriteResult::Failed:
        failed->push_back({it, Removal::WriteError});
        break;
    }
}

void StreamWorker::sendHeartbeat()
{
    const QJsonObject data{{QStringLiteral("timestamp"), Event::currentTimestamp()}};
    const QByteArray bytes = chunk(SseEncoder::frame(
        QJsonDocument(data).toJson(QJsonDocument::Compact), "heartbeat"));
    Failures failed;
    for (auto it = m_connections.begin(); it != m_connections.end(); ++it)
        write(it, bytes, &failed);
    for (const auto &[it, why] : failed)
        remove(it, why);
}

void StreamWorker::expireStreams()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    while (!m_connections.empty() && m_connections.front()->deadline() <= now)
        endStream(m_connections.begin(), Removal::Timeout);
}

void StreamWorker::endStream(ConnectionList::iterator it, Removal why)
{
    QTcpSocket *socket = (*it)->socket();
    // A clean end: the retry hint, then the terminating chunk, so the client knows the stream
    // ended on purpose and when to come back.
    (*it)->write(chunk(SseEncoder::retry(m_options.retryMs)) + "0\r\n\r\n",
                 std::numeric_limits<qint64>::max());
    // Removed first: with nothing left to flush, disconnectFromHost() emits disconnected()
    // at once, and the stream must no longer be listening then.
    remove(it, why);
    socket->disconnectFromHost();
}

void StreamWorker::remove(ConnectionList::iterator it, Removal why)
{
    StreamConnection &c = **it;
    QObject::disconnect(c.disconnectWatch);
    switch (why) {
    case Removal::ClientClosed: m_metrics->streamEnded(Metrics::StreamEnd::ClientClosed); break;
    case Removal::Timeout: m_metrics->streamEnded(Metrics::StreamEnd::Timeout); break;
    case Removal::Shutdown: m_metrics->streamEnded(Metrics::StreamEnd::Shutdown); break;
    case Removal::SlowClient:
    case Removal::WriteError: {
        const bool slow = why == Removal::SlowClient;
        m_metrics->connectionDropped(slow ? Metrics::Drop::SlowClient : Metrics::Drop::WriteError);
        qCInfo(lcHub) << "dropping a stream:"
                      << (slow ? "the client does not keep up" : "write failed");
        c.socket()->abort();
        break;
    }
    }
    m_connections.erase(it);
}

void StreamWorker::closeAll()
{
    while (!m_connections.empty())
        endStream(m_connections.begin(), Removal::Shutdown);
}

} // namespace Hermes
