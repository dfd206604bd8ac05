#pragma once

#include "monitorsession.h"
#include "monitorsettings.h"

#include <QMainWindow>

class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QSystemTrayIcon;
class QTableView;

namespace Hermes {

class ConnectionIndicator;
class DownloadFilterModel;

/// The operator's window: the download table, queue actions, the queue summary, notifications,
/// a tray icon, and the always-visible connection indicator.
class MainWindow final : public QMainWindow
{
    Q_OBJECT
public:
    MainWindow(MonitorSession *session, const MonitorSettings &settings, QWidget *parent = nullptr);

    QTableView *table() const { return m_table; }
    ConnectionIndicator *indicator() const { return m_indicator; }
    QAction *action(const QString &name) const;
    QListWidget *notifications() const { return m_notifications; }
    QString summaryText() const;
    /// Selects the row of download `id` (for tests and scripting).
    void select(const QString &id);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildActions();
    void updateActions();
    QString selectedId() const;
    void runAction(const QString &name);
    void addUrl();
    void removeSelected();
    void openSettings();
    void showSummary(const QJsonObject &summary);
    void addNotification(const QString &type, const QString &message);
    void applySettings();

    MonitorSession *m_session;
    MonitorSettings m_settings;
    DownloadFilterModel *m_proxy;
    QTableView *m_table;
    QLineEdit *m_filter;
    QComboBox *m_statusFilter;
    QLabel *m_summary;
    ConnectionIndicator *m_indicator;
    QListWidget *m_notifications;
    QSystemTrayIcon *m_tray = nullptr;
    class ApiKeyVault *m_vault;
    QHash<QString, QAction *> m_actions;
};

} // namespace Hermes
