// The container deployment, checked without a Docker engine (none on the project's machines):
// Debian's docker-compose validates docker-compose.yml and prints the resolved file, whose
// health checks must use /readyz with startup ordering on them; the Dockerfile's runtime
// stage must install every library the server binary links (its ELF NEEDED entries, mapped
// to Debian packages with dpkg -S), the SQLite driver Qt loads at run time, and CA
// certificates; the build context must leave host build dirs out.

#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>
#include <QTest>

class tst_DockerCompose : public QObject
{
    Q_OBJECT

private slots:
    void composeFileIsValid();
    void composeNeedsItsSecrets();
    void runtimeImageHasWhatTheBinaryLinks();
    void buildContextLeavesBuildDirsOut_data();
    void buildContextLeavesBuildDirsOut();

private:
    static QByteArray read(const char *relative)
    {
        QFile f(QStringLiteral(HERMES_SOURCE_DIR "/") + QString::fromLatin1(relative));
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }
    static QByteArray compose(const QProcessEnvironment &env, int *exitCode)
    {
        const QString program = QStandardPaths::findExecutable(QStringLiteral("docker-compose"));
        if (program.isEmpty()) {
            *exitCode = -1;
            return "docker-compose is not installed (in HERMES_TEST_PACKAGES)";
        }
        QProcess p;
        p.setProcessEnvironment(env);
        p.setWorkingDirectory(QStringLiteral(HERMES_SOURCE_DIR));
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(program, {QStringLiteral("-f"), QStringLiteral("docker-compose.yml"), QStringLiteral("config")});
        if (!p.waitForFinished(60000)) {
            *exitCode = -2;
            return "TIMEOUT";
        }
        *exitCode = p.exitCode();
        return p.readAll();
    }
};

void tst_DockerCompose::composeFileIsValid()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HERMES_API_KEYS"), QStringLiteral("change-me"));
    env.insert(QStringLiteral("HERMES_TOKEN_SECRET"), QStringLiteral("0123456789abcdef"));
    env.insert(QStringLiteral("HERMES_DATABASE_PASSWORD"), QStringLiteral("pg-secret"));
    int code = 0;
    const QByteArray out = compose(env, &code);
    QVERIFY2(code == 0, out.constData());
    // Both nodes are checked on readiness, and what depends on them waits for it.
    QCOMPARE(out.count("http://127.0.0.1:8000/readyz"), 2);
    QVERIFY2(!out.contains("/api/v1/events/health"), out.constData());
    // 2 nodes on redis and postgres, caddy on 2 nodes
    QCOMPARE(out.count("condition: service_healthy"), 6);
    QVERIFY(out.contains("pg_isready"));
    QVERIFY(out.contains("redis-cli"));
    QVERIFY(out.contains("dockerfile: packaging/Dockerfile"));
    // Caddy's health checks use readiness too.
    const QByteArray caddyfile = read("Caddyfile");
    QCOMPARE(caddyfile.count("health_uri /readyz"), 2);
}

void tst_DockerCompose::composeNeedsItsSecrets()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("HERMES_API_KEYS"));
    env.remove(QStringLiteral("HERMES_TOKEN_SECRET"));
    env.insert(QStringLiteral("HERMES_DATABASE_PASSWORD"), QStringLiteral("pg-secret"));
    int code = 0;
    const QByteArray out = compose(env, &code);
    QVERIFY2(code != 0 && code != -1 && code != -2, out.constData());
    QVERIFY2(out.contains("set HERMES_API_KEYS") || out.contains("set HERMES_TOKEN_SECRET"), out.constData());
}

void tst_DockerCompose::runtimeImageHasWhatTheBinaryLinks()
{
    const QByteArray dockerfile = read("packaging/Dockerfile");
    const qsizetype runtime = dockerfile.lastIndexOf("\nFROM ");
    QVERIFY(runtime > 0);
    const QByteArray stage = dockerfile.mid(runtime);
    const qsizetype install = stage.indexOf("apt-get install");
    QVERIFY(install > 0);
    QSet<QByteArray> listed;
    for (const QByteArray &word : stage.mid(install, stage.indexOf("&&", install) - install).simplified().split(' '))
        listed.insert(word);
    for (const char *needed : {"ca-certificates", "libqt6sql6-sqlite", "curl"})
        QVERIFY2(listed.contains(needed), needed);
    // Qt loads its SQL drivers at run time, so no NEEDED entry names them: the compose file's
    // database URL says which one the nodes need.
    if (read("docker-compose.yml").contains("HERMES_DATABASE_URL: postgresql://"))
        QVERIFY2(listed.contains("libqt6sql6-psql"), "the compose nodes use PostgreSQL: libqt6sql6-psql");

    QProcess readelf;
    readelf.start(QStringLiteral("readelf"), {QStringLiteral("-d"), QStringLiteral(HERMES_SERVER_BINARY)});
    QVERIFY(readelf.waitForFinished(30000));
    const QString dynamic = QString::fromUtf8(readelf.readAllStandardOutput());
    static const QRegularExpression neededEntry(QStringLiteral("\\(NEEDED\\)\\s+Shared library: \\[([^\\]]+)\\]"));
    // In debian:bookworm already; the sanitizer runtimes exist only in this test build.
    static const QSet<QByteArray> base{"libc6", "libstdc++6", "libgcc-s1", "libasan8", "libubsan1"};
    int checked = 0;
    for (const auto &m : neededEntry.globalMatch(dynamic)) {
        QProcess dpkg;
        dpkg.start(QStringLiteral("dpkg"), {QStringLiteral("-S"), QStringLiteral("*/") + m.captured(1)});
        QVERIFY(dpkg.waitForFinished(30000));
        // Several packages may hold a file of that name (libc6 and libc6-i386): any listed one will do.
        QByteArray owner;
        for (const QByteArray &line : dpkg.readAllStandardOutput().split('\n')) {
            const QByteArray name = line.split(':').value(0).trimmed();
            if (!name.isEmpty() && (owner.isEmpty() || base.contains(name) || listed.contains(name)))
                owner = name;
        }
        QVERIFY2(!owner.isEmpty(), qPrintable(m.captured(1)));
        QVERIFY2(base.contains(owner) || listed.contains(owner),
                 qPrintable(QStringLiteral("%1 (package %2) is linked but not installed by packaging/Dockerfile")
                                .arg(m.captured(1), QString::fromUtf8(owner))));
        ++checked;
    }
    QVERIFY(checked >= 6);
    // The build stage has the -dev packages of the same libraries.
    for (const char *dev : {"qt6-base-dev", "libhiredis-dev", "libsystemd-dev"})
        QVERIFY2(dockerfile.left(runtime).contains(dev), dev);
}

void tst_DockerCompose::buildContextLeavesBuildDirsOut_data()
{
    QTest::addColumn<QString>("file");
    QTest::newRow("classic builder, compose 1.x") << ".dockerignore";
    QTest::newRow("BuildKit") << "packaging/Dockerfile.dockerignore";
}

void tst_DockerCompose::buildContextLeavesBuildDirsOut()
{
    QFETCH(QString, file);
    const QList<QByteArray> lines = read(qPrintable(file)).split('\n');
    for (const char *entry : {"build", ".git", "data"})
        QVERIFY2(lines.contains(entry), entry);
}

QTEST_GUILESS_MAIN(tst_DockerCompose)
#include "tst_dockercompose.moc"
