// The shipped alert rules and Grafana dashboard (packaging/prometheus, packaging/grafana) by
// Prometheus' own tool: `promtool check rules` accepts the rules, `promtool test rules` runs
// hermes-alerts.test.yml (each alert fires on a failing synthetic series and stays quiet on a
// healthy one), and every dashboard query parses (written into a generated rules file, which
// promtool checks). That the metrics they name exist is tst_metricsexposition's part: it has
// the live server.

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

static const QString Source = QStringLiteral(HERMES_SOURCE_DIR);

class tst_AlertRules : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void rulesAreValid();
    void eachAlertFiresAndStaysQuiet();
    void everyAlertHasATest();
    void dashboardQueriesParse();

private:
    // Runs promtool; its exit code, with its output in `out`.
    int promtool(const QStringList &args, QByteArray *out, const QString &dir = {}) const
    {
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        if (!dir.isEmpty())
            p.setWorkingDirectory(dir);
        p.start(m_promtool, args);
        if (!p.waitForFinished(60000)) {
            p.kill();
            p.waitForFinished(5000);
            *out = "promtool did not finish within 60 s";
            return -1;
        }
        *out = p.readAll();
        return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    }
    static QByteArray read(const QString &path)
    {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

    QString m_promtool;
};

void tst_AlertRules::initTestCase()
{
    m_promtool = QStandardPaths::findExecutable(QStringLiteral("promtool"));
    if (m_promtool.isEmpty())
        QFAIL("promtool is not installed (Debian package prometheus, in HERMES_TEST_PACKAGES)");
}

void tst_AlertRules::rulesAreValid()
{
    QByteArray out;
    const int code = promtool({QStringLiteral("check"), QStringLiteral("rules"),
                               Source + QStringLiteral("/packaging/prometheus/hermes-alerts.yml")}, &out);
    QVERIFY2(code == 0, out.constData());
    QVERIFY2(out.contains("SUCCESS"), out.constData());
}

void tst_AlertRules::eachAlertFiresAndStaysQuiet()
{
    QByteArray out;
    // Relative rule_files are resolved from the test file's directory.
    const QString dir = Source + QStringLiteral("/tests/auto/deploy/tst_alertrules");
    const int code = promtool({QStringLiteral("test"), QStringLiteral("rules"),
                               QStringLiteral("hermes-alerts.test.yml")}, &out, dir);
    QVERIFY2(code == 0 && out.contains("SUCCESS"), out.constData());
}

// A new alert without a case would be shipped untested.
void tst_AlertRules::everyAlertHasATest()
{
    const QByteArray rules = read(Source + QStringLiteral("/packaging/prometheus/hermes-alerts.yml"));
    const QByteArray tests = read(Source + QStringLiteral("/tests/auto/deploy/tst_alertrules/hermes-alerts.test.yml"));
    int alerts = 0;
    for (const QByteArray &line : rules.split('\n')) {
        const QByteArray trimmed = line.trimmed();
        if (!trimmed.startsWith("- alert: "))
            continue;
        ++alerts;
        const QByteArray name = trimmed.sliced(9).trimmed();
        QVERIFY2(tests.contains("alertname: " + name + '\n'), name.constData());
    }
    QVERIFY(alerts >= 7);
}

void tst_AlertRules::dashboardQueriesParse()
{
    const QJsonObject dashboard = QJsonDocument::fromJson(
        read(Source + QStringLiteral("/packaging/grafana/hermes-dashboard.json"))).object();
    QVERIFY2(!dashboard.isEmpty(), "packaging/grafana/hermes-dashboard.json is not a JSON object");
    QVERIFY(!dashboard.value(QStringLiteral("uid")).toString().isEmpty());
    // Grafana's variables are not PromQL: put values in that Grafana would.
    const QList<QPair<QString, QString>> variables{{QStringLiteral("$__rate_interval"), QStringLiteral("5m")},
                                                   {QStringLiteral("$__interval"), QStringLiteral("1m")},
                                                   {QStringLiteral("$__range"), QStringLiteral("6h")},
                                                   {QStringLiteral("$instance"), QStringLiteral(".*")}};
    QByteArray rules = "groups:\n  - name: dashboard\n    rules:\n";
    int n = 0;
    QSet<int> ids;
    for (const QJsonValue &p : dashboard.value(QStringLiteral("panels")).toArray()) {
        const QJsonObject panel = p.toObject();
        QVERIFY2(!ids.contains(panel.value(QStringLiteral("id")).toInt()), "panel ids repeat");
        ids.insert(panel.value(QStringLiteral("id")).toInt());
        const QJsonArray targets = panel.value(QStringLiteral("targets")).toArray();
        QVERIFY2(!targets.isEmpty(), qPrintable(panel.value(QStringLiteral("title")).toString()));
        for (const QJsonValue &t : targets) {
            QString expr = t.toObject().value(QStringLiteral("expr")).toString();
            QVERIFY(!expr.isEmpty());
            for (const auto &[name, value] : variables)
                expr.replace(name, value);
            QVERIFY2(!expr.contains(u'$'), qPrintable(expr)); // a variable the test does not know
            // A YAML double-quoted scalar holds the expression exactly (JSON escaping is YAML's).
            rules += "      - record: hermes:dashboard_query_" + QByteArray::number(++n) + "\n        expr: "
                + QJsonDocument(QJsonArray{expr}).toJson(QJsonDocument::Compact).sliced(1).chopped(1) + '\n';
        }
    }
    QVERIFY(n >= 10);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QFile file(dir.filePath(QStringLiteral("dashboard-queries.yml")));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(rules);
    file.close();
    QByteArray out;
    const int code = promtool({QStringLiteral("check"), QStringLiteral("rules"), file.fileName()}, &out);
    QVERIFY2(code == 0, (out + '\n' + rules).constData());
    QVERIFY2(out.contains(QByteArray::number(n) + " rules found"), out.constData());
}

QTEST_GUILESS_MAIN(tst_AlertRules)
#include "tst_alertrules.moc"
