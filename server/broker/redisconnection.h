#pragma once

#include "broker/redisaddress.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QTimer>

#include <deque>
#include <functional>

struct redisAsyncContext;
struct redisReply;
class RedisQtAdapter;

namespace Hermes {

/**
 * One asynchronous hiredis connection driven by the Qt event loop (hiredis/adapters/qt.h):
 * nothing blocks, nothing polls. Connects, authenticates, selects the database, then says
 * ready(); any loss is reported once with disconnected(). It does not reconnect by itself:
 * the owner decides when (with backoff). A command unanswered for the connect timeout counts
 * as a loss too, and an idle connection is PINGed, so a server that hangs (stopped, or a
 * network that drops packets) is noticed, not waited on forever; the subscriber connection,
 * which cannot PING, has TCP keepalive.
 *
 * Thread contract: its own thread only (the owner's; hiredis' callbacks come from that
 * thread's event loop, and assert it too).
 */
class RedisConnection final : public QObject
{
    Q_OBJECT
public:
    /// The reply, or null when the connection failed before it arrived (then it runs later,
    /// from the event loop, never inside close() and never after the connection is
    /// destroyed). Owned by hiredis: valid only during the call.
    using Callback = std::function<void(redisReply *reply)>;

    explicit RedisConnection(QObject *parent = nullptr);
    ~RedisConnection() override;

    void open(const RedisAddress &address, int timeoutMs);
    /// Drops the connection (pending callbacks get null); no signal is emitted.
    void close();
    bool isReady() const { return m_ready; }

    /// Sends a command; `callback` runs once. When not connected it runs at once with null.
    void command(const QList<QByteArray> &args, Callback callback);
    /// SUBSCRIBE: `handler` gets every reply on this connection's subscriptions (the
    /// confirmations and the messages) until the connection ends.
    void subscribe(const QList<QByteArray> &channels, Callback handler);

    QString lastError() const { return m_lastError; }

Q_SIGNALS:
    void ready();
    void disconnected(const QString &reason);

private:
    static void onConnect(const redisAsyncContext *ac, int status);
    static void onDisconnect(const redisAsyncContext *ac, int status);
    static void onReply(redisAsyncContext *ac, void *reply, void *privdata);
    static void onSubscription(redisAsyncContext *ac, void *reply, void *privdata);
    void handshake(QList<QList<QByteArray>> steps);
    void lost(const QString &reason);
    bool send(const QList<QByteArray> &args, void (*fn)(redisAsyncContext *, void *, void *),
              void *privdata);

    redisAsyncContext *m_context = nullptr;
    RedisQtAdapter *m_adapter = nullptr;
    RedisAddress m_address;
    QTimer m_connectTimer;
    QTimer m_watchdog;
    int m_timeoutMs = 5000;
    qint64 m_lastSent = 0;       ///< for the idle PING
    bool m_subscribed = false;   ///< no PING in subscribe mode: TCP keepalive watches it
    std::deque<qint64> m_sentAt; ///< when each unanswered command was sent (replies are in order)
    Callback m_subscriptionHandler;
    QString m_lastError;
    bool m_ready = false;
    bool m_destroying = false;
};

/// Helpers to read replies.
namespace RedisReply {
bool isError(const redisReply *reply);
QByteArray string(const redisReply *reply);
}

} // namespace Hermes
