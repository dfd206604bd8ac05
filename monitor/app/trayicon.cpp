#include "trayicon.h"

#include <QAction>
#include <QMenu>
#include <QSystemTrayIcon>

namespace Hermes {

TrayIcon::TrayIcon(const QIcon &icon, const QList<QAction *> &menu, QAction *activate, QWidget *window)
    : QObject(window)
{
    if (!QSystemTrayIcon::isSystemTrayAvailable())
        return;
    m_icon = new QSystemTrayIcon(icon, this);
    auto *contextMenu = new QMenu(window); // QSystemTrayIcon does not own its menu
    for (QAction *a : menu) {
        if (a)
            contextMenu->addAction(a);
        else
            contextMenu->addSeparator();
    }
    m_icon->setContextMenu(contextMenu);
    connect(m_icon, &QSystemTrayIcon::activated, this, [activate](QSystemTrayIcon::ActivationReason reason) {
        if (reason == QSystemTrayIcon::Trigger)
            activate->trigger();
    });
    m_icon->show();
}

bool TrayIcon::isShown() const
{
    return m_icon && m_icon->isVisible();
}

void TrayIcon::setToolTip(const QString &text)
{
    if (m_icon)
        m_icon->setToolTip(text);
}

void TrayIcon::showMessage(const QString &title, const QString &text, bool warning)
{
    if (m_icon)
        m_icon->showMessage(title, text, warning ? QSystemTrayIcon::Warning : QSystemTrayIcon::Information);
}

} // namespace Hermes
