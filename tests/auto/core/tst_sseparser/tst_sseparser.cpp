// SseParser against WHATWG HTML §9.2.6, rule by rule, and the WHATWG Encoding UTF-8 decoder.
// Every row is parsed three ways: whole, one byte at a time, and split in two at every
// position; all must agree, on the events, the retry values and the last event ID string.

#include "sseparser.h"

#include <QRandomGenerator>
#include <QTest>

#include <memory>

using namespace Hermes;

namespace {

struct Outcome
{
    QStringList events; ///< "type|data|lastEventId" per dispatched event
    QList<int> retries;
    QString lastId;     ///< the last event ID string after finish()
    bool operator==(const Outcome &o) const
    {
        return events == o.events && retries == o.retries && lastId == o.lastId;
    }
};

QString show(const Outcome &o)
{
    QStringList parts;
    for (const QString &e : o.events) {
        QString shown;
        for (QChar c : e)
            shown += c == u'\n' ? QStringLiteral("\\n")
                : c.unicode() >= 0x7f || c.unicode() < 0x20 ? QStringLiteral("\\u%1").arg(c.unicode(), 4, 16, QChar(u'0'))
                                                            : QString(c);
        parts.append(shown);
    }
    QStringList r;
    for (int ms : o.retries)
        r.append(QString::number(ms));
    return QStringLiteral("events [%1] retries [%2] last id \"%3\"")
        .arg(parts.join(QStringLiteral(", ")), r.join(u','), o.lastId);
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
    out.lastId = parser.lastEventId();
    return out;
}

QString u(const char16_t *text)
{
    return QStringView(text).toString(); // fromUtf16() would take U+FFFE for a BOM
}

} // namespace

class tst_SseParser : public QObject
{
    Q_OBJECT

private slots:
    void rules_data();
    void rules();
    void utf8_data();
    void utf8();
    void lastEventIdStringOnlyMovesOnDispatch();
    void lastEventIdSurvivesReset();
    void resetAllowsABomAgain();
    void finishDropsThePendingEvent();
    void limits_data();
    void limits();
    void hugeLineKeepsMemoryBounded();
    void handlerMayResetOrFinish_data();
    void handlerMayResetOrFinish();
    void handlerMayDestroyTheParser();
    void largeStreamInRandomPieces();
};

void tst_SseParser::rules_data()
{
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<QStringList>("events");
    QTest::addColumn<QList<int>>("retries");
    QTest::addColumn<QString>("lastId");
    const QList<int> none;
    const QString noId;

    // Line ends: CRLF, LF, CR.
    QTest::newRow("LF") << QByteArray("data: a\n\n") << QStringList{"message|a|"} << none << noId;
    QTest::newRow("CRLF") << QByteArray("data: a\r\n\r\n") << QStringList{"message|a|"} << none << noId;
    QTest::newRow("CR") << QByteArray("data: a\r\r") << QStringList{"message|a|"} << none << noId;
    QTest::newRow("mixed line ends") << QByteArray("data: a\rdata: b\r\ndata: c\n\r\n")
                                     << QStringList{"message|a\nb\nc|"} << none << noId;
    QTest::newRow("CR CR is two line ends") << QByteArray("data: a\r\rdata: b\n\n")
                                            << QStringList{"message|a|", "message|b|"} << none << noId;
    QTest::newRow("LF CR is two line ends") << QByteArray("data: a\n\rdata: b\n\n")
                                            << QStringList{"message|a|", "message|b|"} << none << noId;
    QTest::newRow("CR LF LF") << QByteArray("data: a\r\n\ndata: b\r\n\r\n")
                              << QStringList{"message|a|", "message|b|"} << none << noId;
    // The BOM: one at the very start is dropped, anything else is content.
    QTest::newRow("BOM stripped") << QByteArray("\xEF\xBB\xBF" "data: a\n\n") << QStringList{"message|a|"} << none << noId;
    QTest::newRow("second BOM kept") << QByteArray("\xEF\xBB\xBF\xEF\xBB\xBF" "data: a\n\n")
                                     << QStringList{} << none << noId; // the field name is "\uFEFFdata"
    QTest::newRow("BOM not at start") << QByteArray("data: \xEF\xBB\xBF" "a\n\n")
                                      << QStringList{u(u"message|\uFEFFa|")} << none << noId;
    QTest::newRow("partial BOM is content") << QByteArray("\xEF\xBB" "data: a\n\n") << QStringList{} << none << noId;
    QTest::newRow("partial BOM then blank line") << QByteArray("\xEF\xBB\n\ndata: a\n\n")
                                                 << QStringList{"message|a|"} << none << noId;
    // Comments and fields.
    QTest::newRow("comment") << QByteArray(": hello\ndata: a\n\n: bye\n\n") << QStringList{"message|a|"} << none << noId;
    QTest::newRow("comment only") << QByteArray(":\n\n") << QStringList{} << none << noId;
    QTest::newRow("comment looks like data") << QByteArray(":data: x\n\n") << QStringList{} << none << noId;
    QTest::newRow("no space after colon") << QByteArray("data:a\n\n") << QStringList{"message|a|"} << none << noId;
    QTest::newRow("only one space removed") << QByteArray("data:  a\n\n") << QStringList{"message| a|"} << none << noId;
    QTest::newRow("tab kept") << QByteArray("data:\ta\n\n") << QStringList{"message|\ta|"} << none << noId;
    QTest::newRow("trailing space kept") << QByteArray("data: a \n\n") << QStringList{"message|a |"} << none << noId;
    QTest::newRow("space before colon: other field") << QByteArray("data : a\n\n") << QStringList{} << none << noId;
    QTest::newRow("field without colon") << QByteArray("data\n\n") << QStringList{"message||"} << none << noId;
    QTest::newRow("data data") << QByteArray("data\ndata\n\n") << QStringList{"message|\n|"} << none << noId;
    QTest::newRow("colon in value") << QByteArray("data: a:b: c\n\n") << QStringList{"message|a:b: c|"} << none << noId;
    QTest::newRow("NUL in data kept") << QByteArray("data: a") + '\0' + QByteArray("b\n\n")
                                      << QStringList{QStringLiteral("message|a") + QChar(0) + QStringLiteral("b|")} << none << noId;
    QTest::newRow("field names are case-sensitive") << QByteArray("foo: bar\ndata: a\nDATA: b\nData: c\n\n")
                                                    << QStringList{"message|a|"} << none << noId;
    // The spec's own examples.
    QTest::newRow("spec: test test") << QByteArray("data:test\n\ndata: test\n\n")
                                     << QStringList{"message|test|", "message|test|"} << none << noId;
    QTest::newRow("spec: stock") << QByteArray("data: YHOO\ndata: +2\ndata: 10\n\n")
                                 << QStringList{"message|YHOO\n+2\n10|"} << none << noId;
    QTest::newRow("spec: three events") << QByteArray(": test stream\n\ndata: first event\nid: 1\n\n"
                                                      "data:second event\nid\n\ndata:  third event\n\n")
                                        << QStringList{"message|first event|1", "message|second event|",
                                                       "message| third event|"} << none << noId;
    QTest::newRow("spec: blank data") << QByteArray("data\n\ndata\ndata\n\ndata:")
                                      << QStringList{"message||", "message|\n|"} << none << noId;
    // Event types.
    QTest::newRow("event type") << QByteArray("event: add\ndata: 1\n\n") << QStringList{"add|1|"} << none << noId;
    QTest::newRow("last event field wins") << QByteArray("event: a\nevent: b\ndata: 1\n\n") << QStringList{"b|1|"} << none << noId;
    QTest::newRow("type resets after dispatch") << QByteArray("event: add\ndata: 1\n\ndata: 2\n\n")
                                                << QStringList{"add|1|", "message|2|"} << none << noId;
    QTest::newRow("type without data resets") << QByteArray("event: add\n\ndata: 2\n\n")
                                              << QStringList{"message|2|"} << none << noId;
    QTest::newRow("empty event type is message") << QByteArray("event:\ndata: 1\n\n") << QStringList{"message|1|"} << none << noId;
    QTest::newRow("event type is not trimmed") << QByteArray("event:  x \ndata: 1\n\n") << QStringList{" x |1|"} << none << noId;
    // Ids: the buffer follows id:, the string follows the buffer at every blank line.
    QTest::newRow("no data no dispatch") << QByteArray("id: 5\nevent: x\n\n") << QStringList{} << none << QString("5");
    QTest::newRow("id persists") << QByteArray("id: 1\ndata: a\n\ndata: b\n\n")
                                 << QStringList{"message|a|1", "message|b|1"} << none << QString("1");
    QTest::newRow("id set without dispatch persists") << QByteArray("id: 9\n\ndata: b\n\n")
                                                      << QStringList{"message|b|9"} << none << QString("9");
    QTest::newRow("empty id resets") << QByteArray("id: 1\ndata: a\n\nid\ndata: b\n\n")
                                     << QStringList{"message|a|1", "message|b|"} << none << noId;
    QTest::newRow("id: with colon and nothing resets") << QByteArray("id: 1\n\nid:\n\n") << QStringList{} << none << noId;
    QTest::newRow("id with NUL ignored") << QByteArray("id: 1\ndata: a\n\nid: 2") + '\0' + QByteArray("x\ndata: b\n\n")
                                         << QStringList{"message|a|1", "message|b|1"} << none << QString("1");
    QTest::newRow("id after data in same event") << QByteArray("data: a\nid: 3\n\n") << QStringList{"message|a|3"} << none << QString("3");
    QTest::newRow("last id field wins") << QByteArray("id: 1\nid: 2\ndata: a\n\n") << QStringList{"message|a|2"} << none << QString("2");
    QTest::newRow("id is opaque text") << QByteArray("id:  e1:42-0 x\ndata: a\n\n") << QStringList{"message|a| e1:42-0 x"}
                                       << none << QString(" e1:42-0 x");
    QTest::newRow("undispatched id is not the string") << QByteArray("id: 41\ndata: a\n\nid: 42\ndata: b\n")
                                                       << QStringList{"message|a|41"} << none << QString("41");
    QTest::newRow("undispatched id without data") << QByteArray("id: 41\n\nid: 42\n")
                                                  << QStringList{} << none << QString("41");
    // retry: only ASCII digits.
    QTest::newRow("retry") << QByteArray("retry: 1500\n\n") << QStringList{} << QList<int>{1500} << noId;
    QTest::newRow("retry no space") << QByteArray("retry:20\n") << QStringList{} << QList<int>{20} << noId;
    QTest::newRow("retry zero") << QByteArray("retry: 0\n") << QStringList{} << QList<int>{0} << noId;
    QTest::newRow("retry leading zeros") << QByteArray("retry: 007\n") << QStringList{} << QList<int>{7} << noId;
    QTest::newRow("retry not digits") << QByteArray("retry: 1000ms\nretry: -5\nretry: 1.5\nretry:  10\nretry: +5\nretry: 1 \n")
                                      << QStringList{} << none << noId;
    QTest::newRow("retry fullwidth digits ignored") << QByteArray("retry: \xEF\xBC\x91\n") << QStringList{} << none << noId;
    QTest::newRow("retry empty") << QByteArray("retry:\nretry\n") << QStringList{} << none << noId;
    QTest::newRow("retry huge is clamped") << QByteArray("retry: 99999999999999999999\n") << QStringList{}
                                           << QList<int>{std::numeric_limits<int>::max()} << noId;
    QTest::newRow("retry does not dispatch") << QByteArray("data: a\nretry: 5\n\n") << QStringList{"message|a|"}
                                             << QList<int>{5} << noId;
    // End of stream.
    QTest::newRow("unterminated tail discarded") << QByteArray("data: a\n\ndata: b\n")
                                                 << QStringList{"message|a|"} << none << noId;
    QTest::newRow("unterminated line discarded") << QByteArray("data: a\n\ndata: b")
                                                 << QStringList{"message|a|"} << none << noId;
    QTest::newRow("empty stream") << QByteArray() << QStringList{} << none << noId;
    // What Hermes sends.
    QTest::newRow("hermes envelope") << QByteArray("id: 1795560047588-0\ndata: {\"type\":\"x\",\"data\":{}}\n\n")
                                     << QStringList{"message|{\"type\":\"x\",\"data\":{}}|1795560047588-0"} << none
                                     << QString("1795560047588-0");
    QTest::newRow("heartbeat keeps the id") << QByteArray("id: 7\ndata: x\n\nevent: heartbeat\ndata: {\"timestamp\":\"t\"}\n\n")
                                            << QStringList{"message|x|7", "heartbeat|{\"timestamp\":\"t\"}|7"} << none
                                            << QString("7");
}

void tst_SseParser::rules()
{
    QFETCH(QByteArray, stream);
    QFETCH(QStringList, events);
    QFETCH(QList<int>, retries);
    QFETCH(QString, lastId);
    const Outcome expected{events, retries, lastId};

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

void tst_SseParser::utf8_data()
{
    // The bytes of a data value, and the text the WHATWG UTF-8 decoder makes of them: one
    // U+FFFD per maximal subpart (Encoding §4.3 / Unicode §3.9 "U+FFFD substitution of maximal
    // subparts"), which is what browsers' EventSource gives.
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("text");
    // Valid, at the edges of each length.
    QTest::newRow("ascii") << QByteArray("abc") << u(u"abc");
    QTest::newRow("U+007F") << QByteArray("\x7F") << u(u"\u007F");
    QTest::newRow("U+0080") << QByteArray("\xC2\x80") << u(u"\u0080");
    QTest::newRow("U+07FF") << QByteArray("\xDF\xBF") << u(u"\u07FF");
    QTest::newRow("U+0800") << QByteArray("\xE0\xA0\x80") << u(u"\u0800");
    QTest::newRow("U+D7FF") << QByteArray("\xED\x9F\xBF") << u(u"\uD7FF");
    QTest::newRow("U+E000") << QByteArray("\xEE\x80\x80") << u(u"\uE000");
    QTest::newRow("U+FFFF") << QByteArray("\xEF\xBF\xBF") << u(u"\uFFFF");
    QTest::newRow("U+10000") << QByteArray("\xF0\x90\x80\x80") << u(u"\U00010000");
    QTest::newRow("U+1F600") << QByteArray("\xF0\x9F\x98\x80") << u(u"\U0001F600");
    QTest::newRow("U+10FFFF") << QByteArray("\xF4\x8F\xBF\xBF") << u(u"\U0010FFFF");
    QTest::newRow("mixed") << QByteArray("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80") << u(u"\u00E9\u20AC\U0001F600");
    // Bytes that never start anything.
    QTest::newRow("lone continuation") << QByteArray("a\x80" "b") << u(u"a\uFFFDb");
    QTest::newRow("two continuations") << QByteArray("\x80\xBF") << u(u"\uFFFD\uFFFD");
    QTest::newRow("C0 C1") << QByteArray("\xC0\xC1") << u(u"\uFFFD\uFFFD");
    QTest::newRow("F5..FF") << QByteArray("\xF5\xF8\xFC\xFE\xFF") << u(u"\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD");
    // Truncated sequences: one U+FFFD for the whole prefix.
    QTest::newRow("truncated 2 of 3") << QByteArray("\xE2\x82" "A") << u(u"\uFFFDA");
    QTest::newRow("truncated 1 of 3") << QByteArray("\xE2" "A") << u(u"\uFFFDA");
    QTest::newRow("truncated 3 of 4") << QByteArray("\xF0\x9F\x98" "A") << u(u"\uFFFDA");
    QTest::newRow("truncated 2 of 4") << QByteArray("\xF0\x9F" "A") << u(u"\uFFFDA");
    QTest::newRow("truncated 1 of 2") << QByteArray("\xC2" "A") << u(u"\uFFFDA");
    QTest::newRow("truncated at line end") << QByteArray("a\xE2\x82") << u(u"a\uFFFD");
    QTest::newRow("truncated 4-byte at line end") << QByteArray("\xF4\x8F\xBF") << u(u"\uFFFD");
    QTest::newRow("truncated then truncated") << QByteArray("\xE2\x82\xE2\x82") << u(u"\uFFFD\uFFFD");
    QTest::newRow("truncated then valid") << QByteArray("\xF0\x9F\xC3\xA9") << u(u"\uFFFD\u00E9");
    // The Unicode standard's examples (Table 3-8 and the text around it).
    QTest::newRow("unicode example") << QByteArray("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64")
                                     << u(u"a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd");
    QTest::newRow("unicode example 2") << QByteArray("\xE1\x80\xE2\xF0\x91\x92\xF1\xBF\x41")
                                       << u(u"\uFFFD\uFFFD\uFFFD\uFFFDA");
    // Overlong forms: the lead byte is its own subpart.
    QTest::newRow("overlong 2") << QByteArray("\xC0\xAF") << u(u"\uFFFD\uFFFD");
    QTest::newRow("overlong 2 C1") << QByteArray("\xC1\xBF") << u(u"\uFFFD\uFFFD");
    QTest::newRow("overlong 3") << QByteArray("\xE0\x80\xAF") << u(u"\uFFFD\uFFFD\uFFFD");
    QTest::newRow("overlong 3 top") << QByteArray("\xE0\x9F\xBF") << u(u"\uFFFD\uFFFD\uFFFD");
    QTest::newRow("overlong 4") << QByteArray("\xF0\x80\x80\xAF") << u(u"\uFFFD\uFFFD\uFFFD\uFFFD");
    QTest::newRow("overlong 4 top") << QByteArray("\xF0\x8F\xBF\xBF") << u(u"\uFFFD\uFFFD\uFFFD\uFFFD");
    // Surrogates encoded in UTF-8 (CESU-8) are not UTF-8.
    QTest::newRow("surrogate D800") << QByteArray("\xED\xA0\x80") << u(u"\uFFFD\uFFFD\uFFFD");
    QTest::newRow("surrogate DFFF") << QByteArray("\xED\xBF\xBF") << u(u"\uFFFD\uFFFD\uFFFD");
    QTest::newRow("surrogate pair") << QByteArray("\xED\xA0\xBD\xED\xB8\x80") << u(u"\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD");
    // Past U+10FFFF.
    QTest::newRow("U+110000") << QByteArray("\xF4\x90\x80\x80") << u(u"\uFFFD\uFFFD\uFFFD\uFFFD");
    QTest::newRow("F5 lead") << QByteArray("\xF5\x80\x80\x80") << u(u"\uFFFD\uFFFD\uFFFD\uFFFD");
    QTest::newRow("5-byte form") << QByteArray("\xF8\x88\x80\x80\x80") << u(u"\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD");
    QTest::newRow("6-byte form") << QByteArray("\xFC\x84\x80\x80\x80\x80") << u(u"\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD");
    // A sequence cut by something that is not a continuation byte.
    QTest::newRow("lead then lead") << QByteArray("\xC2\xC2\x80") << u(u"\uFFFD\u0080");
    QTest::newRow("3-byte lead then colon") << QByteArray("\xE2:x") << u(u"\uFFFD:x");
    QTest::newRow("noncharacter FFFE is valid") << QByteArray("\xEF\xBF\xBE") << u(u"\uFFFE");
}

void tst_SseParser::utf8()
{
    // Through the parser, so that "split at every byte boundary across feeds" is covered by
    // the same three ways of feeding as the rules: whole, byte by byte, every split.
    QFETCH(QByteArray, bytes);
    QFETCH(QString, text);
    const QByteArray stream = "data: " + bytes + "\n\nevent: " + bytes + "\ndata: x\n\nid: " + bytes + "\n\n";
    const QStringList events{QStringLiteral("message|") + text + QStringLiteral("|"),
                             (text.isEmpty() ? QStringLiteral("message") : text) + QStringLiteral("|x|")};
    const Outcome expected{events, {}, text};
    const Outcome whole = parse({stream});
    QVERIFY2(whole == expected, qPrintable(QStringLiteral("whole: got %1, want %2").arg(show(whole), show(expected))));
    QList<QByteArray> byByte;
    for (char c : stream)
        byByte.append(QByteArray(1, c));
    QVERIFY2(parse(byByte) == expected, qPrintable(show(parse(byByte))));
    for (qsizetype cut = 0; cut <= stream.size(); ++cut) {
        for (qsizetype cut2 = cut; cut2 <= qMin(stream.size(), cut + 4); ++cut2) {
            const Outcome split = parse({stream.left(cut), stream.mid(cut, cut2 - cut), stream.mid(cut2)});
            QVERIFY2(split == expected, qPrintable(QStringLiteral("split at %1/%2: got %3").arg(cut).arg(cut2).arg(show(split))));
        }
    }
}

void tst_SseParser::lastEventIdStringOnlyMovesOnDispatch()
{
    // A connection cut after "id: 42" and before its blank line must resume from 41: event 42
    // never arrived.
    SseParser parser;
    parser.feed("id: 41\ndata: a\n\nid: 42\ndata: b\n");
    QCOMPARE(parser.lastEventIdBuffer(), QStringLiteral("42"));
    QCOMPARE(parser.lastEventId(), QStringLiteral("41"));
    parser.finish();
    QCOMPARE(parser.lastEventId(), QStringLiteral("41"));
    parser.reset(); // the reconnect: the new stream's buffer starts from the string
    QCOMPARE(parser.lastEventIdBuffer(), QStringLiteral("41"));
    QStringList ids;
    parser.setEventHandler([&](const SseParser::Event &e) { ids.append(e.lastEventId); });
    parser.feed("event: connected\ndata: {}\n\nid: 42\ndata: b\n\n");
    QCOMPARE(ids, (QStringList{"41", "42"})); // an id-less first event does not forget it
    QCOMPARE(parser.lastEventId(), QStringLiteral("42"));
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

void tst_SseParser::limits_data()
{
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<int>("events");      ///< dispatched before the error (or in all)
    QTest::addColumn<int>("error");       ///< SseParser::Error
    const int none = int(SseParser::Error::None), line = int(SseParser::Error::LineTooLong),
              event = int(SseParser::Error::EventTooLarge);
    // The limit is 64 bytes.
    QTest::newRow("line of 64") << "data: " + QByteArray(58, 'a') + "\n\n" << 1 << none;
    QTest::newRow("line of 65") << "data: a\n\ndata: " + QByteArray(59, 'a') + "\n\ndata: b\n\n" << 1 << line;
    QTest::newRow("comment of 65") << ":" + QByteArray(64, 'c') + "\n\ndata: b\n\n" << 0 << line;
    QTest::newRow("unterminated line of 65") << "data: a\n\n" + QByteArray(65, 'x') << 1 << line;
    QTest::newRow("CRLF not counted") << "data: " + QByteArray(58, 'a') + "\r\n\r\n" << 1 << none;
    QTest::newRow("data buffer of 64") << QByteArray("data: " + QByteArray(31, 'a') + "\ndata: " + QByteArray(31, 'b') + "\n\n")
                                       << 1 << none;
    QTest::newRow("data buffer of 65") << QByteArray("data: " + QByteArray(31, 'a') + "\ndata: " + QByteArray(32, 'b') + "\n\ndata: c\n\n")
                                       << 0 << event;
    QTest::newRow("many short data lines") << QByteArray("data\n").repeated(65) + "\n" << 0 << event;
    QTest::newRow("data buffer empties at dispatch") << QByteArray("data: " + QByteArray(40, 'a') + "\n\n").repeated(5)
                                                     << 5 << none;
}

void tst_SseParser::limits()
{
    QFETCH(QByteArray, stream);
    QFETCH(int, events);
    QFETCH(int, error);
    for (const int piece : {int(stream.size()), 1, 7}) {
        SseParser parser;
        parser.setLimit(64);
        int count = 0, errors = 0;
        parser.setEventHandler([&](const SseParser::Event &) { ++count; });
        parser.setErrorHandler([&](SseParser::Error) { ++errors; });
        for (qsizetype at = 0; at < stream.size(); at += piece)
            parser.feed(QByteArrayView(stream).sliced(at, qMin<qsizetype>(piece, stream.size() - at)));
        QCOMPARE(count, events);
        QCOMPARE(int(parser.error()), error);
        QCOMPARE(errors, error == 0 ? 0 : 1);
        if (error) {
            QVERIFY(!SseParser::errorString(parser.error(), 64).isEmpty());
            parser.feed("data: later\n\n"); // ignored until reset()
            QCOMPARE(count, events);
            parser.reset();
            parser.feed("data: later\n\n");
            QCOMPARE(count, events + 1);
        }
    }
}

void tst_SseParser::hugeLineKeepsMemoryBounded()
{
    // A peer that sends 400 MB without a line end: the parser gives up at the limit (1 MiB by
    // default) and holds nothing after that; the rest costs no memory and almost no time.
    SseParser parser;
    QCOMPARE(parser.limit(), qsizetype(1024 * 1024));
    const QByteArray chunk(64 * 1024, 'x');
    qsizetype fed = 0;
    int errors = 0;
    parser.setErrorHandler([&](SseParser::Error e) {
        ++errors;
        QCOMPARE(e, SseParser::Error::LineTooLong);
        QVERIFY(fed <= 1024 * 1024);
    });
    for (; fed < 400LL * 1024 * 1024; fed += chunk.size())
        parser.feed(chunk);
    QCOMPARE(errors, 1);
    QCOMPARE(parser.error(), SseParser::Error::LineTooLong);
}

void tst_SseParser::handlerMayResetOrFinish_data()
{
    QTest::addColumn<bool>("reset");
    QTest::newRow("reset") << true;
    QTest::newRow("finish") << false;
}

void tst_SseParser::handlerMayResetOrFinish()
{
    // A client that closes the connection from its event handler must not get the rest of the
    // bytes it had already read.
    QFETCH(bool, reset);
    SseParser parser;
    QStringList got;
    parser.setEventHandler([&](const SseParser::Event &e) {
        got.append(e.data);
        if (e.data == u"2")
            reset ? parser.reset() : parser.finish();
    });
    parser.feed("id: 1\ndata: 1\n\nid: 2\ndata: 2\n\nid: 3\ndata: 3\n\ndata: 4\n\n");
    QCOMPARE(got, (QStringList{"1", "2"}));
    QCOMPARE(parser.lastEventId(), QStringLiteral("2"));
    parser.reset();
    parser.feed("data: 5\n\n"); // a new stream works as usual
    QCOMPARE(got.last(), QStringLiteral("5"));
}

void tst_SseParser::handlerMayDestroyTheParser()
{
    // Run under ASan: the feed() in progress must not touch the parser once it is gone.
    auto parser = std::make_unique<SseParser>();
    int count = 0;
    parser->setEventHandler([&](const SseParser::Event &) {
        ++count;
        parser.reset();
    });
    QByteArray stream = "data: a\n\ndata: b\n\n";
    stream += QByteArray(70000, 'x'); // a buffered line the destructor frees
    SseParser *raw = parser.get();
    raw->feed(stream);
    QCOMPARE(count, 1);
    QVERIFY(!parser);

    // The same from a split line (the parser's own line buffer is being parsed).
    parser = std::make_unique<SseParser>();
    count = 0;
    parser->setEventHandler([&](const SseParser::Event &) {
        ++count;
        parser.reset();
    });
    raw = parser.get();
    raw->feed("data: a");
    raw->feed("bc\n\ndata: d\n\n");
    QCOMPARE(count, 1);
}

void tst_SseParser::largeStreamInRandomPieces()
{
    const quint32 seed = QRandomGenerator::global()->generate();
    QRandomGenerator rng(seed);
    QByteArray stream;
    QStringList expected;
    for (int i = 0; i < 2000; ++i) {
        const QByteArray data = "{\"n\":" + QByteArray::number(i) + ",\"t\":\"\xC3\xA9\xF0\x9F\x98\x80\"}";
        const char *eol = i % 3 == 0 ? "\r\n" : i % 3 == 1 ? "\n" : "\r";
        stream += "id: " + QByteArray::number(i) + eol + "data: " + data + eol + eol;
        expected.append(QStringLiteral("message|") + QString::fromUtf8(data) + u'|' + QString::number(i));
    }
    QList<QByteArray> pieces;
    for (qsizetype pos = 0; pos < stream.size();) {
        const qsizetype n = rng.bounded(1, 300);
        pieces.append(stream.mid(pos, n));
        pos += n;
    }
    QVERIFY2(parse(pieces).events == expected, qPrintable(QStringLiteral("seed %1").arg(seed)));
}

QTEST_MAIN(tst_SseParser)
#include "tst_sseparser.moc"
