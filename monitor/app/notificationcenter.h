#pragma once

#include "monitorsettings.h"
#include "notificationthrottle.h"
#include "protocol/payloads.h"

#include <QElapsedTimer>
#include <QObject>

class QListWidget;
class QWidget;

namespace Hermes {

class DesktopNotifier;
class MonitorSession;
class TrayIcon;

/**
 * Where notifications go: always into the Notifications list (the server's notices, completed
 * and failed downloads; newest first, at most 500), and to the desktop as the settings say, at
 * most N a minute (NotificationThrottle: "… and 12 more"): through the desktop's notification
 * service (DesktopNotifier), else the tray icon's balloons, else nowhere but the list.
 * Clicking an entry about a download, in the list or on the desktop, emits downloadActivated().
 */
class NotificationCenter final : public QObject
{
    Q_OBJECT
public:
    /// The list is a child of `window` until a dock takes it; `desktop` null: the session bus's.
    NotificationCenter(MonitorSession *session, TrayIcon *tray, QWidget *window, DesktopNotifier *desktop = nullptr);

    QListWidget *list() const { return m_list; }
    void applySettings(const MonitorSettings &settings);

    /// Adds a server's notice to the list (and the desktop, if enabled).
    void add(const SystemNotificationEvent &notification);

signals:
    /// An entry about this download was clicked (here or on the desktop).
    void downloadActivated(const QString &downloadId);

private:
    enum class Kind { Information, Warning, Error };
    void addEntry(const QString &message, Kind kind, const QString &downloadId);
    void notifyDesktop(const QString &title, const QString &message, Kind kind, const QString &downloadId);

    TrayIcon *m_tray;
    DesktopNotifier *m_desktop;
    QString m_trayDownloadId; ///< the tray's balloon shows one at a time: what a click on it is about
    QListWidget *m_list;
    MonitorSettings m_settings;
    NotificationThrottle m_throttle;
    QElapsedTimer m_clock;
};

} // namespace Hermes
