// MonitorSession against the real hermes-server and a real file server: the model equals the
// server after a stream of events, and stays equal across a server kill and restart.

#include "fileserver.h"
#include "monitorsession.h"
#include "serverprocess.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace Hermes;
using namespace Hermes::Test;

static const QByteArray Auth = QByteArray("Bearer ") + ServerProcess::ApiKey;

class tst_MonitorSession : public QObject
{
    Q_OBJECT

private slots:
    void modelMatchesTheServer();
    void survivesAServerRestart();

private:
    static QString add(ServerProcess &server, const QString &url)
    {
        const HttpReply r = httpRequest(server.port(), "POST", "/api/v1/downloads", {{"Authorization", Auth}},
                                        QJsonDocument(QJsonObject{{QStringLiteral("url"), url}}).toJson());
        return QJsonDocument::fromJson(r.body).object().value(QStringLiteral("id")).toString();
    }
    static QHash<QString, QString> serverStatuses(ServerProcess &server)
    {
        QHash<QString, QString> out;
        const HttpReply r = httpRequest(server.port(), "GET", "/api/v1/downloads", {{"Authorization", Auth}});
        for (const QJsonValue &v : QJsonDocument::fromJson(r.body).object().value(QStringLiteral("items")).toArray())
            out.insert(v[QStringLiteral("id")].toString(), v[QStringLiteral("status")].toString());
        return out;
    }
    static QHash<QString, QString> modelStatuses(MonitorSession &session)
    {
        QHash<QString, QString> out;
        for (int i = 0; i < session.model().rowCount(); ++i)
            out.insert(session.model().rowAt(i).id, session.model().rowAt(i).status);
        return out;
    }
};

void tst_MonitorSession::modelMatchesTheServer()
{
    FileServer files;
    FileServer::File slow(FileServer::makeContent(200 * 1024));
    slow.bytesPerSecond = 400 * 1024;
    for (int i = 0; i < 4; ++i)
        files.addFile("/m" + QByteArray::number(i), slow);
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    MonitorSession session;
    session.setServer(QUrl(server.baseUrl()));
    session.setApiKey(ServerProcess::ApiKey);
    session.model().setCoalescingInterval(10);
    session.start();
    QTRY_VERIFY_WITH_TIMEOUT(session.snapshotsLoaded() == 1, 10000);
    QStringList ids;
    for (int i = 0; i < 4; ++i)
        ids.append(add(server, files.url("/m" + QByteArray::number(i))));
    httpRequest(server.port(), "POST", "/api/v1/downloads/" + ids[3].toUtf8() + "/pause", {{"Authorization", Auth}});
    QTRY_VERIFY_WITH_TIMEOUT(serverStatuses(server).values().count(QStringLiteral("completed")) == 3, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(modelStatuses(session), serverStatuses(server), 10000);
    QCOMPARE(session.snapshotsLoaded(), 1); // the events alone kept it right
    QCOMPARE(session.model().row(ids[0])->percent, 100.0);
    QCOMPARE(session.model().row(ids[0])->size, 200 * 1024);
}

void tst_MonitorSession::survivesAServerRestart()
{
    FileServer files;
    files.addFile("/before", FileServer::File("before"));
    files.addFile("/during", FileServer::File("during"));
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    MonitorSession session;
    session.setServer(QUrl(server.baseUrl()));
    session.setApiKey(ServerProcess::ApiKey);
    session.stream().backoff().setBaseMs(1500); // time to change things while it is away
    session.stream().backoff().setCapMs(1500);
    session.start();
    QTRY_VERIFY_WITH_TIMEOUT(session.snapshotsLoaded() == 1, 10000);
    const QString before = add(server, files.url("/before"));
    QTRY_COMPARE_WITH_TIMEOUT(session.model().row(before) ? session.model().row(before)->status : QString(),
                              QStringLiteral("completed"), 20000);

    server.kill();
    QTRY_COMPARE_WITH_TIMEOUT(session.stream().state(), EventStreamClient::State::Reconnecting, 10000);
    QVERIFY(session.stream().attempt() >= 1);
    QVERIFY2(server.start(), qPrintable(server.errorString())); // same port, same data
    // Changes the monitor cannot see as events: it is still waiting to reconnect.
    const QString during = add(server, files.url("/during"));
    httpRequest(server.port(), "DELETE", "/api/v1/downloads/" + before.toUtf8(), {{"Authorization", Auth}});
    QTRY_COMPARE_WITH_TIMEOUT(session.stream().state(), EventStreamClient::State::Connected, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(session.snapshotsLoaded() >= 2, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(modelStatuses(session), serverStatuses(server), 20000);
    QVERIFY(!session.model().row(before));
    QVERIFY(session.model().row(during));
}

QTEST_MAIN(tst_MonitorSession)
#include "tst_monitorsession.moc"
