// CorsPolicy: which origins get CORS headers (listed ones, any with `*`, none by default), that
// an allowed origin is echoed rather than `*`, and the preflight's headers.

#include "http/corspolicy.h"
#include "http/requestparser.h"

#include <QTest>

using namespace Hermes;

namespace {

HttpRequest requestFrom(const QByteArray &origin)
{
    HttpRequestParser parser{HttpLimits{}};
    QByteArray bytes = "GET /api/v1/events/stream HTTP/1.1\r\nHost: h\r\n";
    if (!origin.isNull())
        bytes += "Origin: " + origin + "\r\n";
    bytes += "\r\n";
    qsizetype used = 0;
    HttpRequestParser::Status status = parser.feed(bytes, &used);
    if (status == HttpRequestParser::Status::HeadReady)
        status = parser.setBodyLimit(0);
    Q_ASSERT(status == HttpRequestParser::Status::Complete);
    return parser.takeRequest();
}

HeaderList allowedHeaders(const QByteArray &origin)
{
    return {{"Access-Control-Allow-Origin", origin},
            {"Vary", "Origin"},
            {"Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate"}};
}

} // namespace

class tst_CorsPolicy : public QObject
{
    Q_OBJECT

private slots:
    void headers_data();
    void headers();
    void preflightForAnAllowedOrigin();
    void preflightForARefusedOrigin();
    void originsChangeAtRunTime();
};

void tst_CorsPolicy::headers_data()
{
    QTest::addColumn<QStringList>("allowed");
    QTest::addColumn<QByteArray>("origin");
    QTest::addColumn<bool>("gets");
    const QStringList one{QStringLiteral("https://app.example")};
    QTest::newRow("nothing allowed") << QStringList() << QByteArray("https://app.example") << false;
    QTest::newRow("listed") << one << QByteArray("https://app.example") << true;
    QTest::newRow("not listed") << one << QByteArray("https://evil.example") << false;
    QTest::newRow("another port") << one << QByteArray("https://app.example:8443") << false;
    QTest::newRow("no Origin") << one << QByteArray() << false;
    QTest::newRow("* allows any") << QStringList{QStringLiteral("*")} << QByteArray("https://evil.example") << true;
    QTest::newRow("* and no Origin") << QStringList{QStringLiteral("*")} << QByteArray() << false;
    QTest::newRow("several") << QStringList{QStringLiteral("https://a.example"), QStringLiteral("https://b.example")}
                             << QByteArray("https://b.example") << true;
}

// An allowed origin gets its own origin back (so responses vary by Origin), never `*`.
void tst_CorsPolicy::headers()
{
    QFETCH(QStringList, allowed);
    QFETCH(QByteArray, origin);
    QFETCH(bool, gets);
    CorsPolicy cors;
    cors.setAllowedOrigins(allowed);
    const HeaderList headers = cors.headersFor(requestFrom(origin));
    QCOMPARE(headers, gets ? allowedHeaders(origin) : HeaderList());
}

void tst_CorsPolicy::preflightForAnAllowedOrigin()
{
    CorsPolicy cors;
    cors.setAllowedOrigins({QStringLiteral("https://app.example")});
    const HeaderList headers =
        CorsPolicy::preflight("GET, POST, OPTIONS", cors.headersFor(requestFrom("https://app.example")));
    const HeaderList expected{{"Allow", "GET, POST, OPTIONS"},
                              {"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
                              {"Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID, Cache-Control"},
                              {"Access-Control-Max-Age", "600"}};
    QCOMPARE(headers, expected);
}

// Refused: only what any OPTIONS answer says; the browser then refuses the real request.
void tst_CorsPolicy::preflightForARefusedOrigin()
{
    CorsPolicy cors;
    cors.setAllowedOrigins({QStringLiteral("https://app.example")});
    const HeaderList headers =
        CorsPolicy::preflight("GET, OPTIONS", cors.headersFor(requestFrom("https://evil.example")));
    QCOMPARE(headers, (HeaderList{{"Allow", "GET, OPTIONS"}}));
}

void tst_CorsPolicy::originsChangeAtRunTime()
{
    CorsPolicy cors;
    const HttpRequest request = requestFrom("https://app.example");
    QVERIFY(cors.headersFor(request).isEmpty());
    cors.setAllowedOrigins({QStringLiteral("https://app.example")});
    QCOMPARE(cors.headersFor(request), allowedHeaders("https://app.example"));
    cors.setAllowedOrigins({});
    QVERIFY(cors.headersFor(request).isEmpty());
}

QTEST_GUILESS_MAIN(tst_CorsPolicy)
#include "tst_corspolicy.moc"
