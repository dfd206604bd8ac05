#include "event.h"
#include "json.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace Hermes;

// Test JSON is written with single quotes: moc's tokenizer trips over raw strings.
static QByteArray dq(const char *text)
{
    return QByteArray(text).replace('\'', '"');
}

class tst_Event : public QObject
{
    Q_OBJECT

private slots:
    void envelopeKeepsPythonKeyOrder();
    void quoteEscapes_data();
    void quoteEscapes();
    void acceptsPythonHermesEnvelopes();
    void rejectsBadEnvelopes_data();
    void rejectsBadEnvelopes();
    void bareObjectsTravelWhole();
    void downloadId();
    void errorBody();
};

void tst_Event::envelopeKeepsPythonKeyOrder()
{
    Event e;
    e.type = QStringLiteral("queue_update");
    e.data = {{QStringLiteral("z"), 1}, {QStringLiteral("a"), QStringLiteral("x")}};
    e.timestamp = QStringLiteral("2026-01-01T00:00:00Z");
    QCOMPARE(e.envelopeJson(),
             QByteArray(dq("{'type':'queue_update','data':{'a':'x','z':1},'timestamp':'2026-01-01T00:00:00Z'}")));
    QCOMPARE(e.dataJson(), QByteArray(dq("{'a':'x','z':1}")));
    QVERIFY(Event::currentTimestamp().endsWith(u'Z'));
}

void tst_Event::quoteEscapes_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("plain") << QStringLiteral("abc") << QByteArray(dq("'abc'"));
    QTest::newRow("quote and backslash") << QStringLiteral("a\"b\\c") << QByteArray(dq("'a\\'b\\\\c'"));
    QTest::newRow("newlines") << QStringLiteral("a\nb\rc\td") << QByteArray(dq("'a\\nb\\rc\\td'"));
    QTest::newRow("control") << QString(QChar(1)) << QByteArray(dq("'\\u0001'"));
    QTest::newRow("unicode") << QStringLiteral("\u00e9\u20ac") << QByteArray("\"\xC3\xA9\xE2\x82\xAC\"");
}

void tst_Event::quoteEscapes()
{
    QFETCH(QString, text);
    QFETCH(QByteArray, expected);
    QCOMPARE(Json::quote(text), expected);
    // And it is what a JSON parser reads back.
    const QJsonDocument doc = QJsonDocument::fromJson("[" + Json::quote(text) + "]");
    QCOMPARE(doc.array().at(0).toString(), text);
}

void tst_Event::acceptsPythonHermesEnvelopes()
{
    const QByteArray python = dq("{'type': 'download_progress', 'data': {'download_id': 'abc', 'status': 'downloading',\n"
        "        'progress': {'percentage': 42.0, 'status': 'downloading', 'downloaded_bytes': 420, 'total_bytes': 1000,\n"
        "        'speed': 12.5, 'eta': 3}, 'error_message': null}, 'timestamp': '2026-01-01T00:00:00.123456'}");
    const Result<Event> parsed = Event::fromEnvelope(Channel::Downloads, python);
    QVERIFY2(parsed, qPrintable(parsed ? QString() : parsed.error().message));
    const Event &e = *parsed;
    QCOMPARE(e.type, QStringLiteral("download_progress"));
    QCOMPARE(e.timestamp, QStringLiteral("2026-01-01T00:00:00.123456")); // kept as sent
    QCOMPARE(e.downloadId(), QStringLiteral("abc"));
    QCOMPARE(e.data.value(QStringLiteral("progress")).toObject().value(QStringLiteral("percentage")).toDouble(), 42.0);

    const Result<Event> noTimestamp = Event::fromEnvelope(Channel::System, dq("{'type':'x','data':{}}"));
    QVERIFY(noTimestamp);
    QVERIFY(!noTimestamp->timestamp.isEmpty());
}

void tst_Event::rejectsBadEnvelopes_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::newRow("not json") << QByteArray("{nope");
    QTest::newRow("array") << QByteArray("[1]");
    QTest::newRow("envelope without type") << QByteArray(dq("{'data':{}}"));
    QTest::newRow("empty type") << QByteArray(dq("{'type':'','data':{}}"));
    QTest::newRow("type not string") << QByteArray(dq("{'type':1,'data':{}}"));
    QTest::newRow("data array") << QByteArray(dq("{'type':'x','data':[]}"));
    QTest::newRow("timestamp number") << QByteArray(dq("{'type':'x','data':{},'timestamp':5}"));
}

void tst_Event::rejectsBadEnvelopes()
{
    QFETCH(QByteArray, json);
    const Result<Event> e = Event::fromEnvelope(Channel::Queue, json);
    QVERIFY(!e);
    QCOMPARE(e.error().kind, Error::Kind::Invalid);
    QVERIFY(!e.error().message.isEmpty());
}

void tst_Event::bareObjectsTravelWhole()
{
    // What a publisher that knows nothing of envelopes sends (the load harness, for one).
    const QByteArray bare = dq("{'seq':4321,'t_pub_ns':1795514035757092939,'type':'download_progress','id':'dl-321'}");
    const Result<Event> parsed = Event::fromEnvelope(Channel::Downloads, bare);
    QVERIFY(parsed);
    const Event &e = *parsed;
    QCOMPARE(e.type, QStringLiteral("download_progress"));
    QVERIFY(e.id.isNull()); // its "id" is its own business, not an event id
    QCOMPARE(e.data.value(QStringLiteral("seq")).toInt(), 4321);
    QVERIFY(e.dataJson().contains("\"t_pub_ns\":1795514035757092939")); // no rounding
    const Result<Event> untyped = Event::fromEnvelope(Channel::Queue, dq("{'x':1}"));
    QVERIFY(untyped);
    QCOMPARE(untyped->type, QStringLiteral("message"));
}

void tst_Event::downloadId()
{
    Event e;
    QVERIFY(e.downloadId().isEmpty());
    e.data = {{QStringLiteral("download_id"), 5}};
    QVERIFY(e.downloadId().isEmpty()); // only strings identify downloads
    e.data = {{QStringLiteral("download_id"), QStringLiteral("d")}};
    QCOMPARE(e.downloadId(), QStringLiteral("d"));
}

void tst_Event::errorBody()
{
    QCOMPARE(Json::errorBody(u"bad", u"it \"broke\""),
             QByteArray(dq("{'error':{'code':'bad','message':'it \\'broke\\''}}")));
}

QTEST_MAIN(tst_Event)
#include "tst_event.moc"
