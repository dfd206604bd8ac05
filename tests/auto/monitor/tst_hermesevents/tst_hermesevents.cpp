// The real hermes-events binary: output formats, exit codes, and tailing/resuming the real
// hermes-server.

#include "scriptedserver.h"
#include "serverprocess.h"
#include "testutil.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryFile>
#include <QTest>

using namespace Hermes;
using namespace Hermes::Test;

namespace {

struct Run
{
    int exitCode = -1;
    QList<QByteArray> lines; ///< stdout lines
    QByteArray err;
};

Run runEvents(const QStringList &args, int timeoutMs = 20000)
{
    QProcess process;
    process.start(QStringLiteral(HERMES_EVENTS_BINARY), args);
    Run run;
    if (!process.waitForStarted(5000))
        return run;
    // QTest::qWaitFor keeps the event loop (and so scripted servers) running while we wait.
    if (!QTest::qWaitFor([&] { return process.state() == QProcess::NotRunning; }, timeoutMs)) {
        process.kill();
        process.waitForFinished(5000);
        run.err = "timed out";
        return run;
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    for (const QByteArray &line : process.readAllStandardOutput().split('\n')) {
        if (!line.isEmpty())
            run.lines.append(line);
    }
    run.err = process.readAllStandardError();
    return run;
}

QJsonObject json(const QByteArray &line)
{
    return QJsonDocument::fromJson(line).object();
}

} // namespace

class tst_HermesEvents : public QObject
{
    Q_OBJECT

private slots:
    void jsonlIsOneObjectPerEvent();
    void jsonlDataIsJsonWhenItIsJson();
    void emitRetry();
    void textFormat();
    void maxEventsStopsEarly();
    void badArguments_data();
    void badArguments();
    void unauthorizedExitsTwo();
    void givingUpExitsOne();
    void tailsAndResumesTheRealServer();
    void resumesFromTheLastDispatchedId();
    void oversizedEventIsAProtocolError_data();
    void oversizedEventIsAProtocolError();
    void endlessLineKeepsMemoryBounded();
    void keepsTryingByDefault();
};

// Written with single quotes, which moc's tokenizer handles better than escaped doubles.
static QByteArray dq(const char *text)
{
    return QByteArray(text).replace('\'', '"');
}

static const QByteArray SampleData = dq("{'a':'q\\''}"); // {"a":"q\""}: a quote inside

static ScriptedServer::Response sample(int, const QByteArray &)
{
    return ScriptedServer::eventStream({"id: 7\ndata: " + SampleData + "\n\n",
                                        "event: custom\ndata: line1\ndata: line2\n\n",
                                        "retry: 1500\n\n", ": comment\n\n", "data: last\n\n"});
}

void tst_HermesEvents::jsonlIsOneObjectPerEvent()
{
    ScriptedServer server(sample);
    const Run run = runEvents({QStringLiteral("--url"), server.url(), QStringLiteral("--format"),
                               QStringLiteral("jsonl"), QStringLiteral("--no-reconnect")});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.lines.size(), 3);
    const QStringList keys{QStringLiteral("type"), QStringLiteral("data"), QStringLiteral("id")};
    for (const QByteArray &line : run.lines) {
        QVERIFY2(line.startsWith(dq("{'type':")), line.constData()); // compact, keys in order
        QCOMPARE(json(line).keys().size(), 3);
    }
    // JSON data is embedded as JSON (jq .data.a works), verbatim; text stays a string.
    QVERIFY2(run.lines[0].contains(dq(",'data':") + SampleData + dq(",'id':")), run.lines[0].constData());
    QCOMPARE(json(run.lines[0]).value(QStringLiteral("data")).toObject().value(QStringLiteral("a")).toString(),
             QStringLiteral("q\""));
    QCOMPARE(json(run.lines[0]).value(QStringLiteral("type")).toString(), QStringLiteral("message"));
    QCOMPARE(json(run.lines[0]).value(QStringLiteral("id")).toString(), QStringLiteral("7"));
    QCOMPARE(json(run.lines[1]).value(QStringLiteral("type")).toString(), QStringLiteral("custom"));
    QCOMPARE(json(run.lines[1]).value(QStringLiteral("data")).toString(), QStringLiteral("line1\nline2"));
    QCOMPARE(json(run.lines[1]).value(QStringLiteral("id")).toString(), QStringLiteral("7"));
    QCOMPARE(json(run.lines[2]).value(QStringLiteral("data")).toString(), QStringLiteral("last"));
}

// The rule for jsonl's "data": a JSON object or array is embedded as is (a line break between
// its tokens becomes a space, so it stays one line); anything else, including a bare number or
// JSON that does not parse, is a JSON string. --raw-data always gives the string.
void tst_HermesEvents::jsonlDataIsJsonWhenItIsJson()
{
    ScriptedServer server([](int, const QByteArray &) {
        return ScriptedServer::eventStream({"data: {\"big\": 12345678901234567890123,\ndata:  \"s\": [1, 2.50]}\n\n",
                                            "data: [1,\"x\"]\n\n", "data: 42\n\n", "data: {oops\n\n",
                                            "data: \"quoted\"\n\n", "data: {\"t\":\"a\tb\"}\n\n"});
    });
    const Run run = runEvents({QStringLiteral("--url"), server.url(), QStringLiteral("--format=jsonl"),
                               QStringLiteral("--no-reconnect")});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.lines.size(), 6);
    for (const QByteArray &line : run.lines)
        QVERIFY2(QJsonDocument::fromJson(line).isObject(), line.constData());
    // Verbatim: every digit of a number no double holds, and the writer's spacing.
    QVERIFY2(run.lines[0].contains("\"data\":{\"big\": 12345678901234567890123,  \"s\": [1, 2.50]},"),
             run.lines[0].constData());
    QVERIFY(json(run.lines[0]).value(QStringLiteral("data")).isObject());
    QVERIFY(json(run.lines[1]).value(QStringLiteral("data")).isArray());
    QCOMPARE(json(run.lines[2]).value(QStringLiteral("data")).toString(), QStringLiteral("42"));
    QCOMPARE(json(run.lines[3]).value(QStringLiteral("data")).toString(), QStringLiteral("{oops"));
    QCOMPARE(json(run.lines[4]).value(QStringLiteral("data")).toString(), QStringLiteral("\"quoted\""));
    // A raw tab inside a JSON string: Qt's parser takes it, RFC 8259 and jq do not, so it is
    // a string (escaped) rather than invalid output.
    QCOMPARE(json(run.lines[5]).value(QStringLiteral("data")).toString(), QStringLiteral("{\"t\":\"a\tb\"}"));
    QVERIFY2(!run.lines[5].contains('\t'), run.lines[5].constData());

    const Run raw = runEvents({QStringLiteral("--url"), server.url(), QStringLiteral("--format=jsonl"),
                               QStringLiteral("--raw-data"), QStringLiteral("--no-reconnect")});
    QCOMPARE(raw.exitCode, 0);
    QCOMPARE(raw.lines.size(), 6);
    QCOMPARE(json(raw.lines[1]).value(QStringLiteral("data")).toString(), QStringLiteral("[1,\"x\"]"));
}

void tst_HermesEvents::emitRetry()
{
    ScriptedServer server(sample);
    const Run run = runEvents({QStringLiteral("--url"), server.url(), QStringLiteral("--format=jsonl"),
                               QStringLiteral("--emit-retry"), QStringLiteral("--no-reconnect")});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.lines.size(), 4);
    QCOMPARE(run.lines[2], dq("{'retry':1500}"));
}

void tst_HermesEvents::textFormat()
{
    ScriptedServer server(sample);
    const Run run = runEvents({QStringLiteral("--url"), server.url(), QStringLiteral("--no-reconnect")});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.lines.value(0), "[7] message: " + SampleData);
}

void tst_HermesEvents::maxEventsStopsEarly()
{
    ScriptedServer server([](int, const QByteArray &) {
        return ScriptedServer::eventStream({"data: 1\n\n", "data: 2\n\n", "data: 3\n\n"}, false);
    });
    const Run run = runEvents({QStringLiteral("--url"), server.url(), QStringLiteral("--max-events"),
                               QStringLiteral("2"), QStringLiteral("--format"), QStringLiteral("jsonl")});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(run.lines.size(), 2);
}

void tst_HermesEvents::badArguments_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");
    QTest::newRow("no url") << QStringList{} << "--url is required";
    QTest::newRow("bad scheme") << QStringList{"--url", "ftp://x/y"} << "http://";
    QTest::newRow("not a url") << QStringList{"--url", "::"} << "--url";
    QTest::newRow("bad format") << QStringList{"--url", "http://127.0.0.1:1/", "--format", "xml"} << "--format";
    QTest::newRow("bad max events") << QStringList{"--url", "http://127.0.0.1:1/", "--max-events", "ten"} << "--max-events";
    QTest::newRow("negative max events") << QStringList{"--url", "http://127.0.0.1:1/", "--max-events", "-1"} << "--max-events";
    QTest::newRow("tiny max event bytes") << QStringList{"--url", "http://127.0.0.1:1/", "--max-event-bytes", "10"} << "--max-event-bytes";
    QTest::newRow("bad max delay") << QStringList{"--url", "http://127.0.0.1:1/", "--max-delay", "0"} << "--max-delay";
    // QCommandLineParser::process() would exit 1 on these: every usage error is 64.
    QTest::newRow("unknown option") << QStringList{"--url", "http://127.0.0.1:1/", "--bogus"} << "bogus";
    QTest::newRow("missing value") << QStringList{"--url"} << "url";
    QTest::newRow("stray argument") << QStringList{"--url", "http://127.0.0.1:1/", "extra"} << "extra";
    QTest::newRow("missing key file") << QStringList{"--url", "http://127.0.0.1:1/", "--api-key-file", "/nonexistent"} << "API key file";
}

void tst_HermesEvents::badArguments()
{
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    const Run run = runEvents(args);
    QCOMPARE(run.exitCode, 64);
    QVERIFY2(run.err.contains(message.toUtf8()), run.err.constData());
    QVERIFY(run.lines.isEmpty());
}

void tst_HermesEvents::unauthorizedExitsTwo()
{
    ScriptedServer server([](int, const QByteArray &) { return ScriptedServer::status(401); });
    const Run run = runEvents({QStringLiteral("--url"), server.url(), QStringLiteral("--api-key"),
                               QStringLiteral("very-secret-key")});
    QCOMPARE(run.exitCode, 2);
    QVERIFY(run.err.contains("authentication failed"));
    QVERIFY(!run.err.contains("very-secret-key"));
    QCOMPARE(server.requests().size(), 1);
}

void tst_HermesEvents::givingUpExitsOne()
{
    const quint16 closedPort = freePort(); // nothing listens there
    const Run run = runEvents({QStringLiteral("--url"),
                               QStringLiteral("http://127.0.0.1:%1/events").arg(closedPort),
                               QStringLiteral("--max-attempts"), QStringLiteral("1")}, 60000);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("gave up"), run.err.constData());
}

void tst_HermesEvents::tailsAndResumesTheRealServer()
{
    ServerProcess server;
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    QTemporaryFile keyFile;
    QVERIFY(keyFile.open());
    keyFile.write(QByteArray(ServerProcess::ApiKey) + "\n");
    keyFile.close();
    const QString url = server.baseUrl() + QStringLiteral("/api/v1/events/stream?channels=system");
    auto publish = [&](int n) {
        const QByteArray body = dq("{'channel':'system:notifications','type':'system_notification',"
                                   "'data':{'n':") + QByteArray::number(n) + "}}";
        return json(httpRequest(server.port(), "POST", "/api/v1/events/publish",
                                {{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey}}, body)
                        .body).value(QStringLiteral("id")).toString();
    };

    // Tail: connected + 3 events, published while hermes-events runs.
    QProcess tail;
    tail.start(QStringLiteral(HERMES_EVENTS_BINARY),
               {QStringLiteral("--url"), url, QStringLiteral("--api-key-file"), keyFile.fileName(),
                QStringLiteral("--format"), QStringLiteral("jsonl"), QStringLiteral("--max-events"),
                QStringLiteral("4")});
    QVERIFY(tail.waitForStarted(5000));
    QVERIFY(tail.waitForReadyRead(20000)); // the connected event: the stream is open
    QStringList ids;
    for (int i = 0; i < 3; ++i)
        ids.append(publish(i));
    QVERIFY(tail.waitForFinished(20000));
    QCOMPARE(tail.exitCode(), 0);
    const QList<QByteArray> lines = tail.readAllStandardOutput().trimmed().split('\n');
    QCOMPARE(lines.size(), 4);
    // The server's envelope is JSON: "data" holds it as an object (no fromjson needed).
    QCOMPARE(json(lines[0]).value(QStringLiteral("data")).toObject()
                 .value(QStringLiteral("type")).toString(), QStringLiteral("connected"));
    for (int i = 0; i < 3; ++i)
        QCOMPARE(json(lines[i + 1]).value(QStringLiteral("id")).toString(), ids[i]);

    // Resume: two more published while nobody listens arrive exactly once, in order.
    ids.append(publish(3));
    ids.append(publish(4));
    const Run resumed = runEvents({QStringLiteral("--url"), url, QStringLiteral("--api-key-file"),
                                   keyFile.fileName(), QStringLiteral("--format"), QStringLiteral("jsonl"),
                                   QStringLiteral("--last-event-id"), ids[2], QStringLiteral("--max-events"),
                                   QStringLiteral("3")});
    QCOMPARE(resumed.exitCode, 0);
    QCOMPARE(resumed.lines.size(), 3);
    QCOMPARE(json(resumed.lines[1]).value(QStringLiteral("id")).toString(), ids[3]);
    QCOMPARE(json(resumed.lines[2]).value(QStringLiteral("id")).toString(), ids[4]);
    QCOMPARE(json(resumed.lines[2]).value(QStringLiteral("data")).toObject()
                 .value(QStringLiteral("data")).toObject().value(QStringLiteral("n")).toInt(), 4);
    QCOMPARE(server.terminate(), 0);
}

void tst_HermesEvents::resumesFromTheLastDispatchedId()
{
    // Cut after "id: 42" and before its blank line: the reconnect asks for what follows 41,
    // and 42 is printed once, from the second connection.
    ScriptedServer server([](int n, const QByteArray &) {
        if (n == 0)
            return ScriptedServer::eventStream({"id: 41\ndata: a\n\n", "id: 42\ndata: b\n"});
        return ScriptedServer::eventStream({"id: 42\ndata: b\n\n"});
    });
    const Run run = runEvents({QStringLiteral("--url"), server.url(), QStringLiteral("--format=jsonl"),
                               QStringLiteral("--max-events"), QStringLiteral("2")});
    QCOMPARE(run.exitCode, 0);
    QCOMPARE(server.requestHeader(1, "last-event-id"), QByteArray("41"));
    QCOMPARE(run.lines.size(), 2);
    QCOMPARE(json(run.lines[1]).value(QStringLiteral("id")).toString(), QStringLiteral("42"));
}

void tst_HermesEvents::oversizedEventIsAProtocolError_data()
{
    QTest::addColumn<QStringList>("extra");
    QTest::addColumn<int>("requests");
    QTest::newRow("no reconnect") << QStringList{"--no-reconnect"} << 1;
    QTest::newRow("counts as an attempt") << QStringList{"--max-attempts", "2"} << 3;
}

void tst_HermesEvents::oversizedEventIsAProtocolError()
{
    QFETCH(QStringList, extra);
    QFETCH(int, requests);
    ScriptedServer server([](int, const QByteArray &) {
        return ScriptedServer::eventStream({"id: 1\ndata: fine\n\n", "data: " + QByteArray(5000, 'x') + "\n\n"}, false);
    });
    const Run run = runEvents(QStringList{QStringLiteral("--url"), server.url(), QStringLiteral("--format=jsonl"),
                                          QStringLiteral("--max-event-bytes"), QStringLiteral("4096")} + extra);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("protocol error: a line longer than 4096 bytes"), run.err.constData());
    QCOMPARE(int(server.requests().size()), requests);
    for (const QByteArray &line : run.lines)
        QCOMPARE(json(line).value(QStringLiteral("data")).toString(), QStringLiteral("fine"));
}

void tst_HermesEvents::endlessLineKeepsMemoryBounded()
{
    // A peer that would send 400 MB without a line end. hermes-events must stop at the 1 MiB
    // limit: what it accepted (kernel buffers included) stays far below the flood, so it
    // cannot have held it.
    QTcpServer flood;
    QVERIFY(flood.listen(QHostAddress::LocalHost, 0));
    qint64 written = 0;
    bool closed = false;
    const QByteArray chunk(1024 * 1024, 'x');
    connect(&flood, &QTcpServer::newConnection, this, [&] {
        QTcpSocket *socket = flood.nextPendingConnection();
        connect(socket, &QTcpSocket::disconnected, this, [&] { closed = true; });
        connect(socket, &QTcpSocket::readyRead, this, [socket, &chunk] {
            if (!socket->readAll().contains("\r\n\r\n"))
                return;
            socket->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: ");
            socket->write(chunk);
        });
        connect(socket, &QTcpSocket::bytesWritten, this, [socket, &written, &chunk](qint64 n) {
            written += n;
            if (socket->bytesToWrite() < chunk.size() && written < 400LL * 1024 * 1024)
                socket->write(chunk);
        });
    });
    const Run run = runEvents({QStringLiteral("--url"), QStringLiteral("http://127.0.0.1:%1/").arg(flood.serverPort()),
                               QStringLiteral("--no-reconnect")}, 60000);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("protocol error: a line longer than 1048576 bytes"), run.err.constData());
    QTRY_VERIFY_WITH_TIMEOUT(closed, 10000);
    QVERIFY2(written < 48LL * 1024 * 1024, qPrintable(QString::number(written)));
}

void tst_HermesEvents::keepsTryingByDefault()
{
    // The default shares the monitor's policy: it never gives up by itself.
    const quint16 closedPort = freePort();
    QProcess process;
    process.start(QStringLiteral(HERMES_EVENTS_BINARY),
                  {QStringLiteral("--url"), QStringLiteral("http://127.0.0.1:%1/events").arg(closedPort),
                   QStringLiteral("--verbose"), QStringLiteral("--max-delay"), QStringLiteral("1")});
    QVERIFY(process.waitForStarted(5000));
    QByteArray err;
    QVERIFY(QTest::qWaitFor([&] {
        err += process.readAllStandardError();
        return err.contains("(attempt 3,");
    }, 20000));
    QCOMPARE(process.state(), QProcess::Running);
    process.terminate();
    QVERIFY(process.waitForFinished(5000));
    QCOMPARE(process.exitCode(), 0); // SIGTERM is a normal end
}

QTEST_MAIN(tst_HermesEvents)
#include "tst_hermesevents.moc"
