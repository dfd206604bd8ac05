#include "eventstreamclient.h"

#include "logging.h"

#include <QNetworkReply>
#include <QNetworkRequest>

namespace Hermes {

EventStreamClient::EventStreamClient(QObject *parent) : QObject(parent)
{
    m_parser.setEventHandler([this](const SseParser::Event &event) { Q_EMIT eventReceived(event); });
    m_parser.setRetryHandler([this](int ms) {
        // The server's reconnection time becomes the backoff base, as EventSource does.
        m_backoff.setBaseMs(ms);
        Q_EMIT retryReceived(ms);
    });
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &EventStreamClient::startRequest);
    m_watchdog.setSingleShot(true);
    connect(&m_watchdog, &QTimer::timeout, this, &EventStreamClient::onWatchdog);
    m_stableTimer.setSingleShot(true);
    m_stableTimer.setInterval(10000);
    connect(&m_stableTimer, &QTimer::timeout, this, [this] { m_attempt = 0; });
}

EventStreamClient::~EventStreamClient()
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        delete m_reply;
    }
}

void EventStreamClient::open()
{
    if (m_state != State::Disconnected)
        return;
    m_attempt = 0;
    setState(State::Connecting);
    startRequest();
}

void EventStreamClient::close()
{
    m_retryTimer.stop();
    m_watchdog.stop();
    m_stableTimer.stop();
    if (m_reply) {
        QNetworkReply *reply = m_reply;
        m_reply = nullptr;
        reply->disconnect(this);
        reply->abort();
        reply->deleteLater();
    }
    m_nextDelayMs = -1;
    setState(State::Disconnected);
}

void EventStreamClient::reconnectNow()
{
    close();
    open();
}

void EventStreamClient::startRequest()
{
    m_nextDelayMs = -1;
    m_streaming = false;
    m_watchdogFired = false;
    m_lastStatus = 0;
    m_parser.reset(); // a new stream; the last event id is kept
    QNetworkRequest request(m_url);
    request.setRawHeader("Accept", "text/event-stream");
    request.setRawHeader("Cache-Control", "no-cache");
    if (!m_apiKey.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + m_apiKey);
    if (!m_parser.lastEventId().isEmpty())
        request.setRawHeader("Last-Event-ID", m_parser.lastEventId().toUtf8());
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    request.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    m_reply = m_nam.get(request);
    connect(m_reply, &QNetworkReply::metaDataChanged, this, &EventStreamClient::onMetaDataChanged);
    connect(m_reply, &QNetworkReply::readyRead, this, &EventStreamClient::onReadyRead);
    connect(m_reply, &QNetworkReply::finished, this, &EventStreamClient::onFinished);
    armWatchdog();
}

void EventStreamClient::armWatchdog()
{
    m_watchdog.start(m_streaming ? m_heartbeatMs * 5 / 2 : m_connectTimeoutMs);
}

void EventStreamClient::onMetaDataChanged()
{
    m_lastStatus = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray type = m_reply->header(QNetworkRequest::ContentTypeHeader).toByteArray();
    // Parameters (charset) may follow the media type.
    const QByteArray mediaType = type.split(';').value(0).trimmed().toLower();
    if (m_lastStatus == 200 && mediaType == "text/event-stream") {
        m_streaming = true;
        setState(State::Connected);
        m_stableTimer.start();
        armWatchdog();
    }
}

void EventStreamClient::onReadyRead()
{
    if (!m_reply)
        return;
    const QByteArray bytes = m_reply->readAll();
    if (!m_streaming)
        return; // an error body; onFinished() reports it
    armWatchdog();
    m_parser.feed(bytes);
}

void EventStreamClient::onWatchdog()
{
    if (!m_reply)
        return;
    m_watchdogFired = true;
    m_reply->abort(); // → onFinished
}

void EventStreamClient::onFinished()
{
    QNetworkReply *reply = m_reply;
    if (!reply)
        return;
    m_reply = nullptr;
    reply->deleteLater();
    m_watchdog.stop();
    m_stableTimer.stop();
    const bool wasStreaming = m_streaming;
    m_streaming = false;
    m_parser.finish();

    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    m_lastStatus = status;
    if (status == 401 || status == 403) {
        m_lastError = QStringLiteral("authentication failed (HTTP %1)").arg(status);
        Q_EMIT errorOccurred(m_lastError);
        Q_EMIT authenticationFailed();
        close();
        return;
    }

    int delayOverride = -1;
    if (m_watchdogFired) {
        fail(wasStreaming ? QStringLiteral("no data from the server for %1 s; the connection is dead")
                                .arg(m_heartbeatMs * 5 / 2 / 1000.0)
                          : QStringLiteral("no answer within %1 s").arg(m_connectTimeoutMs / 1000.0));
    } else if (wasStreaming && (reply->error() == QNetworkReply::NoError
                                || reply->error() == QNetworkReply::RemoteHostClosedError)) {
        Q_EMIT streamEnded();
    } else if (status != 0 && status != 200) {
        if (status == 503) {
            bool ok = false;
            const int seconds = reply->rawHeader("Retry-After").trimmed().toInt(&ok);
            if (ok && seconds >= 0)
                delayOverride = qMin(seconds, 3600) * 1000;
        }
        fail(QStringLiteral("HTTP %1 from the server").arg(status));
    } else if (status == 200) {
        fail(QStringLiteral("the server did not answer with text/event-stream"));
    } else {
        fail(reply->errorString());
    }

    if (!m_reconnect) {
        close();
        return;
    }
    scheduleReconnect(delayOverride);
}

void EventStreamClient::fail(const QString &message)
{
    m_lastError = message;
    qCDebug(lcClient).noquote() << "stream error:" << message;
    Q_EMIT errorOccurred(message);
}

void EventStreamClient::scheduleReconnect(int delayOverrideMs)
{
    if (m_attempt >= m_backoff.maxAttempts()) {
        m_lastError = QStringLiteral("gave up after %1 attempts: %2").arg(m_attempt).arg(m_lastError);
        Q_EMIT errorOccurred(m_lastError);
        close();
        return;
    }
    ++m_attempt;
    m_nextDelayMs = delayOverrideMs >= 0 ? delayOverrideMs : m_backoff.delayMs(m_attempt);
    // Announced for every attempt, also when the state was Reconnecting already: the
    // indicator shows the attempt number.
    m_state = State::Reconnecting;
    Q_EMIT stateChanged(m_state);
    m_retryTimer.start(m_nextDelayMs);
}

void EventStreamClient::setState(State state)
{
    if (state == m_state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

} // namespace Hermes
