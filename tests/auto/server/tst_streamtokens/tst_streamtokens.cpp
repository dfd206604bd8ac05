#include "http/streamtokens.h"

#include <QTemporaryDir>
#include <QCryptographicHash>
#include <QTest>

using namespace Hermes;
using Result = StreamTokenService::Result;

class tst_StreamTokens : public QObject
{
    Q_OBJECT

private slots:
    void scopes_data();
    void scopes();
    void roundTrip();
    void expiry();
    void tamperingIsDetected();
    void secretIsGeneratedOnceAndPrivate();
};

void tst_StreamTokens::scopes_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::newRow("stream") << "stream" << true;
    QTest::newRow("queue") << "queue" << true;
    QTest::newRow("system") << "system" << true;
    QTest::newRow("download") << "download:abc_1.2-3" << true;
    QTest::newRow("empty download") << "download:" << false;
    QTest::newRow("download with slash") << "download:a/b" << false;
    QTest::newRow("unknown") << "admin" << false;
    QTest::newRow("empty") << "" << false;
    QTest::newRow("case") << "Stream" << false;
}

void tst_StreamTokens::scopes()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    StreamScope scope;
    QCOMPARE(StreamScope::parse(text, &scope), valid);
    if (valid)
        QCOMPARE(scope.toString(), text);
}

void tst_StreamTokens::roundTrip()
{
    const StreamTokenService service("secret");
    const auto minted = service.mint({StreamScope::Kind::Download, QStringLiteral("d-1")}, 300);
    QVERIFY(minted.token.startsWith("sse_"));
    StreamScope scope;
    QCOMPARE(service.verify(minted.token, &scope), Result::Valid);
    QCOMPARE(scope.kind, StreamScope::Kind::Download);
    QCOMPARE(scope.downloadId, QStringLiteral("d-1"));
    // Two tokens for the same scope differ (a nonce), so one can be revoked by not reusing it.
    QVERIFY(service.mint({}, 300).token != service.mint({}, 300).token);
    // Another instance with the same secret (another node, or after a restart) accepts it.
    QCOMPARE(StreamTokenService("secret").verify(minted.token, &scope), Result::Valid);

    // The owner a token was minted for comes back out of it, on every node; the owner of a
    // key is a keyed digest: stable, different per key and per secret, not the key's hash.
    const QByteArray owner = service.ownerOfKey("api-key-1");
    QVERIFY(owner.startsWith("key:"));
    QCOMPARE(StreamTokenService("secret").ownerOfKey("api-key-1"), owner);
    QVERIFY(service.ownerOfKey("api-key-2") != owner);
    QVERIFY(StreamTokenService("other").ownerOfKey("api-key-1") != owner);
    QVERIFY(!owner.contains(QCryptographicHash::hash("api-key-1", QCryptographicHash::Sha256).toHex().left(32)));
    QByteArray back;
    QCOMPARE(StreamTokenService("secret").verify(service.mint({}, 300, owner).token, &scope,
                                                 QDateTime::currentDateTimeUtc(), &back), Result::Valid);
    QCOMPARE(back, owner);
    QCOMPARE(service.verify(minted.token, &scope, QDateTime::currentDateTimeUtc(), &back), Result::Valid);
    QVERIFY(back.isEmpty()); // minted without one
}

void tst_StreamTokens::expiry()
{
    const StreamTokenService service("secret");
    const auto minted = service.mint({}, 60);
    StreamScope scope;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QCOMPARE(service.verify(minted.token, &scope, now.addSecs(58)), Result::Valid);
    QCOMPARE(service.verify(minted.token, &scope, now.addSecs(61)), Result::Expired);
}

void tst_StreamTokens::tamperingIsDetected()
{
    const StreamTokenService service("secret");
    const QByteArray token = service.mint({StreamScope::Kind::Queue, {}}, 300).token;
    StreamScope scope;
    QCOMPARE(StreamTokenService("other").verify(token, &scope), Result::BadSignature);
    for (qsizetype i = 4; i < token.size(); i += 7) {
        QByteArray t = token;
        t[i] = t[i] == 'A' ? 'B' : 'A';
        QVERIFY2(service.verify(t, &scope) != Result::Valid, t.constData());
    }
    QCOMPARE(service.verify("sse_", &scope), Result::Malformed);
    QCOMPARE(service.verify("token", &scope), Result::Malformed);
    QCOMPARE(service.verify(QByteArray(2000, 'a').prepend("sse_"), &scope), Result::Malformed);
}

void tst_StreamTokens::secretIsGeneratedOnceAndPrivate()
{
    QTemporaryDir dir;
    QByteArray first, second;
    QString error;
    QVERIFY(StreamTokenService::loadSecret({}, dir.path(), &first, &error));
    QVERIFY(StreamTokenService::loadSecret({}, dir.path(), &second, &error));
    QCOMPARE(first, second);
    QVERIFY(first.size() >= 32);
    const QFile::Permissions perms = QFile::permissions(dir.filePath(QStringLiteral("token-secret")));
    QVERIFY(!(perms & (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther)));
    QByteArray configured;
    QVERIFY(StreamTokenService::loadSecret(QStringLiteral("from-config"), dir.path(), &configured, &error));
    QCOMPARE(configured, QByteArray("from-config"));
}

QTEST_MAIN(tst_StreamTokens)
#include "tst_streamtokens.moc"
