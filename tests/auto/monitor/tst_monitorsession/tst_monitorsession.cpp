// MonitorSession against the real hermes-server and a real file server (the model equals the
// server after a stream of events, and across a server kill and restart), and against a
// scripted server for what the real one does not do on demand: long lists, lists that move
// while paged, failing snapshots, replays, resync_required.

#include "fileserver.h"
#include "monitorsession.h"
#include "scriptedserver.h"
#include "serverprocess.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>
#include <QUrlQuery>

using namespace Hermes;
using namespace Hermes::Test;

static const QByteArray Auth = QByteArray("Bearer ") + ServerProcess::ApiKey;

namespace {

QJsonObject item(const QString &id, const QString &status, int second = 0)
{
    return {{"id", id}, {"url", "http://files/" + id}, {"filename", id + ".bin"}, {"status", status},
            {"priority", 0}, {"attempts", 0},
            {"created_at", QStringLiteral("2026-01-01T00:00:%1.000Z").arg(second, 2, 10, QChar(u'0'))},
            {"updated_at", QStringLiteral("2026-01-01T00:00:%1.000Z").arg(second, 2, 10, QChar(u'0'))},
            {"progress", QJsonObject{{"percentage", status == u"completed" ? 100 : 10}, {"speed", 100.0},
                                     {"downloaded_bytes", 10}, {"total_bytes", 100}, {"eta", 9}}}};
}

/// One SSE frame of the envelope style, with an id when given.
QByteArray frame(const QString &type, const QJsonObject &data, const QString &timestamp, const QByteArray &id = {})
{
    const QByteArray json = QJsonDocument(QJsonObject{{"type", type}, {"data", data}, {"timestamp", timestamp}})
                                .toJson(QJsonDocument::Compact);
    return (id.isEmpty() ? QByteArray() : "id: " + id + "\n") + "data: " + json + "\n\n";
}

QByteArray connected() { return frame("connected", {{"connection_id", "c"}, {"heartbeat_interval", 30}}, "2026-01-01T00:00:00.000Z"); }

QByteArray progressFrame(const QString &id, const QString &status, const QString &timestamp, const QByteArray &eventId)
{
    return frame("download_progress",
                 {{"download_id", id}, {"status", status}, {"filename", id + ".bin"}, {"url", "http://files/" + id},
                  {"progress", QJsonObject{{"percentage", status == u"completed" ? 100 : 50}, {"speed", 10.0},
                                           {"downloaded_bytes", 50}, {"total_bytes", 100}, {"eta", 5}}}},
                 timestamp, eventId);
}

/// A scripted hermes-server: the download list (paged as the real one pages it), one
/// download, and a scripted stream per connection.
class FakeHermes
{
public:
    QList<QJsonObject> items;
    int failLists = 0;                            ///< answer 500 to this many list requests
    int pageBytes = 0;                            ///< a page ends early past this (as the real one does)
    QList<ScriptedServer::Response> streams;      ///< per connection; the last one repeats
    std::function<void(int page)> beforePage;     ///< may change `items` between pages
    int streamRequests = 0;
    int listRequests = 0;
    int detailRequests = 0;
    QList<QByteArray> streamLastEventIds;
    ScriptedServer server{[this](int, const QByteArray &request) { return answer(request); }};

    QUrl base() const { return QUrl(server.url(QString())); }

private:
    static ScriptedServer::Response json(int status, const QJsonObject &body)
    {
        const QByteArray bytes = QJsonDocument(body).toJson(QJsonDocument::Compact);
        return {"HTTP/1.1 " + QByteArray::number(status) + " X\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: "
                    + QByteArray::number(bytes.size()),
                {bytes}, false, true};
    }

    ScriptedServer::Response answer(const QByteArray &request)
    {
        const QByteArray target = request.split(' ').value(1);
        const QUrl url(QString::fromLatin1("http://x" + target));
        if (url.path() == u"/api/v1/events/stream") {
            QByteArray lastId;
            for (const QByteArray &line : request.split('\n')) {
                if (line.toLower().startsWith("last-event-id:"))
                    lastId = line.mid(14).trimmed();
            }
            streamLastEventIds.append(lastId);
            return streams.value(qMin(streamRequests++, int(streams.size()) - 1));
        }
        if (url.path() == u"/api/v1/downloads") {
            const QUrlQuery q(url);
            const int offset = q.queryItemValue("offset").toInt();
            const int limit = q.queryItemValue("limit").toInt();
            if (beforePage)
                beforePage(listRequests);
            ++listRequests;
            if (failLists > 0) {
                --failLists;
                return json(500, {{"error", QJsonObject{{"code", "boom"}, {"message", "scripted failure"}}}});
            }
            QJsonArray page;
            qsizetype bytes = 0;
            for (int i = offset; i < qMin(int(items.size()), offset + limit); ++i) {
                bytes += QJsonDocument(items.at(i)).toJson(QJsonDocument::Compact).size();
                if (pageBytes > 0 && !page.isEmpty() && bytes > pageBytes)
                    break;
                page.append(items.at(i));
            }
            const int next = offset + int(page.size());
            return json(200, {{"items", page}, {"total", int(items.size())}, {"limit", limit}, {"offset", offset},
                              {"next_offset", next < items.size() ? QJsonValue(next) : QJsonValue()}});
        }
        if (url.path().startsWith(u"/api/v1/downloads/")) {
            ++detailRequests;
            const QString id = url.path().section(u'/', -1);
            for (const QJsonObject &o : std::as_const(items)) {
                if (o.value("id").toString() == id)
                    return json(200, o);
            }
            return json(404, {{"error", QJsonObject{{"code", "not_found"}, {"message", "no"}}}});
        }
        return json(404, {});
    }
};

void fast(MonitorSession &session)
{
    session.stream().backoff().setBaseMs(10);
    session.stream().backoff().setCapMs(40);
    session.model().setCoalescingInterval(5);
}

} // namespace

class tst_MonitorSession : public QObject
{
    Q_OBJECT

private slots:
    void modelMatchesTheServer();
    void survivesAServerRestart();
    void pagesTheSnapshotUntilTotal();
    void pagesOnFromPagesThatEndEarly();
    void pagesAgainWhenTheListMoves();
    void aListThatKeepsMovingRemovesNothing();
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
        const HttpReply r = httpRequest(server.port(), "GET", "/api/v1/downloads", {{"Authorization", Auth}});
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

void tst_MonitorSession::pagesAgainWhenTheListMoves()
{
    // A download is added while the list is paged: every page shifts by one. The loader
    // notices (the total changed) and pages again; nothing is lost or doubled.
    FakeHermes fake;
    for (int i = 0; i < 25; ++i)
        fake.items.append(item(QStringLiteral("d%1").arg(i), "pending", i));
    fake.beforePage = [&](int page) {
        if (page == 1)
            fake.items.prepend(item("new", "pending", 59));
    };
    fake.streams = {ScriptedServer::eventStream({connected()}, false)};
    MonitorSession session;
    fast(session);
    session.loader().setPageSize(10);
    session.setServer(fake.base());
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 1, 20000);
    QCOMPARE(session.model().rowCount(), 26);
    for (const QJsonObject &o : std::as_const(fake.items))
        QVERIFY(session.model().row(o.value("id").toString()));
    QCOMPARE(fake.listRequests, 2 + 3); // two pages, then all three again
    session.stop();
}

void tst_MonitorSession::aListThatKeepsMovingRemovesNothing()
{
    // Downloads are added faster than the list can be paged: after its restarts the loader
    // hands on what it got. That list lacks rows only because they moved to pages it did not
    // read: none may disappear from the table. A later load, once the list is quiet, makes
    // the table exactly the server's again (here: a download deleted meanwhile goes).
    FakeHermes fake;
    for (int i = 0; i < 25; ++i)
        fake.items.append(item(QStringLiteral("d%1").arg(i), "pending", i));
    fake.streams = {ScriptedServer::eventStream({connected()}, false)};
    MonitorSession session;
    fast(session);
    session.snapshotRetryPolicy().setBaseMs(200);
    session.snapshotRetryPolicy().setCapMs(400);
    session.loader().setPageSize(10);
    session.setServer(fake.base());
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 1, 20000);
    QCOMPARE(session.model().rowCount(), 25);

    int added = 0;
    fake.beforePage = [&](int page) {
        if (page >= 1)
            fake.items.prepend(item(QStringLiteral("n%1").arg(added++), "pending", 60));
    };
    session.reload();
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 2, 20000);
    for (int i = 0; i < 25; ++i)
        QVERIFY2(session.model().row(QStringLiteral("d%1").arg(i)), qPrintable(QStringLiteral("d%1 vanished").arg(i)));
    QVERIFY(session.model().rowCount() > 25);

    fake.beforePage = {};
    fake.items.removeLast(); // deleted while no load could say so
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 3, 20000);
    QCOMPARE(session.model().rowCount(), int(fake.items.size()));
    for (const QJsonObject &o : std::as_const(fake.items))
        QVERIFY(session.model().row(o.value("id").toString()));
    QTest::qWait(800);
    QCOMPARE(session.snapshotsLoaded(), 3); // a complete load is the last
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
