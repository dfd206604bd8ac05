#pragma once

#include "result.h"

#include <QByteArray>
#include <QObject>
#include <QString>

#include <functional>

namespace Hermes {

/**
 * Where the monitor keeps the API key: the desktop keyring (Secret Service or KWallet, through
 * QtKeychain) when there is one, otherwise a file only the user can read (mode 0600). The key
 * never goes into the QSettings file. Both directions are asynchronous: keyrings may prompt.
 */
class ApiKeyVault final : public QObject
{
    Q_OBJECT
public:
    explicit ApiKeyVault(QObject *parent = nullptr);

    /// Whether a keyring is tried (QtKeychain built in, a session bus present, and not
    /// disabled with HERMES_MONITOR_KEYRING=off).
    bool keyringEnabled() const { return m_keyring; }
    /// The key, or empty when none is stored.
    void read(std::function<void(const QByteArray &key)> done);
    /// Stores the key.
    void write(const QByteArray &key, std::function<void(Result<void>)> done);

    static QString fallbackFile();

private:
    static QByteArray readFile();
    static Result<void> writeFile(const QByteArray &key);

    bool m_keyring = false;
};

} // namespace Hermes
