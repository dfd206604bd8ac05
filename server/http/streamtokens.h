#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QString>

namespace Hermes {

/// What a stream token lets its holder open. Scopes as in the Python Hermes: `stream` (every
/// stream), `queue`, `system`, `download:<id>`.
struct StreamScope
{
    enum class Kind { Stream, Queue, System, Download };
    Kind kind = Kind::Stream;
    QString downloadId; ///< for Kind::Download

    /// Parses a scope string; returns false for anything else.
    static bool parse(QStringView text, StreamScope *out);
    QString toString() const;
};

/**
 * Short-lived stream tokens for browsers (EventSource cannot send headers, and an API key must
 * never travel in a URL).
 *
 * A token is `sse_<payload>.<signature>`: the payload (scope and expiry, base64url JSON) signed
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
    Minted mint(const StreamScope &scope, int ttlSeconds) const;

    enum class Result { Valid, Malformed, BadSignature, Expired };
    /// Checks `token` at `now`; on Valid, fills `scope`.
    Result verify(QByteArrayView token, StreamScope *scope,
                  const QDateTime &now = QDateTime::currentDateTimeUtc()) const;

    static constexpr int MinTtl = 60;
    static constexpr int MaxTtl = 3600;
    static constexpr int DefaultTtl = 300;

    /// The secret from HERMES_TOKEN_SECRET, else `<dataDir>/token-secret`, created (0600)
    /// with 32 random bytes on first use.
    static bool loadSecret(const QString &configured, const QString &dataDir, QByteArray *secret,
                           QString *error);

private:
    QByteArray sign(QByteArrayView payload) const;
    QByteArray m_secret;
};

} // namespace Hermes
