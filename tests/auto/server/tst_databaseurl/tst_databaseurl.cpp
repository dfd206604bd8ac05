// HERMES_DATABASE_URL parsing: SQLite and PostgreSQL forms, the password from the URL or a
// file, libpq options, and errors that never quote a password.

#include "downloads/databaseurl.h"

#include <QTemporaryDir>
#include <QTest>

using namespace Hermes;

class tst_DatabaseUrl : public QObject
{
    Q_OBJECT

private slots:
    void parses_data();
    void parses();
    void passwordFileWins();
    void errorsNeverShowThePassword_data();
    void errorsNeverShowThePassword();
};

void tst_DatabaseUrl::parses_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<bool>("postgres");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QString>("database");
    QTest::addColumn<QString>("options");
    QTest::addColumn<QString>("redacted");
    QTest::newRow("sqlite url") << "sqlite:///var/lib/hermes/hermes.db" << false << "" << -1 << "" << "" << ""
                                << "" << "sqlite:///var/lib/hermes/hermes.db";
    QTest::newRow("plain path") << "/tmp/x.db" << false << "" << -1 << "" << "" << "" << "" << "sqlite:///tmp/x.db";
    QTest::newRow("full") << "postgresql://hermes:s%40cret@db.example:5433/queue?sslmode=require" << true
                          << "db.example" << 5433 << "hermes" << "s@cret" << "queue" << "sslmode=require"
                          << "postgresql://hermes:***@db.example:5433/queue?sslmode=require";
    QTest::newRow("postgres scheme, no password") << "postgres://app@10.0.0.5/hermes" << true << "10.0.0.5" << -1
                                                  << "app" << "" << "hermes" << "" << "postgresql://app@10.0.0.5/hermes";
    QTest::newRow("unix socket") << "postgresql://app@/hermes?host=/run/postgresql" << true << "" << -1 << "app"
                                 << "" << "hermes" << "host=/run/postgresql" << "postgresql://app@/hermes?host=/run/postgresql";
}

void tst_DatabaseUrl::parses()
{
    QFETCH(QString, url);
    const Result<DatabaseUrl> result = DatabaseUrl::parse(url, {});
    QVERIFY2(result, qPrintable(result ? QString() : result.error().message));
    const DatabaseUrl &parsed = *result;
    QTEST(parsed.isPostgres(), "postgres");
    if (!parsed.isPostgres()) {
        QTEST(parsed.redacted(), "redacted");
        return;
    }
    QTEST(parsed.host, "host");
    QTEST(parsed.port, "port");
    QTEST(parsed.user, "user");
    QTEST(parsed.password, "password");
    QTEST(parsed.database, "database");
    QTEST(parsed.options, "options");
    QTEST(parsed.redacted(), "redacted");
}

void tst_DatabaseUrl::passwordFileWins()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("pw"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("from-the-file\n");
    f.close();
    const Result<DatabaseUrl> parsed = DatabaseUrl::parse(QStringLiteral("postgresql://u:from-url@h/db"), path);
    QVERIFY(parsed);
    QCOMPARE(parsed->password, QStringLiteral("from-the-file"));
    const Result<DatabaseUrl> missing = DatabaseUrl::parse(QStringLiteral("postgresql://u@h/db"), dir.filePath(QStringLiteral("missing")));
    QVERIFY(!missing);
    QVERIFY(missing.error().message.contains(u"HERMES_DATABASE_PASSWORD_FILE"));
}

void tst_DatabaseUrl::errorsNeverShowThePassword_data()
{
    QTest::addColumn<QString>("url");
    QTest::newRow("no database") << "postgresql://u:topsecret@h:5432/";
    QTest::newRow("password option") << "postgresql://u@h/db?password=topsecret";
    QTest::newRow("bad option") << "postgresql://u:topsecret@h/db?bad-key=1";
    QTest::newRow("other scheme") << "mysql://u:topsecret@h/db";
    QTest::newRow("bad port") << "postgresql://u:topsecret@h:99999999/db";
}

void tst_DatabaseUrl::errorsNeverShowThePassword()
{
    QFETCH(QString, url);
    const Result<DatabaseUrl> parsed = DatabaseUrl::parse(url, {});
    QVERIFY(!parsed);
    const QString error = parsed.error().message;
    QVERIFY(error.startsWith(u"HERMES_DATABASE_URL"));
    QVERIFY2(!error.contains(u"topsecret"), qPrintable(error));
}

QTEST_MAIN(tst_DatabaseUrl)
#include "tst_databaseurl.moc"
