// "Whole-string matches everywhere": in PCRE, and so in QRegularExpression, `$` matches at the
// end of the subject *or before a final newline*, so a `^…$` validator lets "evt\n" through
// (issue 24: a publish type "evt\n" was accepted, a SHA-256 with a trailing LF was stored and
// could never match). A pattern must be whole-string: QRegularExpression::anchoredPattern()
// (which adds \A(?:…)\z) or an explicit \z.
//
// This test walks server/, shared/ and monitor/ and fails on a string literal with an unescaped
// `$` in a statement that builds a pattern (from the word QRegularExpression, a setPattern()
// call, or a literal that starts with `^` — a pattern kept in a variable first — to the
// statement's `;`).

#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QTest>

class tst_RegexAnchors : public QObject
{
    Q_OBJECT
private slots:
    void detectorSeesDollarAnchors();
    void noDollarAnchoredPattern();
};

// The string literals of `statement` (C++ escapes kept as written), as in tst_protocolspelling.
static QStringList literals(const QString &statement)
{
    static const QRegularExpression literal(QStringLiteral("\"((?:[^\"\\\\\\n]|\\\\.)*)\""));
    QStringList out;
    auto it = literal.globalMatch(statement);
    while (it.hasNext())
        out << it.next().captured(1);
    return out;
}

// Whether the pattern text (as written in C++, so a regex `\$` is spelled `\\$`) has a `$`
// that is an anchor: not escaped for the regex.
static bool hasDollarAnchor(const QString &cppLiteral)
{
    for (qsizetype i = cppLiteral.indexOf(u'$'); i >= 0; i = cppLiteral.indexOf(u'$', i + 1)) {
        // Count the C++-level backslashes before it: two per regex backslash.
        qsizetype slashes = 0;
        for (qsizetype j = i - 1; j >= 0 && cppLiteral.at(j) == u'\\'; --j)
            ++slashes;
        if ((slashes / 2) % 2 == 0)
            return true;
    }
    // `\Z` lets a final newline through as `$` does (only `\z` is the end of the subject).
    for (qsizetype i = cppLiteral.indexOf(QLatin1StringView("\\\\Z")); i >= 0;
         i = cppLiteral.indexOf(QLatin1StringView("\\\\Z"), i + 1)) {
        qsizetype slashes = 0;
        for (qsizetype j = i + 1; j >= 0 && cppLiteral.at(j) == u'\\'; --j)
            ++slashes;
        if ((slashes / 2) % 2 == 1)
            return true;
    }
    return false;
}

// The statements that build a QRegularExpression in `source`, with the line each starts on.
static QList<QPair<int, QString>> regexStatements(const QString &source)
{
    QList<QPair<int, QString>> out;
    const QStringList lines = source.split(u'\n');
    for (int n = 0; n < lines.size(); ++n) {
        const QString trimmed = lines.at(n).trimmed();
        if (trimmed.startsWith(u"//") || trimmed.startsWith(u'*') || trimmed.startsWith(u"#include"))
            continue;
        static const QRegularExpression caretLiteral(QStringLiteral("\"\\^"));
        const QString &line = lines.at(n);
        if (!line.contains(u"QRegularExpression") && !line.contains(u"setPattern(") && !line.contains(caretLiteral))
            continue;
        QString statement = lines.at(n);
        for (int m = n + 1; !statement.contains(u';') && m < lines.size() && m < n + 12; ++m)
            statement += u'\n' + lines.at(m);
        out.append({n + 1, statement});
    }
    return out;
}

static bool statementIsLoose(const QString &statement)
{
    for (const QString &text : literals(statement)) {
        if (hasDollarAnchor(text))
            return true;
    }
    return false;
}

void tst_RegexAnchors::detectorSeesDollarAnchors()
{
    // The detector itself, on the forms it must catch and the ones it must let be.
    // (Source text in ordinary literals: moc cannot read a raw string with a quote inside.)
    QVERIFY(statementIsLoose(QStringLiteral("static const QRegularExpression re(QStringLiteral(\"^[a-z]+$\"));")));
    QVERIFY(statementIsLoose(QStringLiteral("static const QRegularExpression re(\n    QStringLiteral(\"^a$|^b$\"),\n    QRegularExpression::CaseInsensitiveOption);")));
    QVERIFY(statementIsLoose(QStringLiteral("QRegularExpression re(QRegularExpression::anchoredPattern(QStringLiteral(\"a$\")));")));
    QVERIFY(!statementIsLoose(QStringLiteral("QRegularExpression re(QRegularExpression::anchoredPattern(QStringLiteral(\"[a-z]+\")));")));
    QVERIFY(!statementIsLoose(QStringLiteral("QRegularExpression re(QStringLiteral(\"\\\\A[a-z]+\\\\z\"));")));
    QVERIFY(!statementIsLoose(QStringLiteral("QRegularExpression re(QStringLiteral(\"price \\\\$[0-9]+\\\\z\"));")));
    QVERIFY(statementIsLoose(QStringLiteral("QRegularExpression re(QStringLiteral(\"\\\\A[a-z]+\\\\Z\"));")));
    // A pattern set later, or kept in a variable first, is found as well.
    const auto found = [](const QString &source) {
        const auto statements = regexStatements(source);
        return statements.size() == 1 && statementIsLoose(statements.at(0).second);
    };
    QVERIFY(found(QStringLiteral("    re.setPattern(QStringLiteral(\"[0-9]+$\"));\n")));
    QVERIFY(found(QStringLiteral("    const QString pattern = QStringLiteral(\"^[0-9]+$\");\n")));
    QVERIFY(found(QStringLiteral("    static constexpr char Type[] = \"^[a-z_:]+$\";\n")));
    QVERIFY(regexStatements(QStringLiteral("    const QString price = QStringLiteral(\"$5\");\n")).isEmpty());
    QVERIFY(!statementIsLoose(QStringLiteral("QRegularExpression re(QStringLiteral(\"\\\\A[A-Z]+\\\\\\\\Z\\\\z\"));")));

    // And why: `$` lets a final newline through, anchoredPattern() does not.
    const QRegularExpression loose(QStringLiteral("^[a-z]+$"));
    const QRegularExpression whole(QRegularExpression::anchoredPattern(QStringLiteral("[a-z]+")));
    QVERIFY(loose.match(QStringLiteral("evt\n")).hasMatch());
    QVERIFY(!whole.match(QStringLiteral("evt\n")).hasMatch());
    QVERIFY(whole.match(QStringLiteral("evt")).hasMatch());
}

void tst_RegexAnchors::noDollarAnchoredPattern()
{
    const QString root = QStringLiteral(HERMES_SOURCE_DIR);
    QStringList problems;
    int files = 0;
    int statements = 0;
    for (const char *part : {"server", "monitor", "shared"}) {
        QDirIterator it(root + u'/' + QLatin1StringView(part), {QStringLiteral("*.cpp"), QStringLiteral("*.h")},
                        QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString path = it.next();
            QFile file(path);
            QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(path));
            ++files;
            for (const auto &[line, statement] : regexStatements(QString::fromUtf8(file.readAll()))) {
                ++statements;
                if (statementIsLoose(statement))
                    problems << QStringLiteral("%1:%2").arg(path.mid(root.size() + 1)).arg(line);
            }
        }
    }
    QVERIFY(files > 50);
    QVERIFY(statements >= 8); // the walk found the patterns it is about
    for (const QString &problem : std::as_const(problems))
        qWarning().noquote() << problem << "- a `$`-anchored pattern (use QRegularExpression::anchoredPattern or \\z)";
    QVERIFY2(problems.isEmpty(), qPrintable(QStringLiteral("%1 `$`-anchored pattern(s); see above").arg(problems.size())));
}

QTEST_MAIN(tst_RegexAnchors)
#include "tst_regexanchors.moc"
