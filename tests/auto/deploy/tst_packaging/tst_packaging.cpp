// The Debian packages: built with CPack from this build, checked with dpkg-deb (contents,
// dependencies, conffiles, maintainer scripts) and unpacked into a temporary root. The host's
// packages and services are never touched.

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

class tst_Packaging : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void serverPackage();
    void monitorPackage();
    void unpackedServerRuns();

private:
    static QByteArray run(const QString &program, const QStringList &args, int timeoutMs = 30000,
                          const QString &dir = {})
    {
        QProcess p;
        if (!dir.isEmpty())
            p.setWorkingDirectory(dir);
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(program, args);
        if (!p.waitForFinished(timeoutMs)) {
            p.kill();
            p.waitForFinished(5000);
            return "TIMEOUT";
        }
        return p.exitCode() == 0 ? p.readAll() : "FAILED: " + p.readAll();
    }
    QString deb(const char *name) const
    {
        const QStringList found = QDir(m_out.path()).entryList({QString::fromLatin1(name) + QStringLiteral("_*.deb")});
        return found.isEmpty() ? QString() : m_out.filePath(found.first());
    }

    QTemporaryDir m_out;
};

void tst_Packaging::initTestCase()
{
    const QByteArray log = run(QStringLiteral("cpack"), {QStringLiteral("-G"), QStringLiteral("DEB"),
                                                         QStringLiteral("-B"), m_out.path()},
                               240000, QStringLiteral(HERMES_BUILD_DIR));
    QVERIFY2(!log.startsWith("FAILED") && log != "TIMEOUT", log.constData());
    QVERIFY2(!deb("hermes-server").isEmpty(), log.constData());
    QVERIFY2(!deb("hermes-monitor").isEmpty(), log.constData());
}

void tst_Packaging::serverPackage()
{
    const QByteArray info = run(QStringLiteral("dpkg-deb"), {QStringLiteral("--info"), deb("hermes-server")});
    QVERIFY2(info.contains("Package: hermes-server"), info.constData());
    for (const char *dep : {"libqt6core6", "libqt6httpserver6", "libqt6sql6-sqlite", "libhiredis0.14", "adduser"})
        QVERIFY2(info.contains(dep), dep);
    const QByteArray contents = run(QStringLiteral("dpkg-deb"), {QStringLiteral("--contents"), deb("hermes-server")});
    for (const char *path : {"./usr/bin/hermes-server", "./usr/lib/systemd/system/hermes-server.service",
                             "./etc/hermes/hermes.env", "./usr/share/doc/hermes-server/configuration.md"})
        QVERIFY2(contents.contains(path), path);
    QTemporaryDir control;
    run(QStringLiteral("dpkg-deb"), {QStringLiteral("--control"), deb("hermes-server"), control.path()});
    QFile conffiles(control.filePath(QStringLiteral("conffiles")));
    QVERIFY(conffiles.open(QIODevice::ReadOnly));
    QCOMPARE(conffiles.readAll().trimmed(), QByteArray("/etc/hermes/hermes.env"));
    QFile postinst(control.filePath(QStringLiteral("postinst")));
    QVERIFY(postinst.open(QIODevice::ReadOnly));
    QVERIFY(postinst.readAll().contains("adduser --system"));
}

void tst_Packaging::monitorPackage()
{
    const QByteArray contents = run(QStringLiteral("dpkg-deb"), {QStringLiteral("--contents"), deb("hermes-monitor")});
    for (const char *path : {"./usr/bin/hermes-events", "./usr/bin/hermes-monitor",
                             "./usr/share/applications/hermes-monitor.desktop",
                             "./usr/share/icons/hicolor/scalable/apps/hermes-monitor.svg"})
        QVERIFY2(contents.contains(path), path);
    const QByteArray info = run(QStringLiteral("dpkg-deb"), {QStringLiteral("--info"), deb("hermes-monitor")});
    QVERIFY(info.contains("libqt6network6"));
    QVERIFY(info.contains("libqt6widgets6"));
}

void tst_Packaging::unpackedServerRuns()
{
    QTemporaryDir root;
    QVERIFY(!run(QStringLiteral("dpkg-deb"), {QStringLiteral("-x"), deb("hermes-server"), root.path()}).startsWith("FAILED"));
    QFile unit(root.filePath(QStringLiteral("usr/lib/systemd/system/hermes-server.service")));
    QVERIFY(unit.open(QIODevice::ReadOnly));
    const QByteArray text = unit.readAll();
    for (const char *line : {"User=hermes", "StateDirectory=hermes", "ProtectSystem=strict",
                             "NoNewPrivileges=yes", "Restart=on-failure",
                             "EnvironmentFile=-/etc/hermes/hermes.env", "ExecStart=/usr/bin/hermes-server"})
        QVERIFY2(text.contains(line), line);
    const QByteArray version = run(root.filePath(QStringLiteral("usr/bin/hermes-server")), {QStringLiteral("--version")});
    QVERIFY2(version.startsWith("hermes-server "), version.constData());
}

QTEST_MAIN(tst_Packaging)
#include "tst_packaging.moc"
