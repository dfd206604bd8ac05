#include "http/streamtokens.h"

#include "http/apikeystore.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageAuthenticationCode>

namespace Hermes {

static constexpr auto Base64Url = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

StreamTokenService::StreamTokenService(QByteArray secret) : m_secret(std::move(secret))
{
    Q_ASSERT(!m_secret.isEmpty());
}

QByteArray StreamTokenService::sign(QByteArrayView payload) const
{
    return QMessageAuthenticationCode::hash(payload.toByteArray(), m_secret,
                                            QCryptographicHash::Sha256);
}

StreamTokenService::Minted StreamTokenService::mint(const TokenScope &scope,
                                                    int ttlSeconds, const QByteArray &owner) const
{
    const QDateTime expires = QDateTime::currentDateTimeUtc().addSecs(ttlSeconds);
    QJsonObject claims{{QStringLiteral("scope"), scope.toString()},
                       {QStringLiteral("exp"), expires.toSecsSinceEpoch()},
                       {QStringLiteral("n"), QString::fromLatin1(randomToken(9))}};
    if (!owner.isEmpty())
        claims.insert(QStringLiteral("o"), QString::fromLatin1(owner));
    const QByteArray payload =
        QJsonDocument(claims).toJson(QJsonDocument::Compact).toBase64(Base64Url);
    return {"sse_" + payload + '.' + sign(payload).toBase64(Base64Url), expires};
}

QByteArray StreamTokenService::ownerOfKey(QByteArrayView key) const
{
    return ownerOfDigest(ApiKeyStore::digestOf(key));
}

QByteArray StreamTokenService::ownerOfDigest(QByteArrayView digest) const
{
    return "key:" + QMessageAuthenticationCode::hash(QByteArray("stream-owner:") + digest.toByteArray(), m_secret,
                                                     QCryptographicHash::Sha256).toHex().left(32);
}

/// `text` decoded, only when it is the one spelling mint() writes of those bytes: base64url,
/// no padding, unused low bits zero (the decoder accepts all of these variants).
static std::optional<QByteArray> decodeCanonical(QByteArrayView text)
{
    auto decoded = QByteArray::fromBase64Encoding(text.toByteArray(),
                                                  Base64Url | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || decoded.decoded.toBase64(Base64Url) != text)
        return std::nullopt;
    return std::move(decoded.decoded);
}

StreamTokenService::Verdict StreamTokenService::verify(QByteArrayView token, TokenScope *scope,
                                                       const QDateTime &now, QByteArray *owner) const
{
    if (!token.startsWith("sse_") || token.size() > 1024)
        return Verdict::Malformed;
    const QByteArrayView body = token.sliced(4);
    const qsizetype dot = body.indexOf('.');
    if (dot <= 0)
        return Verdict::Malformed;
    const QByteArrayView payload = body.first(dot);
    const auto signature = decodeCanonical(body.sliced(dot + 1));
    if (!signature)
        return Verdict::Malformed;
    if (!constantTimeEquals(*signature, sign(payload)))
        return Verdict::BadSignature;
    const auto json = decodeCanonical(payload);
    if (!json)
        return Verdict::Malformed;
    const QJsonObject claims = QJsonDocument::fromJson(*json).object();
    const std::optional<TokenScope> parsed =
        TokenScope::parse(claims.value(QStringLiteral("scope")).toString());
    if (!parsed)
        return Verdict::Malformed;
    const qint64 exp = claims.value(QStringLiteral("exp")).toInteger(-1);
    if (exp < 0)
        return Verdict::Malformed;
    if (now.toSecsSinceEpoch() >= exp)
        return Verdict::Expired;
    *scope = *parsed;
    if (owner)
        *owner = claims.value(QStringLiteral("o")).toString().toLatin1();
    return Verdict::Valid;
}

StreamTokenService::Verdict StreamTokenService::admit(QByteArrayView token, const ApiKeyStore &keys,
                                                      TokenScope *scope, QByteArray *owner,
                                                      const QDateTime &now) const
{
    QByteArray claimed;
    TokenScope parsed;
    if (const Verdict verdict = verify(token, &parsed, now, &claimed); verdict != Verdict::Valid)
        return verdict;
    // A handful of keys: one HMAC each per stream request is cheap, and keeps the key store
    // free of anything derived from the token secret.
    bool configured = false;
    for (const QByteArray &digest : keys.digests())
        configured |= !claimed.isEmpty() && constantTimeEquals(claimed, ownerOfDigest(digest));
    if (!configured)
        return Verdict::Revoked;
    *scope = parsed;
    *owner = claimed;
    return Verdict::Valid;
}

Result<QByteArray> StreamTokenService::loadSecret(const QString &configured, const QString &dataDir)
{
    if (!configured.isEmpty())
        return configured.toUtf8();
    const QString path = QDir(dataDir).filePath(QStringLiteral("token-secret"));
    if (!QFile::exists(path)) {
        if (Result<void> written = writePrivateFile(path, randomToken(32) + '\n'); !written)
            return written.error();
    }
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return Error::failed("unreadable_token_secret",
                             QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
    }
    QByteArray secret = file.readAll().trimmed();
    if (secret.isEmpty()) {
        return Error::invalid("empty_token_secret",
                              QStringLiteral("%1 is empty; delete it to have a new secret generated").arg(path));
    }
    return secret;
}

} // namespace Hermes
