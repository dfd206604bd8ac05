#pragma once

#include "cuttingproxy.h"
#include "modeltypes.h"

#include <QList>
#include <QObject>
#include <QPointer>
#include <QRandomGenerator>
#include <QTimer>

#include "sseparser.h"

namespace Hermes::Test {
class SseClient;
}

namespace Model {

/// What the driver shares with its clients.
struct World
{
    QList<quint16> nodePorts;
    qint64 nextSeq = 0;       ///< the seq the next publish will carry
    QByteArray apiKey;
};

/**
 * One EventSource-like client of the model: it streams through its own CuttingProxy (so the
 * driver can cut or throttle it), reconnects by itself after every end with the last
 * *dispatched* event id as Last-Event-ID (WHATWG), to a node of its choice, and records
 * everything it received as Items for the checker.
 */
class ModelClient final : public QObject
{
    Q_OBJECT
public:
    struct Item
    {
        enum Kind { Event, Resync, Fresh } kind = Event;
        QString id;            ///< the last event ID at dispatch (Event, Resync)
        QString type;          ///< Event: the event's type (named: `event:`, envelope: "type")
        QJsonObject data;      ///< Event: the inner data; Resync: its data
        QString timestamp;     ///< Event, envelope style: the envelope's timestamp
        QString sentId;        ///< Resync: the Last-Event-ID its connection sent
        qint64 seqBound = -1;  ///< Fresh, Resync: World::nextSeq when it arrived
        int connection = -1;
        qint64 atMs = 0;
    };
    struct Connection
    {
        int node = -1;
        QString sentId;        ///< Last-Event-ID sent (empty: a fresh stream)
        bool idInQuery = false;
        qint64 openedMs = 0;
        int status = 0;
        bool connected = false; ///< the `connected` event arrived
        int events = 0;
        QString end;            ///< how it ended
        qint64 endedMs = 0;     ///< when it ended (0: still open)
    };

    ModelClient(int index, const ClientSpec &spec, const World *world, quint64 seed,
                QObject *parent = nullptr);
    ~ModelClient() override;

    void setToken(const QByteArray &token, qint64 mintedMs);
    qint64 tokenMintedMs() const { return m_tokenMintedMs; }
    bool needsToken() const { return m_spec.useToken && (m_token.isEmpty() || m_tokenRejected); }

    /// Its next connection resumes from `id` (a probe of what a nemesis destroyed).
    void resumeFrom(const QString &id) { m_resumeId = id; }
    /// Connects now to `node` (-1: one of its choice), dropping the current connection.
    void connectNow(int node = -1);
    /// The current connection (or the next one) ends after `bytes` more bytes.
    void cutAfter(qint64 bytes) { m_proxy.cutAfter(bytes); }
    /// Closes its connection and reconnects after `delayMs`.
    void disconnectNow(int delayMs);
    /// Closes its connection and stays away until comeBack().
    void goOffline();
    void comeBack();
    /// Closes its connection for good.
    void leave();
    void setRate(qint64 bytesPerSecond) { m_proxy.setRate(bytesPerSecond); }
    /// End of the run: no throttle, no armed cut, and back at once if it is away.
    void finalize();

    int index() const { return m_index; }
    const ClientSpec &spec() const { return m_spec; }
    bool isGone() const { return m_state == State::Gone; }
    bool isOffline() const { return m_state == State::Offline; }
    bool isStreaming() const { return m_state == State::Streaming; }
    const QList<Item> &items() const { return m_items; }
    const QList<Connection> &connections() const { return m_connections; }
    QStringList protocolProblems() const { return m_problems; }
    qint64 lastActivityMs() const { return m_lastActivityMs; }
    qint64 bytesReceived() const { return m_proxy.downstreamBytes(); }
    int cuts() const { return m_cuts; }
    QString describe() const;

private:
    enum class State { Idle, Connecting, Streaming, Offline, Gone };

    void onHeaders();
    void onEvent(const Hermes::SseParser::Event &e);
    void onClosed();
    void detach(const QString &why);
    void scheduleReconnect(int delayMs);
    void problem(const QString &what);

    int m_index;
    ClientSpec m_spec;
    const World *m_world;
    QRandomGenerator m_rng;
    Hermes::Test::CuttingProxy m_proxy;
    QPointer<Hermes::Test::SseClient> m_sse;
    QTimer m_reconnect;
    QTimer m_watchdog;        ///< a connection that gets no response head in time
    State m_state = State::Idle;
    int m_failures = 0;       ///< attempts in a row that did not stream
    QString m_resumeId;       ///< the last event ID string (WHATWG)
    QByteArray m_token;
    qint64 m_tokenMintedMs = 0;
    bool m_tokenRejected = false;
    QList<Item> m_items;
    QList<Connection> m_connections;
    QStringList m_problems;
    qint64 m_lastActivityMs = 0;
    int m_cuts = 0;
};

} // namespace Model
