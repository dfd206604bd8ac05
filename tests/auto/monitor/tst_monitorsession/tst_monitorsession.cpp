// MonitorSession against the real hermes-server and a real file server (the model equals the
// server after a stream of events, and across a server kill and restart), and against a
// scripted server for what the real one does not do on demand: long lists, lists that move
// while paged, failing snapshots, replays, resync_required.

#include "fakehermes.h"
#include "fileserver.h"
#include "loadraces.h"
#include "monitorsession.h"
#include "scriptedserver.h"
#include "serverprocess.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>
#include <QTimer>
#include <QUrlQuery>

using namespace Hermes;
using namespace Hermes::Test;

static const QByteArray Auth = QByteArray("Bearer ") + ServerProcess::ApiKey;


class tst_MonitorSession : public QObject
{
    Q_OBJECT

private slots:
    void modelMatchesTheServer();
    void survivesAServerRestart();
    void pagesTheSnapshotUntilTotal();
    void pagesOnFromPagesThatEndEarly();
    void pagesOnceWhenTheListMoves();
    void anInterruptedLoadWalksOn();
    void aRestartedLoadKeepsItsPages();
    void droppedEventsLoadAnew() { LoadRaces::droppedEventsLoadAnew(); }
    void aLateDetailsAnswerBringsNothingBack() { LoadRaces::aLateDetailsAnswerBringsNothingBack(); }
    void mergesAReloadWithoutReset();
    void reloadsOnlyWhenNeeded();
    void reloadsAfterAConnectionWithoutAnId();
    void staleUntilASnapshotSucceeds();
    void notifiesOncePerRealTransition();
    void speedIsUnknownWhileDisconnected();
    void plannedStreamEndsAreNotOutages();
    void reachabilityAndResumeRetryAtOnce();
    void resumeIsDetectedFromTheClocks();

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
        const HttpReply r = httpRequest(server.port(), "GET", "/api/v1/downloads?limit=1000", {{"Authorization", Auth}});
        for (const QJsonValue &v : QJsonDocument::fromJson(r.body).object().value(QStringLiteral("items")).toArray())
            out.insert(v[QStringLiteral("id")].toString(), v[QStringLiteral("status")].toString());
        return out;
    }
    static QHash<QString, QString> modelStatuses(MonitorSession &session)
    {
        QHash<QString, QString> out;
        for (int i = 0; i < session.model().rowCount(); ++i)
            out.insert(session.model().rowAt(i).id, session.model().rowAt(i).status.text);
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
    QTRY_COMPARE_WITH_TIMEOUT(session.model().row(before) ? session.model().row(before)->status.text : QString(),
                              QStringLiteral("completed"), 20000);

    server.kill();
    QTRY_COMPARE_WITH_TIMEOUT(session.stream().state(), EventStreamClient::State::Reconnecting, 10000);
    QVERIFY(session.stream().attempt() >= 1);
    QVERIFY2(server.start(), qPrintable(server.errorString())); // same port, same data
    // Changes the monitor cannot see as events: it is still waiting to reconnect.
    const QString during = add(server, files.url("/during"));
    httpRequest(server.port(), "DELETE", "/api/v1/downloads/" + before.toUtf8(), {{"Authorization", Auth}});
    QTRY_COMPARE_WITH_TIMEOUT(session.stream().state(), EventStreamClient::State::Connected, 30000);
    // Either the restarted server still has the history (replay) or it says resync_required
    // (reload): the table ends equal to the server both ways.
    QTRY_COMPARE_WITH_TIMEOUT(modelStatuses(session), serverStatuses(server), 20000);
    QVERIFY(!session.model().row(before));
    QVERIFY(session.model().row(during));
}

void tst_MonitorSession::pagesTheSnapshotUntilTotal()
{
    // 2,500 downloads: the server gives at most 1,000 per request.
    FakeHermes fake;
    for (int i = 0; i < 2500; ++i)
        fake.items.append(item(QStringLiteral("d%1").arg(i), i % 2 ? "completed" : "pending"));
    fake.streams = {ScriptedServer::eventStream({connected()}, false)};
    MonitorSession session;
    fast(session);
    session.setServer(fake.base());
    // New rows go in 100 per event-loop turn, so that the window never freezes on a reload;
    // the snapshot counts as loaded once the last slice is in.
    QSignalSpy inserted(&session.model(), &QAbstractItemModel::rowsInserted);
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 1, 20000);
    QCOMPARE(session.model().rowCount(), 2500);
    QCOMPARE(inserted.size(), 25);
    QCOMPARE(fake.listRequests, 3);
    QVERIFY(session.model().row("d2499"));
    QCOMPARE(session.model().count(DownloadStatus::Completed), 1250);
    session.stop();
}

void tst_MonitorSession::pagesOnFromPagesThatEndEarly()
{
    // The server bounds a page's bytes as well as its rows: pages of 3 rows or so, never the
    // 1,000 asked for; the monitor goes on from where each ended and misses none.
    FakeHermes fake;
    for (int i = 0; i < 50; ++i)
        fake.items.append(item(QStringLiteral("d%1").arg(i), "pending"));
    fake.pageBytes = 3 * int(QJsonDocument(fake.items.first()).toJson(QJsonDocument::Compact).size());
    fake.streams = {ScriptedServer::eventStream({connected()}, false)};
    MonitorSession session;
    fast(session);
    session.setServer(fake.base());
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 1, 20000);
    QCOMPARE(session.model().rowCount(), 50);
    for (int i = 0; i < 50; ++i)
        QVERIFY(session.model().row(QStringLiteral("d%1").arg(i)));
    QVERIFY(fake.listRequests >= 17);
    session.stop();
}

void tst_MonitorSession::pagesOnceWhenTheListMoves()
{
    // A download is added and one deleted while the list is paged. Pages follow cursors
    // (places in the queue order), not offsets: nothing shifts, nothing is paged twice.
    FakeHermes fake;
    for (int i = 0; i < 25; ++i)
        fake.items.append(item(QStringLiteral("d%1").arg(i), "pending", i));
    fake.beforePage = [&](int page) {
        if (page == 1) {
            fake.items.append(item("new", "pending", 59));
            fake.items.removeAt(24);
        }
    };
    fake.streams = {ScriptedServer::eventStream({connected()}, false)};
    MonitorSession session;
    fast(session);
    session.loader().setPageSize(10);
    session.setServer(fake.base());
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 1, 20000);
    QCOMPARE(session.model().rowCount(), 25);
    for (const QJsonObject &o : std::as_const(fake.items))
        QVERIFY(session.model().row(o.value("id").toString()));
    QCOMPARE(fake.listRequests, 3);
    session.stop();
}

void tst_MonitorSession::anInterruptedLoadWalksOn()
{
    // The load is asked for again (F5) while the second page is on its way, and the third page
    // fails: each time the load goes on from the last cursor with the pages it has.
    FakeHermes fake;
    for (int i = 0; i < 45; ++i)
        fake.items.append(item(QStringLiteral("d%1").arg(i), "pending", i));
    fake.streams = {ScriptedServer::eventStream({connected()}, false)};
    MonitorSession session;
    fast(session);
    session.snapshotRetryPolicy().setBaseMs(50);
    session.snapshotRetryPolicy().setCapMs(100);
    session.loader().setPageSize(10);
    session.setServer(fake.base());
    fake.beforePage = [&](int request) {
        if (request == 1)
            session.reload(); // the answer to this request is no longer waited for
        if (request == 3)
            fake.failLists = 1;
    };
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 1, 20000);
    QCOMPARE(session.model().rowCount(), 45);
    // 5 pages, page 2 asked twice (the reload), page 3 twice (the failure).
    QCOMPARE(fake.listRequests, 7);
    QCOMPARE(session.loader().requestsMade(), 7);
    session.stop();
}

void tst_MonitorSession::aRestartedLoadKeepsItsPages()
{
    // The real server with 120 downloads, loaded 10 a page. Between pages, downloads are
    // deleted, added, paused, resumed, cancelled and retried (the stream tells of it), the load is asked for again
    // while a page is on its way (a restart), and page requests fail (a connection that
    // drops). The table ends equal to the server's list, and the pages fetched are the list's
    // pages plus one per restart or failure: a restart walks on, it does not page from the
    // start. Seeded: HERMES_TEST_SEED.
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED")
        ? quint32(qEnvironmentVariableIntValue("HERMES_TEST_SEED")) : QRandomGenerator::global()->generate();
    qInfo("seed %u (HERMES_TEST_SEED reproduces it)", seed);
    QRandomGenerator rng(seed);
    constexpr int Downloads = 120;
    constexpr int Page = 10;
    FileServer files;
    FileServer::File trickle(FileServer::makeContent(64 * 1024));
    trickle.bytesPerSecond = 1024; // running for the whole test
    for (int i = 0; i < Downloads + 60; ++i)
        files.addFile("/t" + QByteArray::number(i), trickle);
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    QStringList ids;
    for (int i = 0; i < Downloads; ++i)
        ids.append(add(server, files.url("/t" + QByteArray::number(i))));
    QVERIFY(!ids.contains(QString()));
    QTcpServer closed; // a port nothing listens on: a page request there fails at once
    QVERIFY(closed.listen(QHostAddress::LocalHost));
    const QUrl dead(QStringLiteral("http://127.0.0.1:%1").arg(closed.serverPort()));
    closed.close();

    MonitorSession session;
    session.setServer(QUrl(server.baseUrl()));
    session.setApiKey(ServerProcess::ApiKey);
    fast(session);
    session.snapshotRetryPolicy().setBaseMs(20);
    session.snapshotRetryPolicy().setCapMs(50);
    session.loader().setPageSize(Page);
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 1, 20000);

    bool playing = true;
    int restarts = 0, failures = 0, added = 0, moved = 0, pages = 0;
    connect(&session.loader(), &SnapshotLoader::failed, this, [&] { session.api().setBaseUrl(QUrl(server.baseUrl())); });
    connect(&session.loader(), &SnapshotLoader::pageLoaded, this, [&] {
        if (!playing || ++pages > 100)
            return;
        for (int n = int(rng.bounded(6)); n > 0 && !ids.isEmpty(); --n) {
            const QString id = ids.at(int(rng.bounded(int(ids.size()))));
            const QByteArray path = "/api/v1/downloads/" + id.toUtf8();
            const quint32 op = rng.bounded(6);
            if (op == 0) {
                httpRequest(server.port(), "DELETE", path, {{"Authorization", Auth}});
                ids.removeOne(id);
            } else if (op == 1) {
                if (added < 60)
                    ids.append(add(server, files.url("/t" + QByteArray::number(Downloads + added++))));
            } else {
                // Pause and resume change a status in place; cancel moves a download to the
                // finished part of the order, retry back in front of the cursor.
                const DownloadAction action = allDownloadActions().at(int(op) - 2);
                moved += action == DownloadAction::Cancel;
                const QLatin1StringView verb = wireName(action);
                httpRequest(server.port(), "POST", path + '/' + QByteArray(verb.data(), verb.size()), {{"Authorization", Auth}});
            }
        }
        const quint32 dice = rng.bounded(6);
        if (dice < 2 && restarts < 6) {
            ++restarts;
            QTimer::singleShot(0, &session, [&] { session.reload(); }); // the next page is on its way
        } else if (dice == 2 && failures < 3) {
            ++failures;
            session.api().setBaseUrl(dead);
        }
    });
    session.reload();
    QTRY_VERIFY_WITH_TIMEOUT(session.snapshotsLoaded() >= 2, 60000);
    playing = false;
    qInfo("%d restarts, %d failures, %d added, %d cancelled, %d requests", restarts, failures, added, moved,
          session.loader().requestsMade());
    // Waits for the two to agree; the comparisons below say what differs if they never do.
    (void)QTest::qWaitFor([&] { return modelStatuses(session) == serverStatuses(server); }, 20000);
    const QHash<QString, QString> model = modelStatuses(session), onServer = serverStatuses(server);
    for (auto it = model.cbegin(); it != model.cend(); ++it) {
        if (onServer.value(it.key()) != it.value())
            qWarning("%s: %s in the table, %s on the server", qPrintable(it.key()), qPrintable(it.value()),
                     qPrintable(onServer.value(it.key(), QStringLiteral("nothing"))));
    }
    for (auto it = onServer.cbegin(); it != onServer.cend(); ++it) {
        if (!model.contains(it.key()))
            qWarning("%s: %s on the server, not in the table", qPrintable(it.key()), qPrintable(it.value()));
    }
    QCOMPARE(model, onServer);
    QVERIFY(restarts + failures > 0);
    // The list's pages (a download cancelled may move on past the cursor and be paged again),
    // and one more per restart or failure: the page that was on its way. Paging from the start
    // at each restart would ask for about restarts × the pages walked.
    QVERIFY2(session.loader().requestsMade() <= (Downloads + added + moved) / Page + 2 + restarts + failures,
             qPrintable(QString::number(session.loader().requestsMade())));
    session.stop();
}

void tst_MonitorSession::mergesAReloadWithoutReset()
{
    FakeHermes fake;
    fake.items = {item("a", "downloading"), item("b", "paused"), item("c", "pending")};
    fake.streams = {ScriptedServer::eventStream({connected()}, false)};
    MonitorSession session;
    fast(session);
    session.setServer(fake.base());
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 1, 20000);
    const QPersistentModelIndex b(session.model().index(session.model().rowOf("b"), 0));
    QSignalSpy reset(&session.model(), &QAbstractItemModel::modelReset);
    fake.items = {item("b", "downloading", 5), item("c", "pending", 5), item("d", "pending", 5)};
    session.reload(); // F5
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 2, 20000);
    QCOMPARE(reset.size(), 0);
    QVERIFY(b.isValid());
    QCOMPARE(b.data(DownloadListModel::IdRole).toString(), QStringLiteral("b"));
    QCOMPARE(session.model().row("b")->status.text, QStringLiteral("downloading"));
    QVERIFY(!session.model().row("a"));
    QVERIFY(session.model().row("d"));
    session.stop();
}

void tst_MonitorSession::reloadsOnlyWhenNeeded()
{
    // 1st connection: an event, then the server drops. 2nd: resumes with its id and the replay
    // delivers what was missed: no reload. 3rd: resync_required: a reload.
    FakeHermes fake;
    fake.items = {item("a", "downloading")};
    fake.streams = {ScriptedServer::eventStream({connected(), progressFrame("a", "downloading", "2026-01-01T00:00:10.000Z", "e1")}),
                    ScriptedServer::eventStream({connected(), progressFrame("a", "paused", "2026-01-01T00:00:11.000Z", "e2")}),
                    ScriptedServer::eventStream({connected(), frame("resync_required", {{"reason", "history_exceeded"}}, "2026-01-01T00:00:12.000Z")}, false)};
    MonitorSession session;
    fast(session);
    session.setServer(fake.base());
    QList<int> snapshotsAtConnect;
    connect(&session.stream(), &EventStreamClient::stateChanged, this, [&](EventStreamClient::State s) {
        if (s == EventStreamClient::State::Connected)
            snapshotsAtConnect.append(session.snapshotsRequested());
    });
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(fake.streamRequests, 3, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsRequested(), 2, 20000);
    QTest::qWait(200);
    QCOMPARE(session.snapshotsRequested(), 2);
    QCOMPARE(snapshotsAtConnect, (QList<int>{1, 1, 1})); // only the first connect loaded
    QCOMPARE(fake.streamLastEventIds, (QList<QByteArray>{"", "e1", "e2"}));
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 2, 20000);
    session.stop();
}

void tst_MonitorSession::reloadsAfterAConnectionWithoutAnId()
{
    // No id'd event arrived before the drop: the reconnect cannot ask for a replay, so
    // whatever happened meanwhile is only in a snapshot.
    FakeHermes fake;
    fake.items = {item("a", "downloading")};
    fake.streams = {ScriptedServer::eventStream({connected()}), ScriptedServer::eventStream({connected()}, false)};
    MonitorSession session;
    fast(session);
    session.setServer(fake.base());
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(fake.streamRequests, 2, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 2, 20000);
    session.stop();
}

void tst_MonitorSession::staleUntilASnapshotSucceeds()
{
    FakeHermes fake;
    fake.items = {item("a", "downloading")};
    fake.failLists = 2;
    fake.streams = {ScriptedServer::eventStream({connected()}, false)};
    MonitorSession session;
    fast(session);
    session.snapshotRetryPolicy().setBaseMs(100);
    session.snapshotRetryPolicy().setCapMs(200);
    session.setServer(fake.base());
    QList<bool> staleness;
    connect(&session, &MonitorSession::staleChanged, this, [&](bool stale) { staleness.append(stale); });
    session.start();
    QTRY_VERIFY_WITH_TIMEOUT(session.isStale(), 20000);
    QVERIFY(session.staleReason().contains(u"scripted failure"));
    QVERIFY(session.msUntilSnapshotRetry() >= 0);
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 1, 20000); // retried by itself
    QVERIFY(!session.isStale());
    QCOMPARE(fake.listRequests, 3);
    QCOMPARE(staleness.first(), true);
    QCOMPARE(staleness.last(), false);
    QCOMPARE(session.model().rowCount(), 1);
    session.stop();
}

void tst_MonitorSession::notifiesOncePerRealTransition()
{
    // "a" completes once; the event is replayed after a reconnect; "b" was completed before the
    // monitor started. One notification in all: for "a".
    FakeHermes fake;
    fake.items = {item("a", "downloading"), item("b", "completed")};
    const QByteArray aDone = progressFrame("a", "completed", "2026-01-01T00:00:20.000Z", "e1");
    const QByteArray bDone = progressFrame("b", "completed", "2026-01-01T00:00:21.000Z", "e2");
    fake.streams = {ScriptedServer::eventStream({connected(), aDone}),
                    ScriptedServer::eventStream({connected(), aDone, bDone, aDone}, false)};
    MonitorSession session;
    fast(session);
    session.setServer(fake.base());
    QStringList finished;
    connect(&session, &MonitorSession::downloadFinished, this, [&](const QString &id, const QString &, bool ok) {
        finished.append(id + (ok ? u'+' : u'-'));
    });
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(fake.streamRequests, 2, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(session.model().row("a") ? session.model().row("a")->status.text : QString(), QStringLiteral("completed"), 20000);
    QTest::qWait(300);
    QCOMPARE(finished, QStringList{"a+"});
    session.stop();
}

void tst_MonitorSession::speedIsUnknownWhileDisconnected()
{
    FakeHermes fake;
    fake.items = {item("a", "downloading")};
    fake.streams = {ScriptedServer::eventStream({connected()}, false), ScriptedServer::status(500)};
    MonitorSession session;
    fast(session);
    session.stream().backoff().setBaseMs(60000);
    session.stream().backoff().setCapMs(60000);
    session.setServer(fake.base());
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 1, 20000);
    QVERIFY(session.model().isLive());
    const QModelIndex speed = session.model().index(0, DownloadListModel::Speed);
    QVERIFY(speed.data().toString().contains(u"/s"));
    fake.server.dropConnections();
    QTRY_COMPARE_WITH_TIMEOUT(session.stream().state(), EventStreamClient::State::Reconnecting, 20000);
    QVERIFY(!session.model().isLive());
    QCOMPARE(speed.data().toString(), QStringLiteral("—"));
    session.stop();
}

void tst_MonitorSession::plannedStreamEndsAreNotOutages()
{
    // The real server ends every stream after 2 s (its connection timeout, 300 s by default):
    // across several renewals the indicator's state stays Connected, the table stays live
    // (Speed never "—") and nothing is reloaded.
    FileServer files;
    FileServer::File slow(FileServer::makeContent(8 * 1024 * 1024));
    slow.bytesPerSecond = 256 * 1024;
    files.addFile("/slow", slow);
    ServerProcess server;
    QProcessEnvironment env;
    // Not 1 s: the client counts a stream's life from its response headers (later than the
    // server's accept), and renews without Reconnecting only a stream that ran 1 s or more, so
    // a 1 s timeout sat on that edge (CI saw Reconnecting, Connected on a loaded machine).
    env.insert(QStringLiteral("HERMES_SSE_CONNECTION_TIMEOUT"), QStringLiteral("2"));
    QVERIFY2(server.start(env), qPrintable(server.errorString()));
    MonitorSession session;
    session.setServer(QUrl(server.baseUrl()));
    session.setApiKey(ServerProcess::ApiKey);
    session.model().setCoalescingInterval(10);
    session.start();
    QTRY_VERIFY_WITH_TIMEOUT(session.snapshotsLoaded() == 1, 10000);
    const QString id = add(server, files.url("/slow"));
    QTRY_COMPARE_WITH_TIMEOUT(session.model().row(id) ? session.model().row(id)->status.text : QString(),
                              QStringLiteral("downloading"), 20000);
    QList<EventStreamClient::State> states;
    connect(&session.stream(), &EventStreamClient::stateChanged, this,
            [&](EventStreamClient::State s) { states.append(s); });
    int samples = 0;
    int dashes = 0;
    QTimer sampler;
    connect(&sampler, &QTimer::timeout, this, [&] {
        const int row = session.model().rowOf(id);
        if (row < 0 || session.model().row(id)->status.text != u"downloading")
            return;
        ++samples;
        if (session.model().index(row, DownloadListModel::Speed).data().toString() == u"—")
            ++dashes;
    });
    sampler.start(20);
    QSignalSpy ended(&session.stream(), &EventStreamClient::streamEnded);
    QTRY_VERIFY_WITH_TIMEOUT(ended.size() >= 4, 25000);
    sampler.stop();
    QCOMPARE(states, QList<EventStreamClient::State>{});
    QCOMPARE(session.stream().state(), EventStreamClient::State::Connected);
    QVERIFY(samples > 0);
    QCOMPARE(dashes, 0);
    QCOMPARE(session.snapshotsLoaded(), 1);
    httpRequest(server.port(), "DELETE", "/api/v1/downloads/" + id.toUtf8(), {{"Authorization", Auth}});
}

void tst_MonitorSession::reachabilityAndResumeRetryAtOnce()
{
    FakeHermes fake;
    fake.streams = {ScriptedServer::status(500), ScriptedServer::status(500),
                    ScriptedServer::eventStream({connected()}, false)};
    MonitorSession session;
    session.stream().backoff().setBaseMs(60000); // a minute's wait, unless told otherwise
    session.stream().backoff().setCapMs(60000);
    session.setServer(fake.base());
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(session.stream().state(), EventStreamClient::State::Reconnecting, 20000);
    QVERIFY(session.stream().msUntilNextAttempt() > 20000);
    Q_EMIT session.network().networkAvailable(); // what QNetworkInformation reports
    QTRY_COMPARE_WITH_TIMEOUT(fake.streamRequests, 2, 5000);
    // That attempt failed too and the next waits a minute again (an attempt in flight is not
    // interrupted).
    QTRY_VERIFY_WITH_TIMEOUT(session.stream().msUntilNextAttempt() > 20000, 5000);
    Q_EMIT session.network().resumed(); // back from suspend
    // The retry starts at once; the scheduled one is 30-60 s away, so connecting within 20 s
    // proves it. (This once failed under load: the scripted 500 did not say "Connection:
    // close", so the retry went out on the connection the fake server was about to close.)
    QTRY_COMPARE_WITH_TIMEOUT(session.stream().state(), EventStreamClient::State::Connected, 20000);
    QCOMPARE(fake.streamRequests, 3);
    // Connected after a resume: the connection may be dead without knowing it; a new one.
    Q_EMIT session.network().resumed();
    QTRY_COMPARE_WITH_TIMEOUT(fake.streamRequests, 4, 5000);
    session.stop();
}

void tst_MonitorSession::resumeIsDetectedFromTheClocks()
{
    NetworkWatcher watcher;
    QSignalSpy resumed(&watcher, &NetworkWatcher::resumed);
    watcher.checkClocks(1'000'000, 500);
    watcher.checkClocks(1'005'000, 5'500);   // both clocks moved 5 s: awake
    QCOMPARE(resumed.size(), 0);
    watcher.checkClocks(1'010'000 + 3'600'000, 10'500); // the wall clock moved an hour more
    QCOMPARE(resumed.size(), 1);
    watcher.checkClocks(1'015'000 + 3'600'000, 15'500);
    QCOMPARE(resumed.size(), 1);
}

QTEST_MAIN(tst_MonitorSession)
#include "tst_monitorsession.moc"
