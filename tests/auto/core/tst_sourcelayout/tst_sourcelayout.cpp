// The layout the README's "Architecture" section describes, checked on the sources:
// - no source file of server/, monitor/ or shared/ is longer than 600 lines (a class that
//   needs more does more than one job);
// - includes point down only: shared/ knows neither server/ nor monitor/; in server/,
//   broker/ knows no other part, stream/ and downloads/ know broker/, http/ knows them all;
//   what every part uses (metrics, settings) knows no part; monitor/client/ links no widgets.

#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QTest>

class tst_SourceLayout : public QObject
{
    Q_OBJECT
private slots:
    void filesStaySmall();
    void includesPointDown();
};

static const QString Root = QStringLiteral(HERMES_SOURCE_DIR);
static constexpr int MaxLines = 600;

// Every source file of the three parts, relative to the root.
static QStringList sources()
{
    QStringList out;
    for (const char *part : {"server", "monitor", "shared"}) {
        QDirIterator it(Root + u'/' + QLatin1StringView(part), {QStringLiteral("*.cpp"), QStringLiteral("*.h")},
                        QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext())
            out << it.next().mid(Root.size() + 1);
    }
    out.sort();
    return out;
}

static QStringList linesOf(const QString &relative)
{
    QFile file(Root + u'/' + relative);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(file.readAll()).split(u'\n');
}

void tst_SourceLayout::filesStaySmall()
{
    const QStringList files = sources();
    QVERIFY(files.size() > 50);
    QStringList tooLong;
    int longest = 0;
    QString longestFile;
    for (const QString &f : files) {
        QStringList lines = linesOf(f);
        if (!lines.isEmpty() && lines.last().isEmpty())
            lines.removeLast(); // the newline that ends the last line
        if (lines.size() > longest) {
            longest = int(lines.size());
            longestFile = f;
        }
        if (lines.size() > MaxLines)
            tooLong << QStringLiteral("%1: %2 lines").arg(f).arg(lines.size());
    }
    qInfo().noquote() << "longest source file:" << longestFile << longest << "lines";
    QVERIFY2(tooLong.isEmpty(), qPrintable(tooLong.join(u'\n')));
}

// What a folder may include, by the first path segment of a quoted include ("stream/…").
// Includes without a folder are of the same folder or of shared/ (hermes-core's include root).
struct Rule
{
    QString folder;           ///< a prefix of the relative path
    QStringList forbidden;    ///< include prefixes it must not use
};

void tst_SourceLayout::includesPointDown()
{
    const QList<Rule> rules{
        {QStringLiteral("shared/"), {QStringLiteral("server/"), QStringLiteral("monitor/"), QStringLiteral("http/"),
                                     QStringLiteral("stream/"), QStringLiteral("downloads/"), QStringLiteral("broker/"),
                                     QStringLiteral("settings/"), QStringLiteral("QtWidgets"), QStringLiteral("QtNetwork")}},
        {QStringLiteral("server/broker/"), {QStringLiteral("http/"), QStringLiteral("stream/"), QStringLiteral("downloads/")}},
        {QStringLiteral("server/stream/"), {QStringLiteral("http/"), QStringLiteral("downloads/")}},
        {QStringLiteral("server/downloads/"), {QStringLiteral("http/"), QStringLiteral("stream/")}},
        {QStringLiteral("server/settings/"), {QStringLiteral("http/"), QStringLiteral("stream/"), QStringLiteral("downloads/"),
                                              QStringLiteral("broker/")}},
        {QStringLiteral("server/metrics"), {QStringLiteral("http/"), QStringLiteral("stream/"), QStringLiteral("downloads/"),
                                            QStringLiteral("broker/")}},
        {QStringLiteral("server/"), {QStringLiteral("monitor/"), QStringLiteral("QtWidgets")}},
        {QStringLiteral("monitor/client/"), {QStringLiteral("server/"), QStringLiteral("app/"), QStringLiteral("QtWidgets")}},
        {QStringLiteral("monitor/"), {QStringLiteral("server/"), QStringLiteral("http/"), QStringLiteral("stream/"),
                                      QStringLiteral("downloads/"), QStringLiteral("broker/")}},
    };
    static const QRegularExpression include(QStringLiteral("^\\s*#\\s*include\\s*[<\"]([^>\"]+)[>\"]"));
    static const QSet<QString> widgetHeaders{
        QStringLiteral("QWidget"), QStringLiteral("QAction"), QStringLiteral("QMainWindow"), QStringLiteral("QApplication"),
        QStringLiteral("QDialog"), QStringLiteral("QLabel"), QStringLiteral("QMenu"), QStringLiteral("QSystemTrayIcon")};
    QStringList problems;
    for (const QString &f : sources()) {
        const QStringList lines = linesOf(f);
        for (int n = 0; n < lines.size(); ++n) {
            const auto m = include.match(lines.at(n));
            if (!m.hasMatch())
                continue;
            QString target = m.captured(1);
            if (widgetHeaders.contains(target))
                target = QStringLiteral("QtWidgets/") + target;
            for (const Rule &rule : rules) {
                if (!f.startsWith(rule.folder))
                    continue;
                for (const QString &prefix : rule.forbidden) {
                    if (target.startsWith(prefix))
                        problems << QStringLiteral("%1:%2 includes %3").arg(f).arg(n + 1).arg(m.captured(1));
                }
            }
        }
    }
    problems.removeDuplicates();
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u'\n')));
}

QTEST_MAIN(tst_SourceLayout)
#include "tst_sourcelayout.moc"
