#include "downloads/filenames.h"
#include "downloads/transferrate.h"

#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <iterator>

using namespace Hermes;

class tst_FileNames : public QObject
{
    Q_OBJECT

private slots:
    void sanitize_data();
    void sanitize();
    void invisibleAndBidiCharactersGo_data();
    void invisibleAndBidiCharactersGo();
    void randomCodePointsGiveSafeNames();
    void contentDisposition_data();
    void contentDisposition();
    void numberedGoesBeforeEveryExtension();
    void transferRateIsASlidingWindow();
};

void tst_FileNames::sanitize_data()
{
    QTest::addColumn<QString>("proposed");
    QTest::addColumn<QString>("expected");
    QTest::newRow("plain") << "file.iso" << "file.iso";
    QTest::newRow("traversal") << "../../etc/passwd" << "passwd";
    QTest::newRow("absolute") << "/etc/shadow" << "shadow";
    QTest::newRow("windows traversal") << "..\\..\\boot.ini" << "boot.ini";
    QTest::newRow("dot dot") << ".." << "";
    QTest::newRow("hidden") << ".bashrc" << "bashrc";
    QTest::newRow("NUL inside") << QStringLiteral("a") + QChar(0) + QStringLiteral("b.txt") << "ab.txt";
    QTest::newRow("control") << "a\nb\r.txt" << "ab.txt";
    QTest::newRow("reserved") << "CON" << "_CON";
    QTest::newRow("reserved with ext") << "nul.txt" << "_nul.txt";
    QTest::newRow("not reserved") << "console.txt" << "console.txt";
    QTest::newRow("windows chars") << "a<b>c:d|e?.txt" << "a_b_c_d_e_.txt";
    QTest::newRow("trailing dots") << "name..." << "name";
    QTest::newRow("empty") << "" << "";
    QTest::newRow("unicode") << QStringLiteral("caf\u00e9.txt") << QStringLiteral("caf\u00e9.txt");
    QTest::newRow("long") << QString(300, u'a') << QString(200, u'a');
}

void tst_FileNames::sanitize()
{
    QFETCH(QString, proposed);
    QFETCH(QString, expected);
    QCOMPARE(FileNames::sanitize(proposed), expected);
}

void tst_FileNames::invisibleAndBidiCharactersGo_data()
{
    QTest::addColumn<QString>("proposed");
    QTest::addColumn<QString>("expected");
    // "invoice" RLO "fdp.exe" reads as "invoiceexe.pdf" in a list of files.
    QTest::newRow("RLO") << QStringLiteral("invoice\u202Efdp.exe") << "invoicefdp.exe";
    QTest::newRow("LRM RLM") << QStringLiteral("a\u200Eb\u200F.txt") << "ab.txt";
    QTest::newRow("embeddings") << QStringLiteral("\u202Aa\u202Bb\u202Cc\u202Dd.txt") << "abcd.txt";
    QTest::newRow("isolates") << QStringLiteral("\u2066a\u2067b\u2068c\u2069.txt") << "abc.txt";
    QTest::newRow("arabic letter mark") << QStringLiteral("a\u061Cb") << "ab";
    QTest::newRow("zero width space, word joiner, BOM") << QStringLiteral("\uFEFFa\u200Bb\u2060c") << "abc";
    QTest::newRow("line and paragraph separators") << QStringLiteral("a\u2028b\u2029c") << "abc";
    QTest::newRow("C1 NEL") << QStringLiteral("a\u0085b") << "ab";
    QTest::newRow("DEL") << QStringLiteral("a\u007Fb") << "ab";
    QTest::newRow("tab") << "a\tb" << "ab";
    QTest::newRow("lone surrogates") << QString(QChar(0xD800)) + u'a' + QChar(0xDC00) + u'b' << "ab";
    QTest::newRow("pair kept") << QStringLiteral("\U0001F600.png") << QStringLiteral("\U0001F600.png");
    QTest::newRow("tag characters") << QStringLiteral("a\U000E0041b") << "ab";
    // ZWJ and ZWNJ stay: words of Persian and Indic scripts, and emoji sequences, need them.
    QTest::newRow("ZWNJ kept") << QStringLiteral("\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645")
                               << QStringLiteral("\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645");
    QTest::newRow("hidden behind a bidi mark") << QStringLiteral("\u200E.bashrc") << "bashrc";
    QTest::newRow("dot dot behind marks") << QStringLiteral(".\u202E.") << "";
    QTest::newRow("only marks") << QStringLiteral("\u202E\u2066\u200F") << "";
}

void tst_FileNames::invisibleAndBidiCharactersGo()
{
    QFETCH(QString, proposed);
    QFETCH(QString, expected);
    QCOMPARE(FileNames::sanitize(proposed), expected);
    // The same from a server: Content-Disposition (UTF-8, percent-encoded) and the URL's path.
    const QByteArray encoded = proposed.toUtf8().toPercentEncoding();
    if (!proposed.contains(QChar(0xD800))) { // (a lone surrogate has no UTF-8)
        QCOMPARE(FileNames::sanitize(FileNames::fromContentDisposition("attachment; filename*=UTF-8''" + encoded)), expected);
        QCOMPARE(FileNames::sanitize(FileNames::fromUrl(QUrl(QStringLiteral("http://h/d/") + QString::fromLatin1(encoded)))),
                 expected);
    }
}

// What no name may hold, written out here apart from the sanitizer's own test of characters.
static bool forbidden(char32_t c)
{
    static const char32_t bidi[] = {0x061C, 0x200B, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
                                    0x2028, 0x2029, 0x2060, 0x2066, 0x2067, 0x2068, 0x2069, 0xFEFF};
    return c < 0x20 || (c >= 0x7F && c <= 0x9F) || (c >= 0xD800 && c <= 0xDFFF) || c == u'/' || c == u'\\'
        || std::find(std::begin(bidi), std::end(bidi), c) != std::end(bidi)
        || (QChar::category(c) == QChar::Other_Format && c != 0x200C && c != 0x200D);
}

void tst_FileNames::randomCodePointsGiveSafeNames()
{
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_SEED") ? quint32(qEnvironmentVariableIntValue("HERMES_SEED"))
                                                                   : QRandomGenerator::global()->generate();
    qInfo("seed %u (HERMES_SEED=%u repeats it)", seed, seed);
    QRandomGenerator rng(seed);
    // Code points drawn where trouble lives (controls, bidi, formats, surrogates, dots,
    // slashes, spaces, reserved names' letters) and anywhere else.
    static const char32_t hot[] = {0x00, 0x09, 0x0A, 0x1F, 0x20, u'.', u'/', u'\\', u':', u'C', u'O', u'N',
                                   0x7F, 0x85, 0x9F, 0xA0, 0xAD, 0x061C, 0x200B, 0x200C, 0x200D, 0x200E,
                                   0x200F, 0x2028, 0x2029, 0x202A, 0x202E, 0x2066, 0x2069, 0x3000, 0xD800,
                                   0xDC00, 0xFEFF, 0xFFFE, 0xFFFF, 0x1F600, 0xE0041, 0x10FFFF};
    for (int round = 0; round < 20000; ++round) {
        QString proposed;
        const int length = int(rng.bounded(1, round % 10 == 0 ? 400 : 24));
        for (int i = 0; i < length; ++i) {
            const quint32 pick = rng.bounded(4);
            char32_t c = pick == 0 ? hot[rng.bounded(quint32(std::size(hot)))]
                       : pick == 1 ? char32_t(rng.bounded(0x80))
                       : pick == 2 ? char32_t(rng.bounded(0x10000))
                                   : char32_t(rng.bounded(0x110000));
            if (c >= 0xD800 && c <= 0xDFFF)
                proposed += QChar(char16_t(c)); // a lone half, on purpose
            else
                proposed += QStringView(QChar::fromUcs4(c));
        }
        const QString name = FileNames::sanitize(proposed);
        const QByteArray utf8 = name.toUtf8();
        QVERIFY2(utf8.size() <= 255, qPrintable(QStringLiteral("round %1: %2 bytes").arg(round).arg(utf8.size())));
        // Empty means nothing usable: the API refuses such a name, a derived one falls back.
        QVERIFY2(name != u"." && name != u"..", qPrintable(QString::number(round)));
        QVERIFY(name.isEmpty() || !name.startsWith(u'.'));
        const QList<uint> codes = name.toUcs4();
        for (const uint c : codes)
            QVERIFY2(!forbidden(c), qPrintable(QStringLiteral("round %1: U+%2 in %3").arg(round).arg(c, 4, 16, QLatin1Char('0'))
                                                    .arg(QString::fromLatin1(name.toUtf8().toPercentEncoding()))));
        // Lone surrogates would turn into U+FFFD in UTF-8 and come back as something else.
        QCOMPARE(QString::fromUtf8(utf8), name);
        QCOMPARE(FileNames::sanitize(name), name); // a sanitized name stays as it is
    }
}

void tst_FileNames::contentDisposition_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QString>("expected");
    QTest::newRow("quoted") << QByteArray("attachment; filename=\"report.pdf\"") << "report.pdf";
    QTest::newRow("token") << QByteArray("attachment; filename=report.pdf") << "report.pdf";
    QTest::newRow("extended wins") << QByteArray("attachment; filename=\"a.txt\"; filename*=UTF-8''%e2%82%ac%20rates.txt")
                                   << QStringLiteral("\u20ac rates.txt");
    QTest::newRow("none") << QByteArray("inline") << "";
}

void tst_FileNames::contentDisposition()
{
    QFETCH(QByteArray, header);
    QFETCH(QString, expected);
    QCOMPARE(FileNames::fromContentDisposition(header), expected);
}

void tst_FileNames::numberedGoesBeforeEveryExtension()
{
    QCOMPARE(FileNames::numbered(QStringLiteral("a.tar.gz"), 0), QStringLiteral("a.tar.gz"));
    QCOMPARE(FileNames::numbered(QStringLiteral("a.tar.gz"), 1), QStringLiteral("a (1).tar.gz"));
    QCOMPARE(FileNames::numbered(QStringLiteral("a.tar.gz"), 2), QStringLiteral("a (2).tar.gz"));
    QCOMPARE(FileNames::numbered(QStringLiteral("noext"), 1), QStringLiteral("noext (1)"));
}

void tst_FileNames::transferRateIsASlidingWindow()
{
    TransferRate rate(5000);
    QCOMPARE(rate.bytesPerSecond(0), 0.0);
    for (int s = 0; s < 10; ++s)
        rate.add(s * 1000, 1000); // 1 KB/s for 10 s
    QCOMPARE(qRound(rate.bytesPerSecond(9000)), 1200); // 6 samples over the last 5 s window
    for (int s = 10; s < 20; ++s)
        rate.add(s * 1000, 100000); // then 100 KB/s
    QVERIFY(rate.bytesPerSecond(19000) > 100000); // the slow start no longer counts
    QCOMPARE(rate.bytesPerSecond(60000), 0.0);     // a stall reads as zero
}

QTEST_MAIN(tst_FileNames)
#include "tst_filenames.moc"
