// DiskSpaceWatch: warns once when the download volume gets low, again only after it had room.

#include "downloads/diskspacewatch.h"

#include <QTemporaryDir>
#include <QTest>

using namespace Hermes;

class tst_DiskSpaceWatch : public QObject
{
    Q_OBJECT

private slots:
    void warnsOnceUntilThereWasRoom();
    void unknownFreeSpaceSaysNothing();
    void realVolume();
};

void tst_DiskSpaceWatch::warnsOnceUntilThereWasRoom()
{
    DiskSpaceWatch watch(QStringLiteral("/srv/downloads"), 100LL << 20);
    QCOMPARE(watch.checkFree(200LL << 20), QString());
    QCOMPARE(watch.checkFree(50LL << 20), QStringLiteral("Disk almost full: 50 MB free for downloads in /srv/downloads"));
    QCOMPARE(watch.checkFree(40LL << 20), QString()); // said already
    QCOMPARE(watch.checkFree(100LL << 20), QString()); // room again
    QCOMPARE(watch.checkFree((100LL << 20) - 1), QStringLiteral("Disk almost full: 99 MB free for downloads in /srv/downloads"));
}

void tst_DiskSpaceWatch::unknownFreeSpaceSaysNothing()
{
    DiskSpaceWatch watch(QStringLiteral("/x"), 100);
    QCOMPARE(watch.checkFree(-1), QString());
}

void tst_DiskSpaceWatch::realVolume()
{
    QTemporaryDir dir;
    DiskSpaceWatch never(dir.path(), 0);
    QCOMPARE(never.check(), QString()); // a threshold of 0: never
    DiskSpaceWatch always(dir.path(), std::numeric_limits<qint64>::max());
    QVERIFY(always.check().startsWith(u"Disk almost full: "));
}

QTEST_APPLESS_MAIN(tst_DiskSpaceWatch)
#include "tst_diskspacewatch.moc"
