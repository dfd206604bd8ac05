// Desktop notifications over a real, private session bus (dbus-daemon started here) with a
// notification service living in this process on its own connection: the Notify call's
// arguments, replacing an earlier notification about the same download, a click coming back
// as ActionInvoked and selecting the download's row in the window; and the fallback when no
// service is on the bus.

#include "desktopnotifier.h"
#include "mainwindow.h"
#include "scriptedserver.h"

#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusContext>
#include <QListWidget>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

using namespace Hermes;
using namespace Hermes::Test;

/// The desktop's side: org.freedesktop.Notifications as the specification has it.
class FakeNotifications final : public QObject, protected QDBusContext
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.Notifications")
public:
    struct Call
    {
        QString app, icon, summary, body;
        uint replaces;
        QStringList actions;
        QVariantMap hints;
        int timeout;
        uint id;
    };
    QList<Call> calls;
    bool refuse = false; ///< a daemon that is there but answers Notify with an error

public slots:
    uint Notify(const QString &app, uint replaces, const QString &icon, const QString &summary, const QString &body,
                const QStringList &actions, const QVariantMap &hints, int timeout)
    {
        if (refuse) {
            sendErrorReply(QDBusError::Failed, QStringLiteral("out of notification slots"));
            return 0;
        }
        const uint id = replaces ? replaces : uint(calls.size() + 1);
        calls.append({app, icon, summary, body, replaces, actions, hints, timeout, id});
        return id;
    }
    QStringList GetCapabilities() { return {QStringLiteral("actions"), QStringLiteral("body")}; }

signals:
    void ActionInvoked(uint id, const QString &actionKey);
    void NotificationClosed(uint id, uint reason);
};

class tst_DesktopNotifier : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void init();
    void cleanup();
    void notifyCallNamesTheDownloadAndAClickComesBack();
    void withoutTheServiceNothingIsSent();
    void anErrorReplyIsHandedBack();
    void clickSelectsTheRowInTheWindow();

private:
    QProcess m_daemon;
    QString m_address;
    FakeNotifications *m_service = nullptr;
};

static const QString ServiceName = QStringLiteral("org.freedesktop.Notifications");
static const QString ServicePath = QStringLiteral("/org/freedesktop/Notifications");

void tst_DesktopNotifier::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    const QString daemon = QStandardPaths::findExecutable(QStringLiteral("dbus-daemon"));
    if (daemon.isEmpty())
        QFAIL("dbus-daemon not found (Debian's dbus package; scripts/common.sh installs it)");
    m_daemon.start(daemon, {QStringLiteral("--session"), QStringLiteral("--nofork"), QStringLiteral("--print-address")});
    QVERIFY(m_daemon.waitForStarted(5000));
    while (!m_daemon.canReadLine())
        QVERIFY2(m_daemon.waitForReadyRead(5000), "dbus-daemon printed no address");
    m_address = QString::fromUtf8(m_daemon.readLine()).trimmed();
    QVERIFY(!m_address.isEmpty());
    // The app's own path: QDBusConnection::sessionBus() reads this on first use.
    qputenv("DBUS_SESSION_BUS_ADDRESS", m_address.toUtf8());
    QVERIFY(QDBusConnection::sessionBus().isConnected());
}

void tst_DesktopNotifier::cleanupTestCase()
{
    m_daemon.terminate();
    if (!m_daemon.waitForFinished(5000))
        m_daemon.kill();
}

void tst_DesktopNotifier::init()
{
    // The service on a connection of its own, so that every call really crosses the bus.
    QDBusConnection bus = QDBusConnection::connectToBus(m_address, QStringLiteral("desktop"));
    QVERIFY(bus.isConnected());
    m_service = new FakeNotifications;
    QVERIFY(bus.registerObject(ServicePath, m_service, QDBusConnection::ExportAllSlots | QDBusConnection::ExportAllSignals));
    QVERIFY(bus.registerService(ServiceName));
}

void tst_DesktopNotifier::cleanup()
{
    QDBusConnection bus(QStringLiteral("desktop"));
    bus.unregisterService(ServiceName);
    bus.unregisterObject(ServicePath);
    delete m_service;
    m_service = nullptr;
}

void tst_DesktopNotifier::notifyCallNamesTheDownloadAndAClickComesBack()
{
    DesktopNotifier notifier;
    QTRY_VERIFY_WITH_TIMEOUT(notifier.isAvailable(), 5000);
    QSignalSpy activated(&notifier, &DesktopNotifier::activated);
    QVERIFY(notifier.notify(QStringLiteral("Download failed"), QStringLiteral("debian <13>.iso"),
                            DesktopNotifier::Urgency::Critical, QStringLiteral("d1")));
    QTRY_COMPARE_WITH_TIMEOUT(m_service->calls.size(), 1, 5000);
    const FakeNotifications::Call first = m_service->calls.at(0);
    QCOMPARE(first.app, QStringLiteral("Hermes Monitor"));
    QCOMPARE(first.icon, QStringLiteral("hermes-monitor"));
    QCOMPARE(first.summary, QStringLiteral("Download failed"));
    QCOMPARE(first.body, QStringLiteral("debian <13>.iso")); // no body-markup: sent as it is
    QCOMPARE(first.replaces, 0u);
    QCOMPARE(first.actions, QStringList({QStringLiteral("default"), QStringLiteral("Show")}));
    QCOMPARE(first.hints.value(QStringLiteral("desktop-entry")).toString(), QStringLiteral("hermes-monitor"));
    QCOMPARE(first.hints.value(QStringLiteral("urgency")).metaType(), QMetaType::fromType<uchar>());
    QCOMPARE(first.hints.value(QStringLiteral("urgency")).value<uchar>(), uchar(2));
    QCOMPARE(first.timeout, -1);

    // The same download again (it was retried and completed): it replaces the first one.
    QTest::qWait(50); // the reply carrying the first one's id has to be read first
    QVERIFY(notifier.notify(QStringLiteral("Download completed"), QStringLiteral("debian <13>.iso"),
                            DesktopNotifier::Urgency::Normal, QStringLiteral("d1")));
    QTRY_COMPARE_WITH_TIMEOUT(m_service->calls.size(), 2, 5000);
    QCOMPARE(m_service->calls.at(1).replaces, first.id);
    QCOMPARE(m_service->calls.at(1).hints.value(QStringLiteral("urgency")).value<uchar>(), uchar(1));

    // Another application's notification clicked: not ours. Ours clicked: its download.
    emit m_service->ActionInvoked(4242, QStringLiteral("default"));
    emit m_service->ActionInvoked(first.id, QStringLiteral("default"));
    QTRY_COMPARE_WITH_TIMEOUT(activated.size(), 1, 5000);
    QCOMPARE(activated.at(0).at(0).toString(), QStringLiteral("d1"));

    // Once closed, the next one about it is a new notification.
    emit m_service->NotificationClosed(first.id, 2);
    QTest::qWait(50);
    QVERIFY(notifier.notify(QStringLiteral("Download failed"), QStringLiteral("x"), DesktopNotifier::Urgency::Critical,
                            QStringLiteral("d1")));
    QTRY_COMPARE_WITH_TIMEOUT(m_service->calls.size(), 3, 5000);
    QCOMPARE(m_service->calls.at(2).replaces, 0u);
}

void tst_DesktopNotifier::withoutTheServiceNothingIsSent()
{
    DesktopNotifier notifier;
    QTRY_VERIFY_WITH_TIMEOUT(notifier.isAvailable(), 5000);
    QSignalSpy changed(&notifier, &DesktopNotifier::availableChanged);
    cleanup(); // the desktop's notification service goes away
    QTRY_COMPARE_WITH_TIMEOUT(changed.size(), 1, 5000);
    QVERIFY(!notifier.isAvailable());
    QVERIFY(!notifier.notify(QStringLiteral("Download completed"), QStringLiteral("a"), DesktopNotifier::Urgency::Normal,
                             QStringLiteral("a")));

    // Started without it: not available, so NotificationCenter falls back to the tray.
    DesktopNotifier late;
    QTest::qWait(200);
    QVERIFY(!late.isAvailable());
    // No session bus at all (a server, a bare X session).
    DesktopNotifier none(QDBusConnection(QStringLiteral("no such connection")));
    QVERIFY(!none.isAvailable());
    QVERIFY(!none.notify(QStringLiteral("t"), QStringLiteral("b"), DesktopNotifier::Urgency::Low, {}));
    init(); // back for cleanup()
}

void tst_DesktopNotifier::anErrorReplyIsHandedBack()
{
    DesktopNotifier notifier;
    QTRY_VERIFY_WITH_TIMEOUT(notifier.isAvailable(), 5000);
    QSignalSpy failed(&notifier, &DesktopNotifier::notifyFailed);
    m_service->refuse = true;
    QVERIFY(notifier.notify(QStringLiteral("Download failed"), QStringLiteral("a.iso"), DesktopNotifier::Urgency::Critical,
                            QStringLiteral("d9")));
    QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 1, 5000);
    QCOMPARE(failed.at(0).at(0).toString(), QStringLiteral("Download failed"));
    QCOMPARE(failed.at(0).at(1).toString(), QStringLiteral("a.iso"));
    QCOMPARE(failed.at(0).at(2).value<DesktopNotifier::Urgency>(), DesktopNotifier::Urgency::Critical);
    QCOMPARE(failed.at(0).at(3).toString(), QStringLiteral("d9"));
    // Refused, not gone: the service is still asked next time.
    QVERIFY(notifier.isAvailable());
    m_service->refuse = false;
    QVERIFY(notifier.notify(QStringLiteral("Download completed"), QStringLiteral("a.iso"), DesktopNotifier::Urgency::Normal,
                            QStringLiteral("d9")));
    QTRY_COMPARE_WITH_TIMEOUT(m_service->calls.size(), 1, 5000);
    QCOMPARE(failed.size(), 1);
}

void tst_DesktopNotifier::clickSelectsTheRowInTheWindow()
{
    const QByteArray item = R"({"id":"%1","url":"http://f/%1","filename":"%1.bin","status":"paused","priority":0,"created_at":"2026-01-01T00:00:00.000Z","updated_at":"2026-01-01T00:00:00.000Z"})";
    const QByteArray notice
        = R"(data: {"type":"system_notification","data":{"notification_type":"error","message":"disk full writing b.bin","download_id":"b"}})"
          "\n\n";
    ScriptedServer server([&](int, const QByteArray &request) {
        if (request.startsWith("GET /api/v1/events/stream")) {
            // A few comments first: the window's notifier has learnt of the service by then.
            return ScriptedServer::eventStream({"data: {\"type\":\"connected\",\"data\":{}}\n\n", ": 1\n\n", ": 2\n\n",
                                                ": 3\n\n", notice},
                                               false);
        }
        const QByteArray body = "{\"items\":[" + QByteArray(item).replace("%1", "a") + ","
                                + QByteArray(item).replace("%1", "b") + "],\"total\":2}";
        return ScriptedServer::Response{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: "
                                            + QByteArray::number(body.size()), {body}, false, true};
    });
    MonitorSettings settings;
    settings.server = QUrl(server.url(QString()));
    settings.apiKey = QByteArrayLiteral("k");
    MonitorSession session;
    MainWindow window(&session, settings);
    window.show();
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(session.model().rowCount(), 2, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(m_service->calls.size(), 1, 10000);
    QCOMPARE(m_service->calls.at(0).app, QStringLiteral("Hermes Monitor"));
    QCOMPARE(m_service->calls.at(0).body, QStringLiteral("disk full writing b.bin"));
    QCOMPARE(m_service->calls.at(0).actions.first(), QStringLiteral("default"));
    // The Notifications tab has it too, always.
    QCOMPARE(window.notifications()->count(), 1);

    window.select(QStringLiteral("a"));
    emit m_service->ActionInvoked(m_service->calls.at(0).id, QStringLiteral("default"));
    QTRY_COMPARE_WITH_TIMEOUT(window.selectedIds(), QStringList{QStringLiteral("b")}, 5000);

    // A click on the entry in the Notifications tab does the same.
    window.select(QStringLiteral("a"));
    QListWidget *list = window.notifications();
    emit list->itemClicked(list->item(0));
    QCOMPARE(window.selectedIds(), QStringList{QStringLiteral("b")});
}

QTEST_MAIN(tst_DesktopNotifier)
#include "tst_desktopnotifier.moc"
