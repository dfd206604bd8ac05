// The container deployment, checked without a Docker engine (none on the project's machines):
// Debian's docker-compose validates docker-compose.yml and prints the resolved file, whose
// health checks must use /readyz with startup ordering on them; the Dockerfile's runtime
// stage must install every library the server binary links (its ELF NEEDED entries, mapped
// to Debian packages with dpkg -S), the SQLite driver Qt loads at run time, and CA
// certificates; the build context must leave host build dirs out. Every service restarts by
// a policy that fits it, and secrets are compose secrets read through _FILE settings: no
// secret value is in an environment variable.

#include <QFile>
#include <QMap>
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
    void restartPolicies();
    void secretsAreFilesNotEnvironment();
    void healthCheckUsesTheConfiguredPort();
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
    /// The resolved file, with sentinel values for the secrets' old variables: were any of
    /// them still interpolated, its value would show.
    static QByteArray resolved()
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HERMES_API_KEYS"), QStringLiteral("sentinel-api-key"));
        env.insert(QStringLiteral("HERMES_TOKEN_SECRET"), QStringLiteral("sentinel-token-secret"));
        env.insert(QStringLiteral("HERMES_DATABASE_PASSWORD"), QStringLiteral("sentinel-db-password"));
        int code = 0;
        const QByteArray out = compose(env, &code);
        return code == 0 ? out : "FAILED: " + out;
    }
    /// The resolved file's top-level section `name` (e.g. "services"): its entries, each
    /// with its indented lines. `docker-compose config` writes a normal form: two spaces per
    /// level, one key per line.
    static QMap<QByteArray, QByteArray> section(const QByteArray &config, const QByteArray &name)
    {
        QMap<QByteArray, QByteArray> entries;
        bool inside = false;
        QByteArray current;
        for (const QByteArray &line : config.split('\n')) {
            if (!line.startsWith(' ')) {
                inside = line == name + ':';
                continue;
            }
            if (!inside)
                continue;
            if (line.startsWith("  ") && line.size() > 2 && line[2] != ' ') {
                current = line.trimmed().chopped(1);
                entries.insert(current, {});
            } else if (!current.isEmpty()) {
                entries[current] += line + '\n';
            }
        }
        return entries;
    }
    /// `key: value` lines of a service's `sub` mapping (environment).
    static QMap<QByteArray, QByteArray> mapping(const QByteArray &block, const QByteArray &sub)
    {
        QMap<QByteArray, QByteArray> out;
        bool inside = false;
        for (const QByteArray &line : block.split('\n')) {
            if (line.startsWith("    ") && line.size() > 4 && line[4] != ' ') {
                inside = line.trimmed() == sub + ':';
                continue;
            }
            if (inside && line.startsWith("      ")) {
                const qsizetype colon = line.indexOf(": ");
                if (colon > 0)
                    out.insert(line.left(colon).trimmed(), line.mid(colon + 2).trimmed());
            }
        }
        return out;
    }
};

void tst_DockerCompose::composeFileIsValid()
{
    const QByteArray out = resolved();
    QVERIFY2(!out.startsWith("FAILED"), out.constData());
    // Both nodes are checked on readiness, and what depends on them waits for it.
    QCOMPARE(out.count("/readyz"), 2);
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

// A crash or an engine restart brings every long-running service back (unless-stopped: not
// after `docker compose stop`); the one-shot job is retried only when it fails, never looped.
void tst_DockerCompose::restartPolicies()
{
    const QByteArray out = resolved();
    QVERIFY2(!out.startsWith("FAILED"), out.constData());
    const QMap<QByteArray, QByteArray> services = section(out, "services");
    QCOMPARE(services.size(), 6);
    for (auto it = services.cbegin(); it != services.cend(); ++it) {
        const bool oneShot = it.key() == "downloads-owner";
        const QByteArray expected = oneShot ? "    restart: on-failure\n" : "    restart: unless-stopped\n";
        QVERIFY2(it.value().contains(expected), qPrintable(QString::fromUtf8(it.key() + ":\n" + it.value())));
    }
}

// No secret in an environment variable (visible in `docker inspect`, `docker compose config`
// and /proc/<pid>/environ): every secret is a compose secret, mounted at /run/secrets/<name>
// and named by a _FILE setting of the service that mounts it.
void tst_DockerCompose::secretsAreFilesNotEnvironment()
{
    const QByteArray out = resolved();
    QVERIFY2(!out.startsWith("FAILED"), out.constData());
    for (const char *value : {"sentinel-api-key", "sentinel-token-secret", "sentinel-db-password"})
        QVERIFY2(!out.contains(value), value);
    const QMap<QByteArray, QByteArray> secrets = section(out, "secrets");
    QCOMPARE(secrets.keys(), (QList<QByteArray>{"api-keys", "database-password", "token-secret"}));
    for (const QByteArray &block : secrets)
        QVERIFY2(block.trimmed().startsWith("file: ") && block.contains("/secrets/"), block.constData());
    static const QList<QByteArray> plain{"HERMES_API_KEYS", "HERMES_TOKEN_SECRET", "PGPASSWORD",
                                         "POSTGRES_PASSWORD", "HERMES_DATABASE_PASSWORD",
                                         "HERMES_METRICS_TOKEN", "HERMES_REDIS_SENTINEL_PASSWORD"};
    const QMap<QByteArray, QByteArray> services = section(out, "services");
    int files = 0;
    for (auto it = services.cbegin(); it != services.cend(); ++it) {
        const QMap<QByteArray, QByteArray> env = mapping(it.value(), "environment");
        for (auto var = env.cbegin(); var != env.cend(); ++var) {
            QVERIFY2(!plain.contains(var.key()), qPrintable(QString::fromUtf8(it.key() + ": " + var.key())));
            // A URL carries no password.
            QVERIFY2(!QRegularExpression(QStringLiteral("://[^/@]*:[^/@]*@")).match(QString::fromUtf8(var.value())).hasMatch(),
                     var.value().constData());
            if (!var.value().startsWith("/run/secrets/"))
                continue;
            QVERIFY2(var.key().endsWith("_FILE"), var.key().constData());
            const QByteArray name = var.value().mid(int(qstrlen("/run/secrets/")));
            QVERIFY2(secrets.contains(name), name.constData());
            QVERIFY2(it.value().contains("    - source: " + name + '\n'),
                     qPrintable(QString::fromUtf8(it.key() + " does not mount " + name)));
            ++files;
        }
    }
    QCOMPARE(files, 2 * 3 + 1); // two nodes × (api-keys, token-secret, database-password) + postgres
}

// The image's and the compose file's health checks follow HERMES_PORT.
void tst_DockerCompose::healthCheckUsesTheConfiguredPort()
{
    const QByteArray dockerfile = read("packaging/Dockerfile");
    const qsizetype check = dockerfile.indexOf("\nHEALTHCHECK ");
    QVERIFY(check > 0);
    const QByteArray instruction = dockerfile.mid(check, dockerfile.indexOf("\nENTRYPOINT", check) - check);
    QVERIFY2(instruction.contains("http://127.0.0.1:${HERMES_PORT:-8000}/readyz"), instruction.constData());
    QVERIFY2(!instruction.contains("CMD [") , "the exec form would not expand ${HERMES_PORT}");
    const QByteArray out = resolved();
    // $$ in the resolved file: a $ the container's shell expands, not compose.
    QCOMPARE(out.count("CMD-SHELL\n      - curl -fsS -o /dev/null http://127.0.0.1:$${HERMES_PORT:-8000}/readyz"), 2);
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
    // dpkg-dev: the Release build's hardening flags come from dpkg-buildflags.
    for (const char *dev : {"qt6-base-dev", "libhiredis-dev", "libsystemd-dev", "dpkg-dev"})
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
