#pragma once

#include "result.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

namespace Hermes {

/**
 * The API keys the server accepts, held only as SHA-256 digests.
 *
 * Keys come from HERMES_API_KEYS and/or HERMES_API_KEY_FILE (one key per line, `#` comments,
 * or `sha256:<hex>` so the file need not hold the key itself). When neither is configured a
 * key is generated once into `<data dir>/api-key` (mode 0600) so a first start is usable and
 * the key never has to be printed by the server.
 */
class ApiKeyStore final
{
public:
    /// Loads the configured keys; fails on an unreadable file (`unreadable_key_file`) or a bad
    /// `sha256:` line (`invalid_key_file`, named with its line number, never with a key).
    Result<void> load(const QStringList &keys, const QString &keyFile);
    /// Creates `<dataDir>/api-key` with a new random key when it does not exist, then loads it.
    /// Gives whether a new key was written.
    Result<bool> loadOrCreateDefault(const QString &dataDir);

    /// What the server does at start and on SIGHUP: the configured keys, or the generated
    /// default key when none is configured. Replaces the current keys only when everything
    /// loaded, so a broken key file on reload leaves the old keys in force. Gives the default
    /// key file when it was used, else an empty string.
    Result<QString> configure(const QStringList &keys, const QString &keyFile,
                              const QString &dataDir);

    bool isEmpty() const { return m_digests.isEmpty(); }
    qsizetype size() const { return m_digests.size(); }
    /// Constant time in the key and in which key matched: every digest is compared in full.
    bool verify(QByteArrayView presentedKey) const;
    /// The SHA-256 of every key in force (what stream tokens are checked against, and what a
    /// reload compares to find the keys it removed).
    const QList<QByteArray> &digests() const { return m_digests; }
    /// The SHA-256 a key is kept as.
    static QByteArray digestOf(QByteArrayView key);

    /// The key file the server generates when none is configured.
    static QString defaultKeyFile(const QString &dataDir);

private:
    QList<QByteArray> m_digests;
};

/// Compares two byte strings in time that depends only on their lengths.
bool constantTimeEquals(QByteArrayView a, QByteArrayView b);

/// Writes `contents` to `path` atomically with mode 0600 (owner read/write only); fails with
/// `cannot_write`.
Result<void> writePrivateFile(const QString &path, const QByteArray &contents);

/// `count` random bytes from the system CSPRNG, as URL-safe base64 without padding.
QByteArray randomToken(int count);

} // namespace Hermes
