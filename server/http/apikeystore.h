#pragma once

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
    /// Loads the configured keys; returns false with `error` on an unreadable file or a bad
    /// `sha256:` line (named with its line number, never with a key).
    bool load(const QStringList &keys, const QString &keyFile, QString *error);
    /// Creates `<dataDir>/api-key` with a new random key when it does not exist, then loads it.
    /// `created` tells whether a new key was written.
    bool loadOrCreateDefault(const QString &dataDir, bool *created, QString *error);

    /// What the server does at start and on SIGHUP: the configured keys, or the generated
    /// default key when none is configured. Replaces the current keys only when everything
    /// loaded, so a broken key file on reload leaves the old keys in force. `generated` (may be
    /// null) is the default key file when it was used.
    bool configure(const QStringList &keys, const QString &keyFile, const QString &dataDir,
                   QString *generated, QString *error);

    bool isEmpty() const { return m_digests.isEmpty(); }
    qsizetype size() const { return m_digests.size(); }
    /// Constant time in the key and in which key matched: every digest is compared in full.
    bool verify(QByteArrayView presentedKey) const;

    /// The key file the server generates when none is configured.
    static QString defaultKeyFile(const QString &dataDir);

private:
    QList<QByteArray> m_digests;
};

/// Compares two byte strings in time that depends only on their lengths.
bool constantTimeEquals(QByteArrayView a, QByteArrayView b);

/// Writes `contents` to `path` atomically with mode 0600 (owner read/write only).
bool writePrivateFile(const QString &path, const QByteArray &contents, QString *error);

/// `count` random bytes from the system CSPRNG, as URL-safe base64 without padding.
QByteArray randomToken(int count);

} // namespace Hermes
