#include "eventstreamclient.h"

#include "logging.h"
#include "protocol/payloads.h"
#include "threadaffinity.h"

#include <QNetworkReply>
#include <QNetworkRequest>

namespace Hermes {

// Reads are taken in pieces of this size, and the reply buffers at most a few of them: the
// socket is not read faster than the parser consumes.
static constexpr qint64 ReadPiece = 64 * 1024;
static constexpr qint64 ReplyBuffer = 256 * 1024;
// A stream the server ends cleanly after running at least this long, having delivered at least
// one event, was a planned end (its connection timeout, a rotation): renewed at once, without
// showing Reconnecting. One that ends sooner, or empty, is treated as lost, so a server that
// ends every stream at once gets the backoff.
static constexpr qint64 MinRenewableMs = 1000;

EventStreamClient::EventStreamClient(QObject *parent) : QObject(parent)
{
    m_parser.setEventHandler([this](const SseParser::Event &event) { onEvent(event); });
    m_parser.setRetryHandler([this](int ms) {
        // The server's reconnection time becomes the backoff base, as EventSource does, but
        // clamped: `retry: 0` must not turn reconnects into a busy loop.
        m_backoff.setServerRetryMs(ms);
        Q_EMIT retryReceived(ms);
    });
    m_pump.setSingleShot(true);
    m_pump.setInterval(0);
    connect(&m_pump, &QTimer::timeout, this, &EventStreamClient::pump);
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, [this] { dispatch(Input::WaitOver); });
    m_watchdog.setSingleShot(true);
    connect(&m_watchdog, &QTimer::timeout, this, [this] { endConnection({}, /*watchdog=*/true); });
    m_stableTimer.setSingleShot(true);
    m_stableTimer.setInterval(10000);
    connect(&m_stableTimer, &QTimer::timeout, this, [this] { dispatch(Input::Stable); });
}

EventStreamClient::~EventStreamClient()
{
    // Never inside a reply's own signal (see pump()), so the reply may go with the manager.
    dropReply();
}

void EventStreamClient::dropReply()
{
    if (!m_reply)
        return;
    QNetworkReply *reply = m_reply;
    m_reply = nullptr;
    reply->disconnect(this);
    if (!reply->isFinished())
        reply->abort();
    reply->deleteLater();
}

void EventStreamClient::open()
{
    HERMES_ASSERT_THREAD(this);
    dispatch(Input::Open);
}

void EventStreamClient::close()
{
    HERMES_ASSERT_THREAD(this);
    dispatch(Input::Close);
}

void EventStreamClient::reconnectNow()
{
    HERMES_ASSERT_THREAD(this);
    dispatch(Input::Restart);
}

void EventStreamClient::retryNow()
{
    HERMES_ASSERT_THREAD(this);
    dispatch(Input::NetworkBack);
}

void EventStreamClient::resumed()
{
    HERMES_ASSERT_THREAD(this);
    dispatch(Input::Resumed);
}

void EventStreamClient::dispatch(Input input, int delayOverrideMs)
{
    using Action = StreamStateTable::Action;
    const StreamStateTable::Transition t = StreamStateTable::next(m_phase, input);
    if (t.actions & Action::Drop)
        dropConnection();
    if (t.actions & Action::CancelWait)
        m_retryTimer.stop();
    if (t.actions & Action::ResetAttempts)
        m_attempt = 0;
    if (t.actions & Action::ScheduleRetry)
        scheduleRetry(delayOverrideMs);
    if (t.reason)
        m_reason = *t.reason;
    const State before = state();
    m_phase = t.next;
    if (t.actions & Action::StartStable) {
        m_stableTimer.start();
        armWatchdog(); // now at the streaming interval
    }
    if (state() != before || (t.actions & Action::Announce)) {
        // A slot may close, reconnect or delete the client: then nothing more happens here.
        const QPointer<EventStreamClient> self(this);
        const quint64 generation = m_generation;
        Q_EMIT stateChanged(state());
        if (!self || m_generation != generation || m_phase != t.next)
            return;
    }
    if (t.actions & Action::Connect)
        startRequest();
    if (t.actions & Action::ThenOpen)
        dispatch(Input::Open);
}

void EventStreamClient::dropConnection()
{
    ++m_generation;
    m_retryTimer.stop();
    m_watchdog.stop();
    m_stableTimer.stop();
    m_pump.stop();
    dropReply();
    m_parser.finish(); // a feed() in progress delivers nothing more
    m_headersSeen = false;
    m_nextDelayMs = -1;
    m_nextAttempt = QDeadlineTimer(QDeadlineTimer::Forever);
}

void EventStreamClient::scheduleRetry(int delayOverrideMs)
{
    ++m_attempt;
    m_nextDelayMs = delayOverrideMs >= 0 ? delayOverrideMs : m_backoff.delayMs(m_attempt);
    m_nextAttempt = QDeadlineTimer(m_nextDelayMs);
    m_retryTimer.start(m_nextDelayMs);
}

qint64 EventStreamClient::msUntilNextAttempt() const
{
    return m_retryTimer.isActive() ? m_nextAttempt.remainingTime() : -1;
}

void EventStreamClient::startRequest()
{
    ++m_generation;
    dropReply();
    m_nextDelayMs = -1;
    m_nextAttempt = QDeadlineTimer(QDeadlineTimer::Forever);
    m_headersSeen = false;
    m_eventsThisConnection = 0;
    m_lastStatus = 0;
    m_parser.reset(); // a new stream; its last event ID buffer starts from the string
    QNetworkRequest request(m_url);
    request.setRawHeader("Accept", "text/event-stream");
    request.setRawHeader("Cache-Control", "no-cache");
    if (!m_apiKey.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + m_apiKey);
    const QString lastId = m_parser.lastEventId();
    m_resumeRequested = !lastId.isEmpty();
    if (m_resumeRequested)
        request.setRawHeader("Last-Event-ID", lastId.toUtf8());
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    request.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    m_reply = m_nam.get(request);
    m_reply->setReadBufferSize(ReplyBuffer);
    // The reply's signals only schedule work: the pump runs from the client's own timer, so
    // slots of ours may delete the client (and with it the reply) safely.
    connect(m_reply, &QNetworkReply::metaDataChanged, this, &EventStreamClient::schedulePump);
    connect(m_reply, &QNetworkReply::readyRead, this, &EventStreamClient::schedulePump);
    connect(m_reply, &QNetworkReply::finished, this, &EventStreamClient::schedulePump);
    armWatchdog();
}

void EventStreamClient::schedulePump()
{
    if (!m_pump.isActive())
        m_pump.start();
}

void EventStreamClient::armWatchdog()
{
    m_watchdog.start(m_phase == Phase::Connected ? watchdogMs() : m_connectTimeoutMs);
}

void EventStreamClient::pump()
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    const QPointer<EventStreamClient> self(this);
    const quint64 generation = m_generation;
    auto gone = [&] { return !self || m_generation != generation; };

    if (!m_headersSeen) {
        const QVariant status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
        if (status.isValid()) {
            m_headersSeen = true;
            m_lastStatus = status.toInt();
            // Parameters (charset) may follow the media type.
            const QByteArray type = reply->header(QNetworkRequest::ContentTypeHeader).toByteArray();
            const QByteArray mediaType = type.split(';').value(0).trimmed().toLower();
            if (m_lastStatus == 200 && mediaType == "text/event-stream") {
                m_streamingFor.start();
                dispatch(Input::Streaming);
                if (gone())
                    return;
            }
        }
    }
    if (m_phase == Phase::Connected) {
        for (;;) {
            const QByteArray piece = reply->read(ReadPiece);
            if (piece.isEmpty())
                break;
            armWatchdog();
            m_parser.feed(piece);
            if (gone())
                return;
            if (m_parser.error() != SseParser::Error::None) {
                endConnection(SseParser::errorString(m_parser.error(), m_parser.limit()));
                return;
            }
        }
    } else if (reply->bytesAvailable() > 0) {
        reply->skip(reply->bytesAvailable()); // an error body; the status says what failed
    }
    if (reply->isFinished())
        endConnection({});
    else if (reply->bytesAvailable() > 0)
        schedulePump(); // more than one piece waits: let other events run in between
}

void EventStreamClient::onEvent(const SseParser::Event &event)
{
    if (m_eventsThisConnection++ == 0)
        learnHeartbeat(event);
    Q_EMIT eventReceived(event);
}

void EventStreamClient::learnHeartbeat(const SseParser::Event &event)
{
    // Hermes' first event is `connected`, whose data (envelope style: data.data) carries the
    // server's heartbeat_interval in seconds. Other servers simply do not have it.
    const ReceivedEvent received = ReceivedEvent::decode(event.type, event.data);
    if (!isType(received.type, EventType::Connected))
        return;
    const double seconds = ConnectedEvent::heartbeatIntervalOf(received.data).value_or(-1);
    if (seconds <= 0 || seconds > 86400)
        return;
    const int ms = int(seconds * 1000);
    if (ms == m_serverHeartbeatMs)
        return;
    m_serverHeartbeatMs = ms;
    armWatchdog();
    Q_EMIT heartbeatIntervalChanged(ms);
}

void EventStreamClient::endConnection(const QString &protocolError, bool watchdog)
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    const bool finished = reply->isFinished();
    const QNetworkReply::NetworkError error = reply->error();
    const QString errorString = reply->errorString();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray retryAfter = reply->rawHeader("Retry-After");
    dropReply();
    ++m_generation;
    m_pump.stop();
    m_watchdog.stop();
    m_stableTimer.stop();
    const bool wasStreaming = m_phase == Phase::Connected;
    m_headersSeen = false;
    m_parser.finish();
    m_lastStatus = status;

    // Signals first (errorOccurred, streamEnded), the state change last, so that a slot sees
    // why before it sees Disconnected. A slot may close, reconnect or delete the client: then
    // nothing more happens here.
    const QPointer<EventStreamClient> self(this);
    const quint64 generation = m_generation;
    auto gone = [&] { return !self || m_generation != generation; };
    if (status == 401 || status == 403) {
        m_lastError = QStringLiteral("authentication failed (HTTP %1)").arg(status);
        Q_EMIT errorOccurred(m_lastError);
        if (gone())
            return;
        Q_EMIT authenticationFailed();
        if (gone())
            return;
        dispatch(Input::Rejected);
        return;
    }

    int delayOverride = -1;
    bool ended = false;
    QString message;
    if (!protocolError.isEmpty()) {
        message = protocolError;
    } else if (watchdog) {
        message = wasStreaming
            ? QStringLiteral("no data from the server for %1 s; the connection is dead").arg(watchdogMs() / 1000.0)
            : QStringLiteral("no answer within %1 s").arg(m_connectTimeoutMs / 1000.0);
    } else if (wasStreaming && finished
               && (error == QNetworkReply::NoError || error == QNetworkReply::RemoteHostClosedError)) {
        ended = true;
    } else if (status != 0 && status != 200) {
        if (status == 503 || status == 429) {
            if (const auto seconds = ReconnectBackoff::parseRetryAfter(retryAfter, QDateTime::currentDateTimeUtc()))
                delayOverride = m_backoff.retryAfterDelayMs(*seconds);
        }
        message = QStringLiteral("HTTP %1 from the server").arg(status);
    } else if (status == 200) {
        message = QStringLiteral("the server did not answer with text/event-stream");
    } else {
        message = errorString;
    }
    if (!message.isEmpty()) {
        m_lastError = message;
        qCDebug(lcClient).noquote() << "stream error:" << message;
        Q_EMIT errorOccurred(message);
        if (gone())
            return;
    }
    if (ended) {
        Q_EMIT streamEnded();
        if (gone())
            return;
    }
    if (!m_reconnect) {
        dispatch(ended ? Input::Ended : Input::Failed);
        return;
    }
    // Only a stream that delivered something ran: a server that answers 200 and ends before
    // its first event (its history not ready, a proxy) is an outage, with the backoff.
    if (ended && m_eventsThisConnection > 0 && m_streamingFor.isValid()
        && m_streamingFor.elapsed() >= MinRenewableMs) {
        // Not an attempt: the next connection resumes with Last-Event-ID at once, and only if
        // it fails does the user see Reconnecting (attempt 1).
        dispatch(Input::Renew);
        return;
    }
    if (m_backoff.givesUpBefore(m_attempt + 1)) {
        m_lastError = QStringLiteral("gave up after %1 attempts: %2").arg(m_attempt).arg(m_lastError);
        Q_EMIT errorOccurred(m_lastError);
        if (gone())
            return;
        dispatch(Input::AttemptsSpent);
        return;
    }
    dispatch(Input::Lost, delayOverride);
}

} // namespace Hermes
