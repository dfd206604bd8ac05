// The command-line face of the three programs cannot drift: docs/man/*.1 must be what
// help2man makes from the binaries' --help and --version now (run scripts/gen-man-pages.sh
// after changing an option), and the bash completion offers exactly the options --help lists,
// plus the known values of the options that take them. scripts/run.sh prints the address the
// server listens on, whatever chose the port.

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

class tst_CommandLine : public QObject
{
    Q_OBJECT

private slots:
    void manPagesMatchTheBinaries_data();
    void manPagesMatchTheBinaries();
    void completionOffersTheOptions_data();
    void completionOffersTheOptions();
    void completionOffersValues_data();
    void completionOffersValues();
    void runScriptPrintsThePortInUse_data();
    void runScriptPrintsThePortInUse();
    void runScriptExitsWithTheServersFailure();
    void monitorAnswersWithoutADisplay_data();
    void monitorAnswersWithoutADisplay();

private:
    static QString binary(const QString &program)
    {
        if (program == u"hermes-server")
            return QStringLiteral(HERMES_SERVER_BINARY);
        if (program == u"hermes-events")
            return QStringLiteral(HERMES_EVENTS_BINARY);
        return QStringLiteral(HERMES_MONITOR_BINARY);
    }
    static QProcessEnvironment cleanEnvironment()
    {
        QProcessEnvironment env;
        env.insert(QStringLiteral("PATH"), QStringLiteral("/usr/bin:/bin"));
        env.insert(QStringLiteral("HOME"), QStringLiteral("/nonexistent"));
        env.insert(QStringLiteral("LANG"), QStringLiteral("C.UTF-8"));
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        env.insert(QStringLiteral("ASAN_OPTIONS"), QStringLiteral("detect_leaks=0"));
        return env;
    }
    // Completions for the words typed so far, the last being the one completed.
    static QStringList complete(const QStringList &words)
    {
        QTemporaryDir bin;
        for (const char *p : {"hermes-server", "hermes-events", "hermes-monitor"})
            QFile::link(binary(QString::fromLatin1(p)), bin.filePath(QString::fromLatin1(p)));
        QString script = QStringLiteral("source '" HERMES_SOURCE_DIR "/packaging/completion/hermes'\n"
                                        "compopt() { :; }\nCOMP_WORDS=(");
        for (const QString &w : words)
            script += u'\'' + w + QStringLiteral("' ");
        script += QStringLiteral(")\nCOMP_CWORD=%1\n_hermes\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n").arg(words.size() - 1);
        QProcess bash;
        QProcessEnvironment env = cleanEnvironment();
        env.insert(QStringLiteral("PATH"), bin.path() + QStringLiteral(":/usr/bin:/bin"));
        bash.setProcessEnvironment(env);
        bash.start(QStringLiteral("bash"), {QStringLiteral("--norc"), QStringLiteral("-c"), script});
        if (!bash.waitForFinished(30000))
            return {QStringLiteral("TIMEOUT")};
        return QString::fromUtf8(bash.readAllStandardOutput()).split(u'\n', Qt::SkipEmptyParts);
    }
    static QSet<QString> helpOptions(const QString &program)
    {
        QProcess p;
        p.setProcessEnvironment(cleanEnvironment());
        p.start(binary(program), {QStringLiteral("--help")});
        p.waitForFinished(30000);
        QSet<QString> out;
        static const QRegularExpression option(QStringLiteral("^ +(?:-[a-zA-Z], )?(--[a-z][a-z0-9-]*)"),
                                               QRegularExpression::MultilineOption);
        for (const auto &m : option.globalMatch(QString::fromUtf8(p.readAllStandardOutput())))
            out.insert(m.captured(1));
        return out;
    }
};

void tst_CommandLine::manPagesMatchTheBinaries_data()
{
    QTest::addColumn<QString>("program");
    for (const char *p : {"hermes-server", "hermes-events", "hermes-monitor"})
        QTest::newRow(p) << QString::fromLatin1(p);
}

void tst_CommandLine::manPagesMatchTheBinaries()
{
    QFETCH(QString, program);
    const QString help2man = QStandardPaths::findExecutable(QStringLiteral("help2man"));
    if (help2man.isEmpty())
        QFAIL("help2man is not installed (in HERMES_TEST_PACKAGES)");
    QTemporaryDir out;
    QProcess p;
    p.setProcessEnvironment(cleanEnvironment());
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(help2man, {QStringLiteral("--no-info"), QStringLiteral("--section=1"),
                       QStringLiteral("--include=" HERMES_SOURCE_DIR "/packaging/man/") + program + QStringLiteral(".h2m"),
                       QStringLiteral("--output=") + out.filePath(program + QStringLiteral(".1")), binary(program)});
    QVERIFY(p.waitForFinished(60000));
    QVERIFY2(p.exitCode() == 0, p.readAll().constData());
    // The .TH line carries the month of generation: everything else must be equal.
    const auto withoutDate = [](const QByteArray &text) {
        QList<QByteArray> kept;
        for (const QByteArray &line : text.split('\n')) {
            if (!line.startsWith(".TH ") && !line.startsWith(".\\\" DO NOT MODIFY"))
                kept.append(line);
        }
        return kept;
    };
    QFile generated(out.filePath(program + QStringLiteral(".1")));
    QFile committed(QStringLiteral(HERMES_SOURCE_DIR "/docs/man/") + program + QStringLiteral(".1"));
    QVERIFY(generated.open(QIODevice::ReadOnly));
    QVERIFY2(committed.open(QIODevice::ReadOnly), qPrintable(committed.fileName()));
    const QList<QByteArray> want = withoutDate(generated.readAll());
    const QList<QByteArray> have = withoutDate(committed.readAll());
    for (qsizetype i = 0; i < qMax(want.size(), have.size()); ++i)
        QVERIFY2(want.value(i) == have.value(i),
                 qPrintable(QStringLiteral("docs/man/%1.1 is out of date at line %2 (run scripts/gen-man-pages.sh):\n  have: %3\n  want: %4")
                                .arg(program).arg(i + 1).arg(QString::fromUtf8(have.value(i)), QString::fromUtf8(want.value(i)))));
    // A man page that says nothing would pass the comparison: it must list the options.
    for (const QString &option : helpOptions(program))
        QVERIFY2(want.join('\n').contains(QString(option).replace(u'-', QStringLiteral("\\-")).toUtf8()), qPrintable(option));
}

void tst_CommandLine::completionOffersTheOptions_data()
{
    manPagesMatchTheBinaries_data();
}

void tst_CommandLine::completionOffersTheOptions()
{
    QFETCH(QString, program);
    const QSet<QString> options = helpOptions(program);
    QVERIFY(options.size() >= 3);
    const QStringList offered = complete({program, QStringLiteral("--")});
    QCOMPARE(QSet<QString>(offered.begin(), offered.end()), options);
}

void tst_CommandLine::completionOffersValues_data()
{
    QTest::addColumn<QStringList>("words");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("prefix") << QStringList{"hermes-server", "--log-l"} << QStringList{"--log-level"};
    QTest::newRow("log level") << QStringList{"hermes-server", "--log-level", "w"} << QStringList{"warning"};
    QTest::newRow("style") << QStringList{"hermes-server", "--event-style", ""} << QStringList{"envelope", "named"};
    QTest::newRow("reference") << QStringList{"hermes-server", "--print-config-reference", "m"} << QStringList{"markdown"};
    QTest::newRow("format") << QStringList{"hermes-events", "--format", "j"} << QStringList{"jsonl"};
    QTest::newRow("a value, no options") << QStringList{"hermes-server", "--port", ""} << QStringList{};
    QTest::newRow("config file") << QStringList{"hermes-server", "--config", HERMES_SOURCE_DIR "/packaging/hermes.env.e"}
                                 << QStringList{HERMES_SOURCE_DIR "/packaging/hermes.env.example"};
}

void tst_CommandLine::completionOffersValues()
{
    QFETCH(QStringList, words);
    QFETCH(QStringList, expected);
    QStringList got = complete(words);
    got.sort();
    QCOMPARE(got, expected);
}

void tst_CommandLine::runScriptPrintsThePortInUse_data()
{
    QTest::addColumn<bool>("byOption"); // --port N, else HERMES_PORT=N
    QTest::newRow("--port") << true;
    QTest::newRow("HERMES_PORT") << false;
}

// scripts/run.sh on the test build's server (HERMES_RUN_SERVER: nothing installed or built):
// the URL it prints, and every curl line, have the port the server listens on, not 8000; a
// SIGTERM stops the server with it, cleanly.
void tst_CommandLine::runScriptPrintsThePortInUse()
{
    QFETCH(bool, byOption);
    quint16 port = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    QTemporaryDir data;
    QProcessEnvironment env = cleanEnvironment();
    env.insert(QStringLiteral("HERMES_RUN_SERVER"), binary(QStringLiteral("hermes-server")));
    env.insert(QStringLiteral("HERMES_NO_MONITOR"), QStringLiteral("1"));
    env.insert(QStringLiteral("HERMES_DATA_DIR"), data.path());
    QStringList args{QStringLiteral(HERMES_SOURCE_DIR "/scripts/run.sh")};
    if (byOption)
        args << QStringLiteral("--port") << QString::number(port);
    else
        env.insert(QStringLiteral("HERMES_PORT"), QString::number(port));
    QProcess run;
    run.setProcessEnvironment(env);
    run.start(QStringLiteral("bash"), args);
    QVERIFY(run.waitForStarted(5000));
    QByteArray out;
    QTRY_VERIFY_WITH_TIMEOUT((out += run.readAllStandardOutput()).contains("--api-key-file"), 30000);
    const QByteArray url = "http://127.0.0.1:" + QByteArray::number(port);
    QVERIFY2(out.contains("==> hermes-server is listening on " + url + " "), out.constData());
    QCOMPARE(out.count(url + "/api/v1/"), 4); // the three curl lines and hermes-events
    QVERIFY2(!out.contains(":8000"), out.constData());
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    QVERIFY(socket.waitForConnected(5000));
    socket.close();
    run.terminate();
    QVERIFY(run.waitForFinished(15000));
    QCOMPARE(run.exitStatus(), QProcess::NormalExit);
    QCOMPARE(run.exitCode(), 0); // the server's status after its clean shutdown
    QVERIFY2(run.readAllStandardError().contains("shutting down"), "the server was not stopped by its SIGTERM");
}

// A server that refuses its settings (exit 78, EX_CONFIG) makes run.sh fail the same way: a
// script, a unit or a person must not read a server that never started as a success.
void tst_CommandLine::runScriptExitsWithTheServersFailure()
{
    QTemporaryDir data;
    QProcessEnvironment env = cleanEnvironment();
    env.insert(QStringLiteral("HERMES_RUN_SERVER"), binary(QStringLiteral("hermes-server")));
    env.insert(QStringLiteral("HERMES_NO_MONITOR"), QStringLiteral("1"));
    env.insert(QStringLiteral("HERMES_DATA_DIR"), data.path());
    QProcess run;
    run.setProcessEnvironment(env);
    run.start(QStringLiteral("bash"), {QStringLiteral(HERMES_SOURCE_DIR "/scripts/run.sh"),
                                       QStringLiteral("--max-connections"), QStringLiteral("abc")});
    QVERIFY(run.waitForFinished(30000));
    QCOMPARE(run.exitStatus(), QProcess::NormalExit);
    QCOMPARE(run.exitCode(), 78);
}

void tst_CommandLine::monitorAnswersWithoutADisplay_data()
{
    QTest::addColumn<QString>("option");
    QTest::addColumn<QString>("expected"); // a pattern for the whole of stdout
    QTest::newRow("--help") << QStringLiteral("--help")
                            << QStringLiteral("^Usage: \\S*hermes-monitor \\[options\\]\n"
                                              "Watches and controls a Hermes download queue\\.\n.*"
                                              "  --server <url> .*  --api-key-file <file> .*");
    QTest::newRow("--version") << QStringLiteral("--version")
                               << QStringLiteral("^hermes-monitor " HERMES_VERSION "\n$");
}

// Over ssh, in a package check or a container there is no display: --help and --version must
// still answer (a QApplication made before the arguments are read aborts there, "could not
// connect to display"). No QT_QPA_PLATFORM either, so Qt would pick its default, xcb.
void tst_CommandLine::monitorAnswersWithoutADisplay()
{
    QFETCH(QString, option);
    QFETCH(QString, expected);
    QProcessEnvironment env = cleanEnvironment();
    for (const char *name : {"QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"})
        env.remove(QString::fromLatin1(name));
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(binary(QStringLiteral("hermes-monitor")), {option});
    QVERIFY(p.waitForFinished(30000));
    const QString out = QString::fromUtf8(p.readAllStandardOutput());
    const QByteArray err = p.readAllStandardError();
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QVERIFY2(p.exitCode() == 0, err.constData());
    const QRegularExpression want(expected, QRegularExpression::DotMatchesEverythingOption);
    QVERIFY2(want.match(out).hasMatch(), qPrintable(out + QString::fromUtf8(err)));
}

QTEST_GUILESS_MAIN(tst_CommandLine)
#include "tst_commandline.moc"
