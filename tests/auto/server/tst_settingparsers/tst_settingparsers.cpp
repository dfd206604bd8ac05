// SettingParsers: the settings with a syntax of their own — what each accepts, what it makes
// of it, and the problem it reports (without the variable's name, which the table's entry
// puts before it).

#include "settings/settingparsers.h"

#include <QTest>

using namespace Hermes;
using namespace Hermes::SettingParsers;

// QVERIFY2 evaluates its message even when the check passes: only a failure has an error.
template<typename T>
QByteArray errorOf(const Result<T> &result)
{
    return result ? QByteArray() : result.error().message.toUtf8();
}

class tst_SettingParsers : public QObject
{
    Q_OBJECT

private slots:
    void hostAddress();
    void nonEmpty();
    void eventStyle();
    void logLevelSpec();
    void octalUmask_data();
    void octalUmask();
    void listenAddress_data();
    void listenAddress();
};

void tst_SettingParsers::hostAddress()
{
    QCOMPARE(*SettingParsers::hostAddress(QStringLiteral("localhost")), QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(*SettingParsers::hostAddress(QStringLiteral("0.0.0.0")), QHostAddress(QHostAddress::AnyIPv4));
    QCOMPARE(*SettingParsers::hostAddress(QStringLiteral("::")), QHostAddress(QHostAddress::AnyIPv6));
    const Result<QHostAddress> name = SettingParsers::hostAddress(QStringLiteral("example.org"));
    QVERIFY(!name);
    QCOMPARE(name.error().message, QStringLiteral("\"example.org\" is not an IP address (use 127.0.0.1, 0.0.0.0, ::1 or ::)"));
}

void tst_SettingParsers::nonEmpty()
{
    QCOMPARE(*SettingParsers::nonEmpty(QStringLiteral("/srv")), QStringLiteral("/srv"));
    QCOMPARE(SettingParsers::nonEmpty(QString()).error().message, QStringLiteral("must not be empty"));
}

void tst_SettingParsers::eventStyle()
{
    QCOMPARE(*SettingParsers::eventStyle(QStringLiteral("named")), EventStyle::Named);
    QCOMPARE(*SettingParsers::eventStyle(QStringLiteral("envelope")), EventStyle::Envelope);
}

void tst_SettingParsers::logLevelSpec()
{
    QCOMPARE(*SettingParsers::logLevelSpec(QStringLiteral("warning,hermes.http=debug")),
             QStringLiteral("warning,hermes.http=debug"));
    const Result<QString> loud = SettingParsers::logLevelSpec(QStringLiteral("loud"));
    QVERIFY(!loud);
    QVERIFY2(loud.error().message.contains(u"loud"), qPrintable(loud.error().message));
}

void tst_SettingParsers::octalUmask_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("umask"); // -1: refused
    QTest::newRow("default") << "0027" << 027;
    QTest::newRow("no leading zero") << "77" << 077;
    QTest::newRow("all") << "0777" << 0777;
    QTest::newRow("none") << "0000" << 0;
    QTest::newRow("not octal") << "0999" << -1;
    QTest::newRow("too large") << "1000" << -1;
    QTest::newRow("negative") << "-1" << -1;
    QTest::newRow("text") << "u=rwx" << -1;
}

void tst_SettingParsers::octalUmask()
{
    QFETCH(QString, text);
    QFETCH(int, umask);
    const Result<int> parsed = SettingParsers::octalUmask(text);
    if (umask >= 0) {
        QVERIFY2(parsed, errorOf(parsed).constData());
        QCOMPARE(*parsed, umask);
    } else {
        QVERIFY(!parsed);
        QCOMPARE(parsed.error().message, QStringLiteral("\"%1\" is not an octal umask (0000 to 0777)").arg(text));
    }
}

void tst_SettingParsers::listenAddress_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("host"); // empty: refused (or none, for empty text)
    QTest::addColumn<int>("port");
    QTest::newRow("none") << "" << "" << 0;
    QTest::newRow("v4") << "127.0.0.1:9464" << "127.0.0.1" << 9464;
    QTest::newRow("v6") << "[::1]:9464" << "::1" << 9464;
    QTest::newRow("localhost") << "localhost:9100" << "127.0.0.1" << 9100;
    QTest::newRow("no host") << "9464" << "" << -1;
    QTest::newRow("no port") << "127.0.0.1:" << "" << -1;
    QTest::newRow("port 0") << "127.0.0.1:0" << "" << -1;
    QTest::newRow("port too large") << "127.0.0.1:65536" << "" << -1;
    QTest::newRow("a name") << "metrics.example:9464" << "" << -1;
}

void tst_SettingParsers::listenAddress()
{
    QFETCH(QString, text);
    QFETCH(QString, host);
    QFETCH(int, port);
    const Result<ListenAddress> parsed = SettingParsers::listenAddress(text);
    if (port < 0) {
        QVERIFY(!parsed);
        QCOMPARE(parsed.error().message,
                 QStringLiteral("\"%1\" is not host:port with an IP address (e.g. 127.0.0.1:9464)").arg(text));
        return;
    }
    QVERIFY2(parsed, errorOf(parsed).constData());
    QCOMPARE(parsed->port, quint16(port));
    QCOMPARE(parsed->host, host.isEmpty() ? QHostAddress() : QHostAddress(host));
}

QTEST_GUILESS_MAIN(tst_SettingParsers)
#include "tst_settingparsers.moc"
