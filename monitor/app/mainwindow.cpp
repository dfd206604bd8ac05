#include "mainwindow.h"

#include "apikeyvault.h"
#include "connectionindicator.h"
#include "detailspane.h"
#include "downloadfiltermodel.h"
#include "icons.h"
#include "progressdelegate.h"
#include "settingsdialog.h"
#include "statussidebar.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
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
#include <QPushButton>
#include <QSettings>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

namespace Hermes {

MainWindow::MainWindow(MonitorSession *session, const MonitorSettings &settings, QWidget *parent)
    : QMainWindow(parent), m_session(session), m_settings(settings), m_proxy(new DownloadFilterModel(this)),
      m_table(new QTableView(this)), m_filter(new QLineEdit(this)),
      m_sidebar(new StatusSidebar(&session->model(), this)), m_details(new DetailsPane(&session->model(), this)),
      m_banner(new QWidget(this)), m_bannerText(new QLabel(this)), m_summary(new QLabel(this)),
      m_indicator(new ConnectionIndicator(&session->stream(), this)), m_notifications(new QListWidget(this)),
      m_vault(new ApiKeyVault(this)), m_bannerTimer(new QTimer(this))
{
    setWindowTitle(tr("Hermes Monitor"));
    setWindowIcon(Icons::named("hermes-monitor"));
    setAcceptDrops(true);
    m_clock.start();
    m_proxy->setSourceModel(&session->model());

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

    m_filter->setPlaceholderText(tr("Filter by name or URL (Ctrl+F)"));
    m_filter->setAccessibleName(tr("Filter"));
    m_filter->setClearButtonEnabled(true);
    m_filter->addAction(Icons::named("edit-find"), QLineEdit::LeadingPosition);
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &DownloadFilterModel::setText);
    connect(m_sidebar, &StatusSidebar::statusesChosen, m_proxy, &DownloadFilterModel::setStatusFilter);

    // The stale banner: the list may be out of date, and why, and a way to try again now.
    auto *bannerLayout = new QHBoxLayout(m_banner);
    auto *warn = new QLabel(m_banner);
    warn->setPixmap(Icons::named("dialog-warning").pixmap(20, 20));
    auto *retry = new QPushButton(Icons::named("view-refresh"), tr("Retry now"), m_banner);
    bannerLayout->addWidget(warn);
    bannerLayout->addWidget(m_bannerText, 1);
    bannerLayout->addWidget(retry);
    m_bannerText->setWordWrap(true);
    m_banner->setAutoFillBackground(true);
    QPalette bannerPalette = m_banner->palette();
    bannerPalette.setColor(QPalette::Window, QColor(0xff, 0xf8, 0xc5));
    bannerPalette.setColor(QPalette::WindowText, QColor(0x3b, 0x2e, 0x00));
    m_banner->setPalette(bannerPalette);
    m_banner->setAccessibleName(tr("The list may be out of date"));
    m_banner->hide();
    connect(retry, &QPushButton::clicked, session, &MonitorSession::reload);
    m_bannerTimer->setInterval(1000);
    connect(m_bannerTimer, &QTimer::timeout, this, &MainWindow::refreshBanner);
    connect(session, &MonitorSession::staleChanged, this, [this](bool stale) {
        m_proxy->setStale(stale);
        refreshBanner();
    });

    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_banner);
    layout->addWidget(m_table);
    setCentralWidget(central);

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
    notesDock->setWidget(m_notifications);
    m_notifications->setAccessibleName(tr("Notifications"));
    addDockWidget(Qt::BottomDockWidgetArea, notesDock);
    tabifyDockWidget(detailsDock, notesDock);
    detailsDock->raise();
    resizeDocks({detailsDock}, {200}, Qt::Vertical);
    resizeDocks({side}, {180}, Qt::Horizontal);

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

    buildActions();
    buildMenus();
    connect(m_table, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        QMenu menu(this);
        for (const char *name : {"pause", "resume", "cancel", "retry", "remove", "", "top", "up", "down", "bottom", "", "copyurl"}) {
            if (!*name)
                menu.addSeparator();
            else
                menu.addAction(m_actions.value(QString::fromLatin1(name)));
        }
        menu.exec(m_table->viewport()->mapToGlobal(pos));
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        const QStringList ids = selectedIds();
        m_details->showDownload(ids.size() == 1 ? ids.first() : QString());
        updateActions();
    });
    connect(&session->model(), &QAbstractItemModel::dataChanged, this, &MainWindow::updateActions);
    connect(&session->model(), &DownloadListModel::countsChanged, this, &MainWindow::refreshSummary);
    connect(&session->model(), &QAbstractItemModel::rowsInserted, this, &MainWindow::refreshSummary);
    connect(&session->model(), &QAbstractItemModel::rowsRemoved, this, &MainWindow::refreshSummary);
    connect(session, &MonitorSession::notificationReceived, this, &MainWindow::addNotification);
    connect(session, &MonitorSession::errorOccurred, this, [this](const QString &message) {
        statusBar()->showMessage(message, 10000);
    });
    connect(session, &MonitorSession::downloadFinished, this, [this](const QString &, const QString &name, bool ok) {
        if (ok ? m_settings.notifyCompleted : m_settings.notifyFailed)
            notifyDesktop(ok ? tr("Download completed") : tr("Download failed"), name, !ok);
    });
    buildTray();

    QSettings state;
    if (!restoreGeometry(state.value(QStringLiteral("window/geometry")).toByteArray()))
        resize(1180, 700);
    restoreState(state.value(QStringLiteral("window/state")).toByteArray());
    header->restoreState(state.value(QStringLiteral("window/columns")).toByteArray());
    applySettings();
    refreshSummary();
    updateActions();
}

QAction *MainWindow::addAction(const char *name, const QString &text, const char *icon, const QKeySequence &key,
                               std::function<void()> slot)
{
    auto *a = new QAction(text, this);
    if (icon)
        a->setIcon(Icons::named(icon));
    if (!key.isEmpty())
        a->setShortcut(key);
    connect(a, &QAction::triggered, this, [slot = std::move(slot)] { slot(); });
    m_actions.insert(QString::fromLatin1(name), a);
    return a;
}

void MainWindow::buildActions()
{
    using Move = QueuePlanner::Move;
    addAction("add", tr("&Add Downloads…"), "list-add", QKeySequence::New, [this] {
        openAddDialog(AddDialog::urlsIn(QApplication::clipboard()->text()));
    });
    addAction("paste", tr("&Paste URLs"), nullptr, QKeySequence::Paste, [this] {
        openAddDialog(AddDialog::urlsIn(QApplication::clipboard()->text()));
    });
    m_actions[QStringLiteral("paste")]->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_table->addAction(m_actions[QStringLiteral("paste")]);
    addAction("pause", tr("&Pause"), "media-playback-pause", QKeySequence(), [this] { runAction(QStringLiteral("pause")); });
    addAction("resume", tr("&Resume"), "media-playback-start", QKeySequence(), [this] { runAction(QStringLiteral("resume")); });
    addAction("cancel", tr("&Cancel"), "process-stop", QKeySequence(), [this] { runAction(QStringLiteral("cancel")); });
    addAction("retry", tr("Re&try"), "view-refresh", QKeySequence(), [this] { runAction(QStringLiteral("retry")); });
    addAction("remove", tr("Re&move…"), "edit-delete", QKeySequence::Delete, [this] { removeSelected(); });
    addAction("pauseall", tr("Pause &All"), "media-playback-pause", QKeySequence(), [this] {
        runOnAll(QStringLiteral("pause"), {QStringLiteral("pending"), QStringLiteral("downloading")});
    });
    addAction("resumeall", tr("Resume A&ll"), "media-playback-start", QKeySequence(), [this] {
        runOnAll(QStringLiteral("resume"), {QStringLiteral("paused")});
    });
    addAction("top", tr("Move to &Top"), "go-top", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Up), [this] { moveQueue(Move::Top); });
    addAction("up", tr("Move &Up"), "go-up", QKeySequence(Qt::CTRL | Qt::Key_Up), [this] { moveQueue(Move::Up); });
    addAction("down", tr("Move &Down"), "go-down", QKeySequence(Qt::CTRL | Qt::Key_Down), [this] { moveQueue(Move::Down); });
    addAction("bottom", tr("Move to &Bottom"), "go-bottom", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Down), [this] { moveQueue(Move::Bottom); });
    addAction("copyurl", tr("&Copy URL"), "edit-copy", QKeySequence::Copy, [this] {
        QStringList urls;
        for (const QString &id : selectedIds()) {
            if (const DownloadRow *r = m_session->model().row(id))
                urls.append(r->url);
        }
        if (!urls.isEmpty())
            QApplication::clipboard()->setText(urls.join(u'\n'));
    });
    m_actions[QStringLiteral("copyurl")]->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_table->addAction(m_actions[QStringLiteral("copyurl")]);
    addAction("selectall", tr("Select &All"), nullptr, QKeySequence::SelectAll, [this] { m_table->selectAll(); });
    addAction("find", tr("&Find…"), "edit-find", QKeySequence::Find, [this] {
        m_filter->setFocus();
        m_filter->selectAll();
    });
    addAction("refresh", tr("&Refresh"), "view-refresh", QKeySequence::Refresh, [this] { m_session->refresh(); });
    addAction("settings", tr("&Preferences…"), "preferences-system", QKeySequence::Preferences, [this] { openSettings(); });
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
    if (m_actions[QStringLiteral("settings")]->shortcut().isEmpty())
        m_actions[QStringLiteral("settings")]->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma));

    QToolBar *bar = addToolBar(tr("Queue"));
    bar->setObjectName(QStringLiteral("queue"));
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    for (const char *name : {"add", "", "pause", "resume", "cancel", "retry", "remove", "", "top", "up", "down", "bottom"}) {
        if (!*name)
            bar->addSeparator();
        else
            bar->addAction(m_actions.value(QString::fromLatin1(name)));
    }
    for (const char *name : {"top", "up", "down", "bottom"})
        bar->widgetForAction(m_actions.value(QString::fromLatin1(name)))->setProperty("toolButtonStyle", int(Qt::ToolButtonIconOnly));
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
                menu->addAction(m_actions.value(QString::fromLatin1(name)));
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
    add(menuBar()->addMenu(tr("&Queue")), {"pause", "resume", "cancel", "retry", "", "top", "up", "down", "bottom",
                                           "", "pauseall", "resumeall"});
    add(menuBar()->addMenu(tr("&Settings")), {"settings"});
    add(menuBar()->addMenu(tr("&Help")), {"about", "aboutqt"});
}

void MainWindow::showHeaderMenu(const QPoint &pos)
{
    m_columnsMenu->popup(m_table->horizontalHeader()->mapToGlobal(pos));
}

void MainWindow::buildTray()
{
    if (!QSystemTrayIcon::isSystemTrayAvailable())
        return;
    m_tray = new QSystemTrayIcon(windowIcon(), this);
    auto *menu = new QMenu(this);
    menu->addAction(m_actions.value(QStringLiteral("showhide")));
    menu->addSeparator();
    menu->addAction(m_actions.value(QStringLiteral("pauseall")));
    menu->addAction(m_actions.value(QStringLiteral("resumeall")));
    menu->addSeparator();
    menu->addAction(m_actions.value(QStringLiteral("quit")));
    m_tray->setContextMenu(menu);
    connect(m_tray, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason reason) {
        if (reason == QSystemTrayIcon::Trigger)
            m_actions.value(QStringLiteral("showhide"))->trigger();
    });
    m_tray->show();
}

QAction *MainWindow::action(const QString &name) const
{
    return m_actions.value(name);
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

void MainWindow::updateActions()
{
    bool pause = false, resume = false, cancel = false, retry = false, queued = false;
    const QStringList ids = selectedIds();
    for (const QString &id : ids) {
        const DownloadRow *r = m_session->model().row(id);
        if (!r)
            continue;
        pause |= r->status == u"pending" || r->status == u"downloading";
        resume |= r->status == u"paused";
        cancel |= !r->isFinished() && r->status != u"processing";
        retry |= r->status == u"failed" || r->status == u"cancelled";
        queued |= !r->isFinished();
    }
    m_actions[QStringLiteral("pause")]->setEnabled(pause);
    m_actions[QStringLiteral("resume")]->setEnabled(resume);
    m_actions[QStringLiteral("cancel")]->setEnabled(cancel);
    m_actions[QStringLiteral("retry")]->setEnabled(retry);
    m_actions[QStringLiteral("remove")]->setEnabled(!ids.isEmpty());
    m_actions[QStringLiteral("copyurl")]->setEnabled(!ids.isEmpty());
    for (const char *name : {"top", "up", "down", "bottom"})
        m_actions[QString::fromLatin1(name)]->setEnabled(queued);
}

void MainWindow::runAction(const QString &action)
{
    for (const QString &id : selectedIds()) {
        const DownloadRow *r = m_session->model().row(id);
        if (!r)
            continue;
        // Only those the action applies to: a bulk pause skips the completed ones silently.
        const bool applies = action == u"pause" ? (r->status == u"pending" || r->status == u"downloading")
                           : action == u"resume" ? r->status == u"paused"
                           : action == u"cancel" ? (!r->isFinished() && r->status != u"processing")
                           : (r->status == u"failed" || r->status == u"cancelled");
        if (!applies)
            continue;
        m_session->api().act(id, action, [this, action, name = r->name](int status, const QJsonObject &, const QString &error) {
            if (status != 200)
                statusBar()->showMessage(tr("%1 of \"%2\" failed: %3").arg(action, name, error), 10000);
        });
    }
}

void MainWindow::runOnAll(const QString &action, const QStringList &fromStatuses)
{
    DownloadListModel &model = m_session->model();
    for (int i = 0; i < model.rowCount(); ++i) {
        const DownloadRow &r = model.rowAt(i);
        if (fromStatuses.contains(r.status))
            m_session->api().act(r.id, action, [](int, const QJsonObject &, const QString &) {});
    }
}

void MainWindow::moveQueue(QueuePlanner::Move move)
{
    DownloadListModel &model = m_session->model();
    QList<QueuePlanner::Entry> entries;
    const QStringList order = model.queueOrder();
    for (const QString &id : order) {
        const DownloadRow *r = model.row(id);
        entries.append({id, r->priority, r->added});
    }
    const QStringList selected = selectedIds();
    const QSet<QString> moved(selected.cbegin(), selected.cend());
    const QStringList wanted = QueuePlanner::reorder(order, moved, move);
    const QHash<QString, int> changes = QueuePlanner::priorities(entries, wanted, moved);
    for (auto it = changes.cbegin(); it != changes.cend(); ++it) {
        m_session->api().setPriority(it.key(), it.value(), [this](int status, const QJsonObject &body, const QString &error) {
            if (status == 200)
                m_session->model().upsertDownload(body); // the new priority, before the event's fetch
            else
                statusBar()->showMessage(tr("The queue was not reordered: %1").arg(error), 10000);
        });
    }
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
        m_session->api().addDownload(r.url, r.filename, [this, url = r.url](int status, const QJsonObject &, const QString &error) {
            if (status != 201)
                QMessageBox::warning(this, tr("Add Downloads"), tr("%1 was not added: %2").arg(url, error));
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

void MainWindow::removeSelected()
{
    const QStringList ids = selectedIds();
    if (ids.isEmpty())
        return;
    const DownloadRow *first = m_session->model().row(ids.first());
    const QString question = ids.size() == 1 && first ? tr("Remove \"%1\" from the list?").arg(first->name)
                                                      : tr("Remove %n download(s) from the list?", nullptr, int(ids.size()));
    QMessageBox box(QMessageBox::Question, tr("Remove Downloads"), question, QMessageBox::Cancel, this);
    QAbstractButton *keep = box.addButton(tr("Remove, keep the files"), QMessageBox::AcceptRole);
    QAbstractButton *wipe = box.addButton(tr("Remove and delete the files"), QMessageBox::DestructiveRole);
    box.exec();
    if (box.clickedButton() != keep && box.clickedButton() != wipe)
        return;
    for (const QString &id : ids) {
        m_session->api().remove(id, box.clickedButton() == wipe, [this](int status, const QJsonObject &, const QString &error) {
            if (status != 204)
                statusBar()->showMessage(tr("Remove failed: %1").arg(error), 10000);
        });
    }
}

void MainWindow::openSettings()
{
    SettingsDialog dialog(m_settings, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    m_settings = dialog.settings();
    m_settings.save();
    m_vault->write(m_settings.apiKey, [this](const QString &error) {
        if (!error.isEmpty())
            QMessageBox::warning(this, tr("Preferences"), tr("The API key was not saved: %1").arg(error));
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
    m_throttle.setPerMinute(m_settings.notificationsPerMinute);
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
                           .arg(l.toString(m.count(QStringLiteral("downloading")) + m.count(QStringLiteral("processing"))),
                                l.toString(m.count(QStringLiteral("pending"))), l.toString(m.count(QStringLiteral("paused"))),
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
    return m_bannerText->text();
}

void MainWindow::refreshBanner()
{
    if (!m_session->isStale()) {
        m_banner->hide();
        m_bannerTimer->stop();
        return;
    }
    const qint64 ms = m_session->msUntilSnapshotRetry();
    m_bannerText->setText(tr("The list may be out of date: loading it failed (%1). %2")
                              .arg(m_session->staleReason(),
                                   ms >= 0 ? tr("Trying again in %1 s.").arg(QLocale().toString((ms + 999) / 1000))
                                           : tr("Trying again now.")));
    m_banner->show();
    if (!m_bannerTimer->isActive())
        m_bannerTimer->start();
}

void MainWindow::addNotification(const QString &type, const QString &message)
{
    auto *item = new QListWidgetItem(QStringLiteral("%1  %2").arg(QLocale().toString(QTime::currentTime(), QLocale::ShortFormat), message));
    item->setIcon(Icons::status(type == u"error" ? QStringLiteral("failed") : type == u"warning" ? QStringLiteral("processing")
                                                                                                  : QStringLiteral("completed")));
    m_notifications->insertItem(0, item);
    while (m_notifications->count() > 500)
        delete m_notifications->takeItem(m_notifications->count() - 1);
    if (m_settings.notifySystem)
        notifyDesktop(tr("Hermes"), message, type == u"error" || type == u"warning");
}

void MainWindow::notifyDesktop(const QString &title, const QString &message, bool warning)
{
    if (!m_tray || !m_throttle.allow(m_clock.elapsed()))
        return;
    const int held = m_throttle.takeSuppressed();
    const QString text = held > 0 ? tr("%1 (and %n more)", nullptr, held).arg(message) : message;
    m_tray->showMessage(title, text, warning ? QSystemTrayIcon::Warning : QSystemTrayIcon::Information);
}

void MainWindow::changeEvent(QEvent *event)
{
    QMainWindow::changeEvent(event);
    // Minimised with "keep in the tray" on: out of the task bar, back from the tray icon.
    if (event->type() == QEvent::WindowStateChange && isMinimized() && m_settings.minimizeToTray && m_tray
        && m_tray->isVisible())
        QTimer::singleShot(0, this, &QWidget::hide);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    QSettings state;
    state.setValue(QStringLiteral("window/geometry"), saveGeometry());
    state.setValue(QStringLiteral("window/state"), saveState());
    state.setValue(QStringLiteral("window/columns"), m_table->horizontalHeader()->saveState());
    if (m_settings.minimizeToTray && m_tray && m_tray->isVisible() && !QApplication::closingDown()) {
        hide();
        event->ignore();
        return;
    }
    QMainWindow::closeEvent(event);
}

} // namespace Hermes
