#include "downloads/filenames.h"
#include "downloads/transferrate.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace Hermes;

class tst_FileNames : public QObject
{
    Q_OBJECT

private slots:
    void sanitize_data();
    void sanitize();
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
