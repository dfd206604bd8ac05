#pragma once

#include "protocol/tokenscope.h"
#include "result.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>

namespace Hermes {

class ApiKeyStore;

/**
 * Short-lived stream tokens for browsers (EventSource cannot send headers, and an API key must
 * never travel in a URL).
 *
 * A token is `sse_<payload>.<signature>`: the payload (its TokenScope and expiry, base64url JSON) signed
 * with HMAC-SHA256. Nothing is stored, so a token survives a restart and is honoured by every
 * node configured with the same secret, until it expires — and only while the API key that
 * minted it is configured: the payload names its key (`o`, ownerOfKey()), and admit() checks
 * that claim against the keys in force, so removing a key revokes its tokens at once.
 *
 * Each token has exactly one spelling: base64url without padding whose unused low bits are
 * zero, as mint() writes it. Any other spelling of the same bytes is Malformed, so a token
 * (and the owner derived from it for quotas) cannot be multiplied by respelling it.
 */
class StreamTokenService final
{
public:
    /// `secret` must be non-empty.
    explicit StreamTokenService(QByteArray secret);

    struct Minted
    {
        QByteArray token;
        QDateTime expiresAt;
    };
    /// `owner` (may be empty): whom the token's streams count against for quotas, as
    /// ownerOfKey() gives it for the API key that asked for the token.
    Minted mint(const TokenScope &scope, int ttlSeconds, const QByteArray &owner = {}) const;

    /// Revoked: well signed and not expired, but the key that minted it is no longer
    /// configured (or it was minted without a key); only admit() says so.
    enum class Verdict { Valid, Malformed, BadSignature, Expired, Revoked };
    /// Checks `token`'s spelling, signature and expiry at `now`; on Valid, fills `scope`, and
    /// `owner` (when given) with the owner it was minted for (empty for a token minted without
    /// one). Says nothing about whether that owner's key is still configured: see admit().
    Verdict verify(QByteArrayView token, TokenScope *scope,
                  const QDateTime &now = QDateTime::currentDateTimeUtc(), QByteArray *owner = nullptr) const;
    /// verify(), and then Revoked unless the token's owner is the owner of one of `keys`:
    /// what a stream request needs. Fills `owner` on Valid.
    Verdict admit(QByteArrayView token, const ApiKeyStore &keys, TokenScope *scope,
                  QByteArray *owner, const QDateTime &now = QDateTime::currentDateTimeUtc()) const;
    /// Who an API key's streams count against: `key:` and a keyed digest of the key's SHA-256
    /// (the secret's HMAC), so that the owner can travel inside a token without revealing
    /// anything about the key, and a key's own streams and its tokens' streams share one quota.
    /// Made from the SHA-256 because that is all ApiKeyStore keeps (a key file may hold only
    /// `sha256:<hex>`): the owner of every configured key can be computed (ownerOfDigest()).
    QByteArray ownerOfKey(QByteArrayView key) const;
    /// The owner of the key whose SHA-256 is `digest` (ApiKeyStore::digests()).
    QByteArray ownerOfDigest(QByteArrayView digest) const;

    static constexpr int MinTtl = 60;
    static constexpr int MaxTtl = 3600;
    static constexpr int DefaultTtl = 300;

    /// The secret from HERMES_TOKEN_SECRET, else `<dataDir>/token-secret`, created (0600)
    /// with 32 random bytes on first use. Fails with `cannot_write`, `unreadable_token_secret`
    /// or `empty_token_secret`.
    static Result<QByteArray> loadSecret(const QString &configured, const QString &dataDir);

private:
    QByteArray sign(QByteArrayView payload) const;
    QByteArray m_secret;
};

} // namespace Hermes
