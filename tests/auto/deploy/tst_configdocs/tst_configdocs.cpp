// The configuration reference cannot drift from the code: docs/configuration.md and both
// example env files must hold exactly what the server prints from its own option table.

#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTest>

class tst_ConfigDocs : public QObject
{
    Q_OBJECT

private slots:
    void referenceMatchesTheCode_data();
    void referenceMatchesTheCode();
    void everyOptionInHelpIsDocumented();

private:
    static QByteArray run(const QStringList &args)
    {
        QProcess p;
        p.start(QStringLiteral(HERMES_SERVER_BINARY), args);
        if (!p.waitForFinished(20000) || p.exitCode() != 0)
            return {};
        return p.readAllStandardOutput();
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

void tst_ConfigDocs::everyOptionInHelpIsDocumented()
{
    const QByteArray help = run({QStringLiteral("--help")});
    const QByteArray docs = read("docs/configuration.md");
    const QRegularExpression env(QStringLiteral("HERMES_[A-Z_]+"));
    int count = 0;
    for (const auto &m : env.globalMatch(QString::fromUtf8(help))) {
        if (m.captured() == u"HERMES_CONFIG_FILE")
            continue; // the file itself, explained in the introduction
        ++count;
        QVERIFY2(docs.contains(m.captured().toUtf8()), qPrintable(m.captured()));
    }
    QVERIFY(count >= 20);
    const QRegularExpression flag(QStringLiteral("^  (--[a-z-]+)"), QRegularExpression::MultilineOption);
    for (const auto &m : flag.globalMatch(QString::fromUtf8(help))) {
        const QString f = m.captured(1);
        if (f == u"--help" || f == u"--help-all" || f == u"--version" || f == u"--config"
            || f == u"--print-config-reference")
            continue;
        QVERIFY2(docs.contains(f.toUtf8()), qPrintable(f));
    }
}

QTEST_MAIN(tst_ConfigDocs)
#include "tst_configdocs.moc"
