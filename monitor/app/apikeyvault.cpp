#include "apikeyvault.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>

#ifdef HERMES_HAVE_QTKEYCHAIN
#include <qt6keychain/keychain.h>
#endif

namespace Hermes {

static const QString Service = QStringLiteral("hermes-monitor");
static const QString Account = QStringLiteral("api-key");

ApiKeyVault::ApiKeyVault(QObject *parent) : QObject(parent)
{
#ifdef HERMES_HAVE_QTKEYCHAIN
    // Without a session bus there is no keyring to ask, and asking would only time out.
    m_keyring = !qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS")
        && qgetenv("HERMES_MONITOR_KEYRING") != "off";
#endif
}

QString ApiKeyVault::fallbackFile()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation)).filePath(Account);
}

QByteArray ApiKeyVault::readFile()
{
    QFile file(fallbackFile());
    return file.open(QIODevice::ReadOnly) ? file.readLine().trimmed() : QByteArray();
}

Result<void> ApiKeyVault::writeFile(const QByteArray &key)
{
    QDir().mkpath(QFileInfo(fallbackFile()).absolutePath());
    QSaveFile file(fallbackFile());
    // Owner-only before the first byte is written.
    if (!file.open(QIODevice::WriteOnly) || !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner)
        || file.write(key + '\n') < 0 || !file.commit())
        return Error::failed("key_not_written", QStringLiteral("cannot write %1: %2").arg(fallbackFile(), file.errorString()));
    return {};
}

void ApiKeyVault::read(std::function<void(const QByteArray &)> done)
{
#ifdef HERMES_HAVE_QTKEYCHAIN
    if (m_keyring) {
        auto *job = new QKeychain::ReadPasswordJob(Service, this);
        job->setKey(Account);
        connect(job, &QKeychain::Job::finished, this, [job, done] {
            done(job->error() == QKeychain::NoError ? job->binaryData() : readFile());
        });
        job->start();
        return;
    }
#endif
    done(readFile());
}

void ApiKeyVault::write(const QByteArray &key, std::function<void(Result<void>)> done)
{
#ifdef HERMES_HAVE_QTKEYCHAIN
    if (m_keyring) {
        auto *job = new QKeychain::WritePasswordJob(Service, this);
        job->setKey(Account);
        job->setBinaryData(key);
        connect(job, &QKeychain::Job::finished, this, [job, key, done] {
            if (job->error() == QKeychain::NoError) {
                QFile::remove(fallbackFile()); // no plain-text copy left behind
                done(Result<void>::success());
            } else {
                done(writeFile(key));
            }
        });
        job->start();
        return;
    }
#endif
    done(writeFile(key));
}

} // namespace Hermes
