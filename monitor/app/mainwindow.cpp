#include "mainwindow.h"

#include "actionfactory.h"
#include "apikeyvault.h"
#include "columnlayout.h"
#include "connectionindicator.h"
#include "detailspane.h"
#include "downloadactions.h"
#include "downloadfiltermodel.h"
#include "freespacelabel.h"
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
#include <QDesktopServices>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QScrollArea>
#include <QSettings>
#include <QStatusBar>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

#include <algorithm>
#include <iterator>
#include <utility>

namespace Hermes {

/// The details dock's height on a first start (title and tabs included): a few fields, scrollable.
static constexpr int DetailsHeight = 170;

MainWindow::MainWindow(MonitorSession *session, const MonitorSettings &settings, QWidget *parent)
    : QMainWindow(parent), m_session(session), m_settings(settings), m_proxy(new DownloadFilterModel(this)),
      m_table(new QTableView(this)), m_filter(new QLineEdit(this)),
      m_sidebar(new StatusSidebar(&session->model(), this)), m_details(new DetailsPane(&session->model(), this)),
      m_banner(new StaleBanner(session, this)), m_summary(new QLabel(this)),
      m_indicator(new ConnectionIndicator(&session->stream(), this)), m_freeSpace(new FreeSpaceLabel(session, this)),
      m_vault(new ApiKeyVault(this)),
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
    // The filter sits above the table, not in the toolbar: a narrow window moves toolbar
    // items into an overflow menu, and Ctrl+F must always find it.
    auto *filterRow = new QHBoxLayout;
    filterRow->setContentsMargins(4, 4, 4, 4);
    filterRow->addWidget(m_filter, 1);
    m_filter->setMaximumWidth(420);
    filterRow->addStretch();
    layout->addLayout(filterRow);
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
    statusBar()->addPermanentWidget(m_freeSpace);
    statusBar()->addPermanentWidget(m_indicator);
    m_indicator->setLastEventSource([this] {
        const QDateTime t = m_session->lastEventTime();
        return t.isValid() ? t.toMSecsSinceEpoch() : qint64(0);
    });
    connect(m_indicator, &ConnectionIndicator::reconnectRequested, this, &MainWindow::reconnect);
    // Retrying with a rejected key cannot help: the operator is asked for the right one.
    connect(&session->stream(), &EventStreamClient::authenticationFailed, this,
            [this] { openSettings(tr("The server rejected the API key. Enter the key it was started with.")); });

    buildToolBar();
    buildMenus();
    connect(m_table, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        QMenu *menu = contextMenu();
        if (!menu->isEmpty())
            menu->popup(m_table->viewport()->mapToGlobal(pos));
    });
    connect(m_table, &QAbstractItemView::activated, this, &MainWindow::openDownload);
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        const QStringList ids = selectedIds();
        m_details->showDownload(ids.size() == 1 ? ids.first() : QString());
        m_downloadActions->update();
    });
    // Which actions apply walks the whole selection: once per turn of the event loop, not
    // once per dataChanged (a flush, a retry countdown tick and a live toggle may come together).
    m_actionsUpdate->setSingleShot(true);
    m_actionsUpdate->setInterval(0);
    connect(m_actionsUpdate, &QTimer::timeout, m_downloadActions, &DownloadActions::update);
    connect(&session->model(), &QAbstractItemModel::dataChanged, m_actionsUpdate, qOverload<>(&QTimer::start));
    connect(&session->model(), &DownloadListModel::countsChanged, this, &MainWindow::refreshSummary);
    connect(&session->model(), &QAbstractItemModel::rowsInserted, this, &MainWindow::refreshSummary);
    connect(&session->model(), &QAbstractItemModel::rowsRemoved, this, &MainWindow::refreshSummary);
    const auto showMessage = [this](const QString &message) { statusBar()->showMessage(message, 10000); };
    connect(session, &MonitorSession::errorOccurred, this, showMessage);
    connect(m_downloadActions, &DownloadActions::message, this, showMessage);

    QSettings state;
    if (!restoreGeometry(state.value(QStringLiteral("window/geometry")).toByteArray()))
        resize(1180, 700);
    m_fitDetails = !restoreState(state.value(QStringLiteral("window/state")).toByteArray());
    // A new key: the header state older versions saved under window/columns has the 40 px
    // "#" and the stretching Name this layout replaces.
    const QByteArray columns = state.value(QStringLiteral("window/header")).toByteArray();
    ColumnLayout::restore(m_table, columns);
    // Until the user sizes Name, it takes the room the others leave; the saved header has
    // its fitted width too, so whether the user sized it is a setting of its own.
    m_fitName = !state.value(QStringLiteral("window/nameSized"), false).toBool();
    m_fitStatus = !state.value(QStringLiteral("window/statusSized"), false).toBool();
    m_table->viewport()->installEventFilter(this);
    connect(m_table->horizontalHeader(), &QHeaderView::sectionResized, this, [this](int column) {
        if (column == DownloadListModel::Name && !m_fittingName)
            m_fitName = false;
        if (column == DownloadListModel::Status && !m_fittingName)
            m_fitStatus = false;
    });
    applySettings();
    refreshSummary();
    m_downloadActions->update();
    // Quit (Ctrl+Q, the tray) ends the application without closing the window first.
    connect(qApp, &QCoreApplication::aboutToQuit, this, &MainWindow::saveWindowState);
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
    // Widths, order and hidden columns: ColumnLayout, once the saved state is known.
    header->setContextMenuPolicy(Qt::CustomContextMenu);
    header->setSectionsMovable(true);
    header->setStretchLastSection(false);
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
    // In a scroll area: the pane's fields appearing on the first selection would otherwise
    // grow the dock and take rows from the table.
    auto *detailsScroll = new QScrollArea(detailsDock);
    detailsScroll->setWidget(m_details);
    detailsScroll->setWidgetResizable(true);
    detailsScroll->setFrameShape(QFrame::NoFrame);
    detailsDock->setWidget(detailsScroll);
    m_detailsDock = detailsDock;
    addDockWidget(Qt::BottomDockWidgetArea, detailsDock);
    auto *notesDock = new QDockWidget(tr("Notifications"), this);
    notesDock->setObjectName(QStringLiteral("notifications"));
    notesDock->setWidget(m_notifications->list());
    addDockWidget(Qt::BottomDockWidgetArea, notesDock);
    tabifyDockWidget(detailsDock, notesDock);
    detailsDock->raise();
    resizeDocks({detailsDock}, {DetailsHeight}, Qt::Vertical);
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
    // Only while not connected (a connected stream has nothing to reconnect).
    QAction *reconnectNow = addAction("reconnect", tr("Re&connect"), "view-refresh",
                                      QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F5), [this] { reconnect(); });
    const auto followState = [this, reconnectNow] {
        reconnectNow->setEnabled(m_session->stream().state() != EventStreamClient::State::Connected);
    };
    connect(&m_session->stream(), &EventStreamClient::stateChanged, reconnectNow, followState);
    followState();
    // Enter is the table's own (activated(), like a double click): a shortcut would fire twice
    // or steal Enter from dialogs. The menu shows it after the tab, as menus show keys.
    addAction("details", tr("Show &Details") + QStringLiteral("\t") + QKeySequence(Qt::Key_Return).toString(QKeySequence::NativeText),
              nullptr, QKeySequence(), [this] { openDownload(m_table->currentIndex()); });
    m_table->addAction(m_downloadActions->pauseOrResume());
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
    add(view, {"refresh", "reconnect", ""});
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
    queue->addAction(m_downloadActions->pauseOrResume());
    queue->addAction(action(QStringLiteral("details")));
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
    // A list in one request (all added or none, so adding it again makes no duplicates; a long
    // list in pieces, one after the other).
    QList<QJsonObject> bodies;
    QStringList urls;
    for (const AddDialog::Request &r : requests) {
        bodies.append(ApiClient::downloadRequest(r.url, r.filename, r.sha256,
                                                 r.priority != 0 ? std::optional<int>(r.priority) : std::nullopt));
        urls.append(r.url);
    }
    m_session->api().addDownloads(bodies, [self = QPointer<MainWindow>(this), urls](Result<QJsonObject> answer) {
        if (!self || answer)
            return;
        // The server names a refused item by index: show its URL.
        const auto item = ApiClient::refusedItem(answer.error().message);
        const QString url = item ? urls.value(item->index) : (urls.size() == 1 ? urls.first() : QString());
        const QString why = item ? item->reason : answer.error().message;
        QMessageBox::warning(self, tr("Add Downloads"), url.isEmpty() ? tr("The downloads were not added: %1").arg(why)
                                                                      : tr("%1 was not added: %2").arg(url, why));
    });
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

void MainWindow::reconnect()
{
    m_session->stream().reconnectNow();
    if (m_session->isStale())
        m_session->reload();
}

QMenu *MainWindow::contextMenu()
{
    // Only what can be done to the selection: disabled items are noise in a context menu.
    auto *menu = new QMenu(this);
    menu->setAttribute(Qt::WA_DeleteOnClose);
    const QList<QList<QAction *>> groups{m_downloadActions->perDownload() + QList<QAction *>{m_downloadActions->remove()},
                                         m_downloadActions->moves(), {m_downloadActions->copyUrl()}};
    for (const QList<QAction *> &group : groups) {
        QList<QAction *> enabled;
        std::copy_if(group.cbegin(), group.cend(), std::back_inserter(enabled), [](QAction *a) { return a->isEnabled(); });
        if (!enabled.isEmpty() && !menu->isEmpty())
            menu->addSeparator();
        menu->addActions(enabled);
    }
    return menu;
}

void MainWindow::openDownload(const QModelIndex &index)
{
    if (!index.isValid())
        return;
    const DownloadRow *r = m_session->model().row(index.data(DownloadListModel::IdRole).toString());
    // A finished file on this machine: its folder, as a file manager would. Else the details.
    if (r && r->is(DownloadStatus::Completed) && m_freeSpace->isDirHere()
        && QDesktopServices::openUrl(QUrl::fromLocalFile(m_freeSpace->downloadDir())))
        return;
    m_detailsDock->show();
    m_detailsDock->raise();
}

void MainWindow::openSettings(const QString &problem)
{
    if (m_settingsDialog) { // already open: bring it forward, with the news
        if (!problem.isEmpty())
            m_settingsDialog->showProblem(problem);
        m_settingsDialog->raise();
        m_settingsDialog->activateWindow();
        return;
    }
    auto *dialog = new SettingsDialog(m_settings, this);
    m_settingsDialog = dialog;
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    if (!problem.isEmpty())
        dialog->showProblem(problem);
    connect(dialog, &QDialog::accepted, this, [this, dialog] { applyDialog(dialog->settings()); });
    dialog->open(); // window-modal, without a nested event loop
}

void MainWindow::applyDialog(const MonitorSettings &chosen)
{
    m_settings = chosen;
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

bool MainWindow::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_table->viewport() && event->type() == QEvent::Resize && m_fitName) {
        m_fittingName = true;
        ColumnLayout::fitName(m_table, m_fitStatus);
        m_fittingName = false;
    }
    return QMainWindow::eventFilter(watched, event);
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

void MainWindow::showEvent(QShowEvent *event)
{
    QMainWindow::showEvent(event);
    // First start: every detail in view if that takes at most a third of the window (1600 × 1000),
    // else DetailsHeight, scrollable (900 × 600). Laid out by now: add what the pane lacks.
    const int fitted = DetailsHeight + m_details->fullHeight() - m_detailsDock->widget()->height();
    if (std::exchange(m_fitDetails, false) && fitted <= height() / 3)
        resizeDocks({m_detailsDock}, {fitted}, Qt::Vertical);
}

void MainWindow::saveWindowState()
{
    QSettings state;
    state.setValue(QStringLiteral("window/geometry"), saveGeometry());
    state.setValue(QStringLiteral("window/state"), saveState()); // the docks' sizes too
    state.setValue(QStringLiteral("window/header"), m_table->horizontalHeader()->saveState());
    state.setValue(QStringLiteral("window/nameSized"), !m_fitName);
    state.setValue(QStringLiteral("window/statusSized"), !m_fitStatus);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveWindowState();
    if (m_settings.minimizeToTray && m_tray && m_tray->isShown() && !QApplication::closingDown()) {
        hide();
        event->ignore();
        return;
    }
    QMainWindow::closeEvent(event);
}

} // namespace Hermes
