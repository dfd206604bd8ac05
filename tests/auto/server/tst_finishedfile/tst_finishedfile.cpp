// FinishedFile: the SHA-256 check (off the event loop, answered on the caller's thread, not at
// all once the caller is gone) and the move into place, never over an existing file, with the
// finished file's mode.

#include "downloads/finishedfile.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <optional>

using namespace Hermes;

class tst_FinishedFile : public QObject
{
    Q_OBJECT

private slots:
    void verifies_data();
    void verifies();
    void answersNobodyOnceTheCallerIsGone();
    void movesIntoPlaceNeverOverAnExistingFile();
    void givesTheFinishedFileItsMode();
    void missingPartFileCannotBeMoved();

private:
    QString write(const QString &name, const QByteArray &bytes)
    {
        const QString path = QDir(m_dir.path()).filePath(name);
        QFile f(path);
        if (f.open(QIODevice::WriteOnly))
            f.write(bytes);
        return path;
    }
    QTemporaryDir m_dir;
};

void tst_FinishedFile::verifies_data()
{
    QTest::addColumn<QString>("expected");
    QTest::addColumn<bool>("ok");
    const QByteArray content = "the whole file";
    const QString digest = QString::fromLatin1(QCryptographicHash::hash(content, QCryptographicHash::Sha256).toHex());
    QTest::newRow("matches") << digest << true;
    QTest::newRow("no hash asked") << QString() << true;
    QTest::newRow("differs") << QString(64, u'0') << false;
}

void tst_FinishedFile::verifies()
{
    QFETCH(QString, expected);
    QFETCH(bool, ok);
    const QString path = write(QStringLiteral("x.part"), "the whole file");
    std::optional<Result<void>> verdict;
    QThread *answeredOn = nullptr;
    FinishedFile::verify(this, path, expected, [&](Result<void> r) {
        verdict.emplace(r);
        answeredOn = QThread::currentThread();
    });
    QVERIFY(!verdict); // later, not from the call
    QTRY_VERIFY_WITH_TIMEOUT(verdict.has_value(), 5000);
    QCOMPARE(answeredOn, thread());
    QCOMPARE(verdict->ok(), ok);
    if (!ok) {
        QCOMPARE(verdict->error().code, QByteArray("checksum_mismatch"));
        QCOMPARE(verdict->error().message,
                 QStringLiteral("SHA-256 mismatch: expected %1, got %2")
                     .arg(expected, QString::fromLatin1(QCryptographicHash::hash("the whole file", QCryptographicHash::Sha256).toHex())));
    }
}

void tst_FinishedFile::answersNobodyOnceTheCallerIsGone()
{
    const QString path = write(QStringLiteral("y.part"), QByteArray(1 << 20, 'y'));
    bool answered = false;
    auto *caller = new QObject;
    FinishedFile::verify(caller, path, QString(64, u'1'), [&](Result<void>) { answered = true; });
    delete caller;
    QTest::qWait(300);
    QVERIFY(!answered);
}

void tst_FinishedFile::movesIntoPlaceNeverOverAnExistingFile()
{
    write(QStringLiteral("a.tar.gz"), "someone else's");
    const QString part = write(QStringLiteral("1.part"), "mine");
    const Result<QString> placed = FinishedFile::moveIntoPlace(part, m_dir.path(), QStringLiteral("a.tar.gz"), -1);
    QVERIFY(placed);
    QCOMPARE(*placed, QDir(m_dir.path()).filePath(QStringLiteral("a (1).tar.gz")));
    QVERIFY(!QFile::exists(part));
    QFile existing(QDir(m_dir.path()).filePath(QStringLiteral("a.tar.gz")));
    QVERIFY(existing.open(QIODevice::ReadOnly));
    QCOMPARE(existing.readAll(), QByteArray("someone else's"));
}

void tst_FinishedFile::givesTheFinishedFileItsMode()
{
    const QString part = write(QStringLiteral("2.part"), "shared");
    const Result<QString> placed = FinishedFile::moveIntoPlace(part, m_dir.path(), QStringLiteral("shared.bin"), 0640);
    QVERIFY(placed);
    QCOMPARE(QFileInfo(*placed).permissions() & (QFile::ReadGroup | QFile::WriteGroup | QFile::ReadOther),
             QFileDevice::Permissions(QFile::ReadGroup));
}

void tst_FinishedFile::missingPartFileCannotBeMoved()
{
    const Result<QString> placed = FinishedFile::moveIntoPlace(QDir(m_dir.path()).filePath(QStringLiteral("gone.part")),
                                                               m_dir.path(), QStringLiteral("gone.bin"), -1);
    QVERIFY(!placed);
    QCOMPARE(placed.error().message, QStringLiteral("cannot move the file into place"));
}

QTEST_MAIN(tst_FinishedFile)
#include "tst_finishedfile.moc"
