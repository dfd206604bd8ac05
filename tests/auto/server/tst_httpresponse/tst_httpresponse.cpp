// HttpResponse, the one place a response is serialized: the exact bytes of a response, of a
// bodyless status, of a HEAD answer, of the JSON error response and of `100 Continue`.

#include "http/httpresponse.h"

#include <QTest>

using namespace Hermes;

class tst_HttpResponse : public QObject
{
    Q_OBJECT

private slots:
    void complete();
    void headersInOrderAndClose();
    void bodylessStatuses_data();
    void bodylessStatuses();
    void headAnswerHasTheLengthButNoBody();
    void noContentTypeWhenNoneIsGiven();
    void errorResponse();
    void continueResponse();
    void reasonPhrases();
};

void tst_HttpResponse::complete()
{
    const HeaderList headers{{"Cache-Control", "no-store"}};
    QCOMPARE(HttpResponse::complete(200, {&headers}, false, "application/json", "{}"),
             QByteArray("HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nContent-Type: application/json\r\n"
                        "Content-Length: 2\r\n\r\n{}"));
}

// CORS headers first, then the route's, then Connection: close.
void tst_HttpResponse::headersInOrderAndClose()
{
    const HeaderList cors{{"Vary", "Origin"}};
    const HeaderList route{{"Retry-After", "5"}};
    QCOMPARE(HttpResponse::head(503, {&cors, &route}, true),
             QByteArray("HTTP/1.1 503 Service Unavailable\r\nVary: Origin\r\nRetry-After: 5\r\n"
                        "Connection: close\r\n"));
}

void tst_HttpResponse::bodylessStatuses_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<bool>("bodyless");
    QTest::newRow("100") << 100 << true;
    QTest::newRow("204") << 204 << true;
    QTest::newRow("304") << 304 << true;
    QTest::newRow("200") << 200 << false;
    QTest::newRow("404") << 404 << false;
}

// No body, and no header describing one, whatever the caller passed.
void tst_HttpResponse::bodylessStatuses()
{
    QFETCH(int, status);
    QFETCH(bool, bodyless);
    QCOMPARE(HttpResponse::isBodyless(status), bodyless);
    const QByteArray bytes = HttpResponse::complete(status, {}, false, "text/plain", "body");
    QCOMPARE(bytes.contains("Content-Length"), !bodyless);
    QCOMPARE(bytes.contains("Content-Type"), !bodyless);
    QCOMPARE(bytes.endsWith("\r\n\r\nbody"), !bodyless);
    if (bodyless)
        QVERIFY(bytes.endsWith("\r\n\r\n"));
}

void tst_HttpResponse::headAnswerHasTheLengthButNoBody()
{
    QCOMPARE(HttpResponse::complete(200, {}, false, "text/plain", "hello", true),
             QByteArray("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n"));
}

void tst_HttpResponse::noContentTypeWhenNoneIsGiven()
{
    QCOMPARE(HttpResponse::complete(200, {}, false, {}, {}),
             QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
}

void tst_HttpResponse::errorResponse()
{
    const QByteArray body = R"({"error":{"code":"body_too_large","message":"too \"big\""}})";
    QCOMPARE(HttpResponse::error(413, "body_too_large", QStringLiteral("too \"big\""), {}, true),
             "HTTP/1.1 413 Content Too Large\r\nConnection: close\r\nContent-Type: application/json\r\n"
             "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
}

void tst_HttpResponse::continueResponse()
{
    QCOMPARE(HttpResponse::continueResponse(), QByteArray("HTTP/1.1 100 Continue\r\n\r\n"));
}

void tst_HttpResponse::reasonPhrases()
{
    QCOMPARE(HttpResponse::reasonPhrase(404), QByteArray("Not Found"));
    QCOMPARE(HttpResponse::reasonPhrase(431), QByteArray("Request Header Fields Too Large"));
    QCOMPARE(HttpResponse::reasonPhrase(299), QByteArray("Status"));
}

QTEST_APPLESS_MAIN(tst_HttpResponse)
#include "tst_httpresponse.moc"
