// The monitor window (offscreen) against the real hermes-server: the connection indicator in
// every state, bulk and queue actions reaching the server, the sidebar's live counts and
// filter, the details pane, the columns menu; and against a scripted server: the stale banner
// and dimmed rows. The add dialog's checks, and the German translation's completeness.

#include "adddialog.h"
#include "connectionindicator.h"
#include "detailspane.h"
#include "fileserver.h"
#include "mainwindow.h"
#include "progressdelegate.h"
#include "scriptedserver.h"
#include "serverprocess.h"
#include "statussidebar.h"
#include "testutil.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QFile>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QStandardPaths>
#include <QTableView>
#include <QPainter>
#include <QTest>
#include <QTranslator>

using namespace Hermes;
using namespace Hermes::Test;
using Look = ConnectionIndicator::Look;

static const QByteArray Auth = QByteArray("Bearer ") + ServerProcess::ApiKey;

class tst_MainWindow : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedStates));
    }
    void indicatorFollowsTheConnection();
    void indicatorKeepsTryingAndSaysSo();
    void bulkAndQueueActionsReachTheServer();
    void sidebarCountsAndFilters();
    void staleBannerAndDimmedRows();
    void columnsCanBeHidden();
    void addDialogChecksItsInput();
    void menusHaveTheStandardKeys();
    void germanTranslationIsComplete();
    void progressBarFollowsTheLayoutDirection();

private:
    static MonitorSettings settingsFor(const QString &base)
    {
        MonitorSettings s;
        s.server = QUrl(base);
        s.apiKey = ServerProcess::ApiKey;
        s.backoffBaseMs = 200;
        s.backoffCapMs = 200;
        s.maxAttempts = 3;
        return s;
    }
    static QString add(ServerProcess &server, const QString &url)
    {
        const HttpReply r = httpRequest(server.port(), "POST", "/api/v1/downloads", {{"Authorization", Auth}},
                                        QJsonDocument(QJsonObject{{"url", url}}).toJson());
        return QJsonDocument::fromJson(r.body).object().value("id").toString();
    }
    static QString serverStatus(ServerProcess &server, const QString &id)
    {
        return QJsonDocument::fromJson(httpRequest(server.port(), "GET", "/api/v1/downloads/" + id.toUtf8(),
                                                   {{"Authorization", Auth}}).body)
            .object().value("status").toString();
    }
};

void tst_MainWindow::indicatorFollowsTheConnection()
{
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    MonitorSession session;
    MainWindow window(&session, settingsFor(server.baseUrl()));
    window.show();
    session.start();
    ConnectionIndicator *indicator = window.indicator();
    QTRY_COMPARE_WITH_TIMEOUT(indicator->text(), QStringLiteral("Connected"), 10000);
    QCOMPARE(indicator->look(), Look::Connected);
    QCOMPARE(indicator->color(), QColor(0x2e, 0xa0, 0x43));
    QVERIFY(!indicator->reconnectVisible()); // nothing to reconnect
    QVERIFY(indicator->toolTipText().contains(server.baseUrl()));
    QVERIFY(indicator->toolTipText().contains(u"Heartbeat: every 30 s")); // learned from the server
    QCOMPARE(indicator->accessibleDescription(), QStringLiteral("Connected"));

    QStringList shown;
    QList<Look> looks;
    connect(&session.stream(), &EventStreamClient::stateChanged, this, [&] {
        shown.append(indicator->text());
        looks.append(indicator->look());
    });
    server.kill();
    QTRY_COMPARE_WITH_TIMEOUT(indicator->look(), Look::Disconnected, 20000);
    QVERIFY2(shown.value(0).startsWith(u"Reconnecting… (attempt 1 of 3), next try in"), qPrintable(shown.join(u'|')));
    QVERIFY(std::any_of(shown.cbegin(), shown.cend(), [](const QString &s) { return s.startsWith(u"Reconnecting… (attempt 3 of 3)"); }));
    QCOMPARE(looks.first(), Look::Reconnecting);
    QCOMPARE(indicator->text(), QStringLiteral("Disconnected: gave up after 3 attempts"));
    QCOMPARE(indicator->color(), QColor(0xcf, 0x22, 0x2e));
    QVERIFY(indicator->reconnectVisible());
    QVERIFY(indicator->toolTipText().contains(u"Last error"));
    // Speeds are not shown as if live while disconnected.
    QVERIFY(window.summaryText().contains(u"Total speed: unknown"));

    QVERIFY2(server.start(), qPrintable(server.errorString()));
    Q_EMIT indicator->reconnectRequested(); // the Reconnect button
    QTRY_COMPARE_WITH_TIMEOUT(indicator->text(), QStringLiteral("Connected"), 10000);
}

void tst_MainWindow::indicatorKeepsTryingAndSaysSo()
{
    // Nothing listens: after the fast attempts it says it keeps trying, with a countdown; a
    // rejected key and a busy server each say so.
    const quint16 closed = freePort();
    MonitorSession session;
    MonitorSettings s = settingsFor(QStringLiteral("http://127.0.0.1:%1").arg(closed));
    s.maxAttempts = 0;
    s.backoffBaseMs = 100;
    s.backoffCapMs = 5000;
    MainWindow window(&session, s);
    session.stream().backoff().setFastAttempts(2);
    session.start();
    QTRY_VERIFY_WITH_TIMEOUT(window.indicator()->text().startsWith(u"Offline — retrying every 5 s, next try in"), 20000);
    QCOMPARE(window.indicator()->look(), Look::Reconnecting);
    session.stop();

    ScriptedServer rejecting([](int, const QByteArray &) { return ScriptedServer::status(401); });
    MonitorSession s2;
    MainWindow w2(&s2, settingsFor(rejecting.url(QString())));
    s2.start();
    QTRY_COMPARE_WITH_TIMEOUT(w2.indicator()->text(), QStringLiteral("Disconnected: the API key was rejected"), 20000);

    ScriptedServer busy([](int, const QByteArray &) { return ScriptedServer::status(503, "Retry-After: 30"); });
    MonitorSession s3;
    MainWindow w3(&s3, settingsFor(busy.url(QString())));
    s3.start();
    QTRY_VERIFY_WITH_TIMEOUT(w3.indicator()->text().startsWith(u"Server busy (HTTP 503) — next try in"), 20000);
}

void tst_MainWindow::bulkAndQueueActionsReachTheServer()
{
    FileServer files;
    FileServer::File slow(FileServer::makeContent(4 * 1024 * 1024));
    slow.bytesPerSecond = 64 * 1024;
    for (int i = 0; i < 5; ++i)
        files.addFile("/slow" + QByteArray::number(i), slow);
    ServerProcess server;
    QVERIFY2(server.start(QProcessEnvironment(), {QStringLiteral("--max-concurrent-downloads"), QStringLiteral("1")}),
             qPrintable(server.errorString()));
    MonitorSession session;
    MainWindow window(&session, settingsFor(server.baseUrl()));
    window.show();
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 1, 10000);
    QStringList ids;
    for (int i = 0; i < 5; ++i)
        ids.append(add(server, files.url("/slow" + QByteArray::number(i))));
    // One runs, four wait; the details (priority, creation time) arrive for each.
    QTRY_VERIFY_WITH_TIMEOUT(session.model().row(ids[4]) && session.model().count(DownloadStatus::Pending) == 4, 10000);

    // Move the last one to the top of the queue: the server's queue order follows.
    window.select(ids[4]);
    QTRY_VERIFY_WITH_TIMEOUT(window.action("top")->isEnabled(), 5000);
    window.action("top")->trigger();
    auto queueOrder = [&] {
        QStringList order;
        const auto items = QJsonDocument::fromJson(httpRequest(server.port(), "GET", "/api/v1/queue", {{"Authorization", Auth}}).body)
                               .object().value("items").toArray();
        for (const QJsonValue &v : items) {
            if (v["status"].toString() == u"pending")
                order.append(v["id"].toString());
        }
        return order;
    };
    QTRY_COMPARE_WITH_TIMEOUT(queueOrder().value(0), ids[4], 10000);
    // The server orders every unfinished download by priority, the running one included.
    QTRY_COMPARE_WITH_TIMEOUT(session.model().row(ids[4])->position, 1, 10000);
    window.select(ids[1]);
    QTRY_VERIFY_WITH_TIMEOUT(window.action("bottom")->isEnabled(), 5000); // a disabled action does nothing
    window.action("bottom")->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(queueOrder().value(3), ids[1], 10000);

    // Bulk: pause two at once, then resume them.
    window.selectIds({ids[2], ids[3]});
    QTRY_VERIFY_WITH_TIMEOUT(window.action("pause")->isEnabled(), 5000);
    window.action("pause")->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(serverStatus(server, ids[2]), QStringLiteral("paused"), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(serverStatus(server, ids[3]), QStringLiteral("paused"), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(window.action("resume")->isEnabled(), 10000);
    window.action("resume")->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(serverStatus(server, ids[3]), QStringLiteral("pending"), 10000);

    // The details pane follows the selection.
    window.select(ids[0]);
    QTRY_COMPARE_WITH_TIMEOUT(window.details()->shownId(), ids[0], 5000);
    QCOMPARE(window.details()->fieldText("url"), files.url("/slow0"));
    QTRY_VERIFY2_WITH_TIMEOUT(window.summaryText().startsWith(u"Downloading: 1 · Queued: 4"), qPrintable(window.summaryText()), 10000);

    window.selectIds(ids);
    window.action("pauseall")->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(session.model().count(DownloadStatus::Paused), 5, 10000);
}

void tst_MainWindow::sidebarCountsAndFilters()
{
    FileServer files;
    files.addFile("/small", FileServer::File("small"));
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    MonitorSession session;
    MainWindow window(&session, settingsFor(server.baseUrl()));
    session.model().setCoalescingInterval(10);
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 1, 10000);
    const QString done = add(server, files.url("/small"));
    const QString broken = add(server, files.url("/missing"));
    QTRY_COMPARE_WITH_TIMEOUT(session.model().count(DownloadStatus::Completed), 1, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(session.model().count(DownloadStatus::Failed), 1, 30000);
    StatusSidebar *side = window.sidebar();
    QTRY_COMPARE_WITH_TIMEOUT(side->entryText(0), QStringLiteral("All (2)"), 5000);
    QTRY_COMPARE_WITH_TIMEOUT(side->entryText(4), QStringLiteral("Completed (1)"), 5000);
    QTRY_COMPARE_WITH_TIMEOUT(side->entryText(5), QStringLiteral("Failed (1)"), 5000);
    side->setCurrentRow(5);
    QCOMPARE(window.table()->model()->rowCount(), 1);
    QCOMPARE(window.table()->model()->index(0, 0).data(DownloadListModel::IdRole).toString(), broken);
    side->setCurrentRow(0);
    QCOMPARE(window.table()->model()->rowCount(), 2);
    Q_UNUSED(done);
}

void tst_MainWindow::staleBannerAndDimmedRows()
{
    // The list loads, then a reload fails: the banner says so and the rows already shown are
    // dimmed; once a retry succeeds the banner goes away and the rows are plain again.
    int lists = 0;
    const QByteArray item = R"({"id":"a","url":"http://f/a","filename":"a.bin","status":"paused","priority":0,"created_at":"2026-01-01T00:00:00.000Z","updated_at":"2026-01-01T00:00:00.000Z"})";
    ScriptedServer server([&](int, const QByteArray &request) {
        if (request.startsWith("GET /api/v1/events/stream"))
            return ScriptedServer::eventStream({"data: {\"type\":\"connected\",\"data\":{}}\n\n"}, false);
        ++lists;
        if (lists == 2 || lists == 3)
            return ScriptedServer::status(500, "Connection: close");
        const QByteArray body = "{\"items\":[" + item + "],\"total\":1}";
        return ScriptedServer::Response{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: "
                                            + QByteArray::number(body.size()), {body}, false, true};
    });
    MonitorSession session;
    session.snapshotRetryPolicy().setBaseMs(1500);
    session.snapshotRetryPolicy().setCapMs(1500);
    MainWindow window(&session, settingsFor(server.url(QString())));
    window.show();
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(session.model().rowCount(), 1, 10000);
    const auto dimmed = [&] {
        return window.table()->model()->index(0, 0).data(Qt::ForegroundRole).isValid();
    };
    QVERIFY(!dimmed());
    session.reload(); // F5, and it fails
    QTRY_VERIFY_WITH_TIMEOUT(window.bannerVisible(), 10000);
    QVERIFY2(window.bannerText().startsWith(u"The list may be out of date: loading it failed (scripted)"), qPrintable(window.bannerText()));
    QVERIFY(window.bannerText().contains(u"Trying again in"));
    QVERIFY(dimmed());
    QCOMPARE(session.model().rowCount(), 1); // kept while it cannot be checked
    QTRY_VERIFY_WITH_TIMEOUT(!window.bannerVisible(), 20000);
    QCOMPARE(session.model().rowCount(), 1);
    QVERIFY(!dimmed());
}

void tst_MainWindow::columnsCanBeHidden()
{
    MonitorSession session;
    MainWindow window(&session, settingsFor(QStringLiteral("http://127.0.0.1:1")));
    QTableView *table = window.table();
    QVERIFY(table->isColumnHidden(DownloadListModel::Url));
    QVERIFY(!table->isColumnHidden(DownloadListModel::Speed));
    QVERIFY(!table->wordWrap()); // the Added column stays on one line
    QCOMPARE(table->selectionMode(), QAbstractItemView::ExtendedSelection);
    QCOMPARE(table->horizontalHeader()->contextMenuPolicy(), Qt::CustomContextMenu);
    QCOMPARE(table->accessibleName(), QStringLiteral("Downloads"));
}

void tst_MainWindow::addDialogChecksItsInput()
{
    QCOMPARE(AddDialog::urlsIn(QStringLiteral("see https://a.example/x.iso and\nftp://b/c http://c.example/ y")),
             (QStringList{"https://a.example/x.iso", "http://c.example/"}));
    AddDialog dialog;
    QPushButton *ok = dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
    QVERIFY(!ok->isEnabled()); // nothing yet
    dialog.setUrls({"https://a.example/1.iso"});
    QVERIFY(ok->isEnabled());
    auto *sha = dialog.findChildren<QLineEdit *>().at(1);
    sha->setText(QStringLiteral("abc"));
    QVERIFY(!ok->isEnabled());
    QVERIFY(dialog.problem().contains(u"64 hexadecimal"));
    sha->setText(QString(64, u'a'));
    QVERIFY(ok->isEnabled());
    QCOMPARE(dialog.requests().value(0).sha256, QString(64, u'a'));
    // A blank line (spaces only) is no second URL: the name and hash still go with the one.
    dialog.setUrls({"https://a.example/1.iso", "   "});
    QVERIFY(ok->isEnabled());
    QCOMPARE(dialog.requests().size(), 1);
    QCOMPARE(dialog.requests().value(0).sha256, QString(64, u'a'));
    dialog.setUrls({"https://a.example/1.iso", "not a url"});
    QVERIFY(!ok->isEnabled());
    dialog.setUrls({"https://a.example/1.iso", "https://a.example/2.iso"});
    QVERIFY(ok->isEnabled());
    QCOMPARE(dialog.requests().size(), 2);
    QVERIFY(dialog.requests().at(0).sha256.isEmpty()); // per-file fields only for one URL
}

void tst_MainWindow::menusHaveTheStandardKeys()
{
    MonitorSession session;
    MainWindow window(&session, settingsFor(QStringLiteral("http://127.0.0.1:1")));
    QCOMPARE(window.action("add")->shortcut(), QKeySequence(QKeySequence::New));
    QCOMPARE(window.action("remove")->shortcut(), QKeySequence(QKeySequence::Delete));
    QCOMPARE(window.action("quit")->shortcut(), QKeySequence(QKeySequence::Quit));
    QCOMPARE(window.action("find")->shortcut(), QKeySequence(QKeySequence::Find));
    QCOMPARE(window.action("refresh")->shortcut(), QKeySequence(QKeySequence::Refresh));
    QVERIFY(!window.action("settings")->shortcut().isEmpty());
    QVERIFY(window.action("about"));
    QVERIFY(!window.action("add")->icon().isNull()); // bundled when the theme has none
    QVERIFY(!window.action("top")->icon().isNull());
}

void tst_MainWindow::germanTranslationIsComplete()
{
    // Every message has a German text, and the compiled file changes the words shown.
    QFile ts(QStringLiteral(HERMES_MONITOR_TS));
    QVERIFY(ts.open(QIODevice::ReadOnly));
    const QByteArray xml = ts.readAll();
    QVERIFY(xml.count("<message") > 100);
    QCOMPARE(xml.count("type=\"unfinished\""), 0);
    QTranslator translator;
    QVERIFY(translator.load(QStringLiteral(HERMES_MONITOR_QM)));
    QCoreApplication::installTranslator(&translator);
    QCOMPARE(DownloadListModel::statusText(DownloadStatus::Pending), QStringLiteral("Wartend"));
    QCOMPARE(DownloadListModel::statusText(DownloadStatus::Completed), QStringLiteral("Fertig"));
    // Durations in German words, a day's unit by its number.
    QCOMPARE(DownloadListModel::formatDuration(9), QStringLiteral("9 Sek."));
    QCOMPARE(DownloadListModel::formatDuration(67), QStringLiteral("1 Min. 7 Sek."));
    QCOMPARE(DownloadListModel::formatDuration(3725), QStringLiteral("1 Std. 2 Min."));
    QCOMPARE(DownloadListModel::formatDuration(86400 + 3 * 3600), QStringLiteral("1 Tag 3 Std."));
    QCOMPARE(DownloadListModel::formatDuration(2 * 86400), QStringLiteral("2 Tage 0 Std."));
    {
        // The window's parts have their own translation contexts (DownloadActions, …).
        MonitorSession session;
        MainWindow window(&session, settingsFor(QStringLiteral("http://127.0.0.1:1")));
        QCOMPARE(window.action("pause")->text(), QStringLiteral("&Anhalten"));
        QCOMPARE(window.action("quit")->text(), QStringLiteral("&Beenden"));
    }
    QCoreApplication::removeTranslator(&translator);
    QCOMPARE(DownloadListModel::statusText(DownloadStatus::Pending), QStringLiteral("Queued"));
    QCOMPARE(DownloadListModel::formatDuration(67), QStringLiteral("1 min 7 s"));
}

void tst_MainWindow::progressBarFollowsTheLayoutDirection()
{
    // 30 % done: the filled part is on the left in a left-to-right layout, on the right in a
    // right-to-left one; and a selected row keeps its selection colour around the bar.
    DownloadListModel model;
    model.mergeSnapshot({QJsonObject{{"id", "a"}, {"status", "downloading"}, {"progress", QJsonObject{{"percentage", 30}}}}});
    QTableView view;
    view.setModel(&model);
    ProgressDelegate delegate;
    auto render = [&](Qt::LayoutDirection direction, bool selected) {
        QImage image(300, 30, QImage::Format_ARGB32);
        image.fill(Qt::white);
        QPainter painter(&image);
        QStyleOptionViewItem option;
        option.initFrom(&view);
        option.rect = image.rect();
        option.direction = direction;
        option.state |= QStyle::State_Enabled;
        if (selected)
            option.state |= QStyle::State_Selected;
        delegate.paint(&painter, option, model.index(0, DownloadListModel::Progress));
        return image;
    };
    const QColor highlight = view.palette().color(QPalette::Highlight);
    auto filled = [&](const QImage &image, int from, int to) {
        int n = 0;
        for (int x = from; x < to; ++x) {
            const QColor c = image.pixelColor(x, 15);
            n += qAbs(c.red() - highlight.red()) + qAbs(c.green() - highlight.green()) + qAbs(c.blue() - highlight.blue()) < 90;
        }
        return n;
    };
    const QImage ltr = render(Qt::LeftToRight, false), rtl = render(Qt::RightToLeft, false);
    QVERIFY2(filled(ltr, 5, 60) > 30 && filled(ltr, 240, 295) < 10, "LTR: filled on the left");
    QVERIFY2(filled(rtl, 240, 295) > 30 && filled(rtl, 5, 60) < 10, "RTL: filled on the right");
    const QImage selected = render(Qt::LeftToRight, true);
    const QColor corner = selected.pixelColor(0, 0);
    QVERIFY2(corner != QColor(Qt::white), "the selection background is drawn under the bar");
}

QTEST_MAIN(tst_MainWindow)
#include "tst_mainwindow.moc"
