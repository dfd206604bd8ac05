// EventStreamClient against scripted local HTTP servers: framing variants, resume, backoff
// accounting, the watchdog, auth failures and Retry-After. Counts and states, never durations.

#include "eventstreamclient.h"
#include "scriptedserver.h"

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
    connect(&client, &EventStreamClient::stateChanged, this, [&](State s) {
        if (s == State::Reconnecting && firstDelay == -2)
            firstDelay = client.nextDelayMs();
    });
    client.open();
    QTRY_VERIFY_WITH_TIMEOUT(firstDelay != -2, 10000);
    QCOMPARE(retries.size(), 1); // "1x" is not all digits: ignored
    QCOMPARE(retries[0][0].toInt(), 25);
    QCOMPARE(client.backoff().baseMs(), 25);
    QVERIFY2(firstDelay >= 0 && firstDelay <= 25, qPrintable(QString::number(firstDelay)));
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
    client.setHeartbeatIntervalMs(200); // watchdog at 500 ms
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
    QCOMPARE(client.nextDelayMs(), 7000);
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

QTEST_MAIN(tst_EventStreamClient)
#include "tst_eventstreamclient.moc"
