#include "systemdnotifier.h"

#include "logging.h"

#include <systemd/sd-daemon.h>

#include <ctime>

namespace Hermes {

SystemdNotifier::SystemdNotifier(QObject *parent) : QObject(parent)
{
    m_active = !qEnvironmentVariableIsEmpty("NOTIFY_SOCKET");
    if (!m_active)
        return;
    uint64_t usec = 0;
    // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) is this process.
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        m_watchdogUsec = qint64(usec);
        m_watchdog.setInterval(int(qMax<uint64_t>(1, usec / 2000)));
        connect(&m_watchdog, &QTimer::timeout, this, [this] { send("WATCHDOG=1"); });
        m_watchdog.start();
    }
}

void SystemdNotifier::send(const QByteArray &state)
{
    if (!m_active)
        return;
    const int r = sd_notify(0, state.constData());
    if (r < 0)
        qCWarning(lcConfig) << "sd_notify failed:" << strerror(-r);
}

void SystemdNotifier::ready(const QString &status)
{
    send("READY=1\nSTATUS=" + status.toUtf8());
}

void SystemdNotifier::reloading()
{
    // systemd >= 253 wants the time the reload started (Type=notify-reload); older ones ignore it.
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    const qint64 usec = qint64(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
    send("RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=" + QByteArray::number(usec));
}

void SystemdNotifier::stopping()
{
    m_watchdog.stop();
    send("STOPPING=1\nSTATUS=ending the streams");
}

void SystemdNotifier::status(const QString &status)
{
    send("STATUS=" + status.toUtf8());
}

} // namespace Hermes
