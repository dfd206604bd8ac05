// The Debian packages: built with CPack from this build under umask 002 (the hostile case for
// file modes), checked with dpkg-deb (contents, dependencies, conffiles, maintainer scripts,
// modes), lintian --pedantic and hardening-check, unpacked into a temporary root, and
// installed, enabled, removed and purged on a copy-on-write overlay of / (install-purge.sh).
// The host's packages and services are never touched. The packages hold this build's binaries
// (Debug in the test build): its hardening is checked as far as an unoptimised build has it,
// and a small program built with the Release flags shows the rest.

#include <QDir>
#include <QFileInfo>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <unistd.h>

class tst_Packaging : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void serverPackage();
    void monitorPackage();
    void unpackedServerRuns();
    void unitVerifies();
    void unitExposure();
    void lintianFindsNoErrors_data();
    void lintianFindsNoErrors();
    void strictModesWhateverTheUmask();
    void packagedBinariesAreHardened();
    void releaseFlagsHarden();
    void purgeLeavesNoUnitLinks();

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

    static QByteArray dependsLine(const QByteArray &info)
    {
        for (const QByteArray &line : info.split('\n')) {
            if (line.trimmed().startsWith("Depends:"))
                return line.trimmed();
        }
        return {};
    }
    static QByteArray lineOf(const QByteArray &contents, const QByteArray &path)
    {
        for (const QByteArray &line : contents.split('\n')) {
            if (line.endsWith(" " + path))
                return line;
        }
        return {};
    }

    QTemporaryDir m_out;
};

void tst_Packaging::initTestCase()
{
    // umask 002 (a shared group's default) makes 0775 directories and 0664 files: the
    // packages must come out with Debian's modes all the same.
    const QByteArray log = run(QStringLiteral("sh"), {QStringLiteral("-c"), QStringLiteral("umask 002 && exec cpack -G DEB -B \"$0\""),
                                                      m_out.path()},
                               240000, QStringLiteral(HERMES_BUILD_DIR));
    QVERIFY2(!log.startsWith("FAILED") && log != "TIMEOUT", log.constData());
    QVERIFY2(!deb("hermes-server").isEmpty(), log.constData());
    QVERIFY2(!deb("hermes-monitor").isEmpty(), log.constData());
}

void tst_Packaging::serverPackage()
{
    const QByteArray info = run(QStringLiteral("dpkg-deb"), {QStringLiteral("--info"), deb("hermes-server")});
    QVERIFY2(info.contains("Package: hermes-server"), info.constData());
    QVERIFY2(info.contains("Section: net"), info.constData());
    const QByteArray depends = dependsLine(info);
    for (const char *dep : {"libqt6core6", "libqt6network6", "libqt6sql6",
                            "libqt6sql6-sqlite", "libhiredis0.14", "libc6", "adduser", "libsystemd0"})
        QVERIFY2(depends.contains(dep), qPrintable(QString::fromLatin1(dep) + QStringLiteral(" not in ") + QString::fromUtf8(depends)));
    QVERIFY2(!depends.contains("libqt6widgets6"), depends.constData()); // the server is headless
    QVERIFY2(!depends.contains("libqt6httpserver6"), depends.constData()); // its HTTP is its own
    const QByteArray contents = run(QStringLiteral("dpkg-deb"), {QStringLiteral("--contents"), deb("hermes-server")});
    for (const char *path : {"./usr/bin/hermes-server", "./lib/systemd/system/hermes-server.service",
                             "./etc/hermes/hermes.env", "./usr/share/doc/hermes-server/configuration.md",
                             "./usr/share/doc/hermes-server/Caddyfile", "./usr/share/doc/hermes-server/openapi.json",
                             "./usr/share/doc/hermes-server/metrics.md",
                             "./usr/share/hermes/prometheus/hermes-alerts.yml",
                             "./usr/share/hermes/grafana/hermes-dashboard.json",
                             "./usr/share/doc/hermes-server/copyright", "./usr/share/doc/hermes-server/changelog.gz",
                             "./usr/share/man/man1/hermes-server.1.gz",
                             "./usr/share/bash-completion/completions/hermes-server",
                             "./usr/share/lintian/overrides/hermes-server"})
        QVERIFY2(contents.contains(path), path);
    // The env file may hold keys and the token secret: the server's group reads it (postinst
    // gives it to root:hermes), nobody else.
    QVERIFY2(lineOf(contents, "./etc/hermes/hermes.env").startsWith("-rw-r----- root/root"),
             lineOf(contents, "./etc/hermes/hermes.env").constData());
    // A real, configurable maintainer: never an address on localhost.
    QVERIFY2(QRegularExpression(QStringLiteral("Maintainer: [^<\\n]+ <[^@>\\s]+@[^@>\\s]+\\.[a-z]+>"))
                 .match(QString::fromUtf8(info)).hasMatch(), info.constData());
    QVERIFY2(!info.contains("localhost"), info.constData());
    QVERIFY2(lineOf(contents, "./usr/bin/hermes-server").startsWith("-rwxr-xr-x root/root"),
             lineOf(contents, "./usr/bin/hermes-server").constData());
    QTemporaryDir control;
    run(QStringLiteral("dpkg-deb"), {QStringLiteral("--control"), deb("hermes-server"), control.path()});
    QFile conffiles(control.filePath(QStringLiteral("conffiles")));
    QVERIFY(conffiles.open(QIODevice::ReadOnly));
    QCOMPARE(conffiles.readAll().trimmed(), QByteArray("/etc/hermes/hermes.env"));
    QFile postinst(control.filePath(QStringLiteral("postinst")));
    QVERIFY(postinst.open(QIODevice::ReadOnly));
    const QByteArray script = postinst.readAll();
    QVERIFY(script.contains("adduser --system"));
    QVERIFY(script.contains("chown root:hermes /etc/hermes/hermes.env"));
    QVERIFY(script.contains("chmod 0640 /etc/hermes/hermes.env"));
    QVERIFY(script.contains("try-restart hermes-server.service")); // restart on upgrade
    // debhelper's conventions: deb-systemd-helper records the unit's links at configure (so a
    // purge removes them) and keeps an enabled unit enabled across an upgrade.
    QVERIFY(script.contains("deb-systemd-helper update-state hermes-server.service"));
    QVERIFY(script.contains("deb-systemd-helper --quiet was-enabled hermes-server.service"));
    QVERIFY(QFileInfo(postinst).isExecutable());
    QFile postrm(control.filePath(QStringLiteral("postrm")));
    QVERIFY(postrm.open(QIODevice::ReadOnly));
    QVERIFY(postrm.readAll().contains("deb-systemd-helper purge hermes-server.service"));
}

void tst_Packaging::monitorPackage()
{
    const QByteArray contents = run(QStringLiteral("dpkg-deb"), {QStringLiteral("--contents"), deb("hermes-monitor")});
    for (const char *path : {"./usr/bin/hermes-events", "./usr/bin/hermes-monitor",
                             "./usr/share/applications/hermes-monitor.desktop",
                             "./usr/share/icons/hicolor/scalable/apps/hermes-monitor.svg",
                             "./usr/share/doc/hermes-monitor/copyright", "./usr/share/doc/hermes-monitor/changelog.gz",
                             "./usr/share/man/man1/hermes-events.1.gz", "./usr/share/man/man1/hermes-monitor.1.gz",
                             "./usr/share/bash-completion/completions/hermes-events",
                             "./usr/share/bash-completion/completions/hermes-monitor"})
        QVERIFY2(contents.contains(path), path);
    const QByteArray info = run(QStringLiteral("dpkg-deb"), {QStringLiteral("--info"), deb("hermes-monitor")});
    QVERIFY2(info.contains("Package: hermes-monitor"), info.constData());
    const QByteArray depends = dependsLine(info);
    for (const char *dep : {"libqt6core6", "libqt6network6", "libqt6widgets6", "libc6", "libqt6svg6"})
        QVERIFY2(depends.contains(dep), qPrintable(QString::fromLatin1(dep) + QStringLiteral(" not in ") + QString::fromUtf8(depends)));
    QVERIFY2(!depends.contains("libqt6httpserver6"), depends.constData());
    // Qt's own dialog words in the user's language (the monitor loads them when installed).
    QVERIFY2(info.contains("Recommends: qt6-translations-l10n"), info.constData());

    QTemporaryDir root;
    QVERIFY(!run(QStringLiteral("dpkg-deb"), {QStringLiteral("-x"), deb("hermes-monitor"), root.path()}).startsWith("FAILED"));
    QFile desktop(root.filePath(QStringLiteral("usr/share/applications/hermes-monitor.desktop")));
    QVERIFY(desktop.open(QIODevice::ReadOnly));
    const QByteArray entry = desktop.readAll();
    for (const char *line : {"[Desktop Entry]", "Type=Application", "Exec=hermes-monitor", "Icon=hermes-monitor"})
        QVERIFY2(entry.contains(line), line);
    const QString validator = QStandardPaths::findExecutable(QStringLiteral("desktop-file-validate"));
    if (!validator.isEmpty()) {
        const QByteArray out = run(validator, {desktop.fileName()});
        QVERIFY2(!out.startsWith("FAILED"), out.constData());
    }
    const QByteArray version = run(root.filePath(QStringLiteral("usr/bin/hermes-events")), {QStringLiteral("--version")});
    QVERIFY2(version.startsWith("hermes-events "), version.constData());
}

void tst_Packaging::unpackedServerRuns()
{
    QTemporaryDir root;
    QVERIFY(!run(QStringLiteral("dpkg-deb"), {QStringLiteral("-x"), deb("hermes-server"), root.path()}).startsWith("FAILED"));
    QFile unit(root.filePath(QStringLiteral("lib/systemd/system/hermes-server.service")));
    QVERIFY(unit.open(QIODevice::ReadOnly));
    const QByteArray text = unit.readAll();
    for (const char *line : {"User=hermes", "StateDirectory=hermes", "StateDirectoryMode=0710",
                             "ExecStart=/usr/bin/hermes-server --config /etc/hermes/hermes.env",
                             "ExecReload=/bin/kill -HUP $MAINPID", "Type=notify", "NotifyAccess=main",
                             "WatchdogSec=30", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                             "NoNewPrivileges=yes", "Restart=on-failure", "LimitNOFILE=65536",
                             "KillSignal=SIGTERM", "TimeoutStopSec=5", "WantedBy=multi-user.target"})
        QVERIFY2(text.contains(QByteArray("\n") + line + '\n'), line);
    // The packaged env file is a valid --config file: every line commented out, so the
    // server starts with its defaults.
    QFile env(root.filePath(QStringLiteral("etc/hermes/hermes.env")));
    QVERIFY(env.open(QIODevice::ReadOnly));
    for (const QByteArray &line : env.readAll().split('\n'))
        QVERIFY2(line.isEmpty() || line.startsWith('#'), line.constData());
    const QByteArray version = run(root.filePath(QStringLiteral("usr/bin/hermes-server")), {QStringLiteral("--version")});
    QVERIFY2(version.startsWith("hermes-server "), version.constData());
    // The packaged OpenAPI document says the version it ships with, as the served one does.
    QFile openapi(root.filePath(QStringLiteral("usr/share/doc/hermes-server/openapi.json")));
    QVERIFY(openapi.open(QIODevice::ReadOnly));
    QCOMPARE(QJsonDocument::fromJson(openapi.readAll()).object().value(QStringLiteral("info")).toObject()
                 .value(QStringLiteral("version")).toString().toUtf8(),
             version.trimmed().sliced(14));

    // As the unit runs it: --config on the packaged file, the data dir from $STATE_DIRECTORY.
    QTemporaryDir state;
    quint16 port = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    QProcess server;
    QProcessEnvironment serverEnv = QProcessEnvironment::systemEnvironment();
    for (const QString &key : serverEnv.keys()) {
        if (key.startsWith(QLatin1StringView("HERMES_")))
            serverEnv.remove(key);
    }
    serverEnv.insert(QStringLiteral("STATE_DIRECTORY"), state.path());
    serverEnv.insert(QStringLiteral("HERMES_PORT"), QString::number(port));
    server.setProcessEnvironment(serverEnv);
    server.setProcessChannelMode(QProcess::MergedChannels);
    server.start(root.filePath(QStringLiteral("usr/bin/hermes-server")),
                 {QStringLiteral("--config"), root.filePath(QStringLiteral("etc/hermes/hermes.env"))});
    QVERIFY(server.waitForStarted(5000));
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(state.filePath(QStringLiteral("api-key"))), 20000);
    QByteArray log;
    QTRY_VERIFY_WITH_TIMEOUT((log += server.readAll()).contains("listening on"), 20000);
    ::kill(pid_t(server.processId()), SIGTERM);
    QVERIFY(server.waitForFinished(10000));
    QCOMPARE(server.exitCode(), 0);
}

// systemd's own assessment, offline: the unit's exposure stays at 2.0 or below.
void tst_Packaging::unitExposure()
{
    const QString analyze = QStandardPaths::findExecutable(QStringLiteral("systemd-analyze"));
    if (analyze.isEmpty())
        QFAIL("systemd-analyze is not installed (package systemd, in HERMES_TEST_PACKAGES)");
    QTemporaryDir root;
    QVERIFY(!run(QStringLiteral("dpkg-deb"), {QStringLiteral("-x"), deb("hermes-server"), root.path()}).startsWith("FAILED"));
    QProcess p;
    p.setWorkingDirectory(root.filePath(QStringLiteral("lib/systemd/system")));
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(analyze, {QStringLiteral("security"), QStringLiteral("--offline=true"), QStringLiteral("--no-pager"),
                      QStringLiteral("./hermes-server.service")});
    QVERIFY(p.waitForFinished(60000));
    const QString out = QString::fromUtf8(p.readAll());
    const auto m = QRegularExpression(QStringLiteral("Overall exposure level for hermes-server.service: ([0-9.]+)")).match(out);
    QVERIFY2(m.hasMatch(), qPrintable(out));
    const double exposure = m.captured(1).toDouble();
    qInfo("systemd-analyze security --offline=true: exposure %.1f", exposure);
    QVERIFY2(exposure <= 2.0, qPrintable(out));
}

void tst_Packaging::lintianFindsNoErrors_data()
{
    QTest::addColumn<QString>("package");
    QTest::newRow("hermes-server") << "hermes-server";
    QTest::newRow("hermes-monitor") << "hermes-monitor";
}

// Debian's package checker, pedantic: no error, warning or pedantic finding (E:, W:, P:) on
// either package; what is deliberate is overridden with its reason (packaging/lintian-
// overrides). Informational tags (I:) are printed for the record: the test build's binaries
// are not optimised, so lintian notes that FORTIFY_SOURCE found nothing to protect.
void tst_Packaging::lintianFindsNoErrors()
{
    QFETCH(QString, package);
    const QString lintian = QStandardPaths::findExecutable(QStringLiteral("lintian"));
    if (lintian.isEmpty())
        QFAIL("lintian is not installed (in HERMES_TEST_PACKAGES)");
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(lintian, {QStringLiteral("--pedantic"), QStringLiteral("--info"),
                      QStringLiteral("--tag-display-limit"), QStringLiteral("0"), QStringLiteral("--allow-root"),
                      deb(qPrintable(package))});
    QVERIFY(p.waitForFinished(240000));
    const QByteArray out = p.readAll();
    qInfo("%s", out.constData());
    QStringList findings;
    for (const QByteArray &line : out.split('\n')) {
        if (line.startsWith("E: ") || line.startsWith("W: ") || line.startsWith("P: "))
            findings << QString::fromUtf8(line);
    }
    QVERIFY2(findings.isEmpty(), qPrintable(findings.join(u'\n')));
    QVERIFY2(p.exitCode() == 0, out.constData());
}

// systemd's own parser accepts the unit (offline: systemd-analyze reads files, starts nothing).
// ExecStart must exist, so a copy points it at the unpacked binary.
void tst_Packaging::unitVerifies()
{
    const QString analyze = QStandardPaths::findExecutable(QStringLiteral("systemd-analyze"));
    if (analyze.isEmpty())
        QSKIP("systemd-analyze is not installed (package systemd)");
    QTemporaryDir root;
    QVERIFY(!run(QStringLiteral("dpkg-deb"), {QStringLiteral("-x"), deb("hermes-server"), root.path()}).startsWith("FAILED"));
    QFile unit(root.filePath(QStringLiteral("lib/systemd/system/hermes-server.service")));
    QVERIFY(unit.open(QIODevice::ReadOnly));
    QByteArray text = unit.readAll();
    text.replace("ExecStart=/usr/bin/hermes-server",
                 "ExecStart=" + root.filePath(QStringLiteral("usr/bin/hermes-server")).toUtf8());
    QTemporaryDir dir;
    QFile copy(dir.filePath(QStringLiteral("hermes-server.service")));
    QVERIFY(copy.open(QIODevice::WriteOnly));
    QCOMPARE(copy.write(text), text.size());
    copy.close();
    QProcess p;
    p.setWorkingDirectory(dir.path());
    p.setProcessChannelMode(QProcess::MergedChannels);
    // verify runs man(1) for Documentation=man:hermes-server(1): the packaged page must be it.
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("MANPATH"), root.filePath(QStringLiteral("usr/share/man")));
    p.setProcessEnvironment(env);
    p.start(analyze, {QStringLiteral("verify"), QStringLiteral("./hermes-server.service")});
    QVERIFY(p.waitForFinished(30000));
    const QByteArray out = p.readAll();
    QVERIFY2(p.exitCode() == 0, out.constData());
    // Warnings (unknown directives, bad values) are printed without failing: none allowed.
    QVERIFY2(!out.contains("hermes-server.service"), out.constData());
}

// Built under umask 002 (initTestCase): maintainer scripts 0755, the other control files 0644,
// every directory 0755 (CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION and
// CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS). The scripts' modes in the checkout do not
// matter either: a clone made with umask 002 has them 0775 (shown in the change's report).
void tst_Packaging::strictModesWhateverTheUmask()
{
    for (const char *package : {"hermes-server", "hermes-monitor"}) {
        QProcess ctrl;
        ctrl.setStandardOutputFile(m_out.filePath(QStringLiteral("control.tar")));
        ctrl.start(QStringLiteral("dpkg-deb"), {QStringLiteral("--ctrl-tarfile"), deb(package)});
        QVERIFY(ctrl.waitForFinished(30000));
        const QByteArray members = run(QStringLiteral("tar"), {QStringLiteral("-tvf"), m_out.filePath(QStringLiteral("control.tar"))});
        int files = 0;
        for (const QByteArray &line : members.split('\n')) {
            if (line.isEmpty() || line.startsWith('d'))
                continue;
            const bool script = line.endsWith("/postinst") || line.endsWith("/prerm") || line.endsWith("/postrm");
            QVERIFY2(line.startsWith(script ? "-rwxr-xr-x root/root" : "-rw-r--r-- root/root"), line.constData());
            ++files;
        }
        QVERIFY2(files >= 2, members.constData()); // control, md5sums (and the server's scripts)
        const QByteArray contents = run(QStringLiteral("dpkg-deb"), {QStringLiteral("--contents"), deb(package)});
        for (const QByteArray &line : contents.split('\n')) {
            if (line.startsWith('d'))
                QVERIFY2(line.startsWith("drwxr-xr-x root/root"), line.constData());
        }
    }
}

// hardening-check (devscripts) on the binaries as packaged. The test build is not optimised
// (FORTIFY_SOURCE needs -O, and its objects keep the flags they are cached with): it must
// have what linking gives, PIE, RELRO and BIND_NOW; an optimised build the stack protector
// and FORTIFY_SOURCE too. Control-flow protection is not checked (see releaseFlagsHarden).
void tst_Packaging::packagedBinariesAreHardened()
{
    const QString check = QStandardPaths::findExecutable(QStringLiteral("hardening-check"));
    if (check.isEmpty())
        QFAIL("hardening-check is not installed (package devscripts, in HERMES_TEST_PACKAGES)");
    if (!HERMES_DPKG_BUILDFLAGS)
        QSKIP("built with -DHERMES_DPKG_BUILDFLAGS=OFF");
    QTemporaryDir root;
    for (const char *package : {"hermes-server", "hermes-monitor"})
        QVERIFY(!run(QStringLiteral("dpkg-deb"), {QStringLiteral("-x"), deb(package), root.path()}).startsWith("FAILED"));
    QStringList args{QStringLiteral("--nocfprotection")};
    if (!HERMES_BUILD_OPTIMIZED) {
        args << QStringLiteral("--nostackprotector") << QStringLiteral("--nofortify");
        qInfo("an unoptimised build: PIE, RELRO and BIND_NOW checked here, the rest by releaseFlagsHarden");
    }
    for (const char *binary : {"usr/bin/hermes-server", "usr/bin/hermes-events", "usr/bin/hermes-monitor"})
        args << root.filePath(QString::fromLatin1(binary));
    const QByteArray out = run(check, args, 60000);
    qInfo("%s", out.constData());
    QVERIFY2(!out.startsWith("FAILED") && out != "TIMEOUT", out.constData());
}

// cmake/buildflags.cmake in a Release build: a small program with a buffer on the stack and a
// fortifiable call, built with the same flags as the packaged binaries, passes hardening-check:
// PIE, stack protector, FORTIFY_SOURCE, RELRO, BIND_NOW.
void tst_Packaging::releaseFlagsHarden()
{
    const QString check = QStandardPaths::findExecutable(QStringLiteral("hardening-check"));
    if (check.isEmpty())
        QFAIL("hardening-check is not installed (package devscripts, in HERMES_TEST_PACKAGES)");
    QTemporaryDir dir;
    const auto write = [&](const char *name, const QByteArray &text) {
        QFile f(dir.filePath(QString::fromLatin1(name)));
        return f.open(QIODevice::WriteOnly) && f.write(text) == text.size();
    };
    QVERIFY(write("CMakeLists.txt",
                  "cmake_minimum_required(VERSION 3.25)\nproject(probe LANGUAGES CXX)\n"
                  "set(HERMES_FUZZ OFF)\ninclude(\"" HERMES_SOURCE_DIR "/cmake/buildflags.cmake\")\n"
                  "add_executable(probe probe.cpp)\n"));
    QVERIFY(write("probe.cpp",
                  "#include <cstdio>\n#include <cstring>\n"
                  "int main(int argc, char **argv) {\n"
                  "    char buffer[64];\n"
                  "    std::strcpy(buffer, argv[argc - 1]);\n"
                  "    std::puts(buffer);\n    return 0;\n}\n"));
    const QString build = dir.filePath(QStringLiteral("build"));
    QByteArray out = run(QStringLiteral("cmake"), {QStringLiteral("-S"), dir.path(), QStringLiteral("-B"), build,
                                                   QStringLiteral("-DCMAKE_BUILD_TYPE=Release")}, 120000);
    QVERIFY2(!out.startsWith("FAILED") && out != "TIMEOUT", out.constData());
    QVERIFY2(out.contains("-D_FORTIFY_SOURCE=2") && out.contains("-Wl,-z,now"), out.constData());
    out = run(QStringLiteral("cmake"), {QStringLiteral("--build"), build}, 120000);
    QVERIFY2(!out.startsWith("FAILED") && out != "TIMEOUT", out.constData());
    // Control-flow protection is compiled in (-fcf-protection: endbr64), but bookworm's crt1.o
    // has no IBT/SHSTK property, so no binary linked there can carry it: not checked.
    out = run(check, {QStringLiteral("--nocfprotection"), build + QStringLiteral("/probe")});
    qInfo("%s", out.constData());
    QVERIFY2(!out.startsWith("FAILED"), out.constData());
}

// Install, enable as an administrator does (systemctl enable), upgrade, remove and purge:
// nothing of the unit is left under /etc/systemd (the dangling multi-user.target.wants link
// that a purge used to leave), nor deb-systemd-helper's state. On a copy-on-write overlay of /
// in a mount namespace of its own (install-purge.sh): needs root and CAP_SYS_ADMIN, as in the
// project's containers; skipped with the reason elsewhere.
void tst_Packaging::purgeLeavesNoUnitLinks()
{
    if (::geteuid() != 0)
        QSKIP("needs root (dpkg -i in a private mount namespace)");
    const QString unshare = QStandardPaths::findExecutable(QStringLiteral("unshare"));
    const QString systemctl = QStandardPaths::findExecutable(QStringLiteral("systemctl"));
    if (unshare.isEmpty() || systemctl.isEmpty())
        QFAIL("unshare (util-linux) and systemctl (systemd, in HERMES_TEST_PACKAGES) are needed");
    const QByteArray probe = run(unshare, {QStringLiteral("--mount"), QStringLiteral("true")});
    if (probe.startsWith("FAILED"))
        QSKIP(qPrintable(QStringLiteral("no mount namespace here (CAP_SYS_ADMIN): ") + QString::fromUtf8(probe)));
    QTemporaryDir work;
    const QByteArray out = run(unshare, {QStringLiteral("--mount"), QStringLiteral("sh"),
                                         QStringLiteral(HERMES_SOURCE_DIR "/tests/auto/deploy/tst_packaging/install-purge.sh"),
                                         work.path(), deb("hermes-server")}, 240000);
    qInfo("%s", out.constData());
    QVERIFY2(!out.startsWith("FAILED") && out != "TIMEOUT", out.constData());
    QVERIFY2(out.contains("== purged cleanly"), out.constData());
}

QTEST_MAIN(tst_Packaging)
#include "tst_packaging.moc"
