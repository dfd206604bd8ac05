#pragma once

#include "monitorsettings.h"
#include "notificationthrottle.h"
#include "protocol/payloads.h"

#include <QElapsedTimer>
#include <QObject>

class QListWidget;
class QWidget;

namespace Hermes {

class MonitorSession;
class TrayIcon;

/**
 * Where notifications go: the server's notices into the Notifications list (newest first, at
 * most 500), and desktop notifications from the tray icon for completed and failed downloads
 * and the server's notices, each kind as the settings say, at most N a minute
 * (NotificationThrottle: "… and 12 more").
 */
class NotificationCenter final : public QObject
{
    Q_OBJECT
public:
    /// The list is a child of `window` until a dock takes it.
    NotificationCenter(MonitorSession *session, TrayIcon *tray, QWidget *window);

    QListWidget *list() const { return m_list; }
    void applySettings(const MonitorSettings &settings);

    /// Adds a server's notice to the list (and the desktop, if enabled).
    void add(const SystemNotificationEvent &notification);

private:
    void notifyDesktop(const QString &title, const QString &message, bool warning);

    TrayIcon *m_tray;
    QListWidget *m_list;
    MonitorSettings m_settings;
    NotificationThrottle m_throttle;
    QElapsedTimer m_clock;
};

} // namespace Hermes
