#include "broker/redisconnection.h"

#include "deadpeer.h"
#include "logging.h"
#include "threadaffinity.h"

#include <hiredis/adapters/qt.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <QDateTime>
#include <QElapsedTimer>
#include <QPointer>

namespace Hermes {

bool RedisReply::isError(const redisReply *reply)
{
    return !reply || reply->type == REDIS_REPLY_ERROR;
}

QByteArray RedisReply::string(const redisReply *reply)
{
    if (!reply || !(reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS
                    || reply->type == REDIS_REPLY_ERROR))
        return {};
    return QByteArray(reply->str, qsizetype(reply->len));
}

namespace {
struct Pending
{
    RedisConnection::Callback callback;
};

// The connection whose close() is freeing its context right now: its pending callbacks are
// then run with null from the event loop (queued on it), not inside close().
RedisConnection *s_closing = nullptr;

qint64 monotonicMs()
{
    static QElapsedTimer clock = [] { QElapsedTimer t; t.start(); return t; }();
    return clock.elapsed();
}
} // namespace

// Unhooks the Qt adapter from a context that is still alive, and deletes it. It must happen
// before hiredis frees the context: the adapter's destructor writes into the context, and
// hiredis calls the adapter's hooks while it frees. Clearing the hooks keeps it from calling
// into a deleted adapter.
static void detachAdapter(redisAsyncContext *context, RedisQtAdapter **adapter)
{
    if (context) {
        if (context->ev.cleanup)
            context->ev.cleanup(context->ev.data); // deletes the adapter's socket notifiers
        context->ev.addRead = nullptr;
        context->ev.delRead = nullptr;
        context->ev.addWrite = nullptr;
        context->ev.delWrite = nullptr;
        context->ev.cleanup = nullptr;
    }
    delete *adapter; // sets context->ev.data to null while the context still exists
    *adapter = nullptr;
}

RedisConnection::RedisConnection(QObject *parent) : QObject(parent)
{
    m_connectTimer.setSingleShot(true);
    connect(&m_connectTimer, &QTimer::timeout, this, [this] {
        lost(QStringLiteral("no connection to %1 within %2 ms")
                 .arg(m_address.display()).arg(m_connectTimer.interval()));
    });
    m_watchdog.setInterval(500);
    connect(&m_watchdog, &QTimer::timeout, this, [this] {
        const qint64 now = monotonicMs();
        if (!m_sentAt.empty() && now - m_sentAt.front() > m_timeoutMs) {
            lost(QStringLiteral("%1 did not answer within %2 ms")
                     .arg(m_address.display()).arg(m_timeoutMs));
            return;
        }
        // An idle connection is asked, so a dead peer is noticed without waiting for traffic.
        if (m_ready && !m_subscribed && m_sentAt.empty() && now - m_lastSent > qMax(1000, m_timeoutMs / 2))
            command({"PING"}, [](redisReply *) {});
    });
}

RedisConnection::~RedisConnection()
{
    // Pending callbacks are dropped, not run: their owners are going away too.
    m_destroying = true;
    close();
}

void RedisConnection::open(const RedisAddress &address, int timeoutMs)
{
    HERMES_ASSERT_THREAD(this);
    close();
    m_address = address;
    m_timeoutMs = timeoutMs;
    m_context = address.socketPath.isEmpty()
        ? redisAsyncConnect(address.host.toUtf8().constData(), address.port)
        : redisAsyncConnectUnix(address.socketPath.toUtf8().constData());
    if (!m_context || m_context->err) {
        const QString why = m_context ? QString::fromUtf8(m_context->errstr)
                                      : QStringLiteral("out of memory");
        if (m_context)
            redisAsyncFree(m_context);
        m_context = nullptr;
        QMetaObject::invokeMethod(this, [this, why] { lost(why); }, Qt::QueuedConnection);
        return;
    }
    m_context->data = this;
    m_adapter = new RedisQtAdapter;
    m_adapter->setContext(m_context);
    redisAsyncSetConnectCallback(m_context, &RedisConnection::onConnect);
    redisAsyncSetDisconnectCallback(m_context, &RedisConnection::onDisconnect);
    m_connectTimer.start(timeoutMs);
    m_watchdog.start();
}

void RedisConnection::close()
{
    HERMES_ASSERT_THREAD(this);
    m_connectTimer.stop();
    m_watchdog.stop();
    m_sentAt.clear();
    m_ready = false;
    if (m_context) {
        redisAsyncContext *context = m_context;
        m_context = nullptr;
        detachAdapter(context, &m_adapter);
        // Pending callbacks run with null while hiredis frees the context; they are queued to
        // run later (or, when the connection is being destroyed, only deleted; see onReply).
        context->data = nullptr;
        RedisConnection *const previous = s_closing;
        s_closing = m_destroying ? nullptr : this;
        redisAsyncFree(context);
        s_closing = previous;
    }
    detachAdapter(nullptr, &m_adapter);
    m_subscriptionHandler = nullptr;
    m_subscribed = false;
}

void RedisConnection::lost(const QString &reason)
{
    const bool wasOpen = m_context || m_ready;
    m_lastError = reason;
    close();
    if (wasOpen || !reason.isEmpty())
        Q_EMIT disconnected(reason);
}

void RedisConnection::onConnect(const redisAsyncContext *ac, int status)
{
    auto *self = static_cast<RedisConnection *>(ac->data);
    if (!self)
        return;
    HERMES_ASSERT_THREAD(self);
    if (status != REDIS_OK) {
        // hiredis frees the context itself after a failed connect.
        const QString why = QString::fromUtf8(ac->errstr);
        self->m_context = nullptr;
        detachAdapter(const_cast<redisAsyncContext *>(ac), &self->m_adapter);
        QPointer<RedisConnection> guard(self);
        QMetaObject::invokeMethod(self, [guard, why] { if (guard) guard->lost(why); },
                                  Qt::QueuedConnection);
        return;
    }
    if (self->m_address.socketPath.isEmpty()) {
        // A peer that vanished without a FIN (a rebooted host, a dead path) is found in
        // ≈ 20 s even on a connection that only listens (probes after 10 s of silence, three
        // 3 s apart).
        DeadPeer::probeWhenSilent(ac->c.fd, 10, 3, 3);
    }
    QList<QList<QByteArray>> steps;
    if (!self->m_address.password.isEmpty()) {
        if (self->m_address.username.isEmpty())
            steps.append({"AUTH", self->m_address.password.toUtf8()});
        else
            steps.append({"AUTH", self->m_address.username.toUtf8(), self->m_address.password.toUtf8()});
    }
    if (self->m_address.db)
        steps.append({"SELECT", QByteArray::number(self->m_address.db)});
    steps.append({"PING"});
    self->handshake(steps);
}

void RedisConnection::handshake(QList<QList<QByteArray>> steps)
{
    const QList<QByteArray> step = steps.takeFirst();
    command(step, [this, steps, name = step.first()](redisReply *reply) {
        if (RedisReply::isError(reply)) {
            // Never the arguments: AUTH's would be the password.
            lost(QStringLiteral("%1 failed: %2").arg(QString::fromLatin1(name),
                                                     reply ? QString::fromUtf8(RedisReply::string(reply))
                                                           : QStringLiteral("connection lost")));
            return;
        }
        if (!steps.isEmpty()) {
            handshake(steps);
            return;
        }
        m_connectTimer.stop();
        m_ready = true;
        Q_EMIT ready();
    });
}

void RedisConnection::onDisconnect(const redisAsyncContext *ac, int status)
{
    auto *self = static_cast<RedisConnection *>(ac->data);
    if (!self)
        return;
    HERMES_ASSERT_THREAD(self);
    // hiredis frees the context after this returns.
    self->m_context = nullptr;
    detachAdapter(const_cast<redisAsyncContext *>(ac), &self->m_adapter);
    const QString why = status == REDIS_OK ? QStringLiteral("closed")
                                           : QString::fromUtf8(ac->errstr);
    QPointer<RedisConnection> guard(self);
    QMetaObject::invokeMethod(self, [guard, why] { if (guard) guard->lost(why); },
                              Qt::QueuedConnection);
}

void RedisConnection::onReply(redisAsyncContext *ac, void *reply, void *privdata)
{
    auto *pending = static_cast<Pending *>(privdata);
    auto *self = ac ? static_cast<RedisConnection *>(ac->data) : nullptr;
    if (self)
        HERMES_ASSERT_THREAD(self);
    if (self && !self->m_sentAt.empty())
        self->m_sentAt.pop_front();
    if (self || reply) {
        pending->callback(static_cast<redisReply *>(reply));
    } else if (s_closing) {
        // close() is freeing the context: tell the owner "no reply" from the event loop.
        QMetaObject::invokeMethod(s_closing, [callback = std::move(pending->callback)] {
            callback(nullptr);
        }, Qt::QueuedConnection);
    }
    delete pending;
}

void RedisConnection::onSubscription(redisAsyncContext *ac, void *reply, void *)
{
    auto *self = static_cast<RedisConnection *>(ac->data);
    if (self)
        HERMES_ASSERT_THREAD(self);
    if (self && reply && self->m_subscriptionHandler)
        self->m_subscriptionHandler(static_cast<redisReply *>(reply));
}

bool RedisConnection::send(const QList<QByteArray> &args,
                           void (*fn)(redisAsyncContext *, void *, void *), void *privdata)
{
    if (!m_context)
        return false;
    std::vector<const char *> argv;
    std::vector<size_t> lengths;
    for (const QByteArray &a : args) {
        argv.push_back(a.constData());
        lengths.push_back(size_t(a.size()));
    }
    return redisAsyncCommandArgv(m_context, fn, privdata, int(argv.size()), argv.data(),
                                 lengths.data()) == REDIS_OK;
}

void RedisConnection::command(const QList<QByteArray> &args, Callback callback)
{
    HERMES_ASSERT_THREAD(this);
    auto *pending = new Pending{std::move(callback)};
    if (!send(args, &RedisConnection::onReply, pending)) {
        pending->callback(nullptr);
        delete pending;
        return;
    }
    m_lastSent = monotonicMs();
    m_sentAt.push_back(m_lastSent);
}

void RedisConnection::subscribe(const QList<QByteArray> &channels, Callback handler)
{
    HERMES_ASSERT_THREAD(this);
    m_subscribed = true;
    m_subscriptionHandler = std::move(handler);
    send(QList<QByteArray>{"SUBSCRIBE"} + channels, &RedisConnection::onSubscription, nullptr);
}

} // namespace Hermes
