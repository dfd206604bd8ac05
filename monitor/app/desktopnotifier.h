#pragma once

#include <QDBusConnection>
#include <QHash>
#include <QObject>

namespace Hermes {

/**
 * Desktop notifications through the desktop's own notification service
 * (org.freedesktop.Notifications on the session bus), which works without a tray host. A
 * notification about a download carries a "Show" action; clicking it emits activated() with
 * the download's id. A newer notification about the same download replaces the older one
 * instead of piling up beside it.
 *
 * Whether the service is there is learnt without blocking: asked once at start (running or
 * D-Bus-activatable) and then followed as it comes and goes. notify() returns false when it is
 * not there, so that the caller can fall back to the tray; when the service answers the call
 * with an error, notifyFailed() hands the notification back for the same fallback.
 */
class DesktopNotifier final : public QObject
{
    Q_OBJECT
public:
    enum class Urgency : uchar { Low = 0, Normal = 1, Critical = 2 };

    explicit DesktopNotifier(QObject *parent = nullptr)
        : DesktopNotifier(QDBusConnection::sessionBus(), parent)
    {
    }
    DesktopNotifier(const QDBusConnection &bus, QObject *parent = nullptr);

    /// Whether the notification service is known to be on the bus (or activatable there).
    bool isAvailable() const { return m_available; }
    /// Sends it if the service is available; `downloadId` empty: about no download.
    bool notify(const QString &summary, const QString &body, Urgency urgency, const QString &downloadId);

signals:
    void availableChanged(bool available);
    /// The user clicked a notification about this download.
    void activated(const QString &downloadId);
    /// notify() returned true but the service answered the call with an error.
    void notifyFailed(const QString &summary, const QString &body, Hermes::DesktopNotifier::Urgency urgency,
                      const QString &downloadId);

private slots:
    void onActionInvoked(uint id, const QString &actionKey);
    void onNotificationClosed(uint id, uint reason);

private:
    void setAvailable(bool available);

    QDBusConnection m_bus;
    bool m_available = false;
    bool m_activatable = false;  ///< started by the bus on the first call: there even when not running
    bool m_markup = false;       ///< the service reads markup in the body: names must be escaped
    QHash<uint, QString> m_downloadOf;  ///< shown notification id → download id
    QHash<QString, uint> m_shownFor;    ///< download id → its shown notification (replaces_id)
};

} // namespace Hermes
