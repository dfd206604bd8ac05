#pragma once

#include "adddialog.h"
#include "monitorsession.h"
#include "monitorsettings.h"
#include "settingsdialog.h"

#include <QMainWindow>
#include <QPointer>
#include <QTimer>

class QAction;
class QDockWidget;
class QLabel;
class QLineEdit;
class QListWidget;
class QMenu;
class QSystemTrayIcon;
class QTableView;

namespace Hermes {

class ConnectionIndicator;
class DetailsPane;
class DownloadActions;
class DownloadFilterModel;
class FreeSpaceLabel;
class NotificationCenter;
class StaleBanner;
class StatusSidebar;
class TrayIcon;

/**
 * The operator's window, laid out as qBittorrent users expect: a status sidebar with live
 * counts, the download table (multi-select, sortable, columns chosen from the header's menu),
 * a details pane, a menu bar with the standard shortcuts, a tray icon with its own menu, and
 * the always-visible connection indicator. A banner says when the list may be out of date.
 *
 * It composes: the layout, the docks, the menus and the toolbar are its own; what is done to
 * downloads is DownloadActions', the banner StaleBanner's, notifications NotificationCenter's
 * and the tray TrayIcon's.
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
    DownloadActions *downloadActions() const { return m_downloadActions; }
    /// An action by name: the window's (add, paste, selectall, find, refresh, reconnect, details,
    /// settings, quit, about, aboutqt, showhide) or DownloadActions' (see DownloadActions::named()).
    QAction *action(const QString &name) const;
    QListWidget *notifications() const;
    QLineEdit *filter() const { return m_filter; }
    QDockWidget *detailsDock() const { return m_detailsDock; }
    FreeSpaceLabel *freeSpace() const { return m_freeSpace; }
    /// The Preferences dialog while it is open.
    SettingsDialog *settingsDialog() const { return m_settingsDialog; }
    /// The table's context menu for the current selection (enabled actions only); the caller
    /// shows it, it deletes itself when closed.
    QMenu *contextMenu();
    /// Enter or a double click on a row: a completed download's folder when the server's
    /// download directory is on this machine, else the Details pane.
    void openDownload(const QModelIndex &index);
    QString summaryText() const;
    bool bannerVisible() const;
    QString bannerText() const;
    QSystemTrayIcon *tray() const;
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
    void showEvent(QShowEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void buildTable();
    void buildDocks();
    void buildActions();
    void buildToolBar();
    void buildMenus();
    /// `problem`: why it opens by itself (said in the dialog).
    void openSettings(const QString &problem = {});
    void applyDialog(const MonitorSettings &chosen);
    void reconnect();
    /// Geometry, docks (the details pane's height) and columns, for the next start.
    void saveWindowState();
    void showAbout();
    void refreshSummary();
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
    StaleBanner *m_banner;
    QLabel *m_summary;
    ConnectionIndicator *m_indicator;
    FreeSpaceLabel *m_freeSpace;
    QDockWidget *m_detailsDock = nullptr;
    QPointer<SettingsDialog> m_settingsDialog;
    bool m_fitName = true;   ///< Name takes the room left, until the user sizes it
    bool m_fitStatus = true; ///< Status yields room on a narrow window, until the user sizes it
    bool m_fittingName = false;
    bool m_fitDetails = false; ///< no saved layout: the details dock is sized at the first show
    class ApiKeyVault *m_vault;
    DownloadActions *m_downloadActions;
    QTimer *m_actionsUpdate = new QTimer(this);
    QHash<QString, QAction *> m_actions;
    TrayIcon *m_tray = nullptr;
    NotificationCenter *m_notifications = nullptr;
    QMenu *m_columnsMenu = nullptr;
};

} // namespace Hermes
