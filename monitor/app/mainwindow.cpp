#include "mainwindow.h"

#include "apikeyvault.h"
#include "connectionindicator.h"
#include "downloadfiltermodel.h"
#include "progressdelegate.h"
#include "settingsdialog.h"

#include <QAction>
#include <QCloseEvent>
#include <QComboBox>
#include <QDockWidget>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPushButton>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>

namespace Hermes {

MainWindow::MainWindow(MonitorSession *session, const MonitorSettings &settings, QWidget *parent)
    : QMainWindow(parent), m_session(session), m_settings(settings),
      m_proxy(new DownloadFilterModel(this)), m_table(new QTableView(this)),
      m_filter(new QLineEdit(this)), m_statusFilter(new QComboBox(this)), m_summary(new QLabel(this)),
      m_indicator(new ConnectionIndicator(&session->stream(), this)),
      m_notifications(new QListWidget(this)), m_vault(new ApiKeyVault(this))
{
    setWindowTitle(tr("Hermes Monitor"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/hermes-monitor.svg")));
    m_proxy->setSourceModel(&session->model());

    m_table->setModel(m_proxy);
    m_table->setItemDelegateForColumn(DownloadListModel::Progress, new ProgressDelegate(this));
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(DownloadListModel::Added, Qt::DescendingOrder);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(false);
    m_table->horizontalHeader()->setSectionResizeMode(DownloadListModel::Name, QHeaderView::Stretch);
    m_table->setColumnWidth(DownloadListModel::Progress, 160);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);

    m_filter->setPlaceholderText(tr("Filter by name or URL"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, m_proxy, [this](const QString &text) {
        m_proxy->setFilterRegularExpression(QRegularExpression(QRegularExpression::escape(text),
                                                               QRegularExpression::CaseInsensitiveOption));
    });
    m_statusFilter->addItem(tr("All statuses"), QString());
    for (const char *s : {"pending", "downloading", "processing", "paused", "completed", "failed", "cancelled"})
        m_statusFilter->addItem(QString::fromLatin1(s), QString::fromLatin1(s));
    connect(m_statusFilter, &QComboBox::currentIndexChanged, this,
            [this] { m_proxy->setStatusFilter(m_statusFilter->currentData().toString()); });

    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    auto *filters = new QHBoxLayout;
    filters->addWidget(m_filter, 1);
    filters->addWidget(m_statusFilter);
    layout->addLayout(filters);
    layout->addWidget(m_table);
    setCentralWidget(central);

    auto *dock = new QDockWidget(tr("Notifications"), this);
    dock->setObjectName(QStringLiteral("notifications"));
    dock->setWidget(m_notifications);
    addDockWidget(Qt::BottomDockWidgetArea, dock);

    statusBar()->addWidget(m_summary, 1);
    statusBar()->addPermanentWidget(m_indicator);
    connect(m_indicator, &ConnectionIndicator::reconnectRequested, this, [this] { m_session->stream().reconnectNow(); });
    connect(&session->stream(), &EventStreamClient::eventReceived, this,
            [this] { m_indicator->setLastEventTime(m_session->lastEventTime()); });

    buildActions();
    connect(m_table, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        QMenu menu(this);
        for (const char *name : {"pause", "resume", "cancel", "retry", "remove"})
            menu.addAction(m_actions.value(QString::fromLatin1(name)));
        menu.exec(m_table->viewport()->mapToGlobal(pos));
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, &MainWindow::updateActions);
    connect(&session->model(), &QAbstractItemModel::dataChanged, this, &MainWindow::updateActions);
    connect(session, &MonitorSession::summaryChanged, this, &MainWindow::showSummary);
    connect(session, &MonitorSession::notificationReceived, this, &MainWindow::addNotification);
    connect(session, &MonitorSession::errorOccurred, this, [this](const QString &message) {
        statusBar()->showMessage(message, 10000);
    });

    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        m_tray = new QSystemTrayIcon(windowIcon(), this);
        m_tray->setToolTip(windowTitle());
        m_tray->show();
        connect(session, &MonitorSession::downloadFinished, this, [this](const QString &name, bool ok) {
            m_tray->showMessage(ok ? tr("Download completed") : tr("Download failed"), name,
                                ok ? QSystemTrayIcon::Information : QSystemTrayIcon::Warning);
        });
    }
    showSummary({});
    QSettings state;
    if (!restoreGeometry(state.value(QStringLiteral("window/geometry")).toByteArray()))
        resize(1100, 640);
    restoreState(state.value(QStringLiteral("window/state")).toByteArray());
    m_table->horizontalHeader()->restoreState(state.value(QStringLiteral("window/columns")).toByteArray());
    applySettings();
    updateActions();
}

void MainWindow::buildActions()
{
    QToolBar *bar = addToolBar(tr("Queue"));
    bar->setObjectName(QStringLiteral("queue"));
    auto add = [&](const char *name, const QString &text, QKeySequence shortcut, auto slot) {
        auto *a = new QAction(text, this);
        a->setShortcut(shortcut);
        connect(a, &QAction::triggered, this, slot);
        bar->addAction(a);
        m_actions.insert(QString::fromLatin1(name), a);
    };
    add("add", tr("Add URL…"), QKeySequence::New, [this] { addUrl(); });
    add("pause", tr("Pause"), QKeySequence(), [this] { runAction(QStringLiteral("pause")); });
    add("resume", tr("Resume"), QKeySequence(), [this] { runAction(QStringLiteral("resume")); });
    add("cancel", tr("Cancel"), QKeySequence(), [this] { runAction(QStringLiteral("cancel")); });
    add("retry", tr("Retry"), QKeySequence(), [this] { runAction(QStringLiteral("retry")); });
    add("remove", tr("Remove"), QKeySequence::Delete, [this] { removeSelected(); });
    bar->addSeparator();
    add("settings", tr("Settings…"), QKeySequence::Preferences, [this] { openSettings(); });
}

QAction *MainWindow::action(const QString &name) const
{
    return m_actions.value(name);
}

QString MainWindow::selectedId() const
{
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : rows.first().data(DownloadListModel::IdRole).toString();
}

void MainWindow::select(const QString &id)
{
    for (int r = 0; r < m_proxy->rowCount(); ++r) {
        if (m_proxy->index(r, 0).data(DownloadListModel::IdRole).toString() == id) {
            m_table->selectRow(r);
            return;
        }
    }
}

void MainWindow::updateActions()
{
    const DownloadRow *row = m_session->model().row(selectedId());
    const QString status = row ? row->status : QString();
    m_actions[QStringLiteral("pause")]->setEnabled(status == u"pending" || status == u"downloading");
    m_actions[QStringLiteral("resume")]->setEnabled(status == u"paused");
    m_actions[QStringLiteral("cancel")]->setEnabled(row && status != u"completed" && status != u"cancelled" && status != u"processing");
    m_actions[QStringLiteral("retry")]->setEnabled(status == u"failed" || status == u"cancelled");
    m_actions[QStringLiteral("remove")]->setEnabled(row != nullptr);
}

void MainWindow::runAction(const QString &name)
{
    const QString id = selectedId();
    if (id.isEmpty())
        return;
    m_session->api().act(id, name, [this, name](int status, const QJsonObject &, const QString &error) {
        if (status != 200)
            statusBar()->showMessage(tr("%1 failed: %2").arg(name, error), 10000);
    });
}

void MainWindow::addUrl()
{
    bool ok = false;
    const QString url = QInputDialog::getText(this, tr("Add URL"), tr("URL to download:"), QLineEdit::Normal, {}, &ok);
    if (!ok || url.trimmed().isEmpty())
        return;
    m_session->api().addDownload(url.trimmed(), {}, [this](int status, const QJsonObject &, const QString &error) {
        if (status != 201)
            QMessageBox::warning(this, tr("Add URL"), tr("The download was not added: %1").arg(error));
    });
}

void MainWindow::removeSelected()
{
    const QString id = selectedId();
    const DownloadRow *row = m_session->model().row(id);
    if (!row)
        return;
    QMessageBox box(QMessageBox::Question, tr("Remove download"),
                    tr("Remove \"%1\" from the list?").arg(row->name), QMessageBox::Cancel, this);
    QAbstractButton *keep = box.addButton(tr("Remove, keep the file"), QMessageBox::AcceptRole);
    QAbstractButton *wipe = box.addButton(tr("Remove and delete the file"), QMessageBox::DestructiveRole);
    box.exec();
    if (box.clickedButton() != keep && box.clickedButton() != wipe)
        return;
    m_session->api().remove(id, box.clickedButton() == wipe, [this](int status, const QJsonObject &, const QString &error) {
        if (status != 204)
            statusBar()->showMessage(tr("Remove failed: %1").arg(error), 10000);
    });
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
            QMessageBox::warning(this, tr("Settings"), tr("The API key was not saved: %1").arg(error));
    });
    applySettings();
    m_session->stream().reconnectNow();
}

void MainWindow::applySettings()
{
    m_session->setServer(m_settings.server);
    m_session->setApiKey(m_settings.apiKey);
    m_session->stream().backoff().setBaseMs(m_settings.backoffBaseMs);
    m_session->stream().backoff().setCapMs(m_settings.backoffCapMs);
    m_session->stream().backoff().setMaxAttempts(m_settings.maxAttempts);
}

QString MainWindow::summaryText() const
{
    return m_summary->text();
}

void MainWindow::showSummary(const QJsonObject &summary)
{
    m_summary->setText(tr("Active: %1 · Queued: %2 · Total speed: %3/s")
                           .arg(summary.value(QStringLiteral("active")).toInt())
                           .arg(summary.value(QStringLiteral("queued")).toInt())
                           .arg(DownloadListModel::formatBytes(summary.value(QStringLiteral("total_speed")).toDouble())));
}

void MainWindow::addNotification(const QString &type, const QString &message)
{
    auto *item = new QListWidgetItem(QStringLiteral("%1  %2").arg(QTime::currentTime().toString(), message));
    item->setForeground(type == u"error" ? QColor(0xcf, 0x22, 0x2e) : type == u"warning" ? QColor(0x9a, 0x67, 0x00) : palette().text().color());
    m_notifications->insertItem(0, item);
    while (m_notifications->count() > 500)
        delete m_notifications->takeItem(m_notifications->count() - 1);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    QSettings state;
    state.setValue(QStringLiteral("window/geometry"), saveGeometry());
    state.setValue(QStringLiteral("window/state"), saveState());
    state.setValue(QStringLiteral("window/columns"), m_table->horizontalHeader()->saveState());
    QMainWindow::closeEvent(event);
}

} // namespace Hermes
