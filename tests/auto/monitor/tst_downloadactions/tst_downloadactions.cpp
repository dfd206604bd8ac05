// DownloadActions: each action is enabled from the download rules for the selection (also a
// status this version does not know, and several rows at once), and sent only for the
// downloads it applies to, against a scripted server that records the requests.

#include "downloadactions.h"
#include "monitorsession.h"
#include "scriptedserver.h"

#include <QAction>
#include <QJsonArray>
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

/// The downloads of the recorded requests with `suffix` (e.g. "/pause").
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
    for (DownloadAction a : allDownloadActions()) {
        QStringList expected;
        for (DownloadStatus s : DownloadRules::appliesTo(a))
            expected << QString(wireName(s));
        expected.sort();
        const QByteArray suffix = "/" + QByteArray(wireName(a).data(), wireName(a).size());
        f.actions.action(a)->trigger();
        QTRY_COMPARE_WITH_TIMEOUT(targets(f.server, suffix), expected, 10000);
    }
    // Pause All and Resume All: every download the action applies to, selected or not.
    f.selection = {};
    const qsizetype before = f.server.requests().size();
    f.actions.pauseAll()->trigger();
    f.actions.resumeAll()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(f.server.requests().size(), before + 3, 10000); // pending, downloading; paused
    QStringList paused = targets(f.server, "/pause");
    paused.removeDuplicates();
    QCOMPARE(paused, (QStringList{"downloading", "pending"}));
    QCOMPARE(targets(f.server, "/resume"), (QStringList{"paused", "paused"}));
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
}

QTEST_MAIN(tst_DownloadActions)
#include "tst_downloadactions.moc"
