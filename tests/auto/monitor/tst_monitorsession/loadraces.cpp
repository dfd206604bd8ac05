#include "loadraces.h"

#include "fakehermes.h"

#include <QTest>

namespace {

/// A queue_update as the stream delivers it (the envelope style).
SseParser::Event queueUpdate(QueueAction action, const QString &id)
{
    QueueUpdateEvent update;
    update.action = action;
    update.downloadId = id;
    const QJsonObject envelope{{"type", QString(wireName(EventType::QueueUpdate))},
                               {"data", update.toJson()},
                               {"timestamp", "2026-01-01T00:01:00.000Z"}};
    return {QStringLiteral("message"), QString::fromUtf8(QJsonDocument(envelope).toJson(QJsonDocument::Compact)), {}};
}

QStringList ids(MonitorSession &session)
{
    QStringList out;
    for (int i = 0; i < session.model().rowCount(); ++i)
        out.append(session.model().rowAt(i).id);
    out.sort();
    return out;
}

} // namespace

namespace LoadRaces {

void droppedEventsLoadAnew()
{
    // d3 is deleted after the first page brought it. While the second page is on its way more
    // events come than are held, and its removal is among those dropped; then F5. Walking on
    // with the first page would keep d3 in the table for good: the load must start over.
    FakeHermes fake;
    for (int i = 0; i < 25; ++i)
        fake.items.append(item(QStringLiteral("d%1").arg(i), "pending", i));
    fake.streams = {ScriptedServer::eventStream({connected()}, false)};
    MonitorSession session;
    fast(session);
    session.setMaxHeldEvents(2);
    session.loader().setPageSize(10);
    session.setServer(fake.base());
    fake.beforePage = [&](int request) {
        if (request != 1)
            return;
        fake.items.removeAt(3);
        Q_EMIT session.stream().eventReceived(queueUpdate(QueueAction::Removed, "d3"));
        Q_EMIT session.stream().eventReceived(queueUpdate(QueueAction::Removed, "gone1"));
        Q_EMIT session.stream().eventReceived(queueUpdate(QueueAction::Removed, "gone2")); // the third: dropped
        session.reload();
    };
    session.start();
    QTRY_VERIFY_WITH_TIMEOUT(session.snapshotsLoaded() >= 1 && !session.isLoading(), 20000);
    QTRY_VERIFY_WITH_TIMEOUT(!session.model().row("d3"), 3000);
    QStringList onServer;
    for (const QJsonObject &o : std::as_const(fake.items))
        onServer.append(o.value("id").toString());
    onServer.sort();
    QCOMPARE(ids(session), onServer);
    session.stop();
}

void aLateDetailsAnswerBringsNothingBack()
{
    // x is added, then reordered: two details requests for it are on their way. The second is
    // answered first; then x is deleted; then comes the first answer, served before the delete.
    FakeHermes fake;
    fake.items = {item("a", "pending", 1)};
    fake.streams = {ScriptedServer::eventStream({connected()}, false)};
    fake.detailDelaysMs = {1500}; // the first details answer is slow, the others are not
    MonitorSession session;
    fast(session);
    session.setServer(fake.base());
    session.start();
    QTRY_COMPARE_WITH_TIMEOUT(session.snapshotsLoaded(), 1, 20000);
    fake.items.append(item("x", "pending", 2));
    Q_EMIT session.stream().eventReceived(queueUpdate(QueueAction::Added, "x"));
    QTRY_COMPARE_WITH_TIMEOUT(fake.detailRequests, 1, 5000);
    Q_EMIT session.stream().eventReceived(queueUpdate(QueueAction::Reordered, "x"));
    QTRY_VERIFY_WITH_TIMEOUT(session.model().row("x"), 5000); // the second answer
    QCOMPARE(fake.detailRequests, 2);
    fake.items.removeLast();
    Q_EMIT session.stream().eventReceived(queueUpdate(QueueAction::Removed, "x"));
    QVERIFY(!session.model().row("x"));
    // The first answer comes about 1.5 s after its request.
    (void)QTest::qWaitFor([&] { return session.model().row("x") != nullptr; }, 4000);
    QCOMPARE(ids(session), QStringList{"a"});
    session.stop();
}

} // namespace LoadRaces
