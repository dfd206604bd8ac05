#pragma once

#include "protocol/tokenscope.h"
#include "result.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>

namespace Hermes {

/**
 * Short-lived stream tokens for browsers (EventSource cannot send headers, and an API key must
 * never travel in a URL).
 *
 * A token is `sse_<payload>.<signature>`: the payload (its TokenScope and expiry, base64url JSON) signed
 * with HMAC-SHA256. Nothing is stored, so a token survives a restart and is honoured by every
 * node configured with the same secret, until it expires.
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

    enum class Verdict { Valid, Malformed, BadSignature, Expired };
    /// Checks `token` at `now`; on Valid, fills `scope`, and `owner` (when given) with the
    /// owner it was minted for (empty for a token minted without one).
    Verdict verify(QByteArrayView token, TokenScope *scope,
                  const QDateTime &now = QDateTime::currentDateTimeUtc(), QByteArray *owner = nullptr) const;
    /// Who an API key's streams count against: `key:` and a keyed digest of it (the secret's
    /// HMAC), so that the owner can travel inside a token without revealing anything about
    /// the key, and a key's own streams and its tokens' streams share one quota.
    QByteArray ownerOfKey(QByteArrayView key) const;

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
