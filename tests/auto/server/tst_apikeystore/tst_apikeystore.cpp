#include "http/apikeystore.h"

#include <QCryptographicHash>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace Hermes;

class tst_ApiKeyStore : public QObject
{
    Q_OBJECT

private slots:
    void verify_data();
    void verify();
    void badKeyFileLine();
    void missingKeyFile();
    void generatedDefaultKey();
    void constantTimeEqualsIsEquality_data();
    void constantTimeEqualsIsEquality();
};

void tst_ApiKeyStore::verify_data()
{
    QTest::addColumn<QByteArray>("presented");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("env key") << QByteArray("alpha") << true;
    QTest::newRow("second env key") << QByteArray("beta") << true;
    QTest::newRow("file key") << QByteArray("from-file") << true;
    QTest::newRow("hashed file key") << QByteArray("hashed-secret") << true;
    QTest::newRow("the hash itself") << QCryptographicHash::hash("hashed-secret", QCryptographicHash::Sha256).toHex() << false;
    QTest::newRow("prefix") << QByteArray("alph") << false;
    QTest::newRow("longer") << QByteArray("alphaa") << false;
    QTest::newRow("empty") << QByteArray() << false;
    QTest::newRow("comment line") << QByteArray("# comment") << false;
}

void tst_ApiKeyStore::verify()
{
    QFETCH(QByteArray, presented);
    QFETCH(bool, accepted);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("keys"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("# comment\n\nfrom-file\nsha256:"
               + QCryptographicHash::hash("hashed-secret", QCryptographicHash::Sha256).toHex() + "\n");
    file.close();
    ApiKeyStore store;
    const Result<void> loaded = store.load({QStringLiteral("alpha"), QStringLiteral("beta")}, path);
    QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error().message));
    QCOMPARE(store.size(), 4);
    QCOMPARE(store.verify(presented), accepted);
}

void tst_ApiKeyStore::badKeyFileLine()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("keys"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("good\nsha256:abc\n");
    file.close();
    ApiKeyStore store;
    const Result<void> loaded = store.load({}, path);
    QVERIFY(!loaded);
    const QString &error = loaded.error().message;
    QVERIFY2(error.contains(u"line 2"), qPrintable(error));
    QVERIFY(!error.contains(u"good"));
}

void tst_ApiKeyStore::missingKeyFile()
{
    ApiKeyStore store;
    const Result<void> loaded = store.load({}, QStringLiteral("/nonexistent/keys"));
    QVERIFY(!loaded);
    QVERIFY(loaded.error().message.contains(u"HERMES_API_KEY_FILE"));
}

void tst_ApiKeyStore::generatedDefaultKey()
{
    QTemporaryDir dir;
    ApiKeyStore first;
    const Result<bool> created = first.loadOrCreateDefault(dir.path());
    QVERIFY(created);
    QVERIFY(*created);
    QFile file(ApiKeyStore::defaultKeyFile(dir.path()));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray key = file.readAll().trimmed();
    QVERIFY(first.verify(key));
    QVERIFY(!(file.permissions() & (QFile::ReadGroup | QFile::ReadOther)));
    ApiKeyStore second;
    const Result<bool> createdAgain = second.loadOrCreateDefault(dir.path());
    QVERIFY(createdAgain);
    QVERIFY(!*createdAgain);
    QVERIFY(second.verify(key));
}

void tst_ApiKeyStore::constantTimeEqualsIsEquality_data()
{
    QTest::addColumn<QByteArray>("a");
    QTest::addColumn<QByteArray>("b");
    QTest::addColumn<bool>("equal");
    QTest::newRow("same") << QByteArray("abc") << QByteArray("abc") << true;
    QTest::newRow("last differs") << QByteArray("abc") << QByteArray("abd") << false;
    QTest::newRow("first differs") << QByteArray("abc") << QByteArray("xbc") << false;
    QTest::newRow("lengths") << QByteArray("abc") << QByteArray("abcd") << false;
    QTest::newRow("empty") << QByteArray() << QByteArray() << true;
}

void tst_ApiKeyStore::constantTimeEqualsIsEquality()
{
    QFETCH(QByteArray, a);
    QFETCH(QByteArray, b);
    QFETCH(bool, equal);
    QCOMPARE(constantTimeEquals(a, b), equal);
}

QTEST_MAIN(tst_ApiKeyStore)
#include "tst_apikeystore.moc"
