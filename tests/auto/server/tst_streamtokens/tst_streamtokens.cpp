#include "http/streamtokens.h"

#include "http/apikeystore.h"

#include <QTemporaryDir>
#include <QCryptographicHash>
#include <QMessageAuthenticationCode>
#include <QRandomGenerator>
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
    void oneSpellingPerToken();
    void revokedWithItsKey();
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

static const char Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Every other spelling of the base64url text `part` that a lenient decoder reads as the same
// bytes: the last character with other values of its unused low bits, and `=` padding.
static QList<QByteArray> respellings(const QByteArray &part)
{
    QList<QByteArray> out;
    const int unusedBits = part.size() % 4 == 2 ? 4 : part.size() % 4 == 3 ? 2 : 0;
    const int last = int(strchr(Alphabet, part.back()) - Alphabet);
    for (int low = 0; low < (1 << unusedBits); ++low) {
        const int value = (last & ~((1 << unusedBits) - 1)) | low;
        if (value != last)
            out.append(part.chopped(1) + Alphabet[value]);
    }
    if (part.size() % 4 != 0)
        out.append(part + QByteArray(4 - part.size() % 4, '='));
    return out;
}

void tst_StreamTokens::oneSpellingPerToken()
{
    // Random tokens (scopes of random lengths, so the payload's length varies too), every
    // other spelling of their payload and of their signature: all refused. Before, each token
    // had 4 other accepted spellings of its signature (2 unused bits, `=`).
    const quint32 seed = QRandomGenerator::global()->generate();
    qInfo() << "seed" << seed;
    QRandomGenerator random(seed);
    const StreamTokenService service("secret");
    int refused = 0;
    for (int i = 0; i < 200; ++i) {
        const QString id = QString(random.bounded(1, 40), u'x') + QString::number(random.generate());
        const QByteArray token = service.mint({TokenScope::Kind::Download, id}, 300, service.ownerOfKey("k")).token;
        TokenScope scope;
        QCOMPARE(service.verify(token, &scope), Verdict::Valid);
        const qsizetype dot = token.indexOf('.');
        const QByteArray payload = token.mid(4, dot - 4);
        const QByteArray signature = token.mid(dot + 1);
        QCOMPARE(respellings(signature).size(), 4);
        for (const QByteArray &other : respellings(signature)) {
            QVERIFY2(QByteArray::fromBase64(other, QByteArray::Base64UrlEncoding)
                         == QByteArray::fromBase64(signature, QByteArray::Base64UrlEncoding),
                     "the respelling means the same bytes");
            QCOMPARE(service.verify("sse_" + payload + '.' + other, &scope), Verdict::Malformed);
            ++refused;
        }
        for (const QByteArray &other : respellings(payload)) {
            // Signed as respelled (so only the spelling can be what refuses it).
            const QByteArray forged = "sse_" + other + '.'
                + QMessageAuthenticationCode::hash(other, "secret", QCryptographicHash::Sha256)
                      .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
            QCOMPARE(service.verify(forged, &scope), Verdict::Malformed);
            ++refused;
        }
    }
    QVERIFY(refused > 800);
}

void tst_StreamTokens::revokedWithItsKey()
{
    const StreamTokenService service("secret");
    ApiKeyStore keys;
    QVERIFY(keys.load({QStringLiteral("key-one"), QStringLiteral("key-two")}, {}));
    const QByteArray token = service.mint({}, 300, service.ownerOfKey("key-one")).token;
    TokenScope scope;
    QByteArray owner;
    QCOMPARE(service.admit(token, keys, &scope, &owner), Verdict::Valid);
    QCOMPARE(owner, service.ownerOfKey("key-one"));
    QCOMPARE(scope.kind, TokenScope::Kind::Stream);

    // The key goes: its token with it (signature and expiry still fine).
    QVERIFY(keys.configure({QStringLiteral("key-two")}, {}, QString()));
    QCOMPARE(service.verify(token, &scope), Verdict::Valid);
    QCOMPARE(service.admit(token, keys, &scope, &owner), Verdict::Revoked);
    // It comes back (a reload that restores it): so does the token, until it expires.
    QVERIFY(keys.configure({QStringLiteral("key-two"), QStringLiteral("key-one")}, {}, QString()));
    QCOMPARE(service.admit(token, keys, &scope, &owner), Verdict::Valid);

    // A key file may hold only the key's SHA-256: its owner is the same.
    QTemporaryDir dir;
    QFile file(dir.filePath(QStringLiteral("keys")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("sha256:" + QCryptographicHash::hash("key-one", QCryptographicHash::Sha256).toHex() + '\n');
    file.close();
    ApiKeyStore hashed;
    QVERIFY(hashed.load({}, file.fileName()));
    QCOMPARE(service.admit(token, hashed, &scope, &owner), Verdict::Valid);
    QCOMPARE(service.ownerOfDigest(hashed.digests().constFirst()), service.ownerOfKey("key-one"));

    // A token minted without a key has no key to be valid with.
    QCOMPARE(service.admit(service.mint({}, 300).token, keys, &scope, &owner), Verdict::Revoked);
    // Expiry and signature are still told apart.
    QCOMPARE(service.admit(service.mint({}, -5, service.ownerOfKey("key-two")).token, keys, &scope, &owner),
             Verdict::Expired);
    QCOMPARE(service.admit(StreamTokenService("other").mint({}, 300, service.ownerOfKey("key-two")).token,
                           keys, &scope, &owner),
             Verdict::BadSignature);
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
