// EventStreamClient against scripted local HTTP servers: framing variants, resume, backoff
// accounting, the watchdog, auth failures and Retry-After. Counts and states, never durations.

#include "eventstreamclient.h"
#include "scriptedserver.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>

using namespace Hermes;
using namespace Hermes::Test;
using State = EventStreamClient::State;

class tst_EventStreamClient : public QObject
{
    Q_OBJECT

private slots:
    void readsAnyEventStream_data();
    void readsAnyEventStream();
    void sendsLastEventIdOnReconnect();
    void givesUpAfterMaxAttempts();
    void manualReconnectResetsAttempts();
    void retryFieldBecomesTheBase();
    void watchdogFiresOnASilentServer();
    void unauthorizedStopsAtOnce_data();
    void unauthorizedStopsAtOnce();
    void serviceUnavailableHonoursRetryAfter();
    void wrongContentTypeIsAnError();
    void noReconnectEndsDisconnected();
    void resumesFromTheLastDispatchedId();
    void oversizedLineIsAProtocolError_data();
    void oversizedLineIsAProtocolError();
    void slotMayCloseReconnectOrDelete_data();
    void slotMayCloseReconnectOrDelete();
    void watchdogFollowsTheServersHeartbeat_data();
    void watchdogFollowsTheServersHeartbeat();
    void deadStreamNoticedWithinTwoHeartbeats();
    void keepsTryingAfterTheFastAttempts();
    void retryNowSkipsTheWait();
    void disconnectReasons();
    void plannedEndIsRenewedWithoutAnOutage();
    void failedRenewalShowsReconnecting();
    void anEmptyStreamIsNotRenewed();

private:
    static void fastBackoff(EventStreamClient &client)
    {
        client.backoff().setBaseMs(10);
        client.backoff().setCapMs(40);
    }
};

void tst_EventStreamClient::readsAnyEventStream_data()
{
    QTest::addColumn<bool>("chunked");
    QTest::addColumn<QByteArray>("contentType");
    QTest::newRow("close-delimited") << false << QByteArray("text/event-stream");
    QTest::newRow("chunked") << true << QByteArray("text/event-stream");
    QTest::newRow("charset parameter") << false << QByteArray("text/event-stream; charset=utf-8");
    QTest::newRow("upper case") << true << QByteArray("Text/Event-Stream;charset=UTF-8");
}

void tst_EventStreamClient::readsAnyEventStream()
{
    QFETCH(bool, chunked);
    QFETCH(QByteArray, contentType);
    ScriptedServer server([&](int, const QByteArray &) {
        auto r = ScriptedServer::eventStream({"id: 1\ndata: one\n\n", "event: x\ndata: t", "wo\n\n"},
                                             false, contentType);
        r.chunked = chunked;
        return r;
    });
    EventStreamClient client;
    client.setUrl(QUrl(server.url()));
    QSignalSpy events(&client, &EventStreamClient::eventReceived);
    client.open();
    QCOMPARE(client.state(), State::Connecting);
    QTRY_COMPARE_WITH_TIMEOUT(events.size(), 2, 10000);
    QCOMPARE(client.state(), State::Connected);
    const auto first = events[0][0].value<SseParser::Event>();
    const auto second = events[1][0].value<SseParser::Event>();
    QCOMPARE(first.data, QStringLiteral("one"));
    QCOMPARE(first.lastEventId, QStringLiteral("1"));
    QCOMPARE(second.type, QStringLiteral("x"));
    QCOMPARE(second.data, QStringLiteral("two"));
    QCOMPARE(server.requestHeader(0, "accept"), QByteArray("text/event-stream"));
    QVERIFY(server.requestHeader(0, "last-event-id").isEmpty());
}

void tst_EventStreamClient::sendsLastEventIdOnReconnect()
{
    ScriptedServer server([](int n, const QByteArray &) {
        return ScriptedServer::eventStream({"id: " + QByteArray::number(100 + n) + "\ndata: x\n\n"});
    });
    EventStreamClient client;
    fastBackoff(client);
    client.setUrl(QUrl(server.url()));
    client.setApiKey("secret");
    client.setLastEventId(QStringLiteral("42-0"));
    client.open();
    QTRY_VERIFY_WITH_TIMEOUT(server.requests().size() >= 3, 10000);
    QCOMPARE(server.requestHeader(0, "last-event-id"), QByteArray("42-0"));
    QCOMPARE(server.requestHeader(1, "last-event-id"), QByteArray("100"));
    QCOMPARE(server.requestHeader(2, "last-event-id"), QByteArray("101"));
    QCOMPARE(server.requestHeader(1, "authorization"), QByteArray("Bearer secret"));
    client.close();
}

void tst_EventStreamClient::givesUpAfterMaxAttempts()
{
    // The server accepts, then drops at once: never stable, so every reconnect counts.
    ScriptedServer server([](int, const QByteArray &) { return ScriptedServer::eventStream({": hi\n\n"}); });
    EventStreamClient client;
    fastBackoff(client);
    client.backoff().setMaxAttempts(4);
    client.setUrl(QUrl(server.url()));
    QList<int> attempts;
    QSignalSpy states(&client, &EventStreamClient::stateChanged);
    connect(&client, &EventStreamClient::stateChanged, this, [&](State s) {
        if (s == State::Reconnecting)
            attempts.append(client.attempt());
    });
    client.open();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Disconnected, 20000);
    QCOMPARE(attempts, (QList<int>{1, 2, 3, 4}));
    QCOMPARE(server.requests().size(), 5); // the first try and four reconnects
    QVERIFY(client.lastError().contains(u"gave up after 4 attempts"));
    QTest::qWait(200);
    QCOMPARE(server.requests().size(), 5); // and then nothing
}

void tst_EventStreamClient::manualReconnectResetsAttempts()
{
    ScriptedServer server([](int, const QByteArray &) { return ScriptedServer::status(500); });
    EventStreamClient client;
    fastBackoff(client);
    client.backoff().setMaxAttempts(2);
    client.setUrl(QUrl(server.url()));
    client.open();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Disconnected, 20000);
    QCOMPARE(server.requests().size(), 3);
    client.reconnectNow();
    QCOMPARE(client.attempt(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Disconnected, 20000);
    QCOMPARE(server.requests().size(), 6);
}

void tst_EventStreamClient::retryFieldBecomesTheBase()
{
    ScriptedServer server([](int, const QByteArray &) {
        return ScriptedServer::eventStream({"retry: 25\n\n", "retry: 1x\n\n"});
    });
    EventStreamClient client;
    client.setUrl(QUrl(server.url()));
    QSignalSpy retries(&client, &EventStreamClient::retryReceived);
    int firstDelay = -2; // read when the reconnect is scheduled: the timer may fire soon after
    client.backoff().setCapMs(5000);
    connect(&client, &EventStreamClient::stateChanged, this, [&](State s) {
        if (s == State::Reconnecting && firstDelay == -2)
            firstDelay = client.nextDelayMs();
    });
    client.open();
    QTRY_VERIFY_WITH_TIMEOUT(firstDelay != -2, 10000);
    QCOMPARE(retries.size(), 1); // "1x" is not all digits: ignored
    QCOMPARE(retries[0][0].toInt(), 25);
    // `retry: 25` is clamped to the 500 ms minimum: a server cannot make clients spin.
    QCOMPARE(client.backoff().baseMs(), ReconnectBackoff::MinServerRetryMs);
    QVERIFY2(firstDelay >= 250 && firstDelay <= 500, qPrintable(QString::number(firstDelay)));
    client.close();
}

void tst_EventStreamClient::watchdogFiresOnASilentServer()
{
    // Headers and one comment, then silence with the connection held open.
    ScriptedServer server([](int, const QByteArray &) {
        return ScriptedServer::eventStream({": open\n\n"}, false);
    });
    EventStreamClient client;
    fastBackoff(client);
    client.setHeartbeatIntervalMs(200); // watchdog at 400 ms
    client.setUrl(QUrl(server.url()));
    QSignalSpy errors(&client, &EventStreamClient::errorOccurred);
    client.open();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Connected, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(server.requests().size() >= 2, 10000);
    QVERIFY(errors.size() >= 1);
    QVERIFY2(errors[0][0].toString().contains(u"connection is dead"), qPrintable(errors[0][0].toString()));
    client.close();
}

void tst_EventStreamClient::unauthorizedStopsAtOnce_data()
{
    QTest::addColumn<int>("status");
    QTest::newRow("401") << 401;
    QTest::newRow("403") << 403;
}

void tst_EventStreamClient::unauthorizedStopsAtOnce()
{
    QFETCH(int, status);
    ScriptedServer server([&](int, const QByteArray &) {
        return ScriptedServer::status(status, "WWW-Authenticate: Bearer");
    });
    EventStreamClient client;
    fastBackoff(client);
    client.setUrl(QUrl(server.url()));
    QSignalSpy auth(&client, &EventStreamClient::authenticationFailed);
    client.open();
    QTRY_COMPARE_WITH_TIMEOUT(auth.size(), 1, 10000);
    QCOMPARE(client.state(), State::Disconnected);
    QVERIFY(client.lastError().contains(u"authentication failed"));
    QTest::qWait(200);
    QCOMPARE(server.requests().size(), 1);
}

void tst_EventStreamClient::serviceUnavailableHonoursRetryAfter()
{
    ScriptedServer server([](int, const QByteArray &) {
        return ScriptedServer::status(503, "Retry-After: 7");
    });
    EventStreamClient client;
    fastBackoff(client);
    client.setUrl(QUrl(server.url()));
    client.open();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Reconnecting, 10000);
    // Honoured, plus up to 50 % jitter so that rejected clients do not return together.
    QVERIFY2(client.nextDelayMs() >= 7000 && client.nextDelayMs() <= 10500, qPrintable(QString::number(client.nextDelayMs())));
    QVERIFY(client.msUntilNextAttempt() > 5000);
    QCOMPARE(client.lastStatus(), 503);
    client.close();
}

void tst_EventStreamClient::wrongContentTypeIsAnError()
{
    ScriptedServer server([](int, const QByteArray &) {
        return ScriptedServer::eventStream({"data: x\n\n"}, true, "text/plain");
    });
    EventStreamClient client;
    client.setUrl(QUrl(server.url()));
    client.setReconnectEnabled(false);
    QSignalSpy events(&client, &EventStreamClient::eventReceived);
    client.open();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Disconnected, 10000);
    QCOMPARE(events.size(), 0);
    QVERIFY(client.lastError().contains(u"text/event-stream"));
}

void tst_EventStreamClient::noReconnectEndsDisconnected()
{
    ScriptedServer server([](int, const QByteArray &) { return ScriptedServer::eventStream({"data: a\n\n"}); });
    EventStreamClient client;
    client.setUrl(QUrl(server.url()));
    client.setReconnectEnabled(false);
    QSignalSpy ended(&client, &EventStreamClient::streamEnded);
    client.open();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Disconnected, 10000);
    QCOMPARE(ended.size(), 1);
    QCOMPARE(server.requests().size(), 1);
}

void tst_EventStreamClient::resumesFromTheLastDispatchedId()
{
    // The first connection is cut after "id: 42" but before the blank line that dispatches
    // it: event 42 never arrived, so the reconnect must ask for what follows 41.
    ScriptedServer server([](int n, const QByteArray &) {
        if (n == 0)
            return ScriptedServer::eventStream({"id: 41\ndata: a\n\n", "id: 42\ndata: b\n"});
        return ScriptedServer::eventStream({"id: 42\ndata: b\n\n"}, false);
    });
    EventStreamClient client;
    fastBackoff(client);
    client.setUrl(QUrl(server.url()));
    QStringList got;
    connect(&client, &EventStreamClient::eventReceived, this,
            [&](const SseParser::Event &e) { got.append(e.data + u'@' + e.lastEventId); });
    client.open();
    QTRY_COMPARE_WITH_TIMEOUT(got.size(), 2, 10000);
    QCOMPARE(got, (QStringList{"a@41", "b@42"}));
    QCOMPARE(server.requestHeader(1, "last-event-id"), QByteArray("41"));
    QVERIFY(client.resumedWithLastEventId());
    QCOMPARE(client.lastEventId(), QStringLiteral("42"));
    client.close();
}

void tst_EventStreamClient::oversizedLineIsAProtocolError_data()
{
    QTest::addColumn<QByteArray>("part");
    QTest::addColumn<QString>("message");
    QTest::newRow("line") << QByteArray(200 * 1024, 'x') << QStringLiteral("a line longer than 65536 bytes");
    QTest::newRow("event") << QByteArray("data: " + QByteArray(1000, 'y') + "\n").repeated(100)
                           << QStringLiteral("an event larger than 65536 bytes");
}

void tst_EventStreamClient::oversizedLineIsAProtocolError()
{
    QFETCH(QByteArray, part);
    QFETCH(QString, message);
    ScriptedServer server([&](int, const QByteArray &) {
        return ScriptedServer::eventStream({"id: 1\ndata: ok\n\n", part, "\n\ndata: never\n\n"}, false);
    });
    EventStreamClient client;
    fastBackoff(client);
    client.setMaxBufferBytes(64 * 1024);
    client.setUrl(QUrl(server.url()));
    QStringList got;
    QList<int> attempts;
    connect(&client, &EventStreamClient::eventReceived, this, [&](const SseParser::Event &e) { got.append(e.data); });
    connect(&client, &EventStreamClient::stateChanged, this, [&](State s) {
        if (s == State::Reconnecting)
            attempts.append(client.attempt());
    });
    QSignalSpy errors(&client, &EventStreamClient::errorOccurred);
    client.open();
    QTRY_VERIFY_WITH_TIMEOUT(server.requests().size() >= 2, 10000);
    QVERIFY(!errors.isEmpty());
    QVERIFY2(errors[0][0].toString().contains(message), qPrintable(errors[0][0].toString()));
    QVERIFY(errors[0][0].toString().startsWith(u"protocol error"));
    QCOMPARE(attempts.value(0), 1); // counted as an attempt
    QVERIFY(!got.contains(u"never"));
    QCOMPARE(server.requestHeader(1, "last-event-id"), QByteArray("1"));
    client.close();
}

void tst_EventStreamClient::slotMayCloseReconnectOrDelete_data()
{
    QTest::addColumn<QString>("action");
    QTest::newRow("close") << "close";
    QTest::newRow("reconnect") << "reconnect";
    QTest::newRow("delete") << "delete";
    QTest::newRow("deleteLater") << "deleteLater";
    QTest::newRow("close on stateChanged") << "closeOnState";
    QTest::newRow("delete on stateChanged") << "deleteOnState";
}

void tst_EventStreamClient::slotMayCloseReconnectOrDelete()
{
    // Run under ASan: several events arrive in one read; the slot acts on the first. Nothing
    // more from that connection may be delivered, and nothing may be used after it is freed.
    QFETCH(QString, action);
    ScriptedServer server([](int n, const QByteArray &) {
        const QByteArray c = QByteArray::number(n);
        return ScriptedServer::eventStream({"id: " + c + "1\ndata: " + c + "a\n\nid: " + c + "2\ndata: " + c
                                            + "b\n\nid: " + c + "3\ndata: " + c + "c\n\n"}, false);
    });
    auto *client = new EventStreamClient;
    QPointer<EventStreamClient> guard(client);
    client->backoff().setBaseMs(10);
    client->setUrl(QUrl(server.url()));
    QStringList got;
    connect(client, &EventStreamClient::eventReceived, this, [&](const SseParser::Event &e) {
        got.append(e.data);
        if (got.size() != 1)
            return;
        if (action == u"close")
            client->close();
        else if (action == u"reconnect")
            client->reconnectNow();
        else if (action == u"delete")
            delete client;
        else if (action == u"deleteLater")
            client->deleteLater();
    });
    bool acted = false;
    connect(client, &EventStreamClient::stateChanged, this, [&](State s) {
        if (s != State::Connected || acted)
            return;
        acted = true;
        if (action == u"closeOnState")
            client->close();
        else if (action == u"deleteOnState")
            delete client;
    });
    client->open();
    if (action.endsWith(u"OnState")) {
        QTRY_VERIFY_WITH_TIMEOUT(acted, 10000);
        QTest::qWait(300);
        QVERIFY(got.isEmpty());
        QVERIFY(action == u"closeOnState" || !guard);
    } else if (action == u"reconnect") {
        QTRY_COMPARE_WITH_TIMEOUT(got.size(), 4, 10000);
        QCOMPARE(got, (QStringList{"0a", "1a", "1b", "1c"}));
        QCOMPARE(server.requestHeader(1, "last-event-id"), QByteArray("01"));
    } else if (action == u"deleteLater") {
        // Not deleted until the event loop runs: the rest of that read may still arrive.
        QTRY_VERIFY_WITH_TIMEOUT(!guard, 10000);
        QCOMPARE(got.first(), QStringLiteral("0a"));
        QVERIFY(QStringList({"0a", "0b", "0c"}).mid(0, got.size()) == got);
    } else {
        QTRY_VERIFY_WITH_TIMEOUT(!got.isEmpty(), 10000);
        QTest::qWait(300);
        QCOMPARE(got, QStringList{"0a"});
        if (action.startsWith(u"delete"))
            QVERIFY(!guard);
        else
            QCOMPARE(client->state(), State::Disconnected);
    }
    delete guard.data();
}

void tst_EventStreamClient::watchdogFollowsTheServersHeartbeat_data()
{
    QTest::addColumn<QByteArray>("connected");
    QTest::newRow("envelope") << QByteArray(R"(data: {"type":"connected","data":{"connection_id":"c","heartbeat_interval":0.2,"timestamp":"t"},"timestamp":"t"})");
    QTest::newRow("named") << QByteArray("event: connected\n" R"(data: {"connection_id":"c","heartbeat_interval":0.2,"timestamp":"t"})");
}

void tst_EventStreamClient::watchdogFollowsTheServersHeartbeat()
{
    // The client assumes 30 s (a 60 s watchdog), but the server says 0.2 s: silence after
    // the connected event must be noticed after 0.4 s, not 60.
    QFETCH(QByteArray, connected);
    ScriptedServer server([&](int, const QByteArray &) {
        return ScriptedServer::eventStream({connected + "\n\n"}, false);
    });
    EventStreamClient client;
    fastBackoff(client);
    client.setHeartbeatIntervalMs(30000);
    client.setUrl(QUrl(server.url()));
    QSignalSpy learned(&client, &EventStreamClient::heartbeatIntervalChanged);
    QSignalSpy errors(&client, &EventStreamClient::errorOccurred);
    client.open();
    QTRY_COMPARE_WITH_TIMEOUT(learned.size(), 1, 10000);
    QCOMPARE(learned[0][0].toInt(), 200);
    QCOMPARE(client.watchdogMs(), 400);
    QTRY_VERIFY_WITH_TIMEOUT(server.requests().size() >= 2, 5000);
    QVERIFY2(errors[0][0].toString().contains(u"connection is dead"), qPrintable(errors[0][0].toString()));

    // A large interval is followed too: a server with 120 s heartbeats keeps its idle streams.
    EventStreamClient slow;
    slow.setHeartbeatIntervalMs(200);
    ScriptedServer patient([](int, const QByteArray &) {
        return ScriptedServer::eventStream({"event: connected\ndata: {\"heartbeat_interval\":120}\n\n"}, false);
    });
    slow.setUrl(QUrl(patient.url()));
    slow.open();
    QTRY_COMPARE_WITH_TIMEOUT(slow.heartbeatIntervalMs(), 120000, 10000);
    QTest::qWait(800); // longer than 2 × the assumed 200 ms
    QCOMPARE(slow.state(), State::Connected);
    QCOMPARE(patient.requests().size(), 1);
    client.close();
}

void tst_EventStreamClient::deadStreamNoticedWithinTwoHeartbeats()
{
    // The README's bound: a stream is dead after 2 × the announced heartbeat interval without a
    // byte, and not before. Heartbeat 0.25 s; bytes (comments) every 20 ms for 1.2 s keep it
    // alive far past 0.5 s; then silence with the connection held open (half-open TCP looks
    // like this): the client must give up on it within 0.5 s of the last byte, plus the timer
    // slack of a busy machine.
    QList<QByteArray> parts{"event: connected\ndata: {\"heartbeat_interval\":0.25}\n\n"};
    for (int i = 0; i < 60; ++i)
        parts.append(":\n\n");
    ScriptedServer server([&](int n, const QByteArray &) {
        return n == 0 ? ScriptedServer::eventStream(parts, false)
                      : ScriptedServer::eventStream({"event: connected\ndata: {}\n\n"}, false);
    });
    EventStreamClient client;
    fastBackoff(client);
    client.setUrl(QUrl(server.url()));
    QElapsedTimer clock;
    qint64 deadAt = -1;
    connect(&client, &EventStreamClient::errorOccurred, this, [&](const QString &message) {
        if (deadAt < 0 && message.contains(u"connection is dead"))
            deadAt = clock.elapsed();
    });
    clock.start();
    client.open();
    QTRY_COMPARE_WITH_TIMEOUT(client.heartbeatIntervalMs(), 250, 10000);
    QCOMPARE(client.watchdogMs(), 500);
    QTRY_VERIFY_WITH_TIMEOUT(deadAt >= 0, 10000);
    // The last byte went out 1.2 s after the headers (timers never fire much early).
    QVERIFY2(deadAt >= 1200 + 500 - 150, qPrintable(QString::number(deadAt)));
    QVERIFY2(deadAt <= 1200 + 500 + 1500, qPrintable(QString::number(deadAt)));
    QTRY_VERIFY_WITH_TIMEOUT(server.requests().size() >= 2, 10000); // and it reconnects
    client.close();
}

void tst_EventStreamClient::keepsTryingAfterTheFastAttempts()
{
    // No limit: after the fast attempts it goes on at the cap interval, indefinitely.
    ScriptedServer server([](int, const QByteArray &) { return ScriptedServer::status(500); });
    EventStreamClient client;
    client.backoff().setBaseMs(10);
    client.backoff().setCapMs(100);
    client.backoff().setFastAttempts(3);
    QCOMPARE(client.maxAttempts(), 0);
    client.setUrl(QUrl(server.url()));
    QList<int> delays;
    QList<bool> slow;
    connect(&client, &EventStreamClient::stateChanged, this, [&](State s) {
        if (s == State::Reconnecting) {
            delays.append(client.nextDelayMs());
            slow.append(client.isRetryingSlowly());
        }
    });
    client.open();
    QTRY_VERIFY_WITH_TIMEOUT(delays.size() >= 8, 20000);
    QCOMPARE(client.state(), State::Reconnecting);
    QCOMPARE(slow.mid(0, 3), (QList<bool>{false, false, false}));
    for (int i = 3; i < 8; ++i) {
        QVERIFY(slow[i]);
        QVERIFY2(delays[i] >= 80 && delays[i] <= 120, qPrintable(QString::number(delays[i])));
    }
    client.close();
    QCOMPARE(client.disconnectReason(), EventStreamClient::DisconnectReason::Closed);
}

void tst_EventStreamClient::retryNowSkipsTheWait()
{
    // What a network-reachability change or a resume does: no waiting out a long delay.
    ScriptedServer server([](int, const QByteArray &) { return ScriptedServer::status(500); });
    EventStreamClient client;
    client.backoff().setBaseMs(60000);
    client.backoff().setCapMs(60000);
    client.setUrl(QUrl(server.url()));
    client.open();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Reconnecting, 10000);
    QVERIFY(client.msUntilNextAttempt() > 20000);
    QCOMPARE(server.requests().size(), 1);
    client.retryNow();
    QTRY_COMPARE_WITH_TIMEOUT(server.requests().size(), 2, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(client.attempt(), 2, 5000);

    // After giving up, too.
    client.backoff().setMaxAttempts(2);
    client.backoff().setBaseMs(10);
    client.retryNow();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Disconnected, 5000);
    QCOMPARE(client.disconnectReason(), EventStreamClient::DisconnectReason::GaveUp);
    const qsizetype before = server.requests().size();
    client.retryNow();
    QTRY_VERIFY_WITH_TIMEOUT(server.requests().size() > before, 5000);
    client.close();
}

void tst_EventStreamClient::disconnectReasons()
{
    ScriptedServer auth([](int, const QByteArray &) { return ScriptedServer::status(401); });
    EventStreamClient client;
    client.setUrl(QUrl(auth.url()));
    client.open();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Disconnected, 10000);
    QCOMPARE(client.disconnectReason(), EventStreamClient::DisconnectReason::AuthenticationFailed);

    ScriptedServer ends([](int, const QByteArray &) { return ScriptedServer::eventStream({"data: a\n\n"}); });
    client.setUrl(QUrl(ends.url()));
    client.setReconnectEnabled(false);
    client.open();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Disconnected, 10000);
    QCOMPARE(client.disconnectReason(), EventStreamClient::DisconnectReason::StreamEnded);

    client.setReconnectEnabled(true);
    client.open();
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), State::Connected, 10000);
    client.close();
    QCOMPARE(client.disconnectReason(), EventStreamClient::DisconnectReason::Closed);
}

void tst_EventStreamClient::plannedEndIsRenewedWithoutAnOutage()
{
    // The server ends each stream cleanly after 1.2 s with a retry hint of 30 s, as
    // hermes-server does at its connection timeout: each end is renewed at once with
    // Last-Event-ID, and the state never leaves Connected (no false "Reconnecting").
    ScriptedServer server([](int n, const QByteArray &) {
        auto r = ScriptedServer::eventStream({"retry: 30000\nid: " + QByteArray::number(n) + "\ndata: e\n\n"});
        r.chunked = true;
        r.closeAfterMs = 1200;
        return r;
    });
    EventStreamClient client;
    client.setUrl(QUrl(server.url()));
    QList<State> states;
    connect(&client, &EventStreamClient::stateChanged, this, [&](State s) { states.append(s); });
    QSignalSpy ended(&client, &EventStreamClient::streamEnded);
    client.open();
    // Waiting out the hint would take 30 s per renewal; four streams come well before.
    QTRY_VERIFY_WITH_TIMEOUT(server.requests().size() >= 4, 20000);
    QCOMPARE(states, (QList<State>{State::Connecting, State::Connected}));
    QCOMPARE(client.state(), State::Connected);
    QCOMPARE(client.attempt(), 0);
    QVERIFY(ended.size() >= 3);
    for (int n = 1; n < 4; ++n)
        QCOMPARE(server.requestHeader(n, "last-event-id"), QByteArray::number(n - 1));
    client.close();
}

void tst_EventStreamClient::failedRenewalShowsReconnecting()
{
    // The renewal after a planned end is refused: only now does the user see Reconnecting,
    // as attempt 1, and the retry after it resumes.
    ScriptedServer server([](int n, const QByteArray &) {
        if (n == 1)
            return ScriptedServer::status(500);
        auto r = ScriptedServer::eventStream({"id: " + QByteArray::number(n) + "\ndata: e\n\n"}, n == 0);
        r.closeAfterMs = 1200;
        return r;
    });
    EventStreamClient client;
    fastBackoff(client);
    client.setUrl(QUrl(server.url()));
    QList<State> states;
    QList<int> attempts;
    connect(&client, &EventStreamClient::stateChanged, this, [&](State s) {
        states.append(s);
        attempts.append(client.attempt());
    });
    client.open();
    QTRY_VERIFY_WITH_TIMEOUT(server.requests().size() >= 3 && client.state() == State::Connected
                                 && states.size() >= 4, 20000);
    QCOMPARE(states, (QList<State>{State::Connecting, State::Connected, State::Reconnecting, State::Connected}));
    QCOMPARE(attempts.at(2), 1);
    QCOMPARE(server.requestHeader(2, "last-event-id"), QByteArray("0"));
    client.close();
}

void tst_EventStreamClient::anEmptyStreamIsNotRenewed()
{
    // A server that answers 200 and ends the stream cleanly after 1.2 s without an event (its
    // history not ready, a proxy): an outage with the backoff, not a renewal loop behind a
    // Connected indicator.
    ScriptedServer server([](int, const QByteArray &) {
        auto r = ScriptedServer::eventStream({": waiting\n\n"});
        r.closeAfterMs = 1200;
        return r;
    });
    EventStreamClient client;
    fastBackoff(client);
    client.setUrl(QUrl(server.url()));
    QList<State> states;
    connect(&client, &EventStreamClient::stateChanged, this, [&](State s) { states.append(s); });
    client.open();
    QTRY_VERIFY_WITH_TIMEOUT(states.contains(State::Reconnecting), 10000);
    QVERIFY(client.attempt() >= 1);
    client.close();
}

QTEST_MAIN(tst_EventStreamClient)
#include "tst_eventstreamclient.moc"
