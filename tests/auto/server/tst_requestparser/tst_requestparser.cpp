// HttpRequestParser: strict RFC 9112 framing, limits enforced as bytes arrive, and any
// split of the input giving the same requests as one piece.

#include "http/requestparser.h"

#include <QRandomGenerator>
#include <QTest>

using namespace Hermes;
using Status = HttpRequestParser::Status;

namespace {

struct Outcome
{
    QList<HttpRequest> requests;
    int errorStatus = 0;    ///< 0: no error
    QByteArray errorCode;
    bool needMore = false;  ///< input ended inside a request
    qsizetype consumed = 0; ///< bytes taken before an error
};

/// Feeds `input` in pieces of the given sizes (cycled); limit per request `bodyLimit`.
Outcome parseAll(const QByteArray &input, const QList<int> &pieces = {},
                 const HttpLimits &limits = {}, qint64 bodyLimit = 64 * 1024)
{
    Outcome out;
    HttpRequestParser parser(limits);
    qsizetype pos = 0;
    int piece = 0;
    QByteArray pending;
    while (true) {
        if (pending.isEmpty()) {
            if (pos >= input.size())
                break;
            const int n = pieces.isEmpty() ? int(input.size()) : pieces[piece++ % pieces.size()];
            pending = input.mid(pos, qMax(1, n));
            pos += pending.size();
        }
        qsizetype used = 0;
        Status s = parser.feed(pending, &used);
        out.consumed += used;
        pending.remove(0, used);
        if (s == Status::HeadReady)
            s = parser.setBodyLimit(bodyLimit);
        if (s == Status::Error) {
            out.errorStatus = parser.error().status;
            out.errorCode = parser.error().code;
            return out;
        }
        if (s == Status::Complete) {
            out.requests.append(parser.takeRequest());
            parser.reset();
        }
    }
    out.needMore = parser.inProgress();
    return out;
}

} // namespace

class tst_RequestParser : public QObject
{
    Q_OBJECT

private slots:
    void wellFormed_data();
    void wellFormed();
    void rejected_data();
    void rejected();
    void limitsBeforeBuffering();
    void expectContinue();
    void keepAliveAndVersions_data();
    void keepAliveAndVersions();
    void pathSegments();
    void randomSplitsAndPipelining();
};

void tst_RequestParser::wellFormed_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("body");

    QTest::newRow("get") << QByteArray("GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\n\r\n") << QByteArray("GET")
                         << "/a/b" << QByteArray();
    QTest::newRow("bare LF") << QByteArray("GET / HTTP/1.1\nHost: h\n\n") << QByteArray("GET") << "/"
                             << QByteArray();
    QTest::newRow("leading empty lines") << QByteArray("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")
                                         << QByteArray("GET") << "/" << QByteArray();
    QTest::newRow("content-length") << QByteArray("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello")
                                    << QByteArray("POST") << "/p" << QByteArray("hello");
    QTest::newRow("chunked") << QByteArray("POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                                           "5\r\nhello\r\n1;ext=1\r\n!\r\n0\r\nTrailer: x\r\n\r\n")
                             << QByteArray("POST") << "/p" << QByteArray("hello!");
    QTest::newRow("chunked upper hex, BWS before ext")
        << QByteArray("POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n"
                      "A \t;x\r\n0123456789\r\n0\r\n\r\n")
        << QByteArray("POST") << "/p" << QByteArray("0123456789");
    QTest::newRow("absolute-form") << QByteArray("GET http://example.org/x/y HTTP/1.1\r\nHost: example.org\r\n\r\n")
                                   << QByteArray("GET") << "/x/y" << QByteArray();
    QTest::newRow("options *") << QByteArray("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")
                               << QByteArray("OPTIONS") << "" << QByteArray();
    QTest::newRow("http/1.0 without host") << QByteArray("GET / HTTP/1.0\r\n\r\n") << QByteArray("GET")
                                           << "/" << QByteArray();
    QTest::newRow("obs-text in value") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n")
                                       << QByteArray("GET") << "/" << QByteArray();
}

void tst_RequestParser::wellFormed()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, method);
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    for (const QList<int> &pieces : {QList<int>{}, QList<int>{1}, QList<int>{3, 7}}) {
        const Outcome o = parseAll(input, pieces);
        QCOMPARE(o.errorStatus, 0);
        QCOMPARE(o.requests.size(), 1);
        QCOMPARE(HttpRequest::methodName(o.requests[0].method()), method);
        QCOMPARE(o.requests[0].url().path(), path);
        QCOMPARE(o.requests[0].body(), body);
        QVERIFY(!o.needMore);
    }
}

void tst_RequestParser::rejected_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("status");

    const QByteArray h = "Host: h\r\n";
    QTest::newRow("CL + TE") << "POST / HTTP/1.1\r\n" + h + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n" << 400;
    QTest::newRow("TE + CL") << "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n" << 400;
    QTest::newRow("CL twice, same") << "POST / HTTP/1.1\r\n" + h + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc" << 400;
    QTest::newRow("CL list") << "POST / HTTP/1.1\r\n" + h + "Content-Length: 3, 3\r\n\r\nabc" << 400;
    QTest::newRow("CL sign") << "POST / HTTP/1.1\r\n" + h + "Content-Length: +3\r\n\r\nabc" << 400;
    QTest::newRow("CL hex") << "POST / HTTP/1.1\r\n" + h + "Content-Length: 0x3\r\n\r\nabc" << 400;
    QTest::newRow("CL empty") << "POST / HTTP/1.1\r\n" + h + "Content-Length: \r\n\r\n" << 400;
    QTest::newRow("CL huge") << "POST / HTTP/1.1\r\n" + h + "Content-Length: 99999999999999999999999\r\n\r\n" << 413;
    QTest::newRow("CL 2e9") << "POST / HTTP/1.1\r\n" + h + "Content-Length: 2000000000\r\n\r\n" << 413;
    QTest::newRow("TE gzip") << "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip\r\n\r\n" << 400;
    QTest::newRow("TE gzip, chunked") << "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip, chunked\r\n\r\n" << 501;
    QTest::newRow("TE in 1.0") << QByteArray("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") << 400;
    QTest::newRow("chunk size not hex") << "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" << 400;
    QTest::newRow("chunk size negative") << "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n-1\r\n" << 400;
    QTest::newRow("chunk size 0x") << "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n" << 400;
    QTest::newRow("chunk size empty") << "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n\r\n" << 400;
    QTest::newRow("chunk size overflow") << "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n" << 413;
    QTest::newRow("chunk over limit") << "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n10001\r\n" << 413;
    QTest::newRow("chunk data too long") << "POST / HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n" << 400;
    QTest::newRow("no host") << QByteArray("GET / HTTP/1.1\r\n\r\n") << 400;
    QTest::newRow("two hosts") << "GET / HTTP/1.1\r\n" + h + h + "\r\n" << 400;
    QTest::newRow("obs-fold") << "GET / HTTP/1.1\r\n" + h + "X: a\r\n b\r\n\r\n" << 400;
    QTest::newRow("space before colon") << "GET / HTTP/1.1\r\n" + h + "X : a\r\n\r\n" << 400;
    QTest::newRow("no colon") << "GET / HTTP/1.1\r\n" + h + "X\r\n\r\n" << 400;
    QTest::newRow("NUL in value") << "GET / HTTP/1.1\r\n" + h + QByteArray("X: a\0b\r\n\r\n", 11) << 400;
    QTest::newRow("bare CR in value") << "GET / HTTP/1.1\r\n" + h + "X: a\rb\r\n\r\n" << 400;
    QTest::newRow("bare CR in request line") << "GET /\r HTTP/1.1\r\n" + h + "\r\n" << 400;
    QTest::newRow("double space") << "GET  / HTTP/1.1\r\n" + h + "\r\n" << 400;
    QTest::newRow("HTTP/0.9") << QByteArray("GET /\r\n") << 400;
    QTest::newRow("HTTP/2") << QByteArray("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") << 505;
    QTest::newRow("lowercase version") << "GET / http/1.1\r\n" + h + "\r\n" << 400;
    QTest::newRow("binary first byte") << QByteArray("\x16\x03\x01", 3) << 400;
    QTest::newRow("unknown method") << "BREW / HTTP/1.1\r\n" + h + "\r\n" << 501;
    QTest::newRow("lowercase method") << "get / HTTP/1.1\r\n" + h + "\r\n" << 501;
    QTest::newRow("space in target") << "GET /a b HTTP/1.1\r\n" + h + "\r\n" << 400;
    QTest::newRow("fragment") << "GET /a#b HTTP/1.1\r\n" + h + "\r\n" << 400;
    QTest::newRow("authority-form") << "CONNECT h:443 HTTP/1.1\r\n" + h + "\r\n" << 400;
    QTest::newRow("expect other") << "POST / HTTP/1.1\r\n" + h + "Expect: something\r\nContent-Length: 1\r\n\r\nx" << 417;
    QTest::newRow("request line 8 KiB") << "GET /" + QByteArray(8200, 'a') + " HTTP/1.1\r\n" + h + "\r\n" << 414;
    QTest::newRow("header field 33 KiB") << "GET / HTTP/1.1\r\n" + h + "X: " + QByteArray(33 * 1024, 'a') + "\r\n\r\n" << 431;
    QByteArray many = "GET / HTTP/1.1\r\n" + h;
    for (int i = 0; i < 100; ++i)
        many += "X-" + QByteArray::number(i) + ": v\r\n";
    QTest::newRow("101 fields") << many + "\r\n" << 431;
}

void tst_RequestParser::rejected()
{
    QFETCH(QByteArray, input);
    QFETCH(int, status);
    for (const QList<int> &pieces : {QList<int>{}, QList<int>{1}, QList<int>{5, 2}}) {
        const Outcome o = parseAll(input, pieces);
        QCOMPARE(o.errorStatus, status);
        QVERIFY(o.requests.isEmpty());
    }
}

// A limit is detected from the bytes that pass it, not after a whole line or body arrived.
void tst_RequestParser::limitsBeforeBuffering()
{
    HttpLimits limits;
    {
        HttpRequestParser p(limits);
        const QByteArray endless = "GET /" + QByteArray(limits.maxRequestLine, 'a');
        qsizetype used = 0;
        QCOMPARE(p.feed(endless, &used), Status::Error);
        QCOMPARE(p.error().status, 414);
    }
    {
        HttpRequestParser p(limits);
        qsizetype used = 0;
        QCOMPARE(p.feed("GET / HTTP/1.1\r\nHost: h\r\nX: " + QByteArray(limits.maxHeaderBytes, 'a'), &used),
                 Status::Error);
        QCOMPARE(p.error().status, 431);
    }
    {
        // 2e9 declared: refused at the head, with no body byte read.
        HttpRequestParser p(limits);
        qsizetype used = 0;
        const QByteArray head = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000000\r\n\r\n";
        QCOMPARE(p.feed(head + "xxxx", &used), Status::HeadReady);
        QCOMPARE(used, head.size());
        QCOMPARE(p.setBodyLimit(65536), Status::Error);
        QCOMPARE(p.error().status, 413);
    }
    {
        // Endless chunks: refused by the first chunk that would pass the limit.
        HttpRequestParser p(limits);
        qsizetype used = 0;
        QCOMPARE(p.feed("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", &used),
                 Status::HeadReady);
        QCOMPARE(p.setBodyLimit(100), Status::NeedMore);
        const QByteArray chunk = "20\r\n" + QByteArray(32, 'x') + "\r\n";
        Status s = Status::NeedMore;
        int chunks = 0;
        while (s == Status::NeedMore && chunks < 10) {
            s = p.feed(chunk, &used);
            ++chunks;
        }
        QCOMPARE(s, Status::Error);
        QCOMPARE(p.error().status, 413);
        QCOMPARE(chunks, 4); // 3 × 32 = 96 fit, the 4th does not
        QVERIFY(p.bodyBytesRead() <= 100);
    }
}

void tst_RequestParser::expectContinue()
{
    HttpRequestParser p{HttpLimits()};
    qsizetype used = 0;
    QCOMPARE(p.feed("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n", &used),
             Status::HeadReady);
    QVERIFY(p.expectsContinue());
    QCOMPARE(p.setBodyLimit(10), Status::NeedMore);
    QCOMPARE(p.feed("ok", &used), Status::Complete);
    QCOMPARE(p.takeRequest().body(), QByteArray("ok"));
}

void tst_RequestParser::keepAliveAndVersions_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<bool>("keepAlive");
    QTest::addColumn<int>("minor");
    QTest::newRow("1.1") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\n\r\n") << true << 1;
    QTest::newRow("1.1 close") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Close\r\n\r\n") << false << 1;
    QTest::newRow("1.0") << QByteArray("GET / HTTP/1.0\r\n\r\n") << false << 0;
    QTest::newRow("1.0 keep-alive") << QByteArray("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") << false << 0;
    QTest::newRow("1.9 is 1.1") << QByteArray("GET / HTTP/1.9\r\nHost: h\r\n\r\n") << true << 1;
}

void tst_RequestParser::keepAliveAndVersions()
{
    QFETCH(QByteArray, input);
    QFETCH(bool, keepAlive);
    QFETCH(int, minor);
    const Outcome o = parseAll(input);
    QCOMPARE(o.requests.size(), 1);
    QCOMPARE(o.requests[0].keepAlive(), keepAlive);
    QCOMPARE(o.requests[0].minorVersion(), minor);
}

void tst_RequestParser::pathSegments()
{
    const Outcome o = parseAll("GET /api//v1/events%2Fstream/%64ownloads/a%20b?token=x HTTP/1.1\r\nHost: h\r\n\r\n");
    QCOMPARE(o.requests.size(), 1);
    QCOMPARE(o.requests[0].pathSegments(),
             QStringList({"api", "v1", "events/stream", "downloads", "a b"}));
    QCOMPARE(o.requests[0].query().queryItemValue("token"), QStringLiteral("x"));
}

// Random valid requests (the model), framed with Content-Length or random chunks, pipelined,
// fed in random pieces: the parser gives back exactly the model.
void tst_RequestParser::randomSplitsAndPipelining()
{
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED")
        ? quint32(qEnvironmentVariableIntValue("HERMES_TEST_SEED"))
        : QRandomGenerator::global()->generate();
    QRandomGenerator rng(seed);
    const auto failed = qScopeGuard([seed] {
        if (QTest::currentTestFailed())
            qWarning("randomSplitsAndPipelining failed with HERMES_TEST_SEED=%u", seed);
    });
    static const char *methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
    for (int round = 0; round < 200; ++round) {
        struct Model { QByteArray method, path, body; QList<QPair<QByteArray, QByteArray>> headers; };
        QList<Model> model;
        QByteArray wire;
        const int count = 1 + int(rng.bounded(5));
        for (int i = 0; i < count; ++i) {
            Model m;
            m.method = methods[rng.bounded(6)];
            m.path = "/r" + QByteArray::number(rng.bounded(1000)) + "/x";
            const int bodySize = m.method == "GET" ? 0 : int(rng.bounded(3000));
            for (int b = 0; b < bodySize; ++b)
                m.body += char(rng.bounded(256));
            const int extra = int(rng.bounded(10));
            for (int k = 0; k < extra; ++k)
                m.headers.append({"X-H" + QByteArray::number(k), QByteArray(int(rng.bounded(40)), 'v')});
            QByteArray req = m.method + ' ' + m.path + " HTTP/1.1\r\nhOsT: example\r\n";
            for (const auto &h : m.headers)
                req += h.first + ":" + QByteArray(int(rng.bounded(3)), ' ') + h.second + "\r\n";
            if (bodySize > 0 && rng.bounded(2)) {
                req += "Transfer-Encoding: chunked\r\n\r\n";
                int left = bodySize;
                int at = 0;
                while (left > 0) {
                    const int n = qMin(left, 1 + int(rng.bounded(700)));
                    req += QByteArray::number(n, 16) + (rng.bounded(4) == 0 ? ";e=1" : "") + "\r\n"
                        + m.body.mid(at, n) + "\r\n";
                    at += n;
                    left -= n;
                }
                req += "0\r\n\r\n";
            } else {
                if (bodySize > 0 || rng.bounded(2))
                    req += "Content-Length: " + QByteArray::number(bodySize) + "\r\n";
                req += "\r\n" + m.body;
            }
            model.append(m);
            wire += req;
        }
        QList<int> pieces;
        for (int k = 0; k < 5; ++k)
            pieces.append(1 + int(rng.bounded(rng.bounded(2) ? 8 : 2000)));
        const Outcome o = parseAll(wire, pieces);
        QCOMPARE(o.errorStatus, 0);
        QVERIFY(!o.needMore);
        QCOMPARE(o.requests.size(), model.size());
        for (int i = 0; i < model.size(); ++i) {
            QCOMPARE(HttpRequest::methodName(o.requests[i].method()), model[i].method);
            QCOMPARE(o.requests[i].target(), model[i].path);
            QCOMPARE(o.requests[i].body(), model[i].body);
            for (const auto &h : model[i].headers)
                QCOMPARE(o.requests[i].value(h.first), h.second);
        }
    }
}

QTEST_APPLESS_MAIN(tst_RequestParser)
#include "tst_requestparser.moc"
