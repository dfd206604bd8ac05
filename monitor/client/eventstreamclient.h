#pragma once

#include "reconnectbackoff.h"
#include "sseparser.h"

#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrl>

class QNetworkReply;

namespace Hermes {

/**
 * Reads a Server-Sent Events stream and keeps it open: reconnects with exponential backoff and
 * full jitter, resumes with Last-Event-ID, honours `retry:`, and notices dead connections.
 *
 * States: Connecting (first attempt) → Connected (a 200 text/event-stream answer) →
 * Reconnecting (attempt N of maxAttempts, waiting or trying) → Disconnected (closed, gave up,
 * or authentication failed; only reconnectNow() leaves it).
 *
 * A watchdog aborts a connection that delivers no bytes for 2.5 × the heartbeat interval
 * (half-open TCP, a proxy holding the connection): browsers' EventSource does not do this.
 * 401/403 stop at once ("authentication failed"): retrying cannot help and would hammer the
 * server. 503 with Retry-After waits that long before the next attempt.
 */
class EventStreamClient final : public QObject
{
    Q_OBJECT
public:
    enum class State { Disconnected, Connecting, Connected, Reconnecting };
    Q_ENUM(State)

    explicit EventStreamClient(QObject *parent = nullptr);
    ~EventStreamClient() override;

    void setUrl(const QUrl &url) { m_url = url; }
    QUrl url() const { return m_url; }
    /// Sent as `Authorization: Bearer <key>`; never logged.
    void setApiKey(const QByteArray &key) { m_apiKey = key; }
    void setLastEventId(const QString &id) { m_parser.setLastEventId(id); }
    QString lastEventId() const { return m_parser.lastEventId(); }
    /// When false, the end of a stream or an error goes straight to Disconnected.
    void setReconnectEnabled(bool enabled) { m_reconnect = enabled; }
    /// The server's heartbeat interval; the watchdog fires after 2.5 × this without bytes.
    void setHeartbeatIntervalMs(int ms) { m_heartbeatMs = ms; }
    /// How long to wait for the response headers of a new connection.
    void setConnectTimeoutMs(int ms) { m_connectTimeoutMs = ms; }
    /// After being Connected this long, the attempt counter starts again from zero.
    void setStablePeriodMs(int ms) { m_stableTimer.setInterval(ms); }
    ReconnectBackoff &backoff() { return m_backoff; }

    void open();
    void close();
    /// Manual reconnect (e.g. the Reconnect button): a fresh connection with attempts reset.
    void reconnectNow();

    State state() const { return m_state; }
    /// The current reconnect attempt (1-based), 0 while connected or before the first failure.
    int attempt() const { return m_attempt; }
    int maxAttempts() const { return m_backoff.maxAttempts(); }
    /// The delay chosen before the pending reconnect, or -1.
    int nextDelayMs() const { return m_nextDelayMs; }
    QString lastError() const { return m_lastError; }
    /// HTTP status of the last response, 0 when none arrived.
    int lastStatus() const { return m_lastStatus; }

Q_SIGNALS:
    /// Also emitted for each new reconnect attempt while Reconnecting (attempt() changed).
    void stateChanged(Hermes::EventStreamClient::State state);
    void eventReceived(const Hermes::SseParser::Event &event);
    void retryReceived(int milliseconds);
    void errorOccurred(const QString &message);
    void authenticationFailed();
    /// The server ended the stream normally (it may reconnect afterwards).
    void streamEnded();

private:
    void startRequest();
    void onMetaDataChanged();
    void onReadyRead();
    void onFinished();
    void onWatchdog();
    void scheduleReconnect(int delayOverrideMs);
    void setState(State state);
    void fail(const QString &message);
    void armWatchdog();

    QNetworkAccessManager m_nam;
    QPointer<QNetworkReply> m_reply;
    SseParser m_parser;
    ReconnectBackoff m_backoff;
    QUrl m_url;
    QByteArray m_apiKey;
    State m_state = State::Disconnected;
    bool m_reconnect = true;
    bool m_streaming = false;   ///< the current reply is a valid event stream
    bool m_watchdogFired = false;
    int m_attempt = 0;
    int m_nextDelayMs = -1;
    int m_heartbeatMs = 30000;
    int m_connectTimeoutMs = 10000;
    int m_lastStatus = 0;
    QString m_lastError;
    QTimer m_retryTimer;
    QTimer m_watchdog;
    QTimer m_stableTimer;
};

} // namespace Hermes
