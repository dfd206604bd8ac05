// DownloadDir: a download dir that cannot be tricked. Links, FIFOs and directories planted
// under the names the engine uses are never followed, opened for writing or replaced; files are
// created only new; renames never replace and never copy through a link; a FIFO never blocks;
// reserved (.part) names are never a finished file's; the part files of every generation of a
// download are found (and only those).

#include "downloads/downloaddir.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Hermes;

class tst_DownloadDir : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void partNames();
    void createsOnlyNewFilesNeverThroughALink();
    void opensOnlyRegularFilesAndAFifoNeverBlocks();
    void existenceDoesNotFollowLinks();
    void renameNeverReplacesAnything_data();
    void renameNeverReplacesAnything();
    void placeTakesTheNextFreeName();
    void reservedNamesAreNeverFinishedNames();
    void partsOfEveryGenerationAndOnlyThose();
    void setModeDoesNotFollowALink();
    void removeTakesTheLinkNotItsTarget();
    void nothingWorksBeforeOpen();

private:
    QString write(const QString &path, const QByteArray &bytes) const;
    QByteArray read(const QString &path) const;

    std::unique_ptr<QTemporaryDir> m_root;
    QString m_outside;      ///< where planted links point: nothing may change here
    std::unique_ptr<DownloadDir> m_dir;
};

void tst_DownloadDir::init()
{
    m_root = std::make_unique<QTemporaryDir>();
    QVERIFY(QDir(m_root->path()).mkpath(QStringLiteral("downloads")));
    QVERIFY(QDir(m_root->path()).mkpath(QStringLiteral("outside")));
    m_outside = m_root->filePath(QStringLiteral("outside"));
    m_dir = std::make_unique<DownloadDir>(m_root->filePath(QStringLiteral("downloads")));
    QVERIFY(m_dir->open());
}

QString tst_DownloadDir::write(const QString &path, const QByteArray &bytes) const
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
        qWarning() << "cannot write" << path;
    return path;
}

QByteArray tst_DownloadDir::read(const QString &path) const
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void tst_DownloadDir::partNames()
{
    QCOMPARE(DownloadDir::partName(QStringLiteral("abc"), 7), QStringLiteral("abc.7.part"));
    QCOMPARE(DownloadDir::partName(QStringLiteral("abc"), 0), QStringLiteral("abc.part")); // older releases'
}

void tst_DownloadDir::createsOnlyNewFilesNeverThroughALink()
{
    const QString key = write(m_outside + QStringLiteral("/key"), "secret");
    QVERIFY(QFile::link(key, m_dir->pathOf(QStringLiteral("a.1.part"))));
    QVERIFY(QFile::link(m_outside + QStringLiteral("/dangling"), m_dir->pathOf(QStringLiteral("a.2.part"))));
    write(m_dir->pathOf(QStringLiteral("a.3.part")), "old");
    for (const char *name : {"a.1.part", "a.2.part", "a.3.part"}) {
        const Result<int> fd = m_dir->createFile(QString::fromLatin1(name));
        QVERIFY2(!fd, name);
        QCOMPARE(fd.error().kind, Error::Kind::Conflict);
        QVERIFY(fd.error().message.contains(m_dir->pathOf(QString::fromLatin1(name))));
    }
    QCOMPARE(read(key), QByteArray("secret"));
    QVERIFY(!QFileInfo::exists(m_outside + QStringLiteral("/dangling"))); // the link's target was not created
    const Result<int> fd = m_dir->createFile(QStringLiteral("a.4.part"));
    QVERIFY(fd);
    QCOMPARE(::write(*fd, "new", 3), ssize_t(3));
    ::close(*fd);
    QCOMPARE(read(m_dir->pathOf(QStringLiteral("a.4.part"))), QByteArray("new"));
}

void tst_DownloadDir::opensOnlyRegularFilesAndAFifoNeverBlocks()
{
    const QString key = write(m_outside + QStringLiteral("/key"), "secret");
    QVERIFY(QFile::link(key, m_dir->pathOf(QStringLiteral("link.part"))));
    QCOMPARE(::mkfifo(QFile::encodeName(m_dir->pathOf(QStringLiteral("fifo.part"))).constData(), 0600), 0);
    QVERIFY(QDir(m_dir->path()).mkdir(QStringLiteral("dir.part")));
    QElapsedTimer timer;
    timer.start();
    for (const char *name : {"link.part", "fifo.part", "dir.part", "missing.part"}) {
        const Result<int> fd = m_dir->openRegular(QString::fromLatin1(name));
        QVERIFY2(!fd, name);
        QVERIFY2(fd.error().message.contains(m_dir->pathOf(QString::fromLatin1(name))), qPrintable(fd.error().message));
    }
    QVERIFY(timer.elapsed() < 2000); // the FIFO with no writer did not block
    write(m_dir->pathOf(QStringLiteral("ok.part")), "bytes");
    const Result<int> fd = m_dir->openRegular(QStringLiteral("ok.part"));
    QVERIFY(fd);
    ::close(*fd);
}

void tst_DownloadDir::existenceDoesNotFollowLinks()
{
    QVERIFY(QFile::link(m_outside + QStringLiteral("/nothing"), m_dir->pathOf(QStringLiteral("dangling"))));
    QVERIFY(m_dir->exists(QStringLiteral("dangling"))); // QFileInfo::exists would say no
    QVERIFY(!m_dir->isRegularFile(QStringLiteral("dangling")));
    QVERIFY(!m_dir->exists(QStringLiteral("nothing")));
    write(m_dir->pathOf(QStringLiteral("file")), "x");
    QVERIFY(m_dir->isRegularFile(QStringLiteral("file")));
}

void tst_DownloadDir::renameNeverReplacesAnything_data()
{
    QTest::addColumn<QString>("planted");
    QTest::newRow("a file") << QStringLiteral("file");
    QTest::newRow("a link to a file outside") << QStringLiteral("link");
    QTest::newRow("a dangling link") << QStringLiteral("dangling");
    QTest::newRow("a FIFO") << QStringLiteral("fifo");
    QTest::newRow("a directory") << QStringLiteral("dir");
}

void tst_DownloadDir::renameNeverReplacesAnything()
{
    QFETCH(QString, planted);
    const QString key = write(m_outside + QStringLiteral("/key"), "secret");
    const QString target = m_dir->pathOf(QStringLiteral("movie.mkv"));
    if (planted == u"file")
        write(target, "someone else's");
    else if (planted == u"link")
        QVERIFY(QFile::link(key, target));
    else if (planted == u"dangling")
        QVERIFY(QFile::link(m_outside + QStringLiteral("/new"), target));
    else if (planted == u"fifo")
        QCOMPARE(::mkfifo(QFile::encodeName(target).constData(), 0600), 0);
    else
        QVERIFY(QDir(m_dir->path()).mkdir(QStringLiteral("movie.mkv")));
    write(m_dir->pathOf(QStringLiteral("x.1.part")), "mine");
    const Result<void> renamed = m_dir->renameNoReplace(QStringLiteral("x.1.part"), QStringLiteral("movie.mkv"));
    QVERIFY(!renamed);
    QCOMPARE(renamed.error().kind, Error::Kind::Conflict);
    QCOMPARE(read(m_dir->pathOf(QStringLiteral("x.1.part"))), QByteArray("mine"));
    QCOMPARE(read(key), QByteArray("secret"));
    QVERIFY(!QFileInfo::exists(m_outside + QStringLiteral("/new")));
    // place() takes the next free name instead, and the planted entry stays as it was.
    const Result<QString> placed = m_dir->place(QStringLiteral("x.1.part"), QStringLiteral("movie.mkv"));
    QVERIFY(placed);
    QCOMPARE(*placed, QStringLiteral("movie (1).mkv"));
    QCOMPARE(read(m_dir->pathOf(*placed)), QByteArray("mine"));
    QCOMPARE(read(key), QByteArray("secret"));
}

void tst_DownloadDir::placeTakesTheNextFreeName()
{
    write(m_dir->pathOf(QStringLiteral("a.tar.gz")), "1");
    write(m_dir->pathOf(QStringLiteral("a (1).tar.gz")), "2");
    write(m_dir->pathOf(QStringLiteral("d.1.part")), "mine");
    QCOMPARE(m_dir->freeName(QStringLiteral("a.tar.gz")), QStringLiteral("a (2).tar.gz"));
    const Result<QString> placed = m_dir->place(QStringLiteral("d.1.part"), QStringLiteral("a.tar.gz"));
    QVERIFY(placed);
    QCOMPARE(*placed, QStringLiteral("a (2).tar.gz"));
    QVERIFY(!m_dir->exists(QStringLiteral("d.1.part")));
    const Result<QString> gone = m_dir->place(QStringLiteral("d.1.part"), QStringLiteral("b"));
    QVERIFY(!gone);
    QVERIFY(gone.error().message.contains(m_dir->pathOf(QStringLiteral("d.1.part"))));
}

void tst_DownloadDir::reservedNamesAreNeverFinishedNames()
{
    QVERIFY(DownloadDir::isReservedName(QStringLiteral("x.part")));
    QVERIFY(DownloadDir::isReservedName(QStringLiteral("other-id.3.PART")));
    QVERIFY(!DownloadDir::isReservedName(QStringLiteral("x.partial")));
    QVERIFY(!DownloadDir::isReservedName(QStringLiteral("part")));
    QCOMPARE(m_dir->freeName(QStringLiteral("notes.part")), QString()); // no variant is free of it either
}

void tst_DownloadDir::partsOfEveryGenerationAndOnlyThose()
{
    for (const char *name : {"abc.part", "abc.1.part", "abc.12.part", "abcd.1.part", "abc.txt", "xabc.1.part"})
        write(m_dir->pathOf(QString::fromLatin1(name)), "x");
    QVERIFY(QFile::link(m_outside + QStringLiteral("/k"), m_dir->pathOf(QStringLiteral("abc.9.part"))));
    QStringList parts = m_dir->partsOf(QStringLiteral("abc"));
    parts.sort();
    QCOMPARE(parts, (QStringList{QStringLiteral("abc.1.part"), QStringLiteral("abc.12.part"),
                                 QStringLiteral("abc.9.part"), QStringLiteral("abc.part")}));
}

void tst_DownloadDir::setModeDoesNotFollowALink()
{
    const QString key = write(m_outside + QStringLiteral("/key"), "secret");
    QFile::setPermissions(key, QFile::ReadOwner | QFile::WriteOwner);
    QVERIFY(QFile::link(key, m_dir->pathOf(QStringLiteral("shared.bin"))));
    QVERIFY(!m_dir->setMode(QStringLiteral("shared.bin"), 0644));
    QCOMPARE(QFileInfo(key).permissions() & QFile::ReadOther, QFileDevice::Permissions());
    write(m_dir->pathOf(QStringLiteral("mine.bin")), "x");
    QVERIFY(m_dir->setMode(QStringLiteral("mine.bin"), 0640));
    QCOMPARE(QFileInfo(m_dir->pathOf(QStringLiteral("mine.bin"))).permissions()
                 & (QFile::ReadGroup | QFile::WriteGroup | QFile::ReadOther),
             QFileDevice::Permissions(QFile::ReadGroup));
}

void tst_DownloadDir::removeTakesTheLinkNotItsTarget()
{
    const QString key = write(m_outside + QStringLiteral("/key"), "secret");
    QVERIFY(QFile::link(key, m_dir->pathOf(QStringLiteral("a.1.part"))));
    QVERIFY(m_dir->remove(QStringLiteral("a.1.part")));
    QVERIFY(!m_dir->exists(QStringLiteral("a.1.part")));
    QCOMPARE(read(key), QByteArray("secret"));
    QVERIFY(!m_dir->remove(QStringLiteral("a.1.part")));
}

void tst_DownloadDir::nothingWorksBeforeOpen()
{
    const DownloadDir closed(m_dir->path());
    QVERIFY(!closed.createFile(QStringLiteral("x.1.part")));
    QVERIFY(!closed.exists(QStringLiteral(".")));
    // Copies share the descriptor: opening one opens them all.
    DownloadDir original(m_root->filePath(QStringLiteral("other")));
    const DownloadDir copy = original;
    QVERIFY(original.open());
    QVERIFY(copy.createFile(QStringLiteral("y.1.part")));
    QVERIFY(QFileInfo::exists(m_root->filePath(QStringLiteral("other/y.1.part"))));
}

QTEST_APPLESS_MAIN(tst_DownloadDir)
#include "tst_downloaddir.moc"
