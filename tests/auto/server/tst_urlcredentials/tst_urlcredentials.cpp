// UrlCredentials: a download URL's userinfo shown redacted, stripped from what Qt sees, sent as
// a header computed here, and only to the download's own origin.

#include "downloads/urlcredentials.h"

#include <QTest>

using namespace Hermes;

class tst_UrlCredentials : public QObject
{
    Q_OBJECT

private slots:
    void redacted_data();
    void redacted();
    void strippedAndComputed();
    void sameOrigin_data();
    void sameOrigin();
};

void tst_UrlCredentials::redacted_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("expected");
    QTest::newRow("user and password") << "https://user:secret@host/a/b?q=1"
                                       << "https://user:***@host/a/b?q=1";
    QTest::newRow("with a port") << "http://u:p%40ss@127.0.0.1:8080/x" << "http://u:***@127.0.0.1:8080/x";
    QTest::newRow("user alone: a token") << "https://ghp_token@github.com/o/r.tar.gz"
                                         << "https://***@github.com/o/r.tar.gz";
    QTest::newRow("empty user, password") << "https://:pw@host/" << "https://:***@host/";
    QTest::newRow("no userinfo") << "https://host/a@b" << "https://host/a@b";
    QTest::newRow("@ in the query only") << "https://host?mail=a@b" << "https://host?mail=a@b";
    QTest::newRow("@ in the fragment only") << "https://host#a@b" << "https://host#a@b";
    QTest::newRow("@ in the password") << "https://u:p@ss@host/" << "https://u:***@host/";
    QTest::newRow("ipv6") << "http://u:p@[::1]:80/f" << "http://u:***@[::1]:80/f";
    QTest::newRow("not a URL") << "plain text" << "plain text";
}

void tst_UrlCredentials::redacted()
{
    QFETCH(QString, url);
    QFETCH(QString, expected);
    QCOMPARE(UrlCredentials::redacted(url), expected);
    QCOMPARE(UrlCredentials::redacted(expected), expected); // nothing left to hide
}

void tst_UrlCredentials::strippedAndComputed()
{
    const QUrl url(QStringLiteral("http://us%C3%A9r:p%3Ass@host:81/f"));
    QCOMPARE(UrlCredentials::withoutUserInfo(url).toString(), QStringLiteral("http://host:81/f"));
    // RFC 7617: base64 of the decoded UTF-8 "user:password".
    QCOMPARE(UrlCredentials::basicAuthorization(url), "Basic " + QByteArray("us\xc3\xa9r:p:ss").toBase64());
    QCOMPARE(UrlCredentials::basicAuthorization(QUrl(QStringLiteral("http://host/f"))), QByteArray());
    QCOMPARE(UrlCredentials::basicAuthorization(QUrl(QStringLiteral("http://tok@host/f"))),
             "Basic " + QByteArray("tok:").toBase64());
}

void tst_UrlCredentials::sameOrigin_data()
{
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<bool>("same");
    QTest::newRow("same") << "http://h:1/a" << "http://h:1/b" << true;
    QTest::newRow("default port") << "https://h/a" << "https://h:443/b" << true;
    QTest::newRow("host case") << "http://H/a" << "http://h/b" << true;
    QTest::newRow("other port") << "http://h:1/a" << "http://h:2/a" << false;
    QTest::newRow("other host") << "http://h/a" << "http://g/a" << false;
    QTest::newRow("other scheme") << "http://h/a" << "https://h/a" << false;
    QTest::newRow("subdomain") << "http://h/a" << "http://x.h/a" << false;
}

void tst_UrlCredentials::sameOrigin()
{
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(bool, same);
    QCOMPARE(UrlCredentials::sameOrigin(QUrl(a), QUrl(b)), same);
}

QTEST_GUILESS_MAIN(tst_UrlCredentials)
#include "tst_urlcredentials.moc"
