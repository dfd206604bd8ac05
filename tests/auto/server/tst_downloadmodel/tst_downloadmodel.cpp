// The randomized model test of the download promise (issue 22, item 5; README, "Download model
// test"): real hermes-server nodes — three on one PostgreSQL and one Redis sharing a download
// dir, or one on SQLite — against an origin and a resolver the test controls, driven by a
// seeded stream of downloads, control requests and gray faults; at the end, every fault
// healed and the deployment quiet, every download is checked against what the test did.
//
// Bounded by default (20 s of operations for the cluster, 15 s for SQLite). A soak:
//   HERMES_MODEL_SECONDS=600 tst_downloadmodel model:postgres
// HERMES_MODEL_SEED fixes the seed (printed in every summary and failure);
// HERMES_MODEL_NEMESES picks the faults: a comma-separated list of kinds (kill, stop,
// postgres, resolver, version, drops, errors, trickle, disk, clock, symlink, fifo,
// disposition), or of kinds to leave out, each with a leading '-' (e.g. -fifo,-disk), or
// "none" (the operations alone);
// HERMES_MODEL_LOG=<file> keeps the whole operation log.

#include "modelrun.h"
#include "postgresprocess.h"

#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace DlModel;

Q_DECLARE_METATYPE(DlModel::ModelConfig)

class tst_DownloadModel : public QObject
{
    Q_OBJECT
public:
    tst_DownloadModel()
    {
        // A soak outlasts QtTest's 5-minute watchdog: give it the soak's length and a margin.
        const int seconds = qEnvironmentVariableIntValue("HERMES_MODEL_SECONDS");
        if (seconds > 0 && !qEnvironmentVariableIsSet("QTEST_FUNCTION_TIMEOUT"))
            qputenv("QTEST_FUNCTION_TIMEOUT", QByteArray::number((qint64(seconds) + 600) * 1000));
    }

private slots:
    void resolverPreload();
    void mismatchNamesTheSplice();
    void reasonsAreClassified_data();
    void reasonsAreClassified();
    void model_data();
    void model();
};

// The preload on its own, through glibc's getaddrinfo (getent): test names resolve to the
// origin, fail while the flag file exists, other names are untouched. ModelRun's probe then
// shows that hermes-server (Qt) resolves through it too.
void tst_DownloadModel::resolverPreload()
{
    const QString getent = QStandardPaths::findExecutable(QStringLiteral("getent"));
    if (getent.isEmpty())
        QSKIP("getent is not installed");
    QTemporaryDir dir;
    const QString flag = dir.filePath(QStringLiteral("fail"));
    auto lookup = [&](const QString &name, QByteArray *out) {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("LD_PRELOAD"), QStringLiteral(HERMES_RESOLVER_FAULT_LIB));
        env.insert(QStringLiteral("HERMES_TEST_RESOLVER_FAIL"), flag);
        p.setProcessEnvironment(env);
        p.start(getent, {QStringLiteral("ahostsv4"), name});
        if (!p.waitForFinished(10000))
            return -1;
        *out = p.readAllStandardOutput();
        return p.exitCode();
    };
    QByteArray out;
    QCOMPARE(lookup(QStringLiteral("d1.origin.hermes.test"), &out), 0);
    QVERIFY2(out.startsWith("127.0.0.1"), out.constData());
    QCOMPARE(lookup(QStringLiteral("D2.Origin.Hermes.Test."), &out), 0);
    QFile f(flag);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.close();
    QCOMPARE(lookup(QStringLiteral("d1.origin.hermes.test"), &out), 2); // getent: key not found
    QCOMPARE(lookup(QStringLiteral("localhost"), &out), 0);             // other names: the real resolver
    QVERIFY(QFile::remove(flag));
    QCOMPARE(lookup(QStringLiteral("d1.origin.hermes.test"), &out), 0);
}

// The checker names a splice: the runs of the file and where it leaves each version.
void tst_DownloadModel::mismatchNamesTheSplice()
{
    QList<Version> versions(2);
    versions[0].number = 1;
    versions[0].bytes = QByteArray(4096, 'a');
    versions[1].number = 2;
    versions[1].bytes = QByteArray(4096, 'b');
    for (Version &v : versions)
        v.sha256 = sha256Hex(v.bytes);
    const QByteArray spliced = versions[0].bytes.left(1000) + versions[1].bytes.mid(1000);
    QVERIFY(matchingVersions(spliced, versions).isEmpty());
    QCOMPARE(matchingVersions(versions[1].bytes, versions), QList<int>{2});
    const QString why = describeMismatch(spliced, versions);
    QVERIFY2(why.contains(QLatin1StringView("v1 (4096 bytes): first difference at offset 1000")), qPrintable(why));
    QVERIFY2(why.contains(QLatin1StringView("runs: 0-999 v1, 1000-4095 v2")), qPrintable(why));
    const QByteArray stray = versions[0].bytes.left(100) + QByteArray(100, 'z') + versions[0].bytes.mid(200);
    QVERIFY2(describeMismatch(stray, versions).contains(QLatin1StringView("100-199 none")),
             qPrintable(describeMismatch(stray, versions)));
}

// The messages the server writes, as the checks read them.
void tst_DownloadModel::reasonsAreClassified_data()
{
    QTest::addColumn<QString>("message");
    QTest::addColumn<QString>("permanent");
    QTest::addColumn<QString>("transient");
    const QString sha = QString(64, u'a');
    QTest::newRow("checksum") << QStringLiteral("SHA-256 mismatch: expected %1, got %2").arg(QString(64, u'b'), sha)
                              << "checksum" << "other";
    QTest::newRow("404") << "HTTP 404 Not Found" << "404" << "other";
    QTest::newRow("too large") << "the file is 4500000 bytes, more than the allowed 4194304" << "large" << "other";
    QTest::newRow("dns") << "Host d7.origin.hermes.test not found" << "" << "dns";
    QTest::newRow("503") << "HTTP 503 Error; retrying in 0.1 s (attempt 2 of 100)" << "" << "http";
    QTest::newRow("disk") << "cannot write /x/y.part: No space left on device" << "disk" << "disk";
    QTest::newRow("short") << "the transfer ended after 10 of 20 bytes" << "" << "network";
}

void tst_DownloadModel::reasonsAreClassified()
{
    QFETCH(QString, message);
    QFETCH(QString, permanent);
    QFETCH(QString, transient);
    QCOMPARE(Reasons::isChecksum(message), permanent == u"checksum");
    QCOMPARE(Reasons::isNotFound(message), permanent == u"404");
    QCOMPARE(Reasons::isTooLarge(message), permanent == u"large");
    QCOMPARE(Reasons::isDiskFull(message), permanent == u"disk");
    QCOMPARE(Reasons::transientKind(message), transient);
    if (permanent == u"checksum")
        QCOMPARE(Reasons::checksumGot(message), QByteArray(64, 'a'));
}

void tst_DownloadModel::model_data()
{
    QTest::addColumn<ModelConfig>("config");
    ModelConfig postgres;
    postgres.name = QStringLiteral("postgres");
    postgres.postgres = true;
    postgres.nodes = 3;
    postgres.defaultSeconds = 20;
    QTest::newRow("postgres") << postgres;
    ModelConfig sqlite;
    sqlite.name = QStringLiteral("sqlite");
    sqlite.nodes = 1;
    sqlite.defaultSeconds = 15;
    QTest::newRow("sqlite") << sqlite;
}

// HERMES_MODEL_NEMESES: "a,b" (only those), "-a,-b" (all but those) or "none".
static bool parseNemeses(const QString &spec, quint32 *mask, QString *error)
{
    if (spec.isEmpty())
        return true;
    if (spec == u"none") { // the operations alone: a baseline that must pass
        *mask = 0;
        return true;
    }
    const QStringList items = spec.split(u',', Qt::SkipEmptyParts);
    const bool exclude = !items.isEmpty() && items.first().startsWith(u'-');
    *mask = exclude ? ~0u : 0u;
    for (QString item : items) {
        const bool minus = item.startsWith(u'-');
        if (minus != exclude) {
            *error = QStringLiteral("HERMES_MODEL_NEMESES: either kinds or -kinds, not both");
            return false;
        }
        if (minus)
            item.remove(0, 1);
        int found = -1;
        for (int k = 0; k < int(Nemesis::Count); ++k) {
            if (nemesisName(Nemesis(k)) == item)
                found = k;
        }
        if (found < 0) {
            *error = QStringLiteral("HERMES_MODEL_NEMESES: unknown kind \"%1\"").arg(item);
            return false;
        }
        *mask = exclude ? (*mask & ~(1u << found)) : (*mask | (1u << found));
    }
    return true;
}

void tst_DownloadModel::model()
{
    QFETCH(ModelConfig, config);
    if (config.postgres && Hermes::Test::PostgresProcess::binDir().isEmpty())
        QSKIP("PostgreSQL is not installed (apt-get install postgresql libqt6sql6-psql)");
    RunLimits limits;
    limits.seconds = qEnvironmentVariableIntValue("HERMES_MODEL_SECONDS");
    limits.opLogFile = qEnvironmentVariable("HERMES_MODEL_LOG");
    QString error;
    QVERIFY2(parseNemeses(qEnvironmentVariable("HERMES_MODEL_NEMESES"), &limits.nemeses, &error), qPrintable(error));
    bool ok = false;
    limits.seed = qEnvironmentVariable("HERMES_MODEL_SEED").toULongLong(&ok);
    if (!ok)
        limits.seed = QRandomGenerator::global()->generate64();
    fprintf(stderr, "downloadmodel %s: seed=%llu\n", qPrintable(config.name), (unsigned long long)limits.seed);

    ModelRun run(config, limits);
    const bool passed = run.run();
    for (const QString &note : run.notes())
        qInfo().noquote() << note;
    // The summary line in every case; on failure the report has the details.
    fprintf(stderr, "%s\n", qPrintable(run.summary()));
    if (!passed)
        QFAIL(qPrintable(run.report()));
}

QTEST_GUILESS_MAIN(tst_DownloadModel)
#include "tst_downloadmodel.moc"
