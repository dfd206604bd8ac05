// DownloadEngine, the coordinator, against the in-memory store, a fake broker and a real local
// origin: a download's way from claim to completion (writes, events, counters, the lease given
// back), retries with backoff released with their retry time, failures for good with their
// notice, a checksum mismatch, fenced writes (a change elsewhere stops it here; a completion
// that lost its row moves the file back), control through the service stopping the transfer,
// the disk-space warning, a clean stop handing the leases back, and the next download started
// while the last one's file syncs.

#include "enginefixture.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <atomic>
#include <cerrno>
#include <memory>

using namespace Hermes;
using namespace Hermes::Test;

class tst_DownloadEngine : public QObject, private EngineFixture
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void claimToCompletion();
    void completionIsNotAnnouncedBeforeItsDirIsSynced();
    void nextDownloadStartsWhileTheLastOneSyncs();
    void retryableFailureIsReleasedWithItsRetryTime();
    void failureForGood();
    void checksumMismatch();
    void changeElsewhereStopsItHere();
    void completionThatLostItsRowIsNeverMovedIntoPlace();
    void staleClaimNeverPlacesItsFile();
    void completionItsNodeDidNotFinishIsFinishedHere();
    void controlThroughTheServiceStopsTheTransfer();
    void diskSpaceWarning();
    void cleanStopHandsTheLeasesBack();

private:
    Download add(const QByteArray &path, const QString &sha256 = {});
    bool waitStatus(const QString &id, DownloadStatus status, int timeoutMs = 10000)
    {
        return QTest::qWaitFor([&] {
            const auto *row = m_store->row(id);
            return row && row->d.status == status;
        }, timeoutMs);
    }
    QList<DownloadStatus> progressStatuses(const QString &id) const;
    QStringList notices() const;
    /// The part files of `id`, of every generation.
    QStringList parts(const QString &id) const
    {
        return QDir(dir()).entryList({id + QStringLiteral(".*part")}, QDir::Files | QDir::System);
    }
};

void tst_DownloadEngine::init()
{
    setUp();
}

void tst_DownloadEngine::cleanup()
{
    tearDown();
}

Download tst_DownloadEngine::add(const QByteArray &path, const QString &sha256)
{
    return addUrl(m_files->url(path), sha256);
}

QList<DownloadStatus> tst_DownloadEngine::progressStatuses(const QString &id) const
{
    QList<DownloadStatus> out;
    for (const Event &e : m_broker->ofType(u"download_progress")) {
        const DownloadProgressEvent p = DownloadProgressEvent::fromJson(e.data);
        if (p.downloadId == id && p.status && p.status->known && (out.isEmpty() || out.last() != *p.status->known))
            out.append(*p.status->known);
    }
    return out;
}

QStringList tst_DownloadEngine::notices() const
{
    QStringList out;
    for (const Event &e : m_broker->ofType(u"system_notification"))
        out << SystemNotificationEvent::fromJson(e.data).message;
    return out;
}

static QString sha256Of(const QByteArray &bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

void tst_DownloadEngine::claimToCompletion()
{
    const QByteArray content = FileServer::makeContent(256 * 1024, 1);
    FileServer::File f{content};
    f.bytesPerSecond = 1024 * 1024;
    m_files->addFile("/files/done.bin", f);
    DownloadEngine *engine = makeEngine();
    const Download d = add("/files/done.bin", sha256Of(content));
    QVERIFY(!d.id.isEmpty());
    QVERIFY(waitStatus(d.id, DownloadStatus::Completed));
    // Saved first, then moved into place, then announced: once announced, the file is there.
    QTRY_VERIFY_WITH_TIMEOUT(progressStatuses(d.id).contains(DownloadStatus::Completed), 5000);
    QCOMPARE(engine->stats().dirSyncs, 1u); // and its rename made durable before that
    const auto &row = m_store->row(d.id)->d;
    QCOMPARE(row.filename, QStringLiteral("done.bin"));
    QCOMPARE(row.downloadedBytes, content.size());
    QCOMPARE(row.totalBytes, content.size());
    QCOMPARE(row.percent, 100.0);
    QVERIFY(row.completedAt.isValid());
    QVERIFY(row.owner.isEmpty()); // the lease went with the last write
    QFile file(QDir(dir()).filePath(QStringLiteral("done.bin")));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), content);
    QCOMPARE(parts(d.id), QStringList());
    QTRY_COMPARE_WITH_TIMEOUT(progressStatuses(d.id),
                              (QList<DownloadStatus>{DownloadStatus::Pending, DownloadStatus::Downloading,
                                                     DownloadStatus::Processing, DownloadStatus::Completed}), 5000);
    QCOMPARE(notices(), QStringList{QStringLiteral("Download completed: done.bin")});
    QCOMPARE(engine->stats().completed, 1u);
    QCOMPARE(engine->stats().bytes, quint64(content.size()));
    QCOMPARE(engine->runningCount(), 0);
    // Every status change went to the queue as well.
    int changes = 0;
    for (const Event &e : m_broker->ofType(u"queue_update"))
        changes += QueueUpdateEvent::fromJson(e.data).action == QueueAction::StatusChanged;
    QCOMPARE(changes, 3);
}

void tst_DownloadEngine::completionIsNotAnnouncedBeforeItsDirIsSynced()
{
    // The first sync of the dir fails: the completion is saved (marked as not yet announced)
    // but neither announced nor its mark cleared; once the lease expired, the next claim syncs
    // the dir again and only then announces it, once.
    const QByteArray content = FileServer::makeContent(64 * 1024, 3);
    m_files->addFile("/files/unsynced.bin", FileServer::File{content});
    DownloadEngine *engine = makeEngine();
    auto failures = std::make_shared<std::atomic<int>>(1);
    engine->directorySync().setSyncer([failures](const DownloadDir &dir) {
        return failures->fetch_sub(1) > 0 ? EIO : dir.sync();
    });
    const Download d = add("/files/unsynced.bin", sha256Of(content));
    QVERIFY(!d.id.isEmpty());
    QVERIFY(waitStatus(d.id, DownloadStatus::Completed));
    QTRY_COMPARE_WITH_TIMEOUT(engine->stats().dirSyncs, 1u, 5000);
    QTest::qWait(300); // what a wrongly announced completion would have sent by now
    QVERIFY(!progressStatuses(d.id).contains(DownloadStatus::Completed));
    QCOMPARE(notices(), QStringList());
    QCOMPARE(m_store->row(d.id)->d.announce, QStringLiteral("completed"));
    QCOMPARE(engine->stats().completed, 0u);
    m_store->row(d.id)->leaseUntil = m_store->nowMs - 1; // expired
    QTRY_VERIFY_WITH_TIMEOUT(progressStatuses(d.id).contains(DownloadStatus::Completed), 5000);
    QCOMPARE(engine->stats().dirSyncs, 2u);
    QTRY_COMPARE_WITH_TIMEOUT(m_store->row(d.id)->d.announce, QString(), 5000);
    QTRY_VERIFY_WITH_TIMEOUT(m_store->row(d.id)->d.owner.isEmpty(), 5000);
    QCOMPARE(notices(), QStringList{QStringLiteral("Download completed: unsynced.bin")});
    QCOMPARE(engine->stats().completed, 1u);
    QVERIFY(QFile::exists(QDir(dir()).filePath(QStringLiteral("unsynced.bin"))));
}

void tst_DownloadEngine::nextDownloadStartsWhileTheLastOneSyncs()
{
    // One transfer at a time. The first download's file sync is held up (bounded) until the
    // test lets it go: meanwhile the second is claimed and transferred — a download being
    // synced is no longer one of the transfers — and the first is still processing, its
    // completion not announced before its sync ended.
    const QByteArray first = FileServer::makeContent(64 * 1024, 4);
    const QByteArray second = FileServer::makeContent(64 * 1024, 5);
    m_files->addFile("/files/first.bin", FileServer::File{first});
    m_files->addFile("/files/second.bin", FileServer::File{second});
    DownloadEngine *engine = makeEngine([](DownloadEngine::Options &o) { o.maxConcurrent = 1; });
    auto letGo = std::make_shared<std::atomic<bool>>(false);
    auto held = std::make_shared<std::atomic<int>>(0);
    const auto alwaysLetGo = qScopeGuard([letGo] { letGo->store(true); }); // a failed check too
    engine->setFileSyncer([letGo, held](int fd) {
        if (held->fetch_add(1) == 0) { // the first file's sync: until let go, 10 s at most
            for (int i = 0; i < 1000 && !letGo->load(); ++i)
                QThread::msleep(10);
        }
        return FinishedFile::fdatasync(fd);
    });
    const Download a = add("/files/first.bin");
    QVERIFY(waitStatus(a.id, DownloadStatus::Processing));
    const Download b = add("/files/second.bin");
    QVERIFY(!b.id.isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(held->load(), 2, 5000); // the second's bytes are all in, its sync began
    QCOMPARE(m_store->row(a.id)->d.status, DownloadStatus::Processing);
    QVERIFY(!progressStatuses(a.id).contains(DownloadStatus::Completed));
    letGo->store(true);
    QVERIFY(waitStatus(a.id, DownloadStatus::Completed));
    QVERIFY(waitStatus(b.id, DownloadStatus::Completed));
    QTRY_COMPARE_WITH_TIMEOUT(engine->stats().completed, 2u, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(engine->runningCount(), 0, 5000);
}

void tst_DownloadEngine::retryableFailureIsReleasedWithItsRetryTime()
{
    FileServer::File broken{"x"};
    broken.status = 503;
    m_files->addFile("/broken", broken);
    DownloadEngine *engine = makeEngine();
    const Download d = add("/broken");
    // Released with a retry time, and claimed again when it came (the store's clock stands
    // still here: the first retry waits until the test moves it).
    QVERIFY(QTest::qWaitFor([&] { return m_store->row(d.id)->d.attempts == 1; }, 10000));
    const auto *row = m_store->row(d.id);
    QCOMPARE(row->d.status, DownloadStatus::Pending);
    // The wait is jittered within [base/2, base] (a fleet that failed together does not all
    // come back together), and the message says how long.
    const qint64 first = row->notBefore - m_store->nowMs;
    QVERIFY2(first >= 25 && first <= 50, qPrintable(QString::number(first)));
    QCOMPARE(row->d.errorMessage, QStringLiteral("HTTP 503 Error; retrying in %1 s (attempt 2)").arg(first / 1000.0));
    QVERIFY(row->d.owner.isEmpty());
    QCOMPARE(engine->stats().retried, 1u);
    QTest::qWait(200);
    QCOMPARE(m_files->requests("/broken"), 1); // not before its time
    m_store->nowMs += 50;
    QVERIFY(QTest::qWaitFor([&] { return m_store->row(d.id)->d.attempts == 2; }, 10000));
    const qint64 second = m_store->row(d.id)->notBefore - m_store->nowMs; // the wait doubled
    QVERIFY2(second >= 50 && second <= 100, qPrintable(QString::number(second)));
    m_store->nowMs += 100;
    QVERIFY(waitStatus(d.id, DownloadStatus::Failed)); // the third attempt was the last (the cap)
    QCOMPARE(m_files->requests("/broken"), 3);
    QVERIFY2(m_store->row(d.id)->d.errorMessage.startsWith(QStringLiteral("HTTP 503 Error (retried for ")),
             qPrintable(m_store->row(d.id)->d.errorMessage));
    QCOMPARE(engine->stats().retried, 2u);
    QCOMPARE(engine->stats().failed, 1u);
}

void tst_DownloadEngine::failureForGood()
{
    FileServer::File missing{"x"};
    missing.status = 404;
    m_files->addFile("/missing.iso", missing);
    DownloadEngine *engine = makeEngine();
    const Download d = add("/missing.iso");
    QVERIFY(waitStatus(d.id, DownloadStatus::Failed));
    QCOMPARE(m_store->row(d.id)->d.errorMessage, QStringLiteral("HTTP 404 Error"));
    QCOMPARE(m_store->row(d.id)->d.attempts, 0);
    QTRY_COMPARE_WITH_TIMEOUT(notices(), QStringList{QStringLiteral("Download failed: missing.iso: HTTP 404 Error")}, 5000);
    QCOMPARE(engine->stats().failed, 1u);
    QCOMPARE(m_files->requests("/missing.iso"), 1);
}

void tst_DownloadEngine::checksumMismatch()
{
    m_files->addFile("/sum.bin", {FileServer::makeContent(10000, 2)});
    makeEngine();
    const Download d = add("/sum.bin", QString(64, u'0'));
    QVERIFY(waitStatus(d.id, DownloadStatus::Failed));
    const auto &row = m_store->row(d.id)->d;
    QVERIFY(row.errorMessage.startsWith(QStringLiteral("SHA-256 mismatch: expected %1, got ").arg(QString(64, u'0'))));
    QCOMPARE(row.downloadedBytes, 0);
    QCOMPARE(parts(d.id), QStringList()); // a corrupt file is not resumed
    QVERIFY(!QFile::exists(QDir(dir()).filePath(QStringLiteral("sum.bin"))));
    QTRY_COMPARE_WITH_TIMEOUT(notices(), QStringList{QStringLiteral("Download failed: sum.bin (checksum mismatch)")}, 5000);
}

void tst_DownloadEngine::changeElsewhereStopsItHere()
{
    FileServer::File slow{FileServer::makeContent(400 * 1024, 3)};
    slow.bytesPerSecond = 100 * 1024;
    m_files->addFile("/slow", slow);
    DownloadEngine *engine = makeEngine();
    const Download d = add("/slow");
    QVERIFY(QTest::qWaitFor([&] { return m_store->row(d.id)->d.downloadedBytes > 0; }, 10000));
    // Paused through another node whose notification never came: the next progress write is
    // fenced, and the transfer stops here without announcing anything.
    m_store->row(d.id)->d.status = DownloadStatus::Paused;
    for (int i = 0; i < 5; ++i) // the answers to writes made before the change are still due
        QCoreApplication::processEvents();
    const int before = int(m_broker->published.size());
    QVERIFY(QTest::qWaitFor([&] { return engine->runningCount() == 0; }, 10000));
    QCOMPARE(m_broker->published.size(), before);
    QCOMPARE(m_store->row(d.id)->d.status, DownloadStatus::Paused);
    QCOMPARE(parts(d.id).size(), 1); // kept for the resume
    const qint64 served = m_files->bytesServed("/slow");
    QTest::qWait(300);
    QVERIFY(m_files->bytesServed("/slow") <= served + 64 * 1024); // the request was aborted
}

void tst_DownloadEngine::completionThatLostItsRowIsNeverMovedIntoPlace()
{
    const QByteArray content = FileServer::makeContent(5000, 4);
    m_files->addFile("/late.bin", {content});
    makeEngine();
    // Cancelled elsewhere just before this node writes the completion.
    m_store->beforeUpdate = [this](const Download &write) {
        if (write.status == DownloadStatus::Completed)
            m_store->row(write.id)->d.status = DownloadStatus::Cancelled;
    };
    const Download d = add("/late.bin");
    QVERIFY(waitStatus(d.id, DownloadStatus::Cancelled));
    // Saved first, moved after: the refused save leaves the bytes in this claim's part file.
    QTRY_COMPARE_WITH_TIMEOUT(m_engine->runningCount(), 0, 5000);
    QCOMPARE(parts(d.id), QStringList{DownloadDir::partName(d.id, 1)});
    const QString part = QDir(dir()).filePath(DownloadDir::partName(d.id, 1));
    QVERIFY(!QFile::exists(QDir(dir()).filePath(QStringLiteral("late.bin")))); // never in place
    QFile file(part);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), content);
    QVERIFY(!progressStatuses(d.id).contains(DownloadStatus::Completed)); // never announced
    QTRY_COMPARE_WITH_TIMEOUT(m_engine->runningCount(), 0, 5000);
}

void tst_DownloadEngine::staleClaimNeverPlacesItsFile()
{
    // This node was paused past its lease: another claim (the next generation) took the row
    // just before this node's completion write. The write is refused, so this node's bytes
    // are never moved into place and nothing is announced.
    const QByteArray content = FileServer::makeContent(5000, 6);
    m_files->addFile("/stale.bin", {content});
    makeEngine();
    m_store->beforeUpdate = [this](const Download &write) {
        if (write.status == DownloadStatus::Completed) {
            auto *row = m_store->row(write.id);
            row->d.owner = QStringLiteral("other-node");
            row->d.leaseGeneration += 1;
            row->leaseUntil = m_store->nowMs + 60000;
        }
    };
    const Download d = add("/stale.bin");
    QTRY_COMPARE_WITH_TIMEOUT(m_engine->runningCount(), 0, 10000);
    QTest::qWait(200);
    QVERIFY(!QFile::exists(QDir(dir()).filePath(QStringLiteral("stale.bin"))));
    QVERIFY(m_store->row(d.id)->d.status != DownloadStatus::Completed);
    QVERIFY(!progressStatuses(d.id).contains(DownloadStatus::Completed));
    QVERIFY(notices().isEmpty());
}

void tst_DownloadEngine::completionItsNodeDidNotFinishIsFinishedHere()
{
    // A node saved the completion (holding the lease, marked as not yet published) and died
    // before the rename and the events: once its lease expired, this node's claim moves the
    // file into place, publishes the change once and releases the row.
    const QByteArray content = FileServer::makeContent(3000, 7);
    Download d;
    d.id = QStringLiteral("c0ffee");
    d.url = m_files->url("/x");
    d.filename = QStringLiteral("repaired.bin");
    d.status = DownloadStatus::Completed;
    d.downloadedBytes = d.totalBytes = content.size();
    d.partGeneration = 4;
    d.leaseGeneration = 4;
    d.announce = QStringLiteral("completed");
    d.owner = QStringLiteral("dead-node");
    m_store->put(d);
    m_store->row(d.id)->leaseUntil = m_store->nowMs - 1; // expired
    QFile part(QDir(dir()).filePath(DownloadDir::partName(d.id, 4)));
    QVERIFY(part.open(QIODevice::WriteOnly));
    part.write(content);
    part.close();
    makeEngine();
    QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(QDir(dir()).filePath(QStringLiteral("repaired.bin"))), 5000);
    QFile placed(QDir(dir()).filePath(QStringLiteral("repaired.bin")));
    QVERIFY(placed.open(QIODevice::ReadOnly));
    QCOMPARE(placed.readAll(), content);
    QCOMPARE(parts(d.id), QStringList());
    QTRY_COMPARE_WITH_TIMEOUT(progressStatuses(d.id), QList<DownloadStatus>{DownloadStatus::Completed}, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(m_store->row(d.id)->d.owner.isEmpty(), 5000);
    QCOMPARE(m_store->row(d.id)->d.announce, QString());
    QCOMPARE(m_store->row(d.id)->d.leaseGeneration, qint64(5)); // under a claim of its own
    QTest::qWait(300);
    QCOMPARE(progressStatuses(d.id).size(), 1); // once
}

void tst_DownloadEngine::controlThroughTheServiceStopsTheTransfer()
{
    FileServer::File slow{FileServer::makeContent(400 * 1024, 5)};
    slow.bytesPerSecond = 100 * 1024;
    m_files->addFile("/ctl", slow);
    DownloadEngine *engine = makeEngine();
    const Download d = add("/ctl");
    QVERIFY(QTest::qWaitFor([&] { return m_store->row(d.id)->d.downloadedBytes > 0; }, 10000));
    std::optional<Result<Download>> cancelled;
    engine->service()->act(d.id, DownloadAction::Cancel, [&](Result<Download> r) { cancelled.emplace(r); });
    QTRY_VERIFY_WITH_TIMEOUT(cancelled.has_value(), 5000);
    QVERIFY(*cancelled);
    QCOMPARE(engine->runningCount(), 0); // stopped at once
    QCOMPARE(parts(d.id), QStringList());
    QVERIFY(m_store->row(d.id)->d.owner.isEmpty()); // its lease handed back
    QCOMPARE(m_store->row(d.id)->d.status, DownloadStatus::Cancelled);
}

void tst_DownloadEngine::diskSpaceWarning()
{
    m_files->addFile("/a", {"a"});
    m_files->addFile("/b", {"b"});
    makeEngine([](DownloadEngine::Options &o) { o.diskWarningBytes = std::numeric_limits<qint64>::max(); });
    const Download a = add("/a");
    QVERIFY(waitStatus(a.id, DownloadStatus::Completed));
    const Download b = add("/b");
    QVERIFY(waitStatus(b.id, DownloadStatus::Completed));
    QTest::qWait(100);
    int warnings = 0;
    for (const Event &e : m_broker->ofType(u"system_notification")) {
        const SystemNotificationEvent n = SystemNotificationEvent::fromJson(e.data);
        if (n.notificationType == NotificationType::Warning) {
            ++warnings;
            QVERIFY(n.message.startsWith(u"Disk almost full: "));
            QVERIFY(n.message.endsWith(QStringLiteral(" MB free for downloads in ") + dir()));
            QVERIFY(n.downloadId.isEmpty());
        }
    }
    QCOMPARE(warnings, 1); // once, not at every start and completion
}

void tst_DownloadEngine::cleanStopHandsTheLeasesBack()
{
    FileServer::File slow{FileServer::makeContent(400 * 1024, 6)};
    slow.bytesPerSecond = 50 * 1024;
    m_files->addFile("/stop", slow);
    makeEngine();
    const Download d = add("/stop");
    QVERIFY(QTest::qWaitFor([&] { return m_store->row(d.id)->d.downloadedBytes > 0; }, 10000));
    QCOMPARE(m_store->row(d.id)->d.owner, m_engine->nodeId());
    m_engine.reset();
    QCOMPARE(m_store->calls(QStringLiteral("releaseAll")), 1);
    QVERIFY(m_store->row(d.id)->d.owner.isEmpty());
    QCOMPARE(m_store->row(d.id)->d.status, DownloadStatus::Pending); // any node resumes it
    QCOMPARE(parts(d.id).size(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(m_files->activeTransfers(), 0, 5000);
}

QTEST_MAIN(tst_DownloadEngine)
#include "tst_downloadengine.moc"
