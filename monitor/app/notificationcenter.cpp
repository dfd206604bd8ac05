#include "notificationcenter.h"

#include "desktopnotifier.h"
#include "icons.h"
#include "monitorsession.h"
#include "threadaffinity.h"
#include "trayicon.h"

#include <QListWidget>
#include <QLocale>
#include <QSystemTrayIcon>
#include <QTime>

namespace Hermes {

static constexpr int MaxListed = 500;
static constexpr int DownloadIdRole = Qt::UserRole;

NotificationCenter::NotificationCenter(MonitorSession *session, TrayIcon *tray, QWidget *window, DesktopNotifier *desktop)
    : QObject(window), m_tray(tray), m_desktop(desktop ? desktop : new DesktopNotifier(this)),
      m_list(new QListWidget(window))
{
    m_clock.start();
    m_list->setAccessibleName(tr("Notifications"));
    connect(session, &MonitorSession::notificationReceived, this, &NotificationCenter::add);
    connect(session, &MonitorSession::downloadFinished, this, [this](const QString &id, const QString &name, bool ok) {
        const QString title = ok ? tr("Download completed") : tr("Download failed");
        addEntry(QStringLiteral("%1: %2").arg(title, name), ok ? Kind::Information : Kind::Error, id);
        if (ok ? m_settings.notifyCompleted : m_settings.notifyFailed)
            notifyDesktop(title, name, ok ? Kind::Information : Kind::Error, id);
    });
    const auto activate = [this](QListWidgetItem *item) {
        const QString id = item->data(DownloadIdRole).toString();
        if (!id.isEmpty())
            emit downloadActivated(id);
    };
    connect(m_list, &QListWidget::itemClicked, this, activate);
    connect(m_list, &QListWidget::itemActivated, this, activate);
    connect(m_desktop, &DesktopNotifier::activated, this, &NotificationCenter::downloadActivated);
    // The desktop's service refused it: the tray, if there is one, shows it instead.
    connect(m_desktop, &DesktopNotifier::notifyFailed, this,
            [this](const QString &title, const QString &text, DesktopNotifier::Urgency urgency, const QString &downloadId) {
                if (!m_tray->icon())
                    return;
                m_trayDownloadId = downloadId;
                m_tray->showMessage(title, text, urgency != DesktopNotifier::Urgency::Low);
            });
    if (m_tray->icon()) {
        connect(m_tray->icon(), &QSystemTrayIcon::messageClicked, this,
                [this] { emit downloadActivated(m_trayDownloadId); });
    }
}

void NotificationCenter::applySettings(const MonitorSettings &settings)
{
    m_settings = settings;
    m_throttle.setPerMinute(settings.notificationsPerMinute);
}

void NotificationCenter::add(const SystemNotificationEvent &notification)
{
    HERMES_ASSERT_THREAD(this);
    const Kind kind = notification.notificationType == NotificationType::Error     ? Kind::Error
                      : notification.notificationType == NotificationType::Warning ? Kind::Warning
                                                                                   : Kind::Information;
    addEntry(notification.message, kind, notification.downloadId);
    if (m_settings.notifySystem)
        notifyDesktop(tr("Hermes"), notification.message, kind, notification.downloadId);
}

void NotificationCenter::addEntry(const QString &message, Kind kind, const QString &downloadId)
{
    auto *item = new QListWidgetItem(QStringLiteral("%1  %2").arg(QLocale().toString(QTime::currentTime(), QLocale::ShortFormat),
                                                                 message));
    // A download status's icon says it: failed for an error, verifying for a warning.
    item->setIcon(Icons::status(kind == Kind::Error     ? DownloadStatus::Failed
                                : kind == Kind::Warning ? DownloadStatus::Processing
                                                        : DownloadStatus::Completed));
    item->setData(DownloadIdRole, downloadId);
    m_list->insertItem(0, item);
    while (m_list->count() > MaxListed)
        delete m_list->takeItem(m_list->count() - 1);
}

void NotificationCenter::notifyDesktop(const QString &title, const QString &message, Kind kind, const QString &downloadId)
{
    if ((!m_desktop->isAvailable() && !m_tray->icon()) || !m_throttle.allow(m_clock.elapsed()))
        return;
    const int held = m_throttle.takeSuppressed();
    const QString text = held > 0 ? tr("%1 (and %n more)", nullptr, held).arg(message) : message;
    const auto urgency = kind == Kind::Error ? DesktopNotifier::Urgency::Critical : DesktopNotifier::Urgency::Normal;
    if (m_desktop->notify(title, text, urgency, downloadId))
        return;
    m_trayDownloadId = downloadId;
    m_tray->showMessage(title, text, kind != Kind::Information);
}

} // namespace Hermes
