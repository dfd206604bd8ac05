#pragma once

#include <QObject>
#include <QTimer>

namespace Hermes {

/**
 * Tells systemd what the service is doing (sd_notify(3)): READY=1 once it serves, RELOADING=1
 * and READY=1 around a SIGHUP reload, STOPPING=1 on shutdown, and WATCHDOG=1 every half
 * WatchdogSec= from the event loop, so a loop that hangs gets the service restarted.
 *
 * Without NOTIFY_SOCKET (not started by systemd with Type=notify) every call does nothing.
 */
class SystemdNotifier final : public QObject
{
    Q_OBJECT
public:
    explicit SystemdNotifier(QObject *parent = nullptr);

    bool isActive() const { return m_active; }
    void ready(const QString &status);
    void reloading();
    void stopping();
    void status(const QString &status);
    /// The watchdog interval systemd asked for (0: none).
    qint64 watchdogUsec() const { return m_watchdogUsec; }

private:
    void send(const QByteArray &state);

    bool m_active = false;
    qint64 m_watchdogUsec = 0;
    QTimer m_watchdog;
};

} // namespace Hermes
