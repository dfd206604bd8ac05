#pragma once

#include "result.h"

#include <QHostAddress>
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <functional>

class QSocketNotifier;

namespace Hermes {

/**
 * A listening TCP socket that accepts only while its owner has room, and never stops for good.
 *
 * QTcpServer stops accepting for good on the first EMFILE/ENFILE (it pauses and waits for
 * someone to resume it) and accepts whatever is queued in one go; this one accepts a bounded
 * batch per wake-up, can be paused while the server is full (new clients then wait in the
 * kernel's backlog instead of being refused), and on running out of descriptors or memory backs
 * off (50 ms doubling to 1 s) and tries again.
 */
class HttpListener final : public QObject
{
    Q_OBJECT
public:
    /// Gets each accepted descriptor (non-blocking, close-on-exec, with keepalive: see
    /// DeadPeer) and the peer's address (IPv4-mapped IPv6 addresses as IPv4).
    using AcceptHandler = std::function<void(int fd, const QHostAddress &peer)>;

    explicit HttpListener(AcceptHandler handler, QObject *parent = nullptr);
    ~HttpListener() override;

    /// Binds with SO_REUSEADDR and a backlog of 4096. QHostAddress::Any listens on IPv4 and IPv6.
    /// Fails with `cannot_listen` and what the system said.
    Result<void> listen(const QHostAddress &address, quint16 port);
    void close();
    bool isListening() const { return m_fd >= 0; }
    quint16 port() const { return m_port; }
    /// While paused nothing is accepted (the server is full).
    void setPaused(bool paused);

private:
    void onReadable();
    void updateNotifier();

    AcceptHandler m_handler;
    int m_fd = -1;
    quint16 m_port = 0;
    QSocketNotifier *m_notifier = nullptr;
    bool m_paused = false;
    QTimer m_backoff;
    int m_backoffMs = 0;
    QElapsedTimer m_lastWarning; ///< one warning per 10 s at most, however often it fails
};

} // namespace Hermes
