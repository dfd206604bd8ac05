// HttpRouter: method + path matching, HEAD served by GET, the methods a path allows, and the
// body limit the front door enforces before reading a body.

#include "http/httprouter.h"

#include <QTest>

using namespace Hermes;
using Method = HttpRequest::Method;

class tst_HttpRouter : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void resolve_data();
    void resolve();
    void bodyLimits();

private:
    HttpRouter m_router;
};

void tst_HttpRouter::initTestCase()
{
    const auto none = [](HttpExchange &) {};
    m_router.add(Method::Get, QStringLiteral("/api/v1/events/stream"), none);
    m_router.add(Method::Get, QStringLiteral("/api/v1/events/downloads/{}"), none);
    m_router.add(Method::Post, QStringLiteral("/api/v1/events/publish"), none, 100);
    m_router.add(Method::Post, QStringLiteral("/api/v1/downloads/{}/{}"), none);
    m_router.add(Method::Delete, QStringLiteral("/api/v1/downloads/{}"), none);
    m_router.add(Method::Get, QStringLiteral("/api/v1/downloads/{}"), none);
}

void tst_HttpRouter::resolve_data()
{
    QTest::addColumn<Method>("method");
    QTest::addColumn<QStringList>("path");
    QTest::addColumn<QString>("pattern");   // empty: no route
    QTest::addColumn<QStringList>("params");
    QTest::addColumn<QStringList>("allowed");

    const QStringList none;
    QTest::newRow("exact") << Method::Get << QStringList{"api", "v1", "events", "stream"}
                           << "/api/v1/events/stream" << none << none;
    QTest::newRow("HEAD by GET") << Method::Head << QStringList{"api", "v1", "events", "stream"}
                                 << "/api/v1/events/stream" << none << none;
    QTest::newRow("capture") << Method::Get << QStringList{"api", "v1", "events", "downloads", "a b"}
                             << "/api/v1/events/downloads/{}" << QStringList{"a b"} << none;
    QTest::newRow("two captures") << Method::Post << QStringList{"api", "v1", "downloads", "7", "pause"}
                                  << "/api/v1/downloads/{}/{}" << QStringList{"7", "pause"} << none;
    QTest::newRow("same path, other method") << Method::Delete << QStringList{"api", "v1", "downloads", "7"}
                                             << "/api/v1/downloads/{}" << QStringList{"7"} << none;
    QTest::newRow("405") << Method::Put << QStringList{"api", "v1", "downloads", "7"} << QString()
                         << none << QStringList{"DELETE", "GET"};
    QTest::newRow("POST on GET route") << Method::Post << QStringList{"api", "v1", "events", "stream"}
                                       << QString() << none << QStringList{"GET"};
    QTest::newRow("404 longer") << Method::Get << QStringList{"api", "v1", "events", "stream", "x"}
                                << QString() << none << none;
    QTest::newRow("404 case") << Method::Get << QStringList{"API", "v1", "events", "stream"}
                              << QString() << none << none;
    QTest::newRow("404 root") << Method::Get << QStringList() << QString() << none << none;
}

void tst_HttpRouter::resolve()
{
    QFETCH(Method, method);
    QFETCH(QStringList, path);
    QFETCH(QString, pattern);
    QFETCH(QStringList, params);
    QFETCH(QStringList, allowed);
    const HttpRouter::Match m = m_router.resolve(method, path);
    QCOMPARE(m.route ? m.route->pattern : QString(), pattern);
    QCOMPARE(m.params, params);
    QStringList got = m.allowed;
    got.sort();
    QCOMPARE(got, allowed);
}

void tst_HttpRouter::bodyLimits()
{
    QCOMPARE(m_router.bodyLimit(Method::Post, {"api", "v1", "events", "publish"}, 5000), qint64(100));
    QCOMPARE(m_router.bodyLimit(Method::Post, {"api", "v1", "downloads", "1", "x"}, 5000), qint64(5000));
    QCOMPARE(m_router.bodyLimit(Method::Post, {"nowhere"}, 5000), qint64(5000)); // read, then 404
}

QTEST_APPLESS_MAIN(tst_HttpRouter)
#include "tst_httprouter.moc"
