#pragma once

#include "reconnectbackoff.h"
#include "sseparser.h"
#include "streamstatetable.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QUrl>

class QNetworkReply;

namespace Hermes {

/**
 * Reads a Server-Sent Events stream and keeps it open: reconnects with backoff and jitter
 * (ReconnectBackoff), resumes with Last-Event-ID, honours `retry:` and `Retry-After`, and
 * notices dead connections.
 *
 * States: Connecting (first attempt) → Connected (a 200 text/event-stream answer) →
 * Reconnecting (attempt N, waiting or trying) → Disconnected (closed, gave up, the key was
 * rejected, or the stream ended with reconnecting off; only open()/reconnectNow() leave it,
 * and retryNow() after giving up). disconnectReason() says which. Every change of state is
 * one transition of StreamStateTable, through dispatch().
 *
 * - Last-Event-ID is the parser's *last event ID string*: an event cut before its blank line
 *   is asked for again.
 * - A watchdog aborts a connection that delivers no bytes for 2 × the heartbeat interval
 *   (half-open TCP, a proxy holding the connection): one heartbeat may be late by a whole
 *   interval, two missed in a row mean the connection is dead. QNetworkAccessManager does not
 *   hand out its socket, so TCP keepalive timing cannot be set here; the heartbeat is the bound. The interval is the one the server
 *   advertises in its `connected` event (`heartbeat_interval`, seconds), else the one set.
 * - A line or event larger than maxBufferBytes() is a protocol error: the connection ends and
 *   the reconnect counts as an attempt. Reads are bounded too (the reply's buffer), so a peer
 *   cannot grow the client's memory past a few times that limit.
 * - 401/403 stop at once (retrying cannot help and would hammer the server).
 * - A planned end (the server ends, cleanly, a stream that ran for a second or more and
 *   delivered events: its connection timeout, a rotation) is renewed at once with
 *   Last-Event-ID and is not shown: the state stays Connected unless the renewal fails
 *   (StreamStateTable's Renewing).
 *
 * Re-entrancy: every signal is emitted from the client's own queued call, never from inside
 * a QNetworkReply signal, so a slot may close(), reconnectNow() or delete the client; nothing
 * more from that connection is delivered after it did.
 *
 * Thread: the client lives on the thread that created it (the GUI thread in the monitor);
 * open(), close(), reconnectNow(), retryNow() and resumed(), which signals from elsewhere
 * call (the network watcher, the indicator's button), assert they are called there.
 */
class EventStreamClient final : public QObject
{
    Q_OBJECT
public:
    using State = StreamStateTable::State;
    using DisconnectReason = StreamStateTable::DisconnectReason;

    explicit EventStreamClient(QObject *parent = nullptr);
    ~EventStreamClient() override;

    void setUrl(const QUrl &url) { m_url = url; }
    QUrl url() const { return m_url; }
    /// Sent as `Authorization: Bearer <key>`; never logged.
    void setApiKey(const QByteArray &key) { m_apiKey = key; }
    void setLastEventId(const QString &id) { m_parser.setLastEventId(id); }
    /// The last event ID string: what the next connection sends as Last-Event-ID.
    QString lastEventId() const { return m_parser.lastEventId(); }
    /// When false, the end of a stream or an error goes straight to Disconnected.
    void setReconnectEnabled(bool enabled) { m_reconnect = enabled; }
    /// The heartbeat interval to assume until the server advertises its own.
    void setHeartbeatIntervalMs(int ms) { m_heartbeatMs = qMax(1, ms); }
    /// The interval the watchdog uses: the server's when it told us, else the one set.
    int heartbeatIntervalMs() const { return m_serverHeartbeatMs > 0 ? m_serverHeartbeatMs : m_heartbeatMs; }
    /// The server's advertised interval, or 0.
    int serverHeartbeatIntervalMs() const { return m_serverHeartbeatMs; }
    int watchdogMs() const { return heartbeatIntervalMs() * 2; }
    /// How long to wait for the response headers of a new connection.
    void setConnectTimeoutMs(int ms) { m_connectTimeoutMs = ms; }
    /// After being Connected this long, the attempt counter starts again from zero.
    void setStablePeriodMs(int ms) { m_stableTimer.setInterval(ms); }
    /// The largest line or event (default 1 MiB).
    void setMaxBufferBytes(qsizetype bytes) { m_parser.setLimit(bytes); }
    qsizetype maxBufferBytes() const { return m_parser.limit(); }
    ReconnectBackoff &backoff() { return m_backoff; }
    const ReconnectBackoff &backoff() const { return m_backoff; }

    void open();
    void close();
    /// Manual reconnect (the Reconnect button, F5): a fresh connection with attempts reset.
    void reconnectNow();
    /// The network came back: if waiting to reconnect, try now (or again, after giving up).
    void retryNow();
    /// The machine resumed from suspend: a connection that looks alive probably is not.
    void resumed();

    State state() const { return StreamStateTable::stateOf(m_phase); }
    DisconnectReason disconnectReason() const { return m_reason; }
    /// The current reconnect attempt (1-based), 0 while connected or before the first failure.
    int attempt() const { return m_attempt; }
    int maxAttempts() const { return m_backoff.maxAttempts(); }
    /// Past the fast attempts: trying every cap interval.
    bool isRetryingSlowly() const { return state() == State::Reconnecting && m_backoff.isSlow(m_attempt); }
    /// The delay chosen before the pending reconnect, or -1.
    int nextDelayMs() const { return m_nextDelayMs; }
    /// Milliseconds until the pending reconnect, or -1 when none is pending.
    qint64 msUntilNextAttempt() const;
    QString lastError() const { return m_lastError; }
    /// HTTP status of the last response, 0 when none arrived.
    int lastStatus() const { return m_lastStatus; }
    /// Whether the current (or last) connection asked to resume with Last-Event-ID.
    bool resumedWithLastEventId() const { return m_resumeRequested; }

Q_SIGNALS:
    /// Also emitted for each new reconnect attempt while Reconnecting (attempt() changed).
    void stateChanged(Hermes::EventStreamClient::State state);
    void eventReceived(const Hermes::SseParser::Event &event);
    void retryReceived(int milliseconds);
    void heartbeatIntervalChanged(int milliseconds);
    void errorOccurred(const QString &message);
    void authenticationFailed();
    /// The server ended the stream normally (it may reconnect afterwards).
    void streamEnded();

private:
    using Phase = StreamStateTable::Phase;
    using Input = StreamStateTable::Input;

    /// The one way the phase changes: the table's transition for `input`, carried out.
    /// `delayOverrideMs` (≥ 0) replaces the backoff's delay of a scheduled retry.
    void dispatch(Input input, int delayOverrideMs = -1);
    void dropConnection();
    void scheduleRetry(int delayOverrideMs);
    void startRequest();
    void schedulePump();
    void pump();
    void onEvent(const SseParser::Event &event);
    void learnHeartbeat(const SseParser::Event &event);
    /// `watchdog`: no bytes came in time.
    void endConnection(const QString &protocolError, bool watchdog = false);
    void armWatchdog();
    void dropReply();

    QNetworkAccessManager m_nam;
    QPointer<QNetworkReply> m_reply;
    SseParser m_parser;
    ReconnectBackoff m_backoff;
    QUrl m_url;
    QByteArray m_apiKey;
    Phase m_phase = Phase::Disconnected;
    DisconnectReason m_reason = DisconnectReason::None;
    bool m_reconnect = true;
    bool m_headersSeen = false; ///< the current reply's status has been looked at
    bool m_resumeRequested = false;
    quint64 m_generation = 0;   ///< one per connection; a stale pump or slot sees it changed
    int m_eventsThisConnection = 0;
    int m_attempt = 0;
    int m_nextDelayMs = -1;
    int m_heartbeatMs = 30000;
    int m_serverHeartbeatMs = 0;
    int m_connectTimeoutMs = 10000;
    int m_lastStatus = 0;
    QString m_lastError;
    QDeadlineTimer m_nextAttempt{QDeadlineTimer::Forever};
    QElapsedTimer m_streamingFor; ///< since the current (or last) connection began streaming
    QTimer m_pump;
    QTimer m_retryTimer;
    QTimer m_watchdog;
    QTimer m_stableTimer;
};

} // namespace Hermes
