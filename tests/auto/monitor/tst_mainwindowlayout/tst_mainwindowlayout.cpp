// The monitor window's layout and keyboard (offscreen), against a scripted server: columns as
// wide as their content in English and German, Speed and ETA visible at 900 × 600, the filter
// reachable with Ctrl+F at that width, the details pane never taking rows from the table (and
// its height remembered), the shortcuts in the menus and Space on the table, context menus
// without disabled items, Enter opening Details or a finished download's folder, the free
// space readout, a rejected key opening Preferences, Reconnect only while not connected.

#include "connectionindicator.h"
#include "detailspane.h"
#include "freespacelabel.h"
#include "mainwindow.h"
#include "scriptedserver.h"

#include <QAction>
#include <QDesktopServices>
#include <QDockWidget>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QStandardPaths>
#include <QStyle>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTranslator>

using namespace Hermes;
using namespace Hermes::Test;

namespace {

const QByteArray Rows[] = {
    R"({"id":"done","url":"http://f/done.iso","filename":"done.iso","status":"completed","priority":0,"created_at":"2026-01-01T00:00:00.000Z","updated_at":"2026-01-01T00:00:01.000Z","completed_at":"2026-01-01T00:00:01.000Z"})",
    R"({"id":"busy","url":"http://f/busy.iso","filename":"busy.iso","status":"downloading","priority":0,"created_at":"2026-01-01T00:00:02.000Z","updated_at":"2026-01-01T00:00:02.000Z"})",
    R"({"id":"held","url":"http://f/held.iso","filename":"held.iso","status":"paused","priority":0,"created_at":"2026-01-01T00:00:03.000Z","updated_at":"2026-01-01T00:00:03.000Z"})",
};

ScriptedServer::Response json(const QByteArray &body)
{
    return {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: "
                + QByteArray::number(body.size()),
            {body}, false, true};
}

/// A hermes-server as far as the monitor asks: the stream (connected, then quiet), the list
/// with the download directory and its free space, one download, and bulk actions.
/// `streams`: how many streams it opens; later ones are turned away (503).
ScriptedServer::Script serverWith(const QString &downloadDir, int streams = 1000)
{
    return [downloadDir, streams](int, const QByteArray &request) mutable {
        if (request.startsWith("GET /api/v1/events/stream")) {
            if (streams-- <= 0)
                return ScriptedServer::status(503, "Retry-After: 30");
            return ScriptedServer::eventStream({"event: connected\ndata: {\"heartbeat_interval\":30}\n\n"}, false);
        }
        if (request.startsWith("POST "))
            return json(R"({"changed":[],"skipped":[],"more":false})");
        for (const QByteArray &row : Rows) {
            if (request.startsWith("GET /api/v1/downloads/" + row.mid(7, 4) + ' '))
                return json(row);
        }
        QByteArray items;
        for (const QByteArray &row : Rows)
            items += (items.isEmpty() ? "" : ",") + row;
        return json(R"({"download_dir":")" + downloadDir.toUtf8() + R"(","download_dir_free_bytes":1073741824,"items":[)"
                    + items + R"(],"limit":1000,"next_offset":null,"offset":0,"total":3})");
    };
}

MonitorSettings settingsFor(const QString &base)
{
    MonitorSettings s;
    s.server = QUrl(base);
    s.apiKey = "key";
    s.backoffBaseMs = 200;
    s.backoffCapMs = 200;
    s.maxAttempts = 3;
    return s;
}

/// Whether a column lies wholly inside the table's viewport (no scrolling needed to read it).
bool whollyVisible(const QTableView *table, int column)
{
    const QHeaderView *h = table->horizontalHeader();
    const int x = h->sectionViewportPosition(column);
    return !h->isSectionHidden(column) && x >= 0 && x + h->sectionSize(column) <= table->viewport()->width();
}

} // namespace

class tst_MainWindowLayout : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear(); // no window state of an earlier run
    }
    void init() { QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedStates)); }
    void cleanup() { QSettings().clear(); }
    void columnsFitTheirContent_data();
    void columnsFitTheirContent();
    void columnsAreKeptForTheNextStart();
    void anUnsizedNameFitsTheWindowAtEveryStart();
    void filterIsReachableAtAnyWidth();
    void detailsPaneKeepsTheTableHeight();
    void detailsShowEveryFieldOnATallWindow();
    void shortcutsAreInTheMenus();
    void spaceAndEnterOnTheTable();
    void contextMenuHasOnlyWhatApplies();
    void freeSpaceAndTheFinishedFilesFolder();
    void rejectedKeyOpensPreferences();
    void reconnectOnlyWhileNotConnected();
};

void tst_MainWindowLayout::columnsFitTheirContent_data()
{
    QTest::addColumn<bool>("german");
    QTest::newRow("English") << false;
    QTest::newRow("German") << true;
}

void tst_MainWindowLayout::columnsFitTheirContent()
{
    QFETCH(bool, german);
    QTranslator translator;
    if (german) {
        QVERIFY(translator.load(QStringLiteral(HERMES_MONITOR_QM)));
        QCoreApplication::installTranslator(&translator);
        QLocale::setDefault(QLocale(QLocale::German, QLocale::Germany));
    }
    MonitorSession session;
    session.model().mergeSnapshot({QJsonDocument::fromJson(Rows[0]).object(), QJsonDocument::fromJson(Rows[1]).object(),
                                   QJsonDocument::fromJson(Rows[2]).object()});
    // The long Status texts: a phase, a retry's countdown, a failure's reason.
    const auto withPhase = [](const QString &id, DownloadStatus status, std::optional<DownloadPhase> phase) {
        DownloadResource d;
        d.id = id;
        d.url = QStringLiteral("http://f/") + id;
        d.status = ReceivedStatus::of(status);
        if (phase)
            d.phase = DownloadPhaseInfo::of(*phase);
        return d;
    };
    DownloadResource waiting = withPhase("waiting", DownloadStatus::Downloading, DownloadPhase::WaitingForConnection);
    DownloadResource retrying = withPhase("retrying", DownloadStatus::Pending, DownloadPhase::Retrying);
    retrying.phase->attempt = 5;
    retrying.phase->maxAttempts = 5;
    retrying.phase->nextAttemptAt = QDateTime::currentDateTimeUtc().addSecs(59 * 60 + 59);
    DownloadResource failed = withPhase("failed", DownloadStatus::Failed, std::nullopt);
    failed.errorMessage = QStringLiteral("checksum mismatch");
    session.model().insertDownloads({waiting, retrying, failed});
    MainWindow window(&session, settingsFor(QStringLiteral("http://127.0.0.1:1")));
    window.resize(900, 600);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QTableView *table = window.table();
    QHeaderView *header = table->horizontalHeader();
    // Status texts are not cut, with their icon beside them: the words always, and the phases
    // and reasons ("Retrying 5/5 in 59 min 59 s") where the window leaves room for them
    // beside a readable Name, Speed and ETA (from 1,100 px; at 900 px Name comes first).
    const int icon = table->style()->pixelMetric(QStyle::PM_SmallIconSize, nullptr, table);
    QCOMPARE(table->model()->rowCount(), 6);
    const auto statusFits = [&](bool words) -> bool {
        for (int r = 0; r < table->model()->rowCount(); ++r) {
            const QModelIndex cell = table->model()->index(r, DownloadListModel::Status);
            const DownloadRow *row = session.model().row(cell.data(DownloadListModel::IdRole).toString());
            if (!row)
                return false;
            const QString status = words ? DownloadListModel::statusText(row->status) : cell.data().toString();
            if (table->fontMetrics().horizontalAdvance(status) + icon + 8 > header->sectionSize(DownloadListModel::Status)) {
                qWarning("%s: %d px wide", qPrintable(status), header->sectionSize(DownloadListModel::Status));
                return false;
            }
        }
        return true;
    };
    QVERIFY(statusFits(true));
    QVERIFY(header->sectionSize(DownloadListModel::Status) <= 260);
    if (german) {
        // "Geschwindigkeit" took 136 px at 900 px, most of what Name had; the short word, and
        // the long one in the tooltip ("Geschw.", as German download managers abbreviate it).
        QCOMPARE(table->model()->headerData(DownloadListModel::Speed, Qt::Horizontal).toString(), QStringLiteral("Geschw."));
        QCOMPARE(table->model()->headerData(DownloadListModel::Speed, Qt::Horizontal, Qt::ToolTipRole).toString(),
                 QStringLiteral("Download-Geschwindigkeit"));
    }
    // Every header reads in full (with the sort arrow), in either language.
    for (int c = 0; c < header->count(); ++c) {
        if (!header->isSectionHidden(c))
            QVERIFY2(header->sectionSize(c) >= header->sectionSizeHint(c),
                     qPrintable(QStringLiteral("%1: %2 < %3").arg(table->model()->headerData(c, Qt::Horizontal).toString())
                                    .arg(header->sectionSize(c)).arg(header->sectionSizeHint(c))));
    }
    // The place in the queue fits six digits with the group separator.
    const QString sixDigits = QLocale().toString(100000);
    QCOMPARE(sixDigits, german ? QStringLiteral("100.000") : QStringLiteral("100,000"));
    QVERIFY(header->sectionSize(DownloadListModel::Position) >= table->fontMetrics().horizontalAdvance(sixDigits) + 12);
    // Speed and ETA before Added, and readable without scrolling at 900 × 600.
    QVERIFY(header->visualIndex(DownloadListModel::Speed) < header->visualIndex(DownloadListModel::Added));
    QVERIFY(header->visualIndex(DownloadListModel::Eta) < header->visualIndex(DownloadListModel::Added));
    QString widths = QStringLiteral("viewport %1:").arg(table->viewport()->width());
    for (int v = 0; v < header->count(); ++v) {
        const int c = header->logicalIndex(v);
        if (!header->isSectionHidden(c))
            widths += QStringLiteral(" %1=%2").arg(table->model()->headerData(c, Qt::Horizontal).toString()).arg(header->sectionSize(c));
    }
    QTRY_VERIFY2_WITH_TIMEOUT(whollyVisible(table, DownloadListModel::Speed), qPrintable(widths), 2000);
    QVERIFY2(whollyVisible(table, DownloadListModel::Eta), qPrintable(widths));
    QVERIFY2(whollyVisible(table, DownloadListModel::Status), qPrintable(widths));
    // Name readable at 900 px: in English a long name's 24 characters, not the 12 that the
    // Status's long texts left it; in German, beside its longer words, 18.
    const int longName = table->fontMetrics().horizontalAdvance(QString(24, u'x'));
    const int readable = table->fontMetrics().horizontalAdvance(QString(german ? 18 : 24, u'x'));
    QVERIFY2(header->sectionSize(DownloadListModel::Name) >= readable, qPrintable(widths));
    QVERIFY2(whollyVisible(table, DownloadListModel::Name), qPrintable(widths));
    window.resize(1100, 600);
    QTRY_VERIFY_WITH_TIMEOUT(statusFits(false), 2000);
    QVERIFY(whollyVisible(table, DownloadListModel::Eta));
    QVERIFY(header->sectionSize(DownloadListModel::Name) >= longName);
    // Name is the user's to size: narrower than it was fitted, and it stays so.
    QCOMPARE(header->sectionResizeMode(DownloadListModel::Name), QHeaderView::Interactive);
    QVERIFY(!header->stretchLastSection());
    header->resizeSection(DownloadListModel::Name, 90);
    window.resize(1000, 650);
    QTest::qWait(50);
    QCOMPARE(header->sectionSize(DownloadListModel::Name), 90);
    QCoreApplication::removeTranslator(&translator);
}

void tst_MainWindowLayout::columnsAreKeptForTheNextStart()
{
    {
        MonitorSession session;
        MainWindow window(&session, settingsFor(QStringLiteral("http://127.0.0.1:1")));
        window.resize(900, 600);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.table()->horizontalHeader()->resizeSection(DownloadListModel::Name, 150);
        window.table()->setColumnHidden(DownloadListModel::Size, true);
        window.close();
    }
    MonitorSession session;
    MainWindow again(&session, settingsFor(QStringLiteral("http://127.0.0.1:1")));
    again.resize(1400, 800); // wider: a saved Name is not refitted
    again.show();
    QVERIFY(QTest::qWaitForWindowExposed(&again));
    QTest::qWait(50);
    QHeaderView *header = again.table()->horizontalHeader();
    QCOMPARE(header->sectionSize(DownloadListModel::Name), 150);
    QVERIFY(header->isSectionHidden(DownloadListModel::Size));
    QCOMPARE(header->sectionResizeMode(DownloadListModel::Name), QHeaderView::Interactive);
    QVERIFY(header->visualIndex(DownloadListModel::Speed) < header->visualIndex(DownloadListModel::Added));
}

void tst_MainWindowLayout::anUnsizedNameFitsTheWindowAtEveryStart()
{
    int fitted = 0;
    {
        MonitorSession session;
        MainWindow window(&session, settingsFor(QStringLiteral("http://127.0.0.1:1")));
        window.resize(900, 600);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.table()->setColumnHidden(DownloadListModel::Size, true); // the header is saved
        QTest::qWait(50);
        fitted = window.table()->horizontalHeader()->sectionSize(DownloadListModel::Name);
        window.close();
    }
    QVERIFY(!QSettings().value(QStringLiteral("window/header")).toByteArray().isEmpty());
    // The saved header has Name's fitted width; the user never sized it, so it fits again:
    // 500 px wider, less what Status takes back for its long texts.
    MonitorSession session;
    MainWindow again(&session, settingsFor(QStringLiteral("http://127.0.0.1:1")));
    again.resize(1400, 800);
    again.show();
    QVERIFY(QTest::qWaitForWindowExposed(&again));
    QHeaderView *header = again.table()->horizontalHeader();
    QVERIFY(header->isSectionHidden(DownloadListModel::Size));
    QTRY_VERIFY2_WITH_TIMEOUT(header->sectionSize(DownloadListModel::Name) >= fitted + 300,
                              qPrintable(QStringLiteral("%1 then %2").arg(fitted).arg(header->sectionSize(DownloadListModel::Name))),
                              2000);
}

void tst_MainWindowLayout::filterIsReachableAtAnyWidth()
{
    MonitorSession session;
    MainWindow window(&session, settingsFor(QStringLiteral("http://127.0.0.1:1")));
    window.resize(900, 600);
    window.show();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QLineEdit *filter = window.filter();
    QVERIFY(filter->isVisible()); // not in an overflow menu
    QVERIFY(window.rect().contains(QRect(filter->mapTo(&window, QPoint(0, 0)), filter->size())));
    QVERIFY(filter->width() >= 150);
    window.table()->setFocus();
    QTest::keyClick(window.table(), Qt::Key_F, Qt::ControlModifier);
    QTRY_VERIFY_WITH_TIMEOUT(filter->hasFocus(), 2000);
    QTest::keyClicks(filter, QStringLiteral("iso "));
    QCOMPARE(filter->text(), QStringLiteral("iso ")); // the space is typed, not Pause or Resume
}

void tst_MainWindowLayout::detailsPaneKeepsTheTableHeight()
{
    int dockHeight = 0;
    {
        MonitorSession session;
        session.model().mergeSnapshot({QJsonDocument::fromJson(Rows[1]).object(), QJsonDocument::fromJson(Rows[2]).object()});
        MainWindow window(&session, settingsFor(QStringLiteral("http://127.0.0.1:1")));
        window.resize(900, 600);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QTest::qWait(50);
        const int before = window.table()->height();
        QVERIFY2(before >= 8 * window.table()->verticalHeader()->defaultSectionSize(), qPrintable(QString::number(before)));
        window.select(QStringLiteral("busy")); // the pane's fields appear
        QTRY_COMPARE_WITH_TIMEOUT(window.details()->shownId(), QStringLiteral("busy"), 2000);
        QTest::qWait(50);
        QCOMPARE(window.table()->height(), before);
        window.selectIds({});
        QTest::qWait(50);
        QCOMPARE(window.table()->height(), before);
        // The operator's own split is kept for the next start.
        window.resizeDocks({window.detailsDock()}, {120}, Qt::Vertical);
        QTest::qWait(50);
        dockHeight = window.detailsDock()->height();
        window.close();
    }
    MonitorSession session;
    MainWindow again(&session, settingsFor(QStringLiteral("http://127.0.0.1:1")));
    again.show();
    QVERIFY(QTest::qWaitForWindowExposed(&again));
    QTRY_COMPARE_WITH_TIMEOUT(again.detailsDock()->height(), dockHeight, 2000);
}

// On a first start at 1600 × 1000 the details dock holds every field, no scrolling (a third of
// the window has room for them); at 900 × 600 it keeps its few fields' height. Neither changes
// when a row is selected.
void tst_MainWindowLayout::detailsShowEveryFieldOnATallWindow()
{
    for (const QSize size : {QSize(1600, 1000), QSize(900, 600)}) {
        QSettings().clear();
        MonitorSession session;
        session.model().mergeSnapshot({QJsonDocument::fromJson(Rows[1]).object(), QJsonDocument::fromJson(Rows[2]).object()});
        MainWindow window(&session, settingsFor(QStringLiteral("http://127.0.0.1:1")));
        window.resize(size);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QTest::qWait(50);
        const int tableHeight = window.table()->height();
        window.select(QStringLiteral("busy"));
        QTRY_COMPARE_WITH_TIMEOUT(window.details()->shownId(), QStringLiteral("busy"), 2000);
        QTest::qWait(50);
        QCOMPARE(window.table()->height(), tableHeight);
        const auto *scroll = qobject_cast<QScrollArea *>(window.detailsDock()->widget());
        QVERIFY(scroll);
        const bool everyField = scroll->verticalScrollBar()->maximum() == 0;
        QVERIFY2(everyField == (size.height() == 1000),
                 qPrintable(QStringLiteral("%1x%2: pane %3 px in a %4 px viewport").arg(size.width()).arg(size.height())
                                .arg(window.details()->height()).arg(scroll->viewport()->height())));
        window.close();
    }
}

void tst_MainWindowLayout::shortcutsAreInTheMenus()
{
    MonitorSession session;
    MainWindow window(&session, settingsFor(QStringLiteral("http://127.0.0.1:1")));
    QList<QAction *> inMenus;
    for (QAction *top : window.menuBar()->actions()) {
        if (top->menu())
            inMenus += top->menu()->actions();
    }
    const QList<QPair<const char *, QKeySequence>> expected{
        {"pause", QKeySequence(Qt::CTRL | Qt::Key_P)},        {"resume", QKeySequence(Qt::CTRL | Qt::Key_S)},
        {"cancel", QKeySequence(Qt::CTRL | Qt::Key_K)},       {"retry", QKeySequence(Qt::CTRL | Qt::Key_T)},
        {"pauseall", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P)},
        {"resumeall", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S)},
        {"pauseresume", QKeySequence(Qt::Key_Space)},         {"remove", QKeySequence(QKeySequence::Delete)},
        {"selectall", QKeySequence(QKeySequence::SelectAll)}, {"refresh", QKeySequence(QKeySequence::Refresh)},
        {"find", QKeySequence(QKeySequence::Find)},           {"reconnect", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F5)},
    };
    QSet<QKeySequence> seen;
    for (const auto &[name, key] : expected) {
        QAction *a = window.action(QString::fromLatin1(name));
        QVERIFY2(a, name);
        QCOMPARE(a->shortcut(), key);
        QVERIFY2(inMenus.contains(a), name); // listed, with its key, in a menu
        QVERIFY2(!seen.contains(key), name); // no key does two things
        seen.insert(key);
    }
    QVERIFY(QKeySequence::keyBindings(QKeySequence::Refresh).contains(QKeySequence(Qt::Key_F5)));
    QVERIFY(window.action("details")->text().endsWith(u"\tReturn"));
    QVERIFY(inMenus.contains(window.action("details")));
}

void tst_MainWindowLayout::spaceAndEnterOnTheTable()
{
    ScriptedServer server(serverWith(QStringLiteral("/nonexistent")));
    MonitorSession session;
    MainWindow window(&session, settingsFor(server.url(QString())));
    window.show();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(session.model().rowCount(), 3, 10000);
    const auto bulk = [&](const char *action) {
        for (int i = 0; i < server.requests().size(); ++i) {
            if (server.requests().at(i).startsWith("POST /api/v1/downloads/actions") && server.requestBody(i).contains(action))
                return true;
        }
        return false;
    };
    // Space pauses what runs, and resumes what is paused.
    window.select(QStringLiteral("busy"));
    window.table()->setFocus();
    QTRY_VERIFY_WITH_TIMEOUT(window.action("pauseresume")->isEnabled(), 2000);
    QTest::keyClick(window.table(), Qt::Key_Space);
    QTRY_VERIFY_WITH_TIMEOUT(bulk("\"pause\""), 5000);
    window.select(QStringLiteral("held"));
    QTest::keyClick(window.table(), Qt::Key_Space);
    QTRY_VERIFY_WITH_TIMEOUT(bulk("\"resume\""), 5000);
    // Enter on a row brings its details forward (the dock was closed).
    window.detailsDock()->hide();
    window.table()->setCurrentIndex(window.table()->model()->index(0, 1));
    QTest::keyClick(window.table(), Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(window.detailsDock()->isVisible(), 2000);
}

void tst_MainWindowLayout::contextMenuHasOnlyWhatApplies()
{
    MonitorSession session;
    session.model().mergeSnapshot({QJsonDocument::fromJson(Rows[0]).object(), QJsonDocument::fromJson(Rows[1]).object()});
    MainWindow window(&session, settingsFor(QStringLiteral("http://127.0.0.1:1")));
    window.select(QStringLiteral("done"));
    QMenu *menu = window.contextMenu();
    QStringList texts;
    for (QAction *a : menu->actions()) {
        QVERIFY2(a->isSeparator() || a->isEnabled(), qPrintable(a->text()));
        texts.append(a->text());
    }
    QVERIFY(!menu->actions().contains(window.action("pause"))); // a finished download
    QVERIFY(menu->actions().contains(window.action("remove")));
    QVERIFY(menu->actions().contains(window.action("copyurl")));
    QVERIFY(!menu->actions().constFirst()->isSeparator());
    QVERIFY(!menu->actions().constLast()->isSeparator());
    delete menu;
    window.select(QStringLiteral("busy"));
    menu = window.contextMenu();
    QVERIFY(menu->actions().contains(window.action("pause")));
    QVERIFY(!menu->actions().contains(window.action("resume")));
    delete menu;
}

class UrlCatcher : public QObject
{
    Q_OBJECT
public:
    QList<QUrl> opened;
public slots:
    void open(const QUrl &url) { opened.append(url); }
};

void tst_MainWindowLayout::freeSpaceAndTheFinishedFilesFolder()
{
    QTemporaryDir dir;
    ScriptedServer server(serverWith(dir.path()));
    MonitorSession session;
    MainWindow window(&session, settingsFor(server.url(QString())));
    window.show();
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(window.freeSpace()->text(), QStringLiteral("Free: 1.0 GiB"), 10000);
    QVERIFY(window.freeSpace()->isVisible());
    QVERIFY(window.freeSpace()->toolTip().contains(dir.path()));
    QVERIFY(window.freeSpace()->isDirHere()); // 127.0.0.1, and the directory exists here
    QTRY_COMPARE_WITH_TIMEOUT(session.model().rowCount(), 3, 10000);

    UrlCatcher catcher;
    QDesktopServices::setUrlHandler(QStringLiteral("file"), &catcher, "open");
    const auto indexOf = [&](const QString &id) {
        const QModelIndex source = session.model().index(session.model().rowOf(id), DownloadListModel::Name);
        for (int r = 0; r < window.table()->model()->rowCount(); ++r) {
            const QModelIndex i = window.table()->model()->index(r, DownloadListModel::Name);
            if (i.data(DownloadListModel::IdRole) == source.data(DownloadListModel::IdRole))
                return i;
        }
        return QModelIndex();
    };
    Q_EMIT window.table()->activated(indexOf(QStringLiteral("done"))); // a double click or Enter
    QCOMPARE(catcher.opened, QList<QUrl>{QUrl::fromLocalFile(dir.path())});
    window.detailsDock()->hide();
    Q_EMIT window.table()->activated(indexOf(QStringLiteral("busy"))); // not finished: its details
    QCOMPARE(catcher.opened.size(), 1);
    QVERIFY(window.detailsDock()->isVisible());
    QDesktopServices::unsetUrlHandler(QStringLiteral("file"));
}

void tst_MainWindowLayout::rejectedKeyOpensPreferences()
{
    ScriptedServer rejecting([](int, const QByteArray &) { return ScriptedServer::status(401); });
    MonitorSession session;
    MainWindow window(&session, settingsFor(rejecting.url(QString())));
    window.show();
    session.start();
    QTRY_VERIFY_WITH_TIMEOUT(window.settingsDialog() && window.settingsDialog()->isVisible(), 10000);
    QVERIFY2(window.settingsDialog()->problem().contains(u"rejected the API key"), qPrintable(window.settingsDialog()->problem()));
    QCOMPARE(window.findChildren<SettingsDialog *>().size(), 1);
    window.settingsDialog()->reject();
}

void tst_MainWindowLayout::reconnectOnlyWhileNotConnected()
{
    ScriptedServer server(serverWith(QStringLiteral("/nonexistent"), 1));
    MonitorSession session;
    MainWindow window(&session, settingsFor(server.url(QString())));
    window.show();
    QVERIFY(window.action("reconnect")->isEnabled()); // not connected yet
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(window.indicator()->look(), ConnectionIndicator::Look::Connected, 10000);
    QVERIFY(!window.action("reconnect")->isEnabled());
    QVERIFY(!window.indicator()->reconnectVisible());
    server.dropConnections();
    QTRY_VERIFY_WITH_TIMEOUT(window.indicator()->look() != ConnectionIndicator::Look::Connected, 10000);
    QVERIFY(window.action("reconnect")->isEnabled());
    QVERIFY(window.indicator()->reconnectVisible());
}

QTEST_MAIN(tst_MainWindowLayout)
#include "tst_mainwindowlayout.moc"
