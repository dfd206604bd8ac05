// SseEncoder: exact frames, hostile field values, and a round trip through SseParser.

#include "event.h"
#include "sseencoder.h"
#include "sseparser.h"

#include <QTest>

using namespace Hermes;

class tst_SseEncoder : public QObject
{
    Q_OBJECT

private slots:
    void frames_data();
    void frames();
    void retryAndComment();
    void encodeEventInBothStyles();
    void roundTrip_data();
    void roundTrip();
};

void tst_SseEncoder::frames_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<QByteArray>("event");
    QTest::addColumn<QByteArray>("id");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("data only") << QByteArray("x") << QByteArray() << QByteArray() << QByteArray("data: x\n\n");
    QTest::newRow("all fields") << QByteArray("x") << QByteArray("e") << QByteArray("1-0")
                                << QByteArray("id: 1-0\nevent: e\ndata: x\n\n");
    QTest::newRow("LF lines") << QByteArray("a\nb") << QByteArray() << QByteArray() << QByteArray("data: a\ndata: b\n\n");
    QTest::newRow("CRLF lines") << QByteArray("a\r\nb") << QByteArray() << QByteArray() << QByteArray("data: a\ndata: b\n\n");
    QTest::newRow("CR lines") << QByteArray("a\rb") << QByteArray() << QByteArray() << QByteArray("data: a\ndata: b\n\n");
    QTest::newRow("trailing newline") << QByteArray("a\n") << QByteArray() << QByteArray() << QByteArray("data: a\ndata: \n\n");
    QTest::newRow("empty data") << QByteArray() << QByteArray() << QByteArray() << QByteArray("data: \n\n");
    QTest::newRow("hostile event name") << QByteArray("x") << QByteArray("a\nid: 9\r") << QByteArray()
                                        << QByteArray("event: aid: 9\ndata: x\n\n");
    QTest::newRow("hostile id") << QByteArray("x") << QByteArray() << QByteArray("1\n\ndata: evil")
                                << QByteArray("id: 1data: evil\ndata: x\n\n");
    QTest::newRow("NUL in id removed") << QByteArray("x") << QByteArray() << QByteArray("1\0002", 3)
                                       << QByteArray("id: 12\ndata: x\n\n");
}

void tst_SseEncoder::frames()
{
    QFETCH(QByteArray, data);
    QFETCH(QByteArray, event);
    QFETCH(QByteArray, id);
    QFETCH(QByteArray, expected);
    QCOMPARE(SseEncoder::frame(data, event, id), expected);
}

void tst_SseEncoder::retryAndComment()
{
    QCOMPARE(SseEncoder::retry(3000), QByteArray("retry: 3000\n\n"));
    QCOMPARE(SseEncoder::comment("ping"), QByteArray(": ping\n\n"));
    QCOMPARE(SseEncoder::comment("a\nb"), QByteArray(": a\n: b\n\n"));
}

void tst_SseEncoder::encodeEventInBothStyles()
{
    Event e;
    e.id = EventId(1700000000000, 3);
    e.channel = Channel::Downloads;
    e.type = QStringLiteral("download_progress");
    e.data = {{QStringLiteral("download_id"), QStringLiteral("d1")}};
    e.timestamp = QStringLiteral("2026-01-01T00:00:00.000Z");
    QCOMPARE(SseEncoder::encode(e, EventStyle::Envelope),
             QByteArray("id: 1700000000000-3\ndata: {\"type\":\"download_progress\",\"data\":"
                        "{\"download_id\":\"d1\"},\"timestamp\":\"2026-01-01T00:00:00.000Z\"}\n\n"));
    QCOMPARE(SseEncoder::encode(e, EventStyle::Named),
             QByteArray("id: 1700000000000-3\nevent: download_progress\ndata: {\"download_id\":\"d1\"}\n\n"));
    e.id = EventId();
    QVERIFY(!SseEncoder::encode(e, EventStyle::Named).contains("id:"));
}

void tst_SseEncoder::roundTrip_data()
{
    QTest::addColumn<QString>("data");
    QTest::addColumn<QString>("event");
    QTest::addColumn<QString>("id");
    QTest::newRow("json") << QStringLiteral("{\"a\":\"b \\\"q\\\" \\\\ \\n\"}") << QString() << QStringLiteral("1-0");
    QTest::newRow("unicode") << QStringLiteral("h\u00e9llo \u20ac \U0001F600") << QStringLiteral("caf\u00e9") << QStringLiteral("2-1");
    QTest::newRow("multi-line") << QStringLiteral("one\ntwo\n\nfour") << QStringLiteral("x") << QString();
    QTest::newRow("leading space kept") << QStringLiteral("  indented") << QString() << QString();
    QTest::newRow("colons") << QStringLiteral("a: b: c") << QStringLiteral("t") << QStringLiteral("9-9");
    QTest::newRow("control chars") << QStringLiteral("tab\there \u0001") << QString() << QString();
}

void tst_SseEncoder::roundTrip()
{
    QFETCH(QString, data);
    QFETCH(QString, event);
    QFETCH(QString, id);
    SseParser parser;
    QList<SseParser::Event> got;
    parser.setEventHandler([&](const SseParser::Event &e) { got.append(e); });
    parser.feed(SseEncoder::frame(data.toUtf8(), event.toUtf8(), id.toUtf8()));
    QCOMPARE(got.size(), 1);
    QCOMPARE(got[0].data, data);
    QCOMPARE(got[0].type, event.isEmpty() ? QStringLiteral("message") : event);
    QCOMPARE(got[0].lastEventId, id);
}

QTEST_MAIN(tst_SseEncoder)
#include "tst_sseencoder.moc"
