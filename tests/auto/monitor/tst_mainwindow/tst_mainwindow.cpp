// The monitor window (offscreen) against the real hermes-server: the connection indicator's
// text and colour in every state, and the queue actions reaching the server.

#include "connectionindicator.h"
#include "fileserver.h"
#include "mainwindow.h"
#include "serverprocess.h"
#include "testutil.h"

#include <QAction>
#include <QJsonDocument>
#include <QStandardPaths>
#include <QTest>

using namespace Hermes;
using namespace Hermes::Test;

static const QByteArray Auth = QByteArray("Bearer ") + ServerProcess::ApiKey;

class tst_MainWindow : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void indicatorFollowsTheConnection();
    void actionsCallTheApi();

private:
    static MonitorSettings settingsFor(const ServerProcess &server)
    {
        MonitorSettings s;
        s.server = QUrl(server.baseUrl());
        s.apiKey = ServerProcess::ApiKey;
        s.backoffBaseMs = 200;
        s.backoffCapMs = 200;
        s.maxAttempts = 3;
        return s;
    }
};

void tst_MainWindow::indicatorFollowsTheConnection()
{
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    MonitorSession session;
    MainWindow window(&session, settingsFor(server));
    window.show();
    session.start();
    ConnectionIndicator *indicator = window.indicator();
    QTRY_COMPARE_WITH_TIMEOUT(indicator->text(), QStringLiteral("Connected"), 10000);
    QCOMPARE(indicator->color(), QColor(0x2e, 0xa0, 0x43));
    QVERIFY(!indicator->reconnectVisible());
    QVERIFY(indicator->toolTip().contains(server.baseUrl()));

    // Every text and colour the indicator shows, in order (the indicator updates first: it
    // connected to the client before this test did).
    QStringList shown;
    QList<QColor> colours;
    connect(&session.stream(), &EventStreamClient::stateChanged, this, [&] {
        shown.append(indicator->text());
        colours.append(indicator->color());
    });
    server.kill();
    QTRY_COMPARE_WITH_TIMEOUT(indicator->text(), QStringLiteral("Disconnected"), 20000);
    QVERIFY2(shown.contains(QStringLiteral("Reconnecting… (attempt 1 of 3)")), qPrintable(shown.join(u'|')));
    QVERIFY(shown.contains(QStringLiteral("Reconnecting… (attempt 3 of 3)")));
    QCOMPARE(colours.at(shown.indexOf(QStringLiteral("Reconnecting… (attempt 1 of 3)"))), QColor(0xd2, 0x99, 0x22));
    QCOMPARE(indicator->color(), QColor(0xcf, 0x22, 0x2e));
    QVERIFY(indicator->reconnectVisible());
    QVERIFY(indicator->toolTip().contains(u"Last error"));

    QVERIFY2(server.start(), qPrintable(server.errorString()));
    Q_EMIT indicator->reconnectRequested(); // the Reconnect button
    QTRY_COMPARE_WITH_TIMEOUT(indicator->text(), QStringLiteral("Connected"), 10000);
}

void tst_MainWindow::actionsCallTheApi()
{
    FileServer files;
    FileServer::File slow(FileServer::makeContent(2 * 1024 * 1024));
    slow.bytesPerSecond = 100 * 1024;
    files.addFile("/slow", slow);
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    MonitorSession session;
    MainWindow window(&session, settingsFor(server));
    window.show();
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 1, 10000);
    const HttpReply added = httpRequest(server.port(), "POST", "/api/v1/downloads", {{"Authorization", Auth}},
                                        "{\"url\":\"" + files.url("/slow").toUtf8() + "\"}");
    const QString id = QJsonDocument::fromJson(added.body).object().value(QStringLiteral("id")).toString();
    QTRY_VERIFY_WITH_TIMEOUT(session.model().row(id) && session.model().row(id)->status == u"downloading", 10000);
    window.select(id);
    QTRY_VERIFY_WITH_TIMEOUT(window.action(QStringLiteral("pause"))->isEnabled(), 5000);
    QVERIFY(!window.action(QStringLiteral("resume"))->isEnabled());

    auto serverStatus = [&] {
        return QJsonDocument::fromJson(httpRequest(server.port(), "GET", "/api/v1/downloads/" + id.toUtf8(),
                                                   {{"Authorization", Auth}}).body)
            .object().value(QStringLiteral("status")).toString();
    };
    window.action(QStringLiteral("pause"))->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(serverStatus(), QStringLiteral("paused"), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(window.action(QStringLiteral("resume"))->isEnabled(), 10000);
    window.action(QStringLiteral("resume"))->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(serverStatus(), QStringLiteral("downloading"), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(window.action(QStringLiteral("cancel"))->isEnabled(), 10000);
    window.action(QStringLiteral("cancel"))->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(serverStatus(), QStringLiteral("cancelled"), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(session.model().row(id)->status, QStringLiteral("cancelled"), 10000);
    QVERIFY(window.summaryText().startsWith(u"Active:"));
}

QTEST_MAIN(tst_MainWindow)
#include "tst_mainwindow.moc"
