// The configuration reference cannot drift from the code: docs/configuration.md and both
// example env files must hold exactly what the server prints from its own option table, and the
// options --help lists must be the ones they list (both ways).

#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

class tst_ConfigDocs : public QObject
{
    Q_OBJECT

private slots:
    void referenceMatchesTheCode_data();
    void referenceMatchesTheCode();
    void helpAndFilesListTheSameOptions_data();
    void helpAndFilesListTheSameOptions();
    void seedNamesAreKept();
    void readmeInstallsWhatTheBuildNeeds();

private:
    static QByteArray run(const QStringList &args)
    {
        QProcess p;
        p.start(QStringLiteral(HERMES_SERVER_BINARY), args);
        if (!p.waitForFinished(20000) || p.exitCode() != 0)
            return {};
        return p.readAllStandardOutput();
    }
    static QSet<QString> names(const QRegularExpression &re, const QString &text, int group = 0)
    {
        QSet<QString> found;
        for (const auto &m : re.globalMatch(text))
            found.insert(m.captured(group));
        return found;
    }
    static QByteArray read(const char *relative)
    {
        QFile f(QStringLiteral(HERMES_SOURCE_DIR "/") + QString::fromLatin1(relative));
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }
};

void tst_ConfigDocs::referenceMatchesTheCode_data()
{
    QTest::addColumn<QString>("format");
    QTest::addColumn<QString>("file");
    QTest::newRow("docs") << "markdown" << "docs/configuration.md";
    QTest::newRow("packaging env") << "env" << "packaging/hermes.env.example";
    QTest::newRow("top-level env") << "env" << ".env.example";
}

void tst_ConfigDocs::referenceMatchesTheCode()
{
    QFETCH(QString, format);
    QFETCH(QString, file);
    const QByteArray generated = run({QStringLiteral("--print-config-reference"), format});
    QVERIFY(!generated.isEmpty());
    const QByteArray text = read(qPrintable(file));
    QVERIFY2(text.endsWith(generated),
             qPrintable(file + QStringLiteral(" is out of date: run scripts/gen-config-docs.sh")));
}

// Independent of --print-config-reference: what --help lists (the options users see) and what
// each file lists must be the same set, both ways: nothing undocumented, nothing documented
// that does not exist.
void tst_ConfigDocs::helpAndFilesListTheSameOptions_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<bool>("withFlags");
    QTest::newRow("docs") << "docs/configuration.md" << true;
    QTest::newRow("packaging env") << "packaging/hermes.env.example" << false;
    QTest::newRow("top-level env") << ".env.example" << false;
}

void tst_ConfigDocs::helpAndFilesListTheSameOptions()
{
    QFETCH(QString, file);
    QFETCH(bool, withFlags);
    const QString help = QString::fromUtf8(run({QStringLiteral("--help")}));
    const QString text = QString::fromUtf8(read(qPrintable(file)));
    QVERIFY(!help.isEmpty());
    QVERIFY2(!text.isEmpty(), qPrintable(file));

    const QRegularExpression env(QStringLiteral("\\bHERMES_[A-Z0-9_]*[A-Z0-9]"));
    QSet<QString> helpVars = names(env, help);
    QVERIFY(helpVars.size() >= 20);
    // The env files are settings themselves: naming another settings file there means nothing.
    if (!withFlags)
        helpVars.remove(QStringLiteral("HERMES_CONFIG_FILE"));
    const QSet<QString> fileVars = names(env, text);
    for (const QString &v : helpVars)
        QVERIFY2(fileVars.contains(v), qPrintable(v + QStringLiteral(" (in --help) is missing from ") + file));
    for (const QString &v : fileVars)
        QVERIFY2(helpVars.contains(v), qPrintable(v + QStringLiteral(" (in ") + file
                                                 + QStringLiteral(") is not an option of hermes-server")));
    if (!withFlags)
        return;

    // Options as --help prints them ("  --port <value>", "  -h, --help").
    QSet<QString> helpFlags = names(QRegularExpression(QStringLiteral("^  (?:-[a-zA-Z], )?(--[a-z][a-z-]*)"),
                                                       QRegularExpression::MultilineOption), help, 1);
    QSet<QString> settingFlags = helpFlags; // what must be documented
    // A deprecated spelling follows its option ("  --redis-url-file, --redis-file <file>"):
    // it may be named, need not be.
    helpFlags += names(QRegularExpression(QStringLiteral("^  --[a-z][a-z-]*, (--[a-z][a-z-]*)"),
                                          QRegularExpression::MultilineOption), help, 1);
    for (const char *generic : {"--help", "--help-all", "--version"})
        settingFlags.remove(QString::fromLatin1(generic));
    QVERIFY(settingFlags.size() >= 20);
    const QSet<QString> fileFlags = names(QRegularExpression(QStringLiteral("(?<![\\w-])(--[a-z][a-z-]*)")), text, 1);
    for (const QString &f : settingFlags)
        QVERIFY2(fileFlags.contains(f), qPrintable(f + QStringLiteral(" (in --help) is missing from ") + file));
    for (const QString &f : fileFlags)
        QVERIFY2(helpFlags.contains(f), qPrintable(f + QStringLiteral(" (in ") + file
                                                  + QStringLiteral(") is not an option of hermes-server")));
}

// The variables the seed (the Python Hermes) used keep their names.
void tst_ConfigDocs::seedNamesAreKept()
{
    const QByteArray env = read(".env.example");
    for (const char *name : {"HERMES_ENABLE_SSE", "HERMES_SSE_HEARTBEAT_INTERVAL", "HERMES_SSE_MAX_CONNECTIONS",
                             "HERMES_SSE_CONNECTION_TIMEOUT", "HERMES_ALLOWED_ORIGINS"})
        QVERIFY2(env.contains("#" + QByteArray(name) + '='), name);
    QVERIFY(env.contains("#HERMES_SSE_HEARTBEAT_INTERVAL=30\n"));
    QVERIFY(env.contains("#HERMES_SSE_CONNECTION_TIMEOUT=300\n"));
}

// The README's "Deploying" steps install the build's packages by hand: every package the
// scripts install to build (scripts/common.sh, HERMES_APT_PACKAGES) must be on that line, or a
// user following it fails at `cmake` (liburing-dev was missing once).
void tst_ConfigDocs::readmeInstallsWhatTheBuildNeeds()
{
    // The array, comments dropped first (they may hold parentheses).
    QString common;
    for (const QString &line : QString::fromUtf8(read("scripts/common.sh")).split(u'\n'))
        common += line.section(u'#', 0, 0) + u'\n';
    const auto m = QRegularExpression(QStringLiteral("HERMES_APT_PACKAGES=\\(([^)]*)\\)")).match(common);
    QVERIFY(m.hasMatch());
    const QStringList wanted = m.captured(1).split(QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts);
    QVERIFY(wanted.size() >= 10);

    const QString readme = QString::fromUtf8(read("README.md"));
    const qsizetype deploying = readme.indexOf(QStringLiteral("### As a Debian package"));
    QVERIFY(deploying > 0);
    const qsizetype start = readme.indexOf(QStringLiteral("apt-get install "), deploying);
    QVERIFY(start > 0);
    qsizetype end = start;
    while ((end = readme.indexOf(u'\n', end + 1)) > 0 && readme.at(end - 1) == u'\\') {}
    const QStringList listed = readme.mid(start, end - start).split(QRegularExpression(QStringLiteral("[\\s\\\\]+")),
                                                                   Qt::SkipEmptyParts);
    for (const QString &pkg : std::as_const(wanted))
        QVERIFY2(listed.contains(pkg), qPrintable(QStringLiteral("README \"As a Debian package\" does not install ") + pkg));
}

QTEST_MAIN(tst_ConfigDocs)

#include "tst_configdocs.moc"
