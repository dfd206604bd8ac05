#include "mainwindow.h"

#include "actionfactory.h"
#include "apikeyvault.h"
#include "connectionindicator.h"
#include "detailspane.h"
#include "downloadactions.h"
#include "downloadfiltermodel.h"
#include "icons.h"
#include "notificationcenter.h"
#include "progressdelegate.h"
#include "settingsdialog.h"
#include "stalebanner.h"
#include "statussidebar.h"
#include "trayicon.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QStatusBar>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

namespace Hermes {

MainWindow::MainWindow(MonitorSession *session, const MonitorSettings &settings, QWidget *parent)
    : QMainWindow(parent), m_session(session), m_settings(settings), m_proxy(new DownloadFilterModel(this)),
      m_table(new QTableView(this)), m_filter(new QLineEdit(this)),
      m_sidebar(new StatusSidebar(&session->model(), this)), m_details(new DetailsPane(&session->model(), this)),
      m_banner(new StaleBanner(session, this)), m_summary(new QLabel(this)),
      m_indicator(new ConnectionIndicator(&session->stream(), this)), m_vault(new ApiKeyVault(this)),
      m_downloadActions(new DownloadActions(session, [this] { return selectedIds(); }, this))
{
    setWindowTitle(tr("Hermes Monitor"));
    setWindowIcon(Icons::named("hermes-monitor"));
    setAcceptDrops(true);
    m_proxy->setSourceModel(&session->model());
    buildTable();

    m_filter->setPlaceholderText(tr("Filter by name or URL (Ctrl+F)"));
    m_filter->setAccessibleName(tr("Filter"));
    m_filter->setClearButtonEnabled(true);
    m_filter->addAction(Icons::named("edit-find"), QLineEdit::LeadingPosition);
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &DownloadFilterModel::setText);
    connect(m_sidebar, &StatusSidebar::statusesChosen, m_proxy, &DownloadFilterModel::setStatusFilter);
    connect(session, &MonitorSession::staleChanged, m_proxy, &DownloadFilterModel::setStale);

    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_banner);
    layout->addWidget(m_table);
    setCentralWidget(central);

    buildActions();
    m_tray = new TrayIcon(windowIcon(),
                          {action(QStringLiteral("showhide")), nullptr, m_downloadActions->pauseAll(),
                           m_downloadActions->resumeAll(), nullptr, action(QStringLiteral("quit"))},
                          action(QStringLiteral("showhide")), this);
    m_notifications = new NotificationCenter(session, m_tray, this);
    connect(m_notifications, &NotificationCenter::downloadActivated, this, [this](const QString &id) {
        if (!id.isEmpty())
            select(id);
        showNormal(); // back from the tray or the task bar, in front
        raise();
        activateWindow();
    });
    buildDocks();

    statusBar()->addWidget(m_summary, 1);
    statusBar()->addPermanentWidget(m_indicator);
    m_indicator->setLastEventSource([this] {
        const QDateTime t = m_session->lastEventTime();
        return t.isValid() ? t.toMSecsSinceEpoch() : qint64(0);
    });
    connect(m_indicator, &ConnectionIndicator::reconnectRequested, this, [this] {
        m_session->stream().reconnectNow();
        if (m_session->isStale())
            m_session->reload();
    });

    buildToolBar();
    buildMenus();
    connect(m_table, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        QMenu menu(this);
        menu.addActions(m_downloadActions->perDownload());
        menu.addAction(m_downloadActions->remove());
        menu.addSeparator();
        menu.addActions(m_downloadActions->moves());
        menu.addSeparator();
        menu.addAction(m_downloadActions->copyUrl());
        menu.exec(m_table->viewport()->mapToGlobal(pos));
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        const QStringList ids = selectedIds();
        m_details->showDownload(ids.size() == 1 ? ids.first() : QString());
        m_downloadActions->update();
    });
    connect(&session->model(), &QAbstractItemModel::dataChanged, m_downloadActions, &DownloadActions::update);
    connect(&session->model(), &DownloadListModel::countsChanged, this, &MainWindow::refreshSummary);
    connect(&session->model(), &QAbstractItemModel::rowsInserted, this, &MainWindow::refreshSummary);
    connect(&session->model(), &QAbstractItemModel::rowsRemoved, this, &MainWindow::refreshSummary);
    const auto showMessage = [this](const QString &message) { statusBar()->showMessage(message, 10000); };
    connect(session, &MonitorSession::errorOccurred, this, showMessage);
    connect(m_downloadActions, &DownloadActions::message, this, showMessage);

    QSettings state;
    if (!restoreGeometry(state.value(QStringLiteral("window/geometry")).toByteArray()))
        resize(1180, 700);
    restoreState(state.value(QStringLiteral("window/state")).toByteArray());
    m_table->horizontalHeader()->restoreState(state.value(QStringLiteral("window/columns")).toByteArray());
    applySettings();
    refreshSummary();
    m_downloadActions->update();
}

void MainWindow::buildTable()
{
    m_table->setModel(m_proxy);
    m_table->setAccessibleName(tr("Downloads"));
    m_table->setItemDelegateForColumn(DownloadListModel::Progress, new ProgressDelegate(this));
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(DownloadListModel::Position, Qt::AscendingOrder);
    m_table->setWordWrap(false);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    QHeaderView *header = m_table->horizontalHeader();
    header->setSectionResizeMode(DownloadListModel::Name, QHeaderView::Stretch);
    header->setContextMenuPolicy(Qt::CustomContextMenu);
    header->setSectionsMovable(true);
    m_table->setColumnWidth(DownloadListModel::Position, 40);
    m_table->setColumnWidth(DownloadListModel::Progress, 150);
    m_table->setColumnWidth(DownloadListModel::Status, 130);
    // Wide enough for a date in this locale's short format: the column never wraps or elides.
    const QString sampleDate = QLocale().toString(QDateTime(QDate(2026, 12, 28), QTime(23, 59, 59)), QLocale::ShortFormat);
    m_table->setColumnWidth(DownloadListModel::Added, m_table->fontMetrics().horizontalAdvance(sampleDate) + 24);
    m_table->setColumnWidth(DownloadListModel::Completed, m_table->fontMetrics().horizontalAdvance(sampleDate) + 24);
    m_table->setColumnHidden(DownloadListModel::Completed, true);
    m_table->setColumnHidden(DownloadListModel::Url, true);
    m_table->setColumnHidden(DownloadListModel::Priority, true);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(header, &QWidget::customContextMenuRequested, this, &MainWindow::showHeaderMenu);
}

void MainWindow::buildDocks()
{
    auto *side = new QDockWidget(tr("Status"), this);
    side->setObjectName(QStringLiteral("status"));
    side->setWidget(m_sidebar);
    side->setFeatures(QDockWidget::DockWidgetClosable | QDockWidget::DockWidgetMovable);
    addDockWidget(Qt::LeftDockWidgetArea, side);
    auto *detailsDock = new QDockWidget(tr("Details"), this);
    detailsDock->setObjectName(QStringLiteral("details"));
    detailsDock->setWidget(m_details);
    addDockWidget(Qt::BottomDockWidgetArea, detailsDock);
    auto *notesDock = new QDockWidget(tr("Notifications"), this);
    notesDock->setObjectName(QStringLiteral("notifications"));
    notesDock->setWidget(m_notifications->list());
    addDockWidget(Qt::BottomDockWidgetArea, notesDock);
    tabifyDockWidget(detailsDock, notesDock);
    detailsDock->raise();
    resizeDocks({detailsDock}, {200}, Qt::Vertical);
    resizeDocks({side}, {180}, Qt::Horizontal);
}

QAction *MainWindow::addAction(const char *name, const QString &text, const char *icon, const QKeySequence &key,
                               std::function<void()> slot)
{
    QAction *a = makeAction(this, text, icon, key, std::move(slot));
    m_actions.insert(QString::fromLatin1(name), a);
    return a;
}

void MainWindow::buildActions()
{
    addAction("add", tr("&Add Downloads…"), "list-add", QKeySequence::New, [this] {
        openAddDialog(AddDialog::urlsIn(QApplication::clipboard()->text()));
    });
    QAction *paste = addAction("paste", tr("&Paste URLs"), nullptr, QKeySequence::Paste, [this] {
        openAddDialog(AddDialog::urlsIn(QApplication::clipboard()->text()));
    });
    paste->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_table->addAction(paste);
    m_table->addAction(m_downloadActions->copyUrl());
    addAction("selectall", tr("Select &All"), nullptr, QKeySequence::SelectAll, [this] { m_table->selectAll(); });
    addAction("find", tr("&Find…"), "edit-find", QKeySequence::Find, [this] {
        m_filter->setFocus();
        m_filter->selectAll();
    });
    addAction("refresh", tr("&Refresh"), "view-refresh", QKeySequence::Refresh, [this] { m_session->refresh(); });
    QAction *settings = addAction("settings", tr("&Preferences…"), "preferences-system", QKeySequence::Preferences,
                                  [this] { openSettings(); });
    addAction("quit", tr("&Quit"), "application-exit", QKeySequence::Quit, [] { QApplication::quit(); });
    addAction("about", tr("&About Hermes Monitor"), "help-about", QKeySequence(), [this] { showAbout(); });
    addAction("aboutqt", tr("About &Qt"), nullptr, QKeySequence(), [] { QApplication::aboutQt(); });
    addAction("showhide", tr("&Show/Hide Window"), nullptr, QKeySequence(), [this] {
        if (isVisible() && !isMinimized()) {
            hide();
        } else {
            showNormal();
            raise();
            activateWindow();
        }
    });
    // Preferences has no standard key on every platform (none on Linux): Ctrl+, as many apps.
    if (settings->shortcut().isEmpty())
        settings->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma));
}

void MainWindow::buildToolBar()
{
    QToolBar *bar = addToolBar(tr("Queue"));
    // Its name is kept in the users' saved window state (saveState): never renamed.
    bar->setObjectName(QStringLiteral("queue"));
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->addAction(action(QStringLiteral("add")));
    bar->addSeparator();
    bar->addActions(m_downloadActions->perDownload());
    bar->addAction(m_downloadActions->remove());
    bar->addSeparator();
    bar->addActions(m_downloadActions->moves());
    for (QAction *move : m_downloadActions->moves())
        bar->widgetForAction(move)->setProperty("toolButtonStyle", int(Qt::ToolButtonIconOnly));
    auto *spacer = new QWidget(bar);
    spacer->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    bar->addWidget(spacer);
    m_filter->setMaximumWidth(320);
    bar->addWidget(m_filter);
}

void MainWindow::buildMenus()
{
    auto add = [this](QMenu *menu, std::initializer_list<const char *> names) {
        for (const char *name : names) {
            if (!*name)
                menu->addSeparator();
            else
                menu->addAction(action(QString::fromLatin1(name)));
        }
    };
    add(menuBar()->addMenu(tr("&File")), {"add", "paste", "", "quit"});
    add(menuBar()->addMenu(tr("&Edit")), {"selectall", "copyurl", "find", "", "remove"});
    QMenu *view = menuBar()->addMenu(tr("&View"));
    add(view, {"refresh", ""});
    for (QDockWidget *dock : findChildren<QDockWidget *>())
        view->addAction(dock->toggleViewAction());
    m_columnsMenu = view->addMenu(tr("&Columns"));
    connect(m_columnsMenu, &QMenu::aboutToShow, this, [this] {
        m_columnsMenu->clear();
        QHeaderView *header = m_table->horizontalHeader();
        for (int c = 0; c < m_proxy->columnCount(); ++c) {
            QAction *a = m_columnsMenu->addAction(m_proxy->headerData(c, Qt::Horizontal, Qt::DisplayRole).toString());
            a->setCheckable(true);
            a->setChecked(!header->isSectionHidden(c));
            a->setEnabled(c != DownloadListModel::Name);
            connect(a, &QAction::toggled, this, [header, c](bool on) { header->setSectionHidden(c, !on); });
        }
    });
    QMenu *queue = menuBar()->addMenu(tr("&Queue"));
    queue->addActions(m_downloadActions->perDownload());
    queue->addSeparator();
    queue->addActions(m_downloadActions->moves());
    queue->addSeparator();
    queue->addAction(m_downloadActions->pauseAll());
    queue->addAction(m_downloadActions->resumeAll());
    add(menuBar()->addMenu(tr("&Settings")), {"settings"});
    add(menuBar()->addMenu(tr("&Help")), {"about", "aboutqt"});
}

void MainWindow::showHeaderMenu(const QPoint &pos)
{
    m_columnsMenu->popup(m_table->horizontalHeader()->mapToGlobal(pos));
}

QAction *MainWindow::action(const QString &name) const
{
    QAction *a = m_actions.value(name);
    return a ? a : m_downloadActions->named(name);
}

QListWidget *MainWindow::notifications() const
{
    return m_notifications->list();
}

QSystemTrayIcon *MainWindow::tray() const
{
    return m_tray->icon();
}

QStringList MainWindow::selectedIds() const
{
    QStringList ids;
    for (const QModelIndex &i : m_table->selectionModel()->selectedRows())
        ids.append(i.data(DownloadListModel::IdRole).toString());
    return ids;
}

void MainWindow::selectIds(const QStringList &ids)
{
    QItemSelection selection;
    for (const QString &id : ids) {
        const int source = m_session->model().rowOf(id);
        const QModelIndex i = m_proxy->mapFromSource(m_session->model().index(source, 0));
        if (i.isValid())
            selection.select(i, i.siblingAtColumn(m_proxy->columnCount() - 1));
    }
    m_table->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

AddDialog *MainWindow::openAddDialog(const QStringList &urls, bool modal)
{
    auto *dialog = new AddDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setUrls(urls);
    connect(dialog, &QDialog::accepted, this, [this, dialog] { addDownloads(dialog->requests()); });
    if (modal)
        dialog->open();
    return dialog;
}

void MainWindow::addDownloads(const QList<AddDialog::Request> &requests)
{
    for (const AddDialog::Request &r : requests) {
        m_session->api().addDownload(r.url, r.filename, [self = QPointer<MainWindow>(this), url = r.url](Result<QJsonObject> answer) {
            if (self && !answer)
                QMessageBox::warning(self, tr("Add Downloads"), tr("%1 was not added: %2").arg(url, answer.error().message));
        }, r.sha256, r.priority != 0 ? std::optional<int>(r.priority) : std::nullopt);
    }
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    const QMimeData *mime = event->mimeData();
    if (mime->hasUrls() || !AddDialog::urlsIn(mime->text()).isEmpty())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    const QMimeData *mime = event->mimeData();
    QStringList urls;
    for (const QUrl &u : mime->urls())
        urls.append(u.toString());
    urls = AddDialog::urlsIn(urls.join(u' ') + u' ' + mime->text());
    if (urls.isEmpty())
        return;
    event->acceptProposedAction();
    openAddDialog(urls);
}

void MainWindow::openSettings()
{
    SettingsDialog dialog(m_settings, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    m_settings = dialog.settings();
    m_settings.save();
    m_vault->write(m_settings.apiKey, [this](Result<void> written) {
        if (!written)
            QMessageBox::warning(this, tr("Preferences"), tr("The API key was not saved: %1").arg(written.error().message));
    });
    applySettings();
    m_session->stream().reconnectNow();
}

void MainWindow::showAbout()
{
    QMessageBox::about(this, tr("About Hermes Monitor"),
                       tr("<h3>Hermes Monitor %1</h3><p>Watches and controls a Hermes download queue: live "
                          "progress over Server-Sent Events, resumed exactly after every reconnect.</p>"
                          "<p>Server: %2</p>")
                           .arg(QApplication::applicationVersion(),
                                m_settings.server.toString(QUrl::RemoveUserInfo).toHtmlEscaped()));
}

void MainWindow::applySettings()
{
    m_session->setServer(m_settings.server);
    m_session->setApiKey(m_settings.apiKey);
    m_session->stream().backoff().setBaseMs(m_settings.backoffBaseMs);
    m_session->stream().backoff().setCapMs(m_settings.backoffCapMs);
    m_session->stream().backoff().setMaxAttempts(m_settings.maxAttempts);
    m_notifications->applySettings(m_settings);
}

QString MainWindow::summaryText() const
{
    return m_summary->text();
}

void MainWindow::refreshSummary()
{
    const DownloadListModel &m = m_session->model();
    const QLocale l;
    const QString speed = m.isLive() ? DownloadListModel::formatSpeed(m.totalSpeed()) : tr("unknown");
    m_summary->setText(tr("Downloading: %1 · Queued: %2 · Paused: %3 · Total speed: %4")
                           .arg(l.toString(m.count(DownloadStatus::Downloading) + m.count(DownloadStatus::Processing)),
                                l.toString(m.count(DownloadStatus::Pending)), l.toString(m.count(DownloadStatus::Paused)),
                                speed));
    if (m_tray)
        m_tray->setToolTip(tr("Hermes Monitor — %1 down").arg(speed));
}

bool MainWindow::bannerVisible() const
{
    return !m_banner->isHidden();
}

QString MainWindow::bannerText() const
{
    return m_banner->text();
}

void MainWindow::changeEvent(QEvent *event)
{
    QMainWindow::changeEvent(event);
    // Minimised with "keep in the tray" on: out of the task bar, back from the tray icon.
    if (event->type() == QEvent::WindowStateChange && isMinimized() && m_settings.minimizeToTray && m_tray
        && m_tray->isShown())
        QTimer::singleShot(0, this, &QWidget::hide);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    QSettings state;
    state.setValue(QStringLiteral("window/geometry"), saveGeometry());
    state.setValue(QStringLiteral("window/state"), saveState());
    state.setValue(QStringLiteral("window/columns"), m_table->horizontalHeader()->saveState());
    if (m_settings.minimizeToTray && m_tray && m_tray->isShown() && !QApplication::closingDown()) {
        hide();
        event->ignore();
        return;
    }
    QMainWindow::closeEvent(event);
}

} // namespace Hermes
