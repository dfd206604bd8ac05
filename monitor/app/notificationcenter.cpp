#include "notificationcenter.h"

#include "icons.h"
#include "monitorsession.h"
#include "threadaffinity.h"
#include "trayicon.h"

#include <QListWidget>
#include <QLocale>
#include <QTime>

namespace Hermes {

static constexpr int MaxListed = 500;

NotificationCenter::NotificationCenter(MonitorSession *session, TrayIcon *tray, QWidget *window)
    : QObject(window), m_tray(tray), m_list(new QListWidget(window))
{
    m_clock.start();
    m_list->setAccessibleName(tr("Notifications"));
    connect(session, &MonitorSession::notificationReceived, this, &NotificationCenter::add);
    connect(session, &MonitorSession::downloadFinished, this, [this](const QString &, const QString &name, bool ok) {
        if (ok ? m_settings.notifyCompleted : m_settings.notifyFailed)
            notifyDesktop(ok ? tr("Download completed") : tr("Download failed"), name, !ok);
    });
}

void NotificationCenter::applySettings(const MonitorSettings &settings)
{
    m_settings = settings;
    m_throttle.setPerMinute(settings.notificationsPerMinute);
}

void NotificationCenter::add(const SystemNotificationEvent &notification)
{
    HERMES_ASSERT_THREAD(this);
    const bool error = notification.notificationType == NotificationType::Error;
    const bool warning = notification.notificationType == NotificationType::Warning;
    auto *item = new QListWidgetItem(QStringLiteral("%1  %2").arg(QLocale().toString(QTime::currentTime(), QLocale::ShortFormat),
                                                                 notification.message));
    // A download status's icon says it: failed for an error, verifying for a warning.
    item->setIcon(Icons::status(error ? DownloadStatus::Failed : warning ? DownloadStatus::Processing
                                                                          : DownloadStatus::Completed));
    m_list->insertItem(0, item);
    while (m_list->count() > MaxListed)
        delete m_list->takeItem(m_list->count() - 1);
    if (m_settings.notifySystem)
        notifyDesktop(tr("Hermes"), notification.message, error || warning);
}

void NotificationCenter::notifyDesktop(const QString &title, const QString &message, bool warning)
{
    if (!m_tray->icon() || !m_throttle.allow(m_clock.elapsed()))
        return;
    const int held = m_throttle.takeSuppressed();
    const QString text = held > 0 ? tr("%1 (and %n more)", nullptr, held).arg(message) : message;
    m_tray->showMessage(title, text, warning);
}

} // namespace Hermes
