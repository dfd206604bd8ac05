#pragma once

#include "adddialog.h"
#include "monitorsession.h"
#include "monitorsettings.h"
#include "notificationthrottle.h"
#include "queueplanner.h"

#include <QElapsedTimer>
#include <QMainWindow>

class QAction;
class QLabel;
class QLineEdit;
class QListWidget;
class QMenu;
class QSystemTrayIcon;
class QTableView;

namespace Hermes {

class ConnectionIndicator;
class DetailsPane;
class DownloadFilterModel;
class StatusSidebar;

/**
 * The operator's window, laid out as qBittorrent users expect: a status sidebar with live
 * counts, the download table (multi-select, sortable, columns chosen from the header's menu),
 * a details pane, a menu bar with the standard shortcuts, a tray icon with its own menu, and
 * the always-visible connection indicator. A banner says when the list may be out of date.
 */
class MainWindow final : public QMainWindow
{
    Q_OBJECT
public:
    MainWindow(MonitorSession *session, const MonitorSettings &settings, QWidget *parent = nullptr);

    QTableView *table() const { return m_table; }
    ConnectionIndicator *indicator() const { return m_indicator; }
    StatusSidebar *sidebar() const { return m_sidebar; }
    DetailsPane *details() const { return m_details; }
    QAction *action(const QString &name) const;
    QListWidget *notifications() const { return m_notifications; }
    QString summaryText() const;
    bool bannerVisible() const;
    QString bannerText() const;
    QSystemTrayIcon *tray() const { return m_tray; }
    /// Selects the rows of these downloads (for tests and scripting).
    void select(const QString &id) { selectIds({id}); }
    void selectIds(const QStringList &ids);
    QStringList selectedIds() const;
    /// Opens the add dialog with these URLs (a drop, a paste); returns it for tests when
    /// `modal` is false.
    AddDialog *openAddDialog(const QStringList &urls, bool modal = true);
    /// Sends these requests (what the add dialog's OK does).
    void addDownloads(const QList<AddDialog::Request> &requests);

protected:
    void closeEvent(QCloseEvent *event) override;
    void changeEvent(QEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void buildActions();
    void buildMenus();
    void buildTray();
    void updateActions();
    void runAction(const QString &action);
    void runOnAll(const QString &action, const QStringList &fromStatuses);
    void moveQueue(QueuePlanner::Move move);
    void removeSelected();
    void openSettings();
    void showAbout();
    void refreshSummary();
    void refreshBanner();
    void addNotification(const QString &type, const QString &message);
    void notifyDesktop(const QString &title, const QString &message, bool warning);
    void applySettings();
    void showHeaderMenu(const QPoint &pos);
    QAction *addAction(const char *name, const QString &text, const char *icon, const QKeySequence &key,
                       std::function<void()> slot);

    MonitorSession *m_session;
    MonitorSettings m_settings;
    DownloadFilterModel *m_proxy;
    QTableView *m_table;
    QLineEdit *m_filter;
    StatusSidebar *m_sidebar;
    DetailsPane *m_details;
    QWidget *m_banner;
    QLabel *m_bannerText;
    QLabel *m_summary;
    ConnectionIndicator *m_indicator;
    QListWidget *m_notifications;
    QSystemTrayIcon *m_tray = nullptr;
    class ApiKeyVault *m_vault;
    QHash<QString, QAction *> m_actions;
    QMenu *m_columnsMenu = nullptr;
    NotificationThrottle m_throttle;
    QElapsedTimer m_clock;
    QTimer *m_bannerTimer;
};

} // namespace Hermes
