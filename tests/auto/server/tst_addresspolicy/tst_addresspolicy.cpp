// AddressPolicy: which addresses HERMES_DOWNLOAD_BLOCK_PRIVATE refuses, IPv6 spellings of IPv4
// addresses judged by the IPv4 address they reach.

#include "downloads/addresspolicy.h"

#include <QTest>

using namespace Hermes;

class tst_AddressPolicy : public QObject
{
    Q_OBJECT

private slots:
    void refusal_data();
    void refusal();
};

void tst_AddressPolicy::refusal_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<QString>("why"); // a word of the reason; empty: allowed
    const auto refused = [](const char *a, const char *why) { QTest::newRow(a) << QString::fromLatin1(a) << QString::fromLatin1(why); };
    const auto allowed = [](const char *a) { QTest::newRow(a) << QString::fromLatin1(a) << QString(); };
    refused("127.0.0.1", "loopback");
    refused("127.255.255.254", "loopback");
    refused("0.0.0.0", "this network");
    refused("10.1.2.3", "private");
    refused("172.16.0.1", "private");
    refused("172.31.255.255", "private");
    allowed("172.32.0.1");
    refused("192.168.1.1", "private");
    refused("100.64.0.1", "shared");
    refused("100.127.255.255", "shared");
    allowed("100.128.0.1");
    refused("169.254.169.254", "link-local"); // cloud metadata
    refused("192.0.0.170", "IETF");
    refused("198.18.0.1", "benchmarking");
    refused("224.0.0.1", "multicast");
    refused("255.255.255.255", "broadcast");
    refused("240.0.0.1", "reserved");
    allowed("8.8.8.8");
    allowed("1.1.1.1");
    allowed("9.255.255.255");
    allowed("11.0.0.0");
    refused("::1", "loopback");
    refused("::", "unspecified");
    refused("::ffff:127.0.0.1", "loopback");
    refused("::ffff:10.0.0.1", "private");
    allowed("::ffff:8.8.8.8");
    refused("::127.0.0.1", "loopback");
    refused("64:ff9b::10.0.0.1", "private");
    allowed("64:ff9b::8.8.8.8");
    refused("::ffff:0:10.0.0.1", "private");      // SIIT (::ffff:0:0:0/96)
    allowed("::ffff:0:8.8.8.8");
    refused("64:ff9b:1::a00:1", "local-use NAT64"); // RFC 8215: the site's own translator
    refused("2002:c0a8:0101::1", "private"); // 6to4 of 192.168.1.1
    allowed("2002:0808:0808::1");
    refused("fc00::1", "unique-local");
    refused("fd12:3456::1", "unique-local");
    refused("fe80::1", "link-local");
    refused("febf::1", "link-local");
    refused("fec0::1", "site-local");
    refused("ff02::1", "multicast");
    allowed("2001:4860:4860::8888");
    allowed("2606:4700::1111");
}

void tst_AddressPolicy::refusal()
{
    QFETCH(QString, address);
    QFETCH(QString, why);
    const QHostAddress parsed(address);
    QVERIFY2(!parsed.isNull(), qPrintable(address));
    const QString got = AddressPolicy::refusal(parsed);
    if (why.isEmpty())
        QVERIFY2(got.isEmpty(), qPrintable(got));
    else
        QVERIFY2(got.contains(why), qPrintable(got));
}

QTEST_GUILESS_MAIN(tst_AddressPolicy)
#include "tst_addresspolicy.moc"
