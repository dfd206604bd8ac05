#include "desktopnotifier.h"

#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QDBusServiceWatcher>

namespace Hermes {

static const QString Service = QStringLiteral("org.freedesktop.Notifications");
static const QString Path = QStringLiteral("/org/freedesktop/Notifications");
static const QString Interface = QStringLiteral("org.freedesktop.Notifications");
static const QString DefaultAction = QStringLiteral("default");

/// Calls `method` on `bus` without waiting; `done` runs with the reply on this thread, `failed`
/// with the error reply (a bus error, or no answer within the bus's timeout).
template<typename Reply, typename Done, typename Failed>
static void callAsync(QDBusConnection &bus, QObject *context, const QDBusMessage &call, Done done, Failed failed)
{
    auto *watcher = new QDBusPendingCallWatcher(bus.asyncCall(call), context);
    QObject::connect(watcher, &QDBusPendingCallWatcher::finished, context, [watcher, done, failed] {
        watcher->deleteLater();
        const Reply reply = *watcher;
        if (reply.isValid())
            done(reply.value());
        else
            failed(reply.error());
    });
}

template<typename Reply, typename Done>
static void callAsync(QDBusConnection &bus, QObject *context, const QDBusMessage &call, Done done)
{
    callAsync<Reply>(bus, context, call, done, [](const QDBusError &) {});
}

static QDBusMessage busCall(const QString &method, const QString &argument = {})
{
    QDBusMessage m = QDBusMessage::createMethodCall(QStringLiteral("org.freedesktop.DBus"),
                                                    QStringLiteral("/org/freedesktop/DBus"),
                                                    QStringLiteral("org.freedesktop.DBus"), method);
    if (!argument.isEmpty())
        m << argument;
    return m;
}

DesktopNotifier::DesktopNotifier(const QDBusConnection &bus, QObject *parent)
    : QObject(parent), m_bus(bus)
{
    if (!m_bus.isConnected())
        return; // no session bus at all: the tray or the Notifications list only
    auto *watcher = new QDBusServiceWatcher(Service, m_bus, QDBusServiceWatcher::WatchForOwnerChange, this);
    connect(watcher, &QDBusServiceWatcher::serviceOwnerChanged, this,
            [this](const QString &, const QString &, const QString &newOwner) {
                // Another daemon (or the same one restarted) numbers its notifications anew:
                // an id kept from the old one would replace, or be clicked as, someone else's.
                m_downloadOf.clear();
                m_shownFor.clear();
                setAvailable(!newOwner.isEmpty() || m_activatable);
            });
    // Asked, not waited for (isServiceRegistered() would block the window on a slow bus).
    callAsync<QDBusPendingReply<bool>>(m_bus, this, busCall(QStringLiteral("NameHasOwner"), Service),
                                      [this](bool running) {
                                          if (running)
                                              setAvailable(true);
                                      });
    callAsync<QDBusPendingReply<QStringList>>(m_bus, this, busCall(QStringLiteral("ListActivatableNames")),
                                             [this](const QStringList &names) {
                                                 m_activatable = names.contains(Service);
                                                 if (m_activatable)
                                                     setAvailable(true);
                                             });
    m_bus.connect(Service, Path, Interface, QStringLiteral("ActionInvoked"), this,
                  SLOT(onActionInvoked(uint,QString)));
    m_bus.connect(Service, Path, Interface, QStringLiteral("NotificationClosed"), this,
                  SLOT(onNotificationClosed(uint,uint)));
}

void DesktopNotifier::setAvailable(bool available)
{
    if (available && !m_available) {
        callAsync<QDBusPendingReply<QStringList>>(
            m_bus, this, QDBusMessage::createMethodCall(Service, Path, Interface, QStringLiteral("GetCapabilities")),
            [this](const QStringList &capabilities) { m_markup = capabilities.contains(QStringLiteral("body-markup")); });
    }
    if (available == m_available)
        return;
    m_available = available;
    emit availableChanged(available);
}

bool DesktopNotifier::notify(const QString &summary, const QString &body, Urgency urgency, const QString &downloadId)
{
    if (!m_available)
        return false;
    QDBusMessage call = QDBusMessage::createMethodCall(Service, Path, Interface, QStringLiteral("Notify"));
    const QVariantMap hints{{QStringLiteral("desktop-entry"), QStringLiteral("hermes-monitor")},
                            {QStringLiteral("urgency"), QVariant::fromValue(uchar(urgency))}};
    call << QStringLiteral("Hermes Monitor") << m_shownFor.value(downloadId, 0u) << QStringLiteral("hermes-monitor")
         << summary << (m_markup ? body.toHtmlEscaped() : body)
         << QStringList{DefaultAction, tr("Show")} << hints
         << -1; // the desktop's own timeout: the user chose it there
    callAsync<QDBusPendingReply<uint>>(
        m_bus, this, call,
        [this, downloadId](uint id) {
            m_downloadOf.insert(id, downloadId);
            if (!downloadId.isEmpty())
                m_shownFor.insert(downloadId, id);
        },
        [this, summary, body, urgency, downloadId](const QDBusError &error) {
            // A service that is registered but refuses (a broken daemon, activation that
            // failed, no answer in time) must not swallow the notification: the caller shows
            // it another way. A service that is gone is not asked again until it comes back.
            if (error.type() == QDBusError::ServiceUnknown && !m_activatable)
                setAvailable(false);
            emit notifyFailed(summary, body, urgency, downloadId);
        });
    return true;
}

void DesktopNotifier::onActionInvoked(uint id, const QString &)
{
    // Ours only: the service sends every client's clicks to every listener.
    const auto it = m_downloadOf.constFind(id);
    if (it != m_downloadOf.cend())
        emit activated(*it);
}

void DesktopNotifier::onNotificationClosed(uint id, uint)
{
    const QString downloadId = m_downloadOf.take(id);
    if (!downloadId.isEmpty() && m_shownFor.value(downloadId) == id)
        m_shownFor.remove(downloadId);
}

} // namespace Hermes
