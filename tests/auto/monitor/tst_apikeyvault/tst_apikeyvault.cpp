// Without a keyring, the monitor's API key goes to a file only the user can read, and never
// into the QSettings file.

#include "apikeyvault.h"
#include "monitorsettings.h"

#include <QFile>
#include <QSettings>
#include <QStandardPaths>
#include <QTest>

using namespace Hermes;

class tst_ApiKeyVault : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void fileFallbackIsPrivate();
    void settingsNeverHoldTheKey();
};

void tst_ApiKeyVault::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("HermesTest"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_apikeyvault"));
    qputenv("HERMES_MONITOR_KEYRING", "off");
    QFile::remove(ApiKeyVault::fallbackFile());
}

void tst_ApiKeyVault::fileFallbackIsPrivate()
{
    ApiKeyVault vault;
    QVERIFY(!vault.keyringEnabled());
    QByteArray read = "unset";
    vault.read([&](const QByteArray &key) { read = key; });
    QCOMPARE(read, QByteArray()); // nothing stored yet
    QString error = QStringLiteral("unset");
    vault.write("s3cret-key", [&](Result<void> written) { error = written ? QString() : written.error().message; });
    QVERIFY2(error.isEmpty(), qPrintable(error));
    const QFile::Permissions perms = QFile::permissions(ApiKeyVault::fallbackFile());
    QVERIFY(perms & QFile::ReadOwner);
    QVERIFY(!(perms & (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther)));
    vault.read([&](const QByteArray &key) { read = key; });
    QCOMPARE(read, QByteArray("s3cret-key"));
}

void tst_ApiKeyVault::settingsNeverHoldTheKey()
{
    MonitorSettings s;
    s.apiKey = "another-secret";
    s.maxAttempts = 7;
    s.save();
    QSettings settings;
    settings.sync();
    QFile file(settings.fileName());
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(!file.readAll().contains("another-secret"));
    QCOMPARE(MonitorSettings::load().maxAttempts, 7);
}

QTEST_MAIN(tst_ApiKeyVault)
#include "tst_apikeyvault.moc"
