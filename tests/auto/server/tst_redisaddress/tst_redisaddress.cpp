// RedisAddress: HERMES_REDIS_URL parsed (redis:// and unix://, credentials, database), the
// errors a wrong one gets (naming the setting, never the password), and the address as logs
// show it (without credentials).

#include "broker/redisaddress.h"

#include <QTest>

using namespace Hermes;

class tst_RedisAddress : public QObject
{
    Q_OBJECT

private slots:
    void parse_data();
    void parse();
    void errors_data();
    void errors();
};

void tst_RedisAddress::parse_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("socketPath");
    QTest::addColumn<QString>("username");
    QTest::addColumn<QString>("password");
    QTest::addColumn<int>("db");
    QTest::addColumn<QString>("display");
    QTest::newRow("host") << "redis://127.0.0.1" << "127.0.0.1" << 6379 << "" << "" << "" << 0
                          << "redis://127.0.0.1:6379";
    QTest::newRow("port and db") << "redis://10.0.0.2:7000/3" << "10.0.0.2" << 7000 << "" << "" << "" << 3
                                 << "redis://10.0.0.2:7000/3";
    QTest::newRow("password") << "redis://:s3cret@127.0.0.1:6379/0" << "127.0.0.1" << 6379 << "" << ""
                              << "s3cret" << 0 << "redis://127.0.0.1:6379";
    QTest::newRow("user") << "redis://hermes:s3cret@127.0.0.1/1" << "127.0.0.1" << 6379 << "" << "hermes"
                          << "s3cret" << 1 << "redis://127.0.0.1:6379/1";
    QTest::newRow("db in the query") << "redis://127.0.0.1?db=2" << "127.0.0.1" << 6379 << "" << "" << ""
                                     << 2 << "redis://127.0.0.1:6379/2";
    QTest::newRow("unix") << "unix:///run/redis/redis.sock" << "" << 6379 << "/run/redis/redis.sock" << ""
                          << "" << 0 << "unix:///run/redis/redis.sock";
    QTest::newRow("unix, db and password") << "unix:///run/redis.sock?db=4&password=pw" << "" << 6379
                                           << "/run/redis.sock" << "" << "pw" << 4
                                           << "unix:///run/redis.sock/4";
}

void tst_RedisAddress::parse()
{
    QFETCH(QString, url);
    const Result<RedisAddress> address = RedisAddress::parse(url);
    QVERIFY2(address, qPrintable(address ? QString() : address.error().message));
    QTEST(address->host, "host");
    QTEST(address->port, "port");
    QTEST(address->socketPath, "socketPath");
    QTEST(address->username, "username");
    QTEST(address->password, "password");
    QTEST(address->db, "db");
    QTEST(address->display(), "display");
}

void tst_RedisAddress::errors_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("why");
    QTest::newRow("not a URL") << "redis://127.0.0.1:abc" << "not a valid URL";
    QTest::newRow("scheme") << "http://127.0.0.1" << "unsupported scheme \"http\"";
    QTest::newRow("no host") << "redis:///0" << "no host";
    QTest::newRow("port") << "redis://127.0.0.1:0" << "bad port";
    QTest::newRow("no socket path") << "unix://" << "no socket path";
    QTest::newRow("db") << "redis://127.0.0.1/x" << "the database must be a number";
    QTest::newRow("negative db") << "redis://127.0.0.1?db=-1" << "the database must be a number";
    QTest::newRow("password stays out") << "redis://:s3cret@127.0.0.1/zero" << "the database must be a number";
}

void tst_RedisAddress::errors()
{
    QFETCH(QString, url);
    QFETCH(QString, why);
    const Result<RedisAddress> address = RedisAddress::parse(url);
    QVERIFY(!address);
    QCOMPARE(address.error().kind, Error::Kind::Invalid);
    QCOMPARE(address.error().code, QByteArray("invalid_redis_url"));
    QCOMPARE(address.error().message,
             QStringLiteral("HERMES_REDIS_URL: %1 (expected redis://[:password@]host:port/db "
                            "or unix:///path/to/redis.sock)").arg(why));
    QVERIFY(!address.error().message.contains(QStringLiteral("s3cret")));
}

QTEST_MAIN(tst_RedisAddress)
#include "tst_redisaddress.moc"
