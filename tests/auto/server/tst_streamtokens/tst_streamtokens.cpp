#include "http/streamtokens.h"

#include <QTemporaryDir>
#include <QCryptographicHash>
#include <QTest>

using namespace Hermes;
using Verdict = StreamTokenService::Verdict;

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
    const std::optional<TokenScope> scope = TokenScope::parse(text);
    QCOMPARE(scope.has_value(), valid);
    if (valid)
        QCOMPARE(scope->toString(), text);
    // What POST /token's 400 lists (the message is unchanged since scopes moved to the protocol).
    QCOMPARE(TokenScope::forms(), QStringLiteral("stream, queue, system, download:<id>"));
}

void tst_StreamTokens::roundTrip()
{
    const StreamTokenService service("secret");
    const auto minted = service.mint({TokenScope::Kind::Download, QStringLiteral("d-1")}, 300);
    QVERIFY(minted.token.startsWith("sse_"));
    TokenScope scope;
    QCOMPARE(service.verify(minted.token, &scope), Verdict::Valid);
    QCOMPARE(scope.kind, TokenScope::Kind::Download);
    QCOMPARE(scope.downloadId, QStringLiteral("d-1"));
    // Two tokens for the same scope differ (a nonce), so one can be revoked by not reusing it.
    QVERIFY(service.mint({}, 300).token != service.mint({}, 300).token);
    // Another instance with the same secret (another node, or after a restart) accepts it.
    QCOMPARE(StreamTokenService("secret").verify(minted.token, &scope), Verdict::Valid);

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
                                                 QDateTime::currentDateTimeUtc(), &back), Verdict::Valid);
    QCOMPARE(back, owner);
    QCOMPARE(service.verify(minted.token, &scope, QDateTime::currentDateTimeUtc(), &back), Verdict::Valid);
    QVERIFY(back.isEmpty()); // minted without one
}

void tst_StreamTokens::expiry()
{
    const StreamTokenService service("secret");
    const auto minted = service.mint({}, 60);
    TokenScope scope;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QCOMPARE(service.verify(minted.token, &scope, now.addSecs(58)), Verdict::Valid);
    QCOMPARE(service.verify(minted.token, &scope, now.addSecs(61)), Verdict::Expired);
}

void tst_StreamTokens::tamperingIsDetected()
{
    const StreamTokenService service("secret");
    const QByteArray token = service.mint({TokenScope::Kind::Queue, {}}, 300).token;
    TokenScope scope;
    QCOMPARE(StreamTokenService("other").verify(token, &scope), Verdict::BadSignature);
    for (qsizetype i = 4; i < token.size(); i += 7) {
        QByteArray t = token;
        t[i] = t[i] == 'A' ? 'B' : 'A';
        QVERIFY2(service.verify(t, &scope) != Verdict::Valid, t.constData());
    }
    QCOMPARE(service.verify("sse_", &scope), Verdict::Malformed);
    QCOMPARE(service.verify("token", &scope), Verdict::Malformed);
    QCOMPARE(service.verify(QByteArray(2000, 'a').prepend("sse_"), &scope), Verdict::Malformed);
}

void tst_StreamTokens::secretIsGeneratedOnceAndPrivate()
{
    QTemporaryDir dir;
    const Result<QByteArray> first = StreamTokenService::loadSecret({}, dir.path());
    const Result<QByteArray> second = StreamTokenService::loadSecret({}, dir.path());
    QVERIFY(first && second);
    QCOMPARE(*first, *second);
    QVERIFY(first->size() >= 32);
    const QFile::Permissions perms = QFile::permissions(dir.filePath(QStringLiteral("token-secret")));
    QVERIFY(!(perms & (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther)));
    const Result<QByteArray> configured = StreamTokenService::loadSecret(QStringLiteral("from-config"), dir.path());
    QVERIFY(configured);
    QCOMPARE(*configured, QByteArray("from-config"));
}

QTEST_MAIN(tst_StreamTokens)
#include "tst_streamtokens.moc"
