// Logging: level specs (data-driven, including what they let through), journald priority
// prefixes, the terminal format, and redaction of known secrets.

#include "logging.h"

#include <QRegularExpression>
#include <QTest>

using namespace Hermes;

Q_LOGGING_CATEGORY(lcProbeHttp, "hermes.http.probe")
Q_LOGGING_CATEGORY(lcProbeHub, "hermes.hub.probe")
Q_LOGGING_CATEGORY(lcProbeQt, "qt.probe")

class tst_Logging : public QObject
{
    Q_OBJECT

private slots:
    void levelSpecs_data();
    void levelSpecs();
    void invalidSpecs_data();
    void invalidSpecs();
    void journalLines();
    void terminalLines();
    void secretsAreRedacted();
    void cleanup() { QLoggingCategory::setFilterRules(QString()); Logging::setSecrets({}); }
};

void tst_Logging::levelSpecs_data()
{
    QTest::addColumn<QString>("spec");
    // What each probe category lets through, as "d i w c" flags for debug, info, warning, critical.
    QTest::addColumn<QString>("http");
    QTest::addColumn<QString>("hub");
    QTest::addColumn<QString>("qt");
    QTest::newRow("default") << "" << "-iwc" << "-iwc" << "-iwc";
    QTest::newRow("info") << "info" << "-iwc" << "-iwc" << "-iwc";
    QTest::newRow("debug") << "debug" << "diwc" << "diwc" << "-iwc"; // Qt's own debug stays off
    QTest::newRow("warning") << "warning" << "--wc" << "--wc" << "--wc";
    QTest::newRow("error") << "ERROR" << "---c" << "---c" << "---c";
    QTest::newRow("per category") << "warning,hermes.http.*=debug" << "diwc" << "--wc" << "--wc";
    QTest::newRow("exact category") << "error, hermes.hub.probe = info" << "---c" << "-iwc" << "---c";
    QTest::newRow("qt named") << "info,qt.probe=debug" << "-iwc" << "-iwc" << "diwc";
    QTest::newRow("last default wins") << "debug,warning" << "--wc" << "--wc" << "--wc";
}

static QString flags(const QLoggingCategory &c)
{
    return QString(c.isDebugEnabled() ? u'd' : u'-') + (c.isInfoEnabled() ? u'i' : u'-')
        + (c.isWarningEnabled() ? u'w' : u'-') + (c.isCriticalEnabled() ? u'c' : u'-');
}

void tst_Logging::levelSpecs()
{
    QFETCH(QString, spec);
    QFETCH(QString, http);
    QFETCH(QString, hub);
    QFETCH(QString, qt);
    const Result<void> set = Logging::setLevelSpec(spec);
    QVERIFY2(set, set ? "" : qPrintable(set.error().message));
    QCOMPARE(flags(lcProbeHttp()), http);
    QCOMPARE(flags(lcProbeHub()), hub);
    QCOMPARE(flags(lcProbeQt()), qt);
}

void tst_Logging::invalidSpecs_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("named");
    QTest::newRow("unknown level") << "verbose" << "verbose";
    QTest::newRow("unknown category level") << "hermes.http=loud" << "loud";
    QTest::newRow("bad category") << "hermes http=debug" << "hermes http";
    QTest::newRow("empty category") << "=debug" << "\"\"";
}

void tst_Logging::invalidSpecs()
{
    QFETCH(QString, spec);
    QFETCH(QString, named);
    const Result<QString> rules = Logging::parseLevelSpec(spec);
    QVERIFY(!rules);
    QCOMPARE(rules.error().kind, Error::Kind::Invalid);
    QVERIFY2(rules.error().message.contains(named), qPrintable(rules.error().message));
}

void tst_Logging::journalLines()
{
    using F = Logging::Format;
    QCOMPARE(Logging::formatLine(F::Journal, QtDebugMsg, "hermes.http", QStringLiteral("GET /")),
             QByteArray("<7>hermes.http: GET /"));
    QCOMPARE(Logging::formatLine(F::Journal, QtInfoMsg, "hermes.http", QStringLiteral("x")), QByteArray("<6>hermes.http: x"));
    QCOMPARE(Logging::formatLine(F::Journal, QtWarningMsg, "hermes.config", QStringLiteral("x")), QByteArray("<4>hermes.config: x"));
    QCOMPARE(Logging::formatLine(F::Journal, QtCriticalMsg, "default", QStringLiteral("x")), QByteArray("<3>x"));
    QCOMPARE(Logging::formatLine(F::Journal, QtFatalMsg, "hermes.hub", QStringLiteral("x")), QByteArray("<2>hermes.hub: x"));
    // journald reads each line on its own: each carries the priority.
    QCOMPARE(Logging::formatLine(F::Journal, QtWarningMsg, "hermes.hub", QStringLiteral("a\nb")),
             QByteArray("<4>hermes.hub: a\n<4>b"));
    QVERIFY(!Logging::stderrIsJournal() || qEnvironmentVariableIsSet("JOURNAL_STREAM"));
}

void tst_Logging::terminalLines()
{
    const QByteArray line = Logging::formatLine(Logging::Format::Terminal, QtWarningMsg, "hermes.http",
                                                QStringLiteral("slow"));
    static const QRegularExpression shape(QStringLiteral(
        "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3} warning hermes\\.http: slow$"));
    QVERIFY2(shape.match(QString::fromUtf8(line)).hasMatch(), line.constData());
}

void tst_Logging::secretsAreRedacted()
{
    Logging::setSecrets({"hunter2-key", "hunter2-key-longer", "abc" /* too short to mask */, ""});
    const QByteArray line = Logging::formatLine(Logging::Format::Journal, QtInfoMsg, "hermes.auth",
                                                QStringLiteral("k=hunter2-key-longer k2=hunter2-key abc"));
    QCOMPARE(line, QByteArray("<6>hermes.auth: k=[redacted] k2=[redacted] abc"));
    Logging::setSecrets({});
    QVERIFY(Logging::formatLine(Logging::Format::Journal, QtInfoMsg, "x", QStringLiteral("hunter2-key")).contains("hunter2-key"));
}

QTEST_GUILESS_MAIN(tst_Logging)
#include "tst_logging.moc"
