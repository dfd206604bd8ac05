#pragma once

#include <QList>
#include <QObject>

class QAction;
class QIcon;
class QSystemTrayIcon;
class QWidget;

namespace Hermes {

/**
 * The system tray icon, when the desktop has a tray (otherwise every call does nothing): its
 * menu (show or hide the window, pause or resume everything, quit), a click that shows or
 * hides the window, its tooltip, and the desktop notifications shown from it.
 */
class TrayIcon final : public QObject
{
    Q_OBJECT
public:
    /// `menu`: the menu's actions, a null one for a separator; `activate`: what a click does.
    TrayIcon(const QIcon &icon, const QList<QAction *> &menu, QAction *activate, QWidget *window);

    /// The icon, or null without a tray.
    QSystemTrayIcon *icon() const { return m_icon; }
    /// Whether it is in the tray (the window can hide there).
    bool isShown() const;
    void setToolTip(const QString &text);
    void showMessage(const QString &title, const QString &text, bool warning);

private:
    QSystemTrayIcon *m_icon = nullptr;
};

} // namespace Hermes
