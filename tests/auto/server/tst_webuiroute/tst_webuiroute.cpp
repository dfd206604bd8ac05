// WebUiRoute: the page's files as compiled in, their types and ETags, If-None-Match, and the
// rules the Content-Security-Policy imposes on the files themselves (no inline script, style
// or handler: the policy would block them and the page would break silently). Serving them
// through the real binary, in a real browser, is tst_webui's.

#include "http/webuiroute.h"

#include <QRegularExpression>
#include <QTest>

using namespace Hermes;

class tst_WebUiRoute : public QObject
{
    Q_OBJECT

private slots:
    void filesAreCompiledIn();
    void contentTypes();
    void etags();
    void ifNoneMatch();
    void policyIsStrict();
    void nothingInlineNorRemote();
    void everyImportExists();
};

void tst_WebUiRoute::filesAreCompiledIn()
{
    const WebUiRoute route;
    for (const char *name : {"index.html", "app.css", "main.js", "stream.js", "icon.svg"})
        QVERIFY2(route.files().contains(QLatin1String(name)), name);
    qint64 total = 0;
    for (const WebUiRoute::File &f : route.files())
        total += f.body.size();
    qInfo() << "the page:" << route.files().size() << "files," << total << "bytes uncompressed";
    QVERIFY(total < 200 * 1024);
}

void tst_WebUiRoute::contentTypes()
{
    QCOMPARE(WebUiRoute::contentTypeFor(QStringLiteral("index.html")), "text/html; charset=utf-8");
    QCOMPARE(WebUiRoute::contentTypeFor(QStringLiteral("main.js")), "text/javascript; charset=utf-8");
    QCOMPARE(WebUiRoute::contentTypeFor(QStringLiteral("app.css")), "text/css; charset=utf-8");
    QCOMPARE(WebUiRoute::contentTypeFor(QStringLiteral("icon.svg")), "image/svg+xml");
    QCOMPARE(WebUiRoute::contentTypeFor(QStringLiteral("x.bin")), "application/octet-stream");
}

void tst_WebUiRoute::etags()
{
    const WebUiRoute route;
    QSet<QByteArray> seen;
    for (const WebUiRoute::File &f : route.files()) {
        QVERIFY(f.etag.startsWith('"') && f.etag.endsWith('"') && f.etag.size() == 34);
        seen.insert(f.etag);
    }
    QCOMPARE(seen.size(), route.files().size()); // distinct contents, distinct tags
    QCOMPARE(WebUiRoute().files().value(QStringLiteral("main.js")).etag,
             route.files().value(QStringLiteral("main.js")).etag); // stable across starts
}

void tst_WebUiRoute::ifNoneMatch()
{
    const QByteArray tag = "\"abc\"";
    QVERIFY(WebUiRoute::matchesEtag("\"abc\"", tag));
    QVERIFY(WebUiRoute::matchesEtag("W/\"abc\"", tag));
    QVERIFY(WebUiRoute::matchesEtag("\"x\", \"abc\"", tag));
    QVERIFY(WebUiRoute::matchesEtag("*", tag));
    QVERIFY(!WebUiRoute::matchesEtag("", tag));
    QVERIFY(!WebUiRoute::matchesEtag("\"abcd\"", tag));
    QVERIFY(!WebUiRoute::matchesEtag("abc", tag));
}

void tst_WebUiRoute::policyIsStrict()
{
    const QByteArray csp = WebUiRoute::ContentSecurityPolicy;
    QVERIFY(csp.startsWith("default-src 'self';"));
    QVERIFY(!csp.contains("unsafe-inline"));
    QVERIFY(!csp.contains("unsafe-eval"));
    QVERIFY(csp.contains("frame-ancestors 'none'"));
}

void tst_WebUiRoute::nothingInlineNorRemote()
{
    const WebUiRoute route;
    const QString html = QString::fromUtf8(route.files().value(QStringLiteral("index.html")).body);
    // Every <script> has a src; no <style> element, style= attribute or on…= handler.
    static const QRegularExpression script(QStringLiteral("<script(?![^>]*\\bsrc=)[^>]*>"));
    QVERIFY2(!script.match(html).hasMatch(), "an inline <script>");
    QVERIFY(!html.contains(QStringLiteral("<style")));
    static const QRegularExpression attrs(QStringLiteral("\\s(style|on[a-z]+)\\s*="));
    QVERIFY2(!attrs.match(html).hasMatch(), qPrintable(attrs.match(html).captured()));
    for (auto it = route.files().cbegin(); it != route.files().cend(); ++it) {
        // Nothing from elsewhere: no absolute URL to load (the SVG's namespace is a name).
        static const QRegularExpression remote(QStringLiteral("(src|href)=\"(https?:)?//"));
        QVERIFY2(!remote.match(QString::fromUtf8(it->body)).hasMatch(), qPrintable(it.key()));
        if (it.key().endsWith(u".js")) {
            // No eval, no string-built functions: the policy forbids them.
            QVERIFY2(!it->body.contains("eval(") && !it->body.contains("new Function"), qPrintable(it.key()));
            // Elements the script builds get no inline style either.
            QVERIFY2(!it->body.contains(".style.") && !it->body.contains("innerHTML"), qPrintable(it.key()));
        }
    }
}

void tst_WebUiRoute::everyImportExists()
{
    const WebUiRoute route;
    static const QRegularExpression import(QStringLiteral("from '\\./([a-z0-9]+\\.js)'"));
    int imports = 0;
    for (auto it = route.files().cbegin(); it != route.files().cend(); ++it) {
        auto matches = import.globalMatch(QString::fromUtf8(it->body));
        while (matches.hasNext()) {
            const QString name = matches.next().captured(1);
            QVERIFY2(route.files().contains(name), qPrintable(it.key() + QStringLiteral(" imports ") + name));
            ++imports;
        }
    }
    QVERIFY(imports > 5);
    static const QRegularExpression ref(QStringLiteral("(?:src|href)=\"([^\"]+)\""));
    auto refs = ref.globalMatch(QString::fromUtf8(route.files().value(QStringLiteral("index.html")).body));
    while (refs.hasNext()) {
        const QString name = refs.next().captured(1);
        QVERIFY2(route.files().contains(name), qPrintable(name));
    }
}

QTEST_GUILESS_MAIN(tst_WebUiRoute)
#include "tst_webuiroute.moc"
