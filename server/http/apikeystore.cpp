#include "http/apikeystore.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QSaveFile>

namespace Hermes {

QByteArray ApiKeyStore::digestOf(QByteArrayView key)
{
    return QCryptographicHash::hash(key, QCryptographicHash::Sha256);
}

bool constantTimeEquals(QByteArrayView a, QByteArrayView b)
{
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

Result<void> ApiKeyStore::load(const QStringList &keys, const QString &keyFile)
{
    for (const QString &key : keys)
        m_digests.append(digestOf(key.toUtf8()));
    if (keyFile.isEmpty())
        return {};
    QFile file(keyFile);
    if (!file.open(QIODevice::ReadOnly)) {
        return Error::failed("unreadable_key_file",
                             QStringLiteral("HERMES_API_KEY_FILE: cannot read %1: %2")
                                 .arg(keyFile, file.errorString()));
    }
    int lineNumber = 0;
    while (!file.atEnd()) {
        ++lineNumber;
        const QByteArray line = file.readLine().trimmed();
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        if (line.startsWith("sha256:")) {
            const QByteArray hex = line.mid(7).trimmed().toLower();
            const QByteArray raw = QByteArray::fromHex(hex);
            if (hex.size() != 64 || raw.size() != 32 || raw.toHex() != hex) {
                return Error::invalid("invalid_key_file",
                                      QStringLiteral("HERMES_API_KEY_FILE: %1 line %2: sha256: must "
                                                     "be followed by 64 hex digits")
                                          .arg(keyFile)
                                          .arg(lineNumber));
            }
            m_digests.append(raw);
        } else {
            m_digests.append(digestOf(line));
        }
    }
    return {};
}

QString ApiKeyStore::defaultKeyFile(const QString &dataDir)
{
    return QDir(dataDir).filePath(QStringLiteral("api-key"));
}

Result<bool> ApiKeyStore::loadOrCreateDefault(const QString &dataDir)
{
    const QString path = defaultKeyFile(dataDir);
    bool created = false;
    if (!QFile::exists(path)) {
        if (Result<void> written = writePrivateFile(path, "hk_" + randomToken(32) + '\n'); !written)
            return written.error();
        created = true;
    }
    if (Result<void> loaded = load({}, path); !loaded)
        return loaded.error();
    return created;
}

Result<QString> ApiKeyStore::configure(const QStringList &keys, const QString &keyFile,
                                       const QString &dataDir)
{
    ApiKeyStore next;
    if (Result<void> loaded = next.load(keys, keyFile); !loaded)
        return loaded.error();
    QString generated;
    if (next.isEmpty()) {
        if (Result<bool> created = next.loadOrCreateDefault(dataDir); !created)
            return created.error();
        generated = defaultKeyFile(dataDir);
    }
    m_digests = std::move(next.m_digests);
    return generated;
}

bool ApiKeyStore::verify(QByteArrayView presentedKey) const
{
    if (presentedKey.isEmpty())
        return false;
    const QByteArray presented = digestOf(presentedKey);
    bool match = false;
    for (const QByteArray &d : m_digests)
        match |= constantTimeEquals(presented, d); // no early exit: the time says nothing
    return match;
}

Result<void> writePrivateFile(const QString &path, const QByteArray &contents)
{
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return Error::failed("cannot_write", QStringLiteral("cannot create the directory of %1").arg(path));
    QSaveFile file(path);
    // Owner-only before any byte is written, so the secret is never readable by others.
    if (!file.open(QIODevice::WriteOnly)
        || !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner)
        || file.write(contents) != contents.size() || !file.commit()) {
        return Error::failed("cannot_write",
                             QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    }
    return {};
}

QByteArray randomToken(int count)
{
    QByteArray bytes(count, Qt::Uninitialized);
    QRandomGenerator::system()->generate(bytes.begin(), bytes.end());
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

} // namespace Hermes
