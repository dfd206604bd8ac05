// DownloadActions: each action is enabled from the download rules for the selection (also a
// status this version does not know, and several rows at once), and sent only for the
// downloads it applies to, in one request (POST /api/v1/downloads/actions; Pause All by
// status), against a scripted server that records the requests; an older server without that
// route gets one request per download.

#include "downloadactions.h"
#include "monitorsession.h"
#include "scriptedserver.h"

#include <QAction>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>
#include <QWidget>

using namespace Hermes;
using namespace Hermes::Test;

namespace {

/// One row per status, named after it, and one whose status this version does not know.
QJsonArray everyStatus()
{
    QJsonArray items;
    for (DownloadStatus s : allDownloadStatuses()) {
        items.append(QJsonObject{{"id", QString(wireName(s))}, {"url", "http://h/" + QString(wireName(s))},
                                 {"status", QString(wireName(s))}, {"created_at", "2026-01-01T00:00:00.000Z"}});
    }
    items.append(QJsonObject{{"id", "newer"}, {"url", "http://h/newer"}, {"status", "throttled"},
                             {"created_at", "2026-01-01T00:00:00.000Z"}});
    return items;
}

/// The bulk requests recorded (`POST /api/v1/downloads/actions`), their bodies in order.
QList<QJsonObject> bulkRequests(const ScriptedServer &server)
{
    QList<QJsonObject> out;
    for (int i = 0; i < server.requests().size(); ++i) {
        if (server.requests()[i].startsWith("POST /api/v1/downloads/actions "))
            out.append(QJsonDocument::fromJson(server.requestBody(i)).object());
    }
    return out;
}

QStringList sortedStrings(const QJsonValue &v)
{
    QStringList out;
    for (const QJsonValue &x : v.toArray())
        out.append(x.toString());
    out.sort();
    return out;
}

/// The downloads of the recorded single-action requests with `suffix` (e.g. "/pause").
QStringList targets(const ScriptedServer &server, const QByteArray &suffix)
{
    QStringList ids;
    for (const QByteArray &request : server.requests()) {
        const QByteArray path = request.split(' ').value(1);
        if (path.startsWith("/api/v1/downloads/") && path.endsWith(suffix))
            ids << QString::fromLatin1(path.mid(18, path.size() - 18 - suffix.size()));
    }
    ids.sort();
    return ids;
}

} // namespace

class tst_DownloadActions : public QObject
{
    Q_OBJECT

private slots:
    void enabledFromTheRules();
    void aSelectionEnablesWhatAnyRowAllows();
    void actionsGoOnlyWhereTheyApply();
    void pauseAllWithManyIsOneRequest();
    void anOlderServerGetsOneRequestEach();
    void aRefusalIsReported();

private:
    struct Fixture
    {
        explicit Fixture(ScriptedServer::Script script = [](int, const QByteArray &) {
            return ScriptedServer::Response{"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2", {"{}"}, false, true};
        })
            : server(std::move(script))
        {
            session.setServer(QUrl(server.url(QString())));
            session.model().mergeSnapshot(everyStatus());
        }
        ScriptedServer server;
        MonitorSession session;
        QWidget window;
        QStringList selection;
        DownloadActions actions{&session, [this] { return selection; }, &window};
    };
};

void tst_DownloadActions::enabledFromTheRules()
{
    Fixture f;
    QCOMPARE(f.actions.named("pause"), f.actions.action(DownloadAction::Pause));
    QCOMPARE(f.actions.named("retry"), f.actions.action(DownloadAction::Retry));
    for (DownloadStatus s : allDownloadStatuses()) {
        f.selection = {QString(wireName(s))};
        f.actions.update();
        for (DownloadAction a : allDownloadActions()) {
            QVERIFY2(f.actions.action(a)->isEnabled() == DownloadRules::allows(s, a),
                     qPrintable(QStringLiteral("%1 on %2").arg(wireName(a), wireName(s))));
        }
        for (QAction *move : f.actions.moves())
            QCOMPARE(move->isEnabled(), DownloadRules::canReorder(s));
        QVERIFY(f.actions.remove()->isEnabled());
        QVERIFY(f.actions.copyUrl()->isEnabled());
    }
    // The table lets Cancel apply to a failed download (the server accepts it).
    f.selection = {QString(wireName(DownloadStatus::Failed))};
    f.actions.update();
    QVERIFY(f.actions.action(DownloadAction::Cancel)->isEnabled());
    // A status of a newer server allows no action, but keeps its place in the queue.
    f.selection = {QStringLiteral("newer")};
    f.actions.update();
    for (DownloadAction a : allDownloadActions())
        QVERIFY(!f.actions.action(a)->isEnabled());
    QVERIFY(f.actions.moves().first()->isEnabled());
    // Nothing selected: only the actions on everything.
    f.selection = {};
    f.actions.update();
    for (QAction *a : f.actions.perDownload() + f.actions.moves() + QList<QAction *>{f.actions.remove(), f.actions.copyUrl()})
        QVERIFY(!a->isEnabled());
    QVERIFY(f.actions.pauseAll()->isEnabled());
    QVERIFY(f.actions.resumeAll()->isEnabled());
}

void tst_DownloadActions::aSelectionEnablesWhatAnyRowAllows()
{
    Fixture f;
    f.selection = {QString(wireName(DownloadStatus::Paused)), QString(wireName(DownloadStatus::Completed))};
    f.actions.update();
    QVERIFY(!f.actions.action(DownloadAction::Pause)->isEnabled());
    QVERIFY(f.actions.action(DownloadAction::Resume)->isEnabled());
    QVERIFY(f.actions.action(DownloadAction::Cancel)->isEnabled());
    QVERIFY(!f.actions.action(DownloadAction::Retry)->isEnabled());
    QVERIFY(f.actions.moves().first()->isEnabled()); // the paused one has a place
    f.selection = {QString(wireName(DownloadStatus::Completed)), QString(wireName(DownloadStatus::Cancelled))};
    f.actions.update();
    QVERIFY(f.actions.action(DownloadAction::Retry)->isEnabled());
    QVERIFY(!f.actions.moves().first()->isEnabled());
}

void tst_DownloadActions::actionsGoOnlyWhereTheyApply()
{
    Fixture f;
    QStringList everything;
    for (const QJsonValue &v : everyStatus())
        everything << v["id"].toString();
    f.selection = everything;
    f.actions.update();
    // One request per action on the whole selection, naming only the downloads it applies to.
    int sent = 0;
    for (DownloadAction a : allDownloadActions()) {
        QStringList expected;
        for (DownloadStatus s : DownloadRules::appliesTo(a))
            expected << QString(wireName(s));
        expected.sort();
        f.actions.action(a)->trigger();
        ++sent;
        QTRY_COMPARE_WITH_TIMEOUT(bulkRequests(f.server).size(), sent, 10000);
        const QJsonObject body = bulkRequests(f.server).last();
        QCOMPARE(body["action"].toString(), QString(wireName(a)));
        QCOMPARE(sortedStrings(body["ids"]), expected);
    }
    QCOMPARE(f.server.requests().size(), sent);
    // Pause All and Resume All: one request each, by the statuses the action applies to.
    f.selection = {};
    f.actions.pauseAll()->trigger();
    f.actions.resumeAll()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(f.server.requests().size(), sent + 2, 10000);
    QTest::qWait(100);
    QCOMPARE(f.server.requests().size(), sent + 2);
    const QList<QJsonObject> all = bulkRequests(f.server).mid(sent);
    QCOMPARE(all[0]["action"].toString(), QStringLiteral("pause"));
    QCOMPARE(sortedStrings(all[0]["status"]), (QStringList{"downloading", "pending"}));
    QCOMPARE(all[1]["action"].toString(), QStringLiteral("resume"));
    QCOMPARE(sortedStrings(all[1]["status"]), QStringList{"paused"});
}

void tst_DownloadActions::pauseAllWithManyIsOneRequest()
{
    // 2,500 selected downloads: three requests (1,000 ids each at most), not 2,500; Pause All
    // with them all is one.
    Fixture f;
    QJsonArray many;
    for (int i = 0; i < 2500; ++i) {
        many.append(QJsonObject{{"id", QStringLiteral("d%1").arg(i)}, {"url", "http://h/x"}, {"status", "downloading"},
                                {"created_at", "2026-01-01T00:00:00.000Z"}});
        f.selection << QStringLiteral("d%1").arg(i);
    }
    f.session.model().mergeSnapshot(many);
    f.actions.update();
    f.actions.action(DownloadAction::Pause)->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(f.server.requests().size(), 3, 10000);
    QStringList sent;
    for (const QJsonObject &body : bulkRequests(f.server)) {
        QVERIFY(body["ids"].toArray().size() <= 1000);
        sent += sortedStrings(body["ids"]);
    }
    sent.sort();
    QStringList expected = f.selection;
    expected.sort();
    QCOMPARE(sent, expected);
    f.actions.pauseAll()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(f.server.requests().size(), 4, 10000);
    QTest::qWait(100);
    QCOMPARE(f.server.requests().size(), 4);
}

void tst_DownloadActions::anOlderServerGetsOneRequestEach()
{
    // A server without the bulk route answers 405 (as hermes-server does): the monitor sends
    // one request per download.
    Fixture f([](int, const QByteArray &request) {
        static const QByteArray error = R"({"error":{"code":"method_not_allowed","message":"only GET"}})";
        if (request.startsWith("POST /api/v1/downloads/actions "))
            return ScriptedServer::Response{"HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\n"
                                            "Content-Length: " + QByteArray::number(error.size()), {error}, false, true};
        return ScriptedServer::Response{"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2", {"{}"}, false, true};
    });
    f.selection = {QStringLiteral("pending"), QStringLiteral("downloading"), QStringLiteral("completed")};
    f.actions.update();
    f.actions.action(DownloadAction::Pause)->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(targets(f.server, "/pause"), (QStringList{"downloading", "pending"}), 10000);
    f.selection = {};
    f.actions.resumeAll()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(targets(f.server, "/resume"), QStringList{"paused"}, 10000);
}

void tst_DownloadActions::aRefusalIsReported()
{
    Fixture f([](int, const QByteArray &) { return ScriptedServer::status(409); });
    QSignalSpy messages(&f.actions, &DownloadActions::message);
    f.selection = {QString(wireName(DownloadStatus::Paused))};
    f.actions.update();
    f.actions.action(DownloadAction::Resume)->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(messages.size(), 1, 10000);
    QCOMPARE(messages[0][0].toString(), QStringLiteral("resume of \"paused\" failed: scripted"));

    // Refused in a bulk answer (the row changed meanwhile): said per download.
    const QByteArray skipped = R"({"changed":[],"more":false,"skipped":[{"id":"paused","reason":"invalid_state","status":"completed"}]})";
    Fixture g([skipped](int, const QByteArray &) {
        return ScriptedServer::Response{"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                            + QByteArray::number(skipped.size()), {skipped}, false, true};
    });
    QSignalSpy refused(&g.actions, &DownloadActions::message);
    g.selection = {QString(wireName(DownloadStatus::Paused))};
    g.actions.update();
    g.actions.action(DownloadAction::Resume)->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(refused.size(), 1, 10000);
    QCOMPARE(refused[0][0].toString(), QStringLiteral("resume of \"paused\" failed: it is completed"));
}

QTEST_MAIN(tst_DownloadActions)
#include "tst_downloadactions.moc"
