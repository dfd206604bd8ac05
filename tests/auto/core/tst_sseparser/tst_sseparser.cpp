// SseParser against WHATWG HTML §9.2.6, rule by rule. Every row is parsed three ways: whole,
// one byte at a time, and split in two at every position; all must agree.

#include "sseparser.h"

#include <QRandomGenerator>
#include <QTest>

using namespace Hermes;

namespace {

struct Outcome
{
    QStringList events; ///< "type|data|lastEventId" per dispatched event
    QList<int> retries;
    bool operator==(const Outcome &o) const { return events == o.events && retries == o.retries; }
};

QString show(const Outcome &o)
{
    QStringList parts;
    for (const QString &e : o.events)
        parts.append(QString(e).replace(u'\n', QStringLiteral("\\n")));
    QStringList r;
    for (int ms : o.retries)
        r.append(QString::number(ms));
    return QStringLiteral("events [%1] retries [%2]").arg(parts.join(QStringLiteral(", ")), r.join(u','));
}

Outcome parse(const QList<QByteArray> &pieces)
{
    Outcome out;
    SseParser parser;
    parser.setEventHandler([&](const SseParser::Event &e) {
        out.events.append(e.type + u'|' + e.data + u'|' + e.lastEventId);
    });
    parser.setRetryHandler([&](int ms) { out.retries.append(ms); });
    for (const QByteArray &p : pieces)
        parser.feed(p);
    parser.finish();
    return out;
}

} // namespace

class tst_SseParser : public QObject
{
    Q_OBJECT

private slots:
    void rules_data();
    void rules();
    void lastEventIdSurvivesReset();
    void resetAllowsABomAgain();
    void finishDropsThePendingEvent();
    void largeStreamInRandomPieces();
};

void tst_SseParser::rules_data()
{
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<QStringList>("events");
    QTest::addColumn<QList<int>>("retries");
    const QList<int> none;

    QTest::newRow("LF") << QByteArray("data: a\n\n") << QStringList{"message|a|"} << none;
    QTest::newRow("CRLF") << QByteArray("data: a\r\n\r\n") << QStringList{"message|a|"} << none;
    QTest::newRow("CR") << QByteArray("data: a\r\r") << QStringList{"message|a|"} << none;
    QTest::newRow("mixed line ends") << QByteArray("data: a\rdata: b\r\ndata: c\n\r\n")
                                     << QStringList{"message|a\nb\nc|"} << none;
    QTest::newRow("CR CR is two line ends") << QByteArray("data: a\r\rdata: b\n\n")
                                            << QStringList{"message|a|", "message|b|"} << none;
    QTest::newRow("LF CR is two line ends") << QByteArray("data: a\n\rdata: b\n\n")
                                            << QStringList{"message|a|", "message|b|"} << none;
    QTest::newRow("BOM stripped") << QByteArray("\xEF\xBB\xBF" "data: a\n\n") << QStringList{"message|a|"} << none;
    QTest::newRow("second BOM kept") << QByteArray("\xEF\xBB\xBF\xEF\xBB\xBF" "data: a\n\n")
                                     << QStringList{} << none; // the field name is "\uFEFFdata"
    QTest::newRow("BOM not at start") << QByteArray("data: \xEF\xBB\xBF" "a\n\n")
                                      << QStringList{QString::fromUtf8("message|\xEF\xBB\xBF" "a|")} << none;
    QTest::newRow("partial BOM is content") << QByteArray("\xEF\xBB" "data: a\n\n") << QStringList{} << none;
    QTest::newRow("invalid UTF-8") << QByteArray("data: a\xFF" "b\n\n")
                                   << QStringList{QStringLiteral("message|a\uFFFDb|")} << none;
    QTest::newRow("multi-byte UTF-8") << QByteArray("data: \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\n\n")
                                      << QStringList{QString::fromUtf8("message|\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80|")} << none;
    QTest::newRow("comment") << QByteArray(": hello\ndata: a\n\n: bye\n\n") << QStringList{"message|a|"} << none;
    QTest::newRow("comment only") << QByteArray(":\n\n") << QStringList{} << none;
    QTest::newRow("no space after colon") << QByteArray("data:a\n\n") << QStringList{"message|a|"} << none;
    QTest::newRow("only one space removed") << QByteArray("data:  a\n\n") << QStringList{"message| a|"} << none;
    QTest::newRow("tab kept") << QByteArray("data:\ta\n\n") << QStringList{"message|\ta|"} << none;
    QTest::newRow("field without colon") << QByteArray("data\n\n") << QStringList{"message||"} << none;
    QTest::newRow("data data") << QByteArray("data\ndata\n\n") << QStringList{"message|\n|"} << none;
    QTest::newRow("colon in value") << QByteArray("data: a:b: c\n\n") << QStringList{"message|a:b: c|"} << none;
    QTest::newRow("spec: test test") << QByteArray("data:test\n\ndata: test\n\n")
                                     << QStringList{"message|test|", "message|test|"} << none;
    QTest::newRow("spec: stock") << QByteArray("data: YHOO\ndata: +2\ndata: 10\n\n")
                                 << QStringList{"message|YHOO\n+2\n10|"} << none;
    QTest::newRow("spec: three events") << QByteArray(": test stream\n\ndata: first event\nid: 1\n\n"
                                                      "data:second event\nid\n\ndata:  third event\n\n")
                                        << QStringList{"message|first event|1", "message|second event|",
                                                       "message| third event|"} << none;
    QTest::newRow("spec: blank data") << QByteArray("data\n\ndata\ndata\n\ndata:")
                                      << QStringList{"message||", "message|\n|"} << none;
    QTest::newRow("event type") << QByteArray("event: add\ndata: 1\n\n") << QStringList{"add|1|"} << none;
    QTest::newRow("type resets after dispatch") << QByteArray("event: add\ndata: 1\n\ndata: 2\n\n")
                                                << QStringList{"add|1|", "message|2|"} << none;
    QTest::newRow("type without data resets") << QByteArray("event: add\n\ndata: 2\n\n")
                                              << QStringList{"message|2|"} << none;
    QTest::newRow("empty event type is message") << QByteArray("event:\ndata: 1\n\n") << QStringList{"message|1|"} << none;
    QTest::newRow("no data no dispatch") << QByteArray("id: 5\nevent: x\n\n") << QStringList{} << none;
    QTest::newRow("id persists") << QByteArray("id: 1\ndata: a\n\ndata: b\n\n")
                                 << QStringList{"message|a|1", "message|b|1"} << none;
    QTest::newRow("id set without dispatch persists") << QByteArray("id: 9\n\ndata: b\n\n")
                                                      << QStringList{"message|b|9"} << none;
    QTest::newRow("empty id resets") << QByteArray("id: 1\ndata: a\n\nid\ndata: b\n\n")
                                     << QStringList{"message|a|1", "message|b|"} << none;
    QTest::newRow("id with NUL ignored") << QByteArray("id: 1\ndata: a\n\nid: 2") + '\0' + QByteArray("x\ndata: b\n\n")
                                         << QStringList{"message|a|1", "message|b|1"} << none;
    QTest::newRow("id after data in same event") << QByteArray("data: a\nid: 3\n\n") << QStringList{"message|a|3"} << none;
    QTest::newRow("retry") << QByteArray("retry: 1500\n\n") << QStringList{} << QList<int>{1500};
    QTest::newRow("retry no space") << QByteArray("retry:20\n") << QStringList{} << QList<int>{20};
    QTest::newRow("retry zero") << QByteArray("retry: 0\n") << QStringList{} << QList<int>{0};
    QTest::newRow("retry not digits") << QByteArray("retry: 1000ms\nretry: -5\nretry: 1.5\nretry:  10\n")
                                      << QStringList{} << none;
    QTest::newRow("retry empty") << QByteArray("retry:\nretry\n") << QStringList{} << none;
    QTest::newRow("retry huge is clamped") << QByteArray("retry: 99999999999999999999\n") << QStringList{}
                                           << QList<int>{std::numeric_limits<int>::max()};
    QTest::newRow("unknown field ignored") << QByteArray("foo: bar\ndata: a\nDATA: b\n\n")
                                           << QStringList{"message|a|"} << none;
    QTest::newRow("unterminated tail discarded") << QByteArray("data: a\n\ndata: b\n")
                                                 << QStringList{"message|a|"} << none;
    QTest::newRow("unterminated line discarded") << QByteArray("data: a\n\ndata: b")
                                                 << QStringList{"message|a|"} << none;
    QTest::newRow("empty stream") << QByteArray() << QStringList{} << none;
    QTest::newRow("hermes envelope") << QByteArray("id: 1795560047588-0\ndata: {\"type\":\"x\",\"data\":{}}\n\n")
                                     << QStringList{"message|{\"type\":\"x\",\"data\":{}}|1795560047588-0"} << none;
    QTest::newRow("heartbeat") << QByteArray("event: heartbeat\ndata: {\"timestamp\":\"t\"}\n\n")
                               << QStringList{"heartbeat|{\"timestamp\":\"t\"}|"} << none;
}

void tst_SseParser::rules()
{
    QFETCH(QByteArray, stream);
    QFETCH(QStringList, events);
    QFETCH(QList<int>, retries);
    const Outcome expected{events, retries};

    const Outcome whole = parse({stream});
    QVERIFY2(whole == expected, qPrintable(QStringLiteral("whole: got %1, want %2").arg(show(whole), show(expected))));

    QList<QByteArray> bytes;
    for (char c : stream)
        bytes.append(QByteArray(1, c));
    const Outcome byByte = parse(bytes);
    QVERIFY2(byByte == expected, qPrintable(QStringLiteral("byte by byte: got %1").arg(show(byByte))));

    for (qsizetype cut = 0; cut <= stream.size(); ++cut) {
        const Outcome split = parse({stream.left(cut), stream.mid(cut)});
        QVERIFY2(split == expected,
                 qPrintable(QStringLiteral("split at %1: got %2").arg(cut).arg(show(split))));
    }
}

void tst_SseParser::lastEventIdSurvivesReset()
{
    SseParser parser;
    QStringList ids;
    parser.setEventHandler([&](const SseParser::Event &e) { ids.append(e.lastEventId); });
    parser.feed("id: 41\ndata: a\n\ndata: partial");
    parser.reset(); // a reconnect: the partial event is gone, the id is kept
    QCOMPARE(parser.lastEventId(), QStringLiteral("41"));
    parser.feed("\n\ndata: b\n\n");
    QCOMPARE(ids, (QStringList{"41", "41"}));
    parser.setLastEventId(QStringLiteral("7"));
    parser.feed("data: c\n\n");
    QCOMPARE(ids.last(), QStringLiteral("7"));
}

void tst_SseParser::resetAllowsABomAgain()
{
    SseParser parser;
    QStringList data;
    parser.setEventHandler([&](const SseParser::Event &e) { data.append(e.data); });
    parser.feed("\xEF\xBB\xBF" "data: a\n\n");
    parser.reset();
    parser.feed("\xEF\xBB");
    parser.feed("\xBF" "data: b\n\n");
    QCOMPARE(data, (QStringList{"a", "b"}));
}

void tst_SseParser::finishDropsThePendingEvent()
{
    SseParser parser;
    int count = 0;
    parser.setEventHandler([&](const SseParser::Event &) { ++count; });
    parser.feed("data: a\n"); // complete line, no blank line yet
    parser.finish();
    parser.feed("\n"); // a blank line after EOF must not resurrect it
    QCOMPARE(count, 0);
}

void tst_SseParser::largeStreamInRandomPieces()
{
    QByteArray stream;
    QStringList expected;
    for (int i = 0; i < 2000; ++i) {
        const QByteArray data = "{\"n\":" + QByteArray::number(i) + ",\"t\":\"\xC3\xA9\"}";
        const char *eol = i % 3 == 0 ? "\r\n" : i % 3 == 1 ? "\n" : "\r";
        stream += "id: " + QByteArray::number(i) + eol + "data: " + data + eol + eol;
        expected.append(QStringLiteral("message|") + QString::fromUtf8(data) + u'|' + QString::number(i));
    }
    QList<QByteArray> pieces;
    QRandomGenerator rng(1234);
    for (qsizetype pos = 0; pos < stream.size();) {
        const qsizetype n = rng.bounded(1, 300);
        pieces.append(stream.mid(pos, n));
        pos += n;
    }
    QCOMPARE(parse(pieces).events, expected);
}

QTEST_MAIN(tst_SseParser)
#include "tst_sseparser.moc"
