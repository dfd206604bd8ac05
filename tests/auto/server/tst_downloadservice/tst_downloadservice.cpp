// DownloadService against the in-memory store, a fake broker and a scripted view of what runs
// here: every action from every status against DownloadRules' table with its side effects
// (fields, part file, events, stopping it here), priorities, removal with and without the
// file, validation of new downloads, the errors' kinds, codes and messages, listing and the
// queue summary, and a seeded-random run of actions checked against the table.

#include "fakebroker.h"
#include "fakerunning.h"
#include "memorydownloadstore.h"

#include "downloads/downloadevents.h"
#include "downloads/downloadservice.h"

#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <memory>

using namespace Hermes;
using namespace Hermes::Test;

class tst_DownloadService : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void everyActionFromEveryStatus_data();
    void everyActionFromEveryStatus();
    void addValidatesAndAnnounces();
    void addRefusesBadInput_data();
    void addRefusesBadInput();
    void priorities();
    void removeWithoutTheFile();
    void removeWithTheFile_data();
    void removeWithTheFile();
    void unknownDownloads();
    void storeUnavailable();
    void listAndQueue();
    void liveFiguresWhenRunningHere();
    void actionsRandomized();

private:
    template<typename T>
    static Result<T> wait(const std::function<void(std::function<void(Result<T>)>)> &call)
    {
        std::optional<Result<T>> out;
        call([&out](Result<T> r) { out.emplace(std::move(r)); });
        if (!QTest::qWaitFor([&] { return out.has_value(); }, 5000))
            return Error::failed("test_timeout", QStringLiteral("no answer"));
        return std::move(*out);
    }
    Result<Download> act(const QString &id, DownloadAction action)
    {
        return wait<Download>([&](auto done) { m_service->act(id, action, done); });
    }
    Download put(DownloadStatus status, int priority = 0);
    /// A part file of `id` (the generation does not matter: cancel and delete remove them all).
    QString partPath(const QString &id, qint64 generation = 3) const
    {
        return QDir(m_dir.path()).filePath(DownloadDir::partName(id, generation));
    }
    void touch(const QString &path) const
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("bytes");
    }

    QTemporaryDir m_dir;
    std::unique_ptr<MemoryDownloadStore> m_store;
    std::unique_ptr<FakeBroker> m_broker;
    std::unique_ptr<FakeRunning> m_running;
    std::unique_ptr<DownloadEvents> m_events;
    std::unique_ptr<DownloadService> m_service;
    int m_ids = 0;
};

void tst_DownloadService::init()
{
    m_store = std::make_unique<MemoryDownloadStore>();
    m_broker = std::make_unique<FakeBroker>();
    m_running = std::make_unique<FakeRunning>();
    m_events = std::make_unique<DownloadEvents>(m_broker.get(), m_running.get());
    DownloadDir dir(m_dir.path());
    QVERIFY(dir.open());
    m_service = std::make_unique<DownloadService>(m_store.get(), m_events.get(), m_running.get(), dir);
}

void tst_DownloadService::cleanup()
{
    m_service.reset();
    m_events.reset();
    m_running.reset();
    m_broker.reset();
    m_store.reset();
}

Download tst_DownloadService::put(DownloadStatus status, int priority)
{
    Download d;
    d.id = QStringLiteral("d%1").arg(m_ids++);
    d.url = QStringLiteral("http://origin/") + d.id;
    d.filename = d.id + QStringLiteral(".bin");
    d.status = status;
    d.priority = priority;
    d.errorMessage = QStringLiteral("boom");
    d.attempts = 3;
    d.downloadedBytes = 500;
    d.totalBytes = 1000;
    d.speed = 100;
    d.createdAt = d.updatedAt = QDateTime::currentDateTimeUtc().addSecs(-60);
    return m_store->put(d);
}

void tst_DownloadService::everyActionFromEveryStatus_data()
{
    QTest::addColumn<DownloadStatus>("from");
    QTest::addColumn<DownloadAction>("action");
    QTest::addColumn<bool>("runningHere");
    for (const DownloadStatus from : allDownloadStatuses()) {
        for (const DownloadAction action : allDownloadActions()) {
            for (const bool running : {false, true}) {
                QTest::addRow("%s %s%s", wireName(action).data(), wireName(from).data(), running ? " (running here)" : "")
                    << from << action << running;
            }
        }
    }
}

void tst_DownloadService::everyActionFromEveryStatus()
{
    QFETCH(DownloadStatus, from);
    QFETCH(DownloadAction, action);
    QFETCH(bool, runningHere);
    const Download before = put(from);
    if (runningHere)
        m_running->running.insert(before.id, before);
    touch(partPath(before.id));
    touch(partPath(before.id, 0)); // an older release's
    const Result<Download> r = act(before.id, action);
    const std::optional<DownloadStatus> next = DownloadRules::after(from, action);
    const Download stored = m_store->row(before.id)->d;
    if (!next) {
        QVERIFY(!r);
        QCOMPARE(r.error().kind, Error::Kind::Conflict);
        QCOMPARE(r.error().code, QByteArray("invalid_state"));
        QCOMPARE(r.error().message, QStringLiteral("cannot %1 a download that is %2")
                                        .arg(QString(wireName(action)), QString(wireName(from))));
        QCOMPARE(stored.status, from); // nothing written
        QCOMPARE(stored.errorMessage, before.errorMessage);
        QCOMPARE(stored.downloadedBytes, before.downloadedBytes);
        QVERIFY(m_broker->published.isEmpty());
        QVERIFY(m_running->stops.isEmpty());
        QVERIFY(QFile::exists(partPath(before.id)));
        return;
    }
    QVERIFY2(r, qPrintable(r ? QString() : r.error().message));
    QCOMPARE(r->status, *next);
    QCOMPARE(stored.status, *next);
    QCOMPARE(stored.speed, 0.0);
    QVERIFY(stored.updatedAt > before.updatedAt);
    // The side effects of each action.
    QCOMPARE(stored.errorMessage, action == DownloadAction::Resume ? before.errorMessage : QString());
    QCOMPARE(stored.downloadedBytes, action == DownloadAction::Cancel ? 0 : before.downloadedBytes);
    QCOMPARE(stored.attempts, action == DownloadAction::Retry ? 0 : before.attempts);
    QCOMPARE(QFile::exists(partPath(before.id)), action != DownloadAction::Cancel);
    QCOMPARE(QFile::exists(partPath(before.id, 0)), action != DownloadAction::Cancel);
    QCOMPARE(r->errorMessage, stored.errorMessage);
    // Published once, here: the progress, and the queue change.
    const QList<Event> progress = m_broker->ofType(u"download_progress");
    QCOMPARE(progress.size(), 1);
    QVERIFY(DownloadProgressEvent::fromJson(progress[0].data).status->known == *next);
    const QList<Event> queue = m_broker->ofType(u"queue_update");
    QCOMPARE(queue.size(), 1);
    const QueueUpdateEvent update = QueueUpdateEvent::fromJson(queue[0].data);
    QCOMPARE(update.action, QueueAction::StatusChanged);
    QCOMPARE(update.downloadId, before.id);
    QCOMPARE(update.queueLength, m_store->summary().queued);
    // Stopped here when it ran here: the lease handed back, the part file deleted on cancel.
    if (runningHere) {
        QCOMPARE(m_running->stops.size(), 1);
        QCOMPARE(m_running->stops[0].id, before.id);
        QVERIFY(m_running->stops[0].handBack);
        QCOMPARE(m_running->stops[0].deletePart, *next == DownloadStatus::Cancelled);
        QCOMPARE(m_running->stops[0].why, QStringLiteral("%1 through this node").arg(QString(wireName(*next))));
    } else {
        QVERIFY(m_running->stops.isEmpty());
    }
    QVERIFY(m_running->claims >= 1);
}

void tst_DownloadService::addValidatesAndAnnounces()
{
    const auto added = wait<Download>([&](auto done) {
        m_service->add(QStringLiteral("https://example.org/files/a%20b.iso?x=1"), QString(), 4,
                       QString(64, u'A'), done);
    });
    QVERIFY(added);
    QCOMPARE(added->filename, QStringLiteral("a b.iso"));
    QVERIFY(!added->filenameFromRequest);
    QCOMPARE(added->priority, 4);
    QCOMPARE(added->sha256, QString(64, u'a'));
    QCOMPARE(added->status, DownloadStatus::Pending);
    QCOMPARE(added->url, QStringLiteral("https://example.org/files/a%20b.iso?x=1"));
    QVERIFY(!QUuid::fromString(added->id).isNull());
    QVERIFY(added->position > 0);
    QVERIFY(m_store->row(added->id));
    // Announced: queue first, then the progress; then work may be claimed.
    QCOMPARE(m_broker->published.size(), 2);
    QCOMPARE(m_broker->published[0].type, QStringLiteral("queue_update"));
    QCOMPARE(QueueUpdateEvent::fromJson(m_broker->published[0].data).action, QueueAction::Added);
    QCOMPARE(m_broker->published[1].type, QStringLiteral("download_progress"));
    QCOMPARE(m_running->claims, 1);

    const auto named = wait<Download>([&](auto done) {
        m_service->add(QStringLiteral("http://example.org/"), QStringLiteral("../../x.txt"), 0, {}, done);
    });
    QCOMPARE(named->filename, QStringLiteral("x.txt"));
    QVERIFY(named->filenameFromRequest);
    const auto fallback = wait<Download>([&](auto done) {
        m_service->add(QStringLiteral("http://example.org/"), QString(), 0, {}, done);
    });
    QCOMPARE(fallback->filename, QStringLiteral("download"));
}

void tst_DownloadService::addRefusesBadInput_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("filename");
    QTest::addColumn<QString>("sha256");
    QTest::addColumn<QByteArray>("code");
    QTest::addColumn<QString>("message");
    const QString url = QStringLiteral("url must be an http:// or https:// URL");
    QTest::newRow("ftp") << "ftp://example.org/x" << QString() << QString() << QByteArray("invalid_url") << url;
    QTest::newRow("file") << "file:///etc/passwd" << QString() << QString() << QByteArray("invalid_url") << url;
    QTest::newRow("no host") << "http:///x" << QString() << QString() << QByteArray("invalid_url") << url;
    QTest::newRow("not a url") << "not a url" << QString() << QString() << QByteArray("invalid_url") << url;
    QTest::newRow("short sha") << "http://h/x" << QString() << "abc" << QByteArray("invalid_sha256")
                               << "sha256 must be 64 hexadecimal digits";
    QTest::newRow("sha with a newline") << "http://h/x" << QString() << QString(64, u'a') + u'\n'
                                        << QByteArray("invalid_sha256") << "sha256 must be 64 hexadecimal digits";
    QTest::newRow("sha not hex") << "http://h/x" << QString() << QString(64, u'g') << QByteArray("invalid_sha256")
                                 << "sha256 must be 64 hexadecimal digits";
    QTest::newRow("empty name") << "http://h/x" << "" << QString() << QByteArray("invalid_filename")
                                << "the filename has nothing usable in it";
    QTest::newRow("dots") << "http://h/x" << ".." << QString() << QByteArray("invalid_filename")
                          << "the filename has nothing usable in it";
}

void tst_DownloadService::addRefusesBadInput()
{
    QFETCH(QString, url);
    QFETCH(QString, filename);
    QFETCH(QString, sha256);
    QFETCH(QByteArray, code);
    QFETCH(QString, message);
    const auto r = wait<Download>([&](auto done) { m_service->add(url, filename, 0, sha256, done); });
    QVERIFY(!r);
    QCOMPARE(r.error().kind, Error::Kind::Invalid);
    QCOMPARE(r.error().code, code);
    QCOMPARE(r.error().message, message);
    QVERIFY(m_store->rows().isEmpty());
    QVERIFY(m_broker->published.isEmpty());
}

void tst_DownloadService::priorities()
{
    const Download a = put(DownloadStatus::Pending, 0);
    const Download b = put(DownloadStatus::Pending, 0);
    const Download running = put(DownloadStatus::Downloading, 1);
    m_running->running.insert(running.id, running);
    auto order = [&] {
        const auto q = wait<DownloadService::Queue>([&](auto done) { m_service->queue(done); });
        QStringList ids;
        for (const Download &d : q->unfinished)
            ids << d.id;
        return ids;
    };
    QCOMPARE(order(), (QStringList{running.id, a.id, b.id}));
    const auto raised = wait<Download>([&](auto done) { m_service->setPriority(b.id, 7, done); });
    QVERIFY(raised);
    QCOMPARE(raised->priority, 7);
    QCOMPARE(order(), (QStringList{b.id, running.id, a.id}));
    const QList<Event> events = m_broker->ofType(u"queue_update");
    QCOMPARE(events.size(), 1);
    const QueueUpdateEvent reordered = QueueUpdateEvent::fromJson(events[0].data);
    QCOMPARE(reordered.action, QueueAction::Reordered);
    QCOMPARE(reordered.priority.value_or(-1), 7);
    QCOMPARE(reordered.position.value_or(-1), b.position);
    QVERIFY(m_broker->ofType(u"download_progress").isEmpty());
    // The running copy learns it too (its later events carry it).
    QVERIFY(wait<Download>([&](auto done) { m_service->setPriority(running.id, -3, done); }));
    QCOMPARE(m_running->running[running.id].priority, -3);
    QVERIFY(m_running->stops.isEmpty()); // a priority does not stop anything
    // Only what has a place in the queue may be reordered.
    for (const DownloadStatus s : allDownloadStatuses()) {
        const Download d = put(s);
        const auto r = wait<Download>([&](auto done) { m_service->setPriority(d.id, 5, done); });
        QCOMPARE(bool(r), DownloadRules::canReorder(s));
        if (!r) {
            QCOMPARE(r.error().kind, Error::Kind::Conflict);
            QCOMPARE(r.error().code, QByteArray("invalid_state"));
            QCOMPARE(r.error().message, QStringLiteral("cannot reorder a download that is %1").arg(QString(wireName(s))));
            QCOMPARE(m_store->row(d.id)->d.priority, 0);
        }
    }
}

void tst_DownloadService::removeWithoutTheFile()
{
    const Download done = put(DownloadStatus::Completed);
    const Download running = put(DownloadStatus::Downloading);
    m_running->running.insert(running.id, running);
    touch(QDir(m_dir.path()).filePath(done.filename));
    touch(partPath(running.id));
    for (const Download &d : {done, running}) {
        const auto r = wait<void>([&](auto cb) { m_service->remove(d.id, false, cb); });
        QVERIFY(r);
        QVERIFY(!m_store->row(d.id));
    }
    QVERIFY(QFile::exists(QDir(m_dir.path()).filePath(done.filename))); // kept
    QVERIFY(!QFile::exists(partPath(running.id)));
    QCOMPARE(m_running->stops.size(), 1);
    QCOMPARE(m_running->stops[0].id, running.id);
    QVERIFY(!m_running->stops[0].handBack); // the row is gone: nothing to hand back
    QVERIFY(m_running->stops[0].deletePart);
    QCOMPARE(m_running->stops[0].why, QStringLiteral("deleted"));
    const QList<Event> removed = m_broker->ofType(u"queue_update");
    QCOMPARE(removed.size(), 2);
    QCOMPARE(QueueUpdateEvent::fromJson(removed[0].data).action, QueueAction::Removed);
    QCOMPARE(m_running->claims, 2);
}

void tst_DownloadService::removeWithTheFile_data()
{
    QTest::addColumn<DownloadStatus>("status");
    for (const DownloadStatus s : allDownloadStatuses())
        QTest::addRow("%s", wireName(s).data()) << s;
}

void tst_DownloadService::removeWithTheFile()
{
    QFETCH(DownloadStatus, status);
    const Download d = put(status);
    const QString file = QDir(m_dir.path()).filePath(d.filename);
    touch(file);
    QVERIFY(wait<void>([&](auto cb) { m_service->remove(d.id, true, cb); }));
    // Only a completed download's file is its own; any other file of that name is not.
    QCOMPARE(QFile::exists(file), status != DownloadStatus::Completed);
}

void tst_DownloadService::unknownDownloads()
{
    const QString id = QStringLiteral("nope");
    const QList<Error> errors{
        act(id, DownloadAction::Pause).error(),
        wait<Download>([&](auto done) { m_service->setPriority(id, 1, done); }).error(),
        wait<void>([&](auto done) { m_service->remove(id, true, done); }).error(),
        wait<Download>([&](auto done) { m_service->get(id, done); }).error(),
    };
    for (const Error &e : errors) {
        QCOMPARE(e.kind, Error::Kind::NotFound);
        QCOMPARE(e.code, QByteArray("not_found"));
        QCOMPARE(e.message, QStringLiteral("no download nope"));
    }
    QVERIFY(m_broker->published.isEmpty());
}

void tst_DownloadService::storeUnavailable()
{
    const Download d = put(DownloadStatus::Pending);
    m_store->setFailing(QStringLiteral("connection refused"));
    const QString message = QStringLiteral("the download store is unavailable: connection refused");
    const QList<Error> errors{
        act(d.id, DownloadAction::Pause).error(),
        wait<Download>([&](auto done) { m_service->setPriority(d.id, 1, done); }).error(),
        wait<void>([&](auto done) { m_service->remove(d.id, true, done); }).error(),
        wait<Download>([&](auto done) { m_service->get(d.id, done); }).error(),
        wait<DownloadService::Page>([&](auto done) { m_service->list(std::nullopt, 10, 0, done); }).error(),
        wait<DownloadService::Queue>([&](auto done) { m_service->queue(done); }).error(),
    };
    for (const Error &e : errors) {
        QCOMPARE(e.kind, Error::Kind::Unavailable);
        QCOMPARE(e.code, QByteArray("store_unavailable"));
        QCOMPARE(e.message, message);
    }
    const Error added = wait<Download>([&](auto done) {
        m_service->add(QStringLiteral("http://h/x"), {}, 0, {}, done);
    }).error();
    QCOMPARE(added.kind, Error::Kind::Unavailable);
    QCOMPARE(added.code, QByteArray("store_unavailable"));
    QCOMPARE(added.message, QStringLiteral("the download could not be saved: connection refused"));
    QVERIFY(m_broker->published.isEmpty());
    QCOMPARE(m_running->claims, 0);
}

void tst_DownloadService::listAndQueue()
{
    QList<Download> pending;
    for (int i = 0; i < 5; ++i)
        pending.append(put(DownloadStatus::Pending, i % 2));
    const Download done = put(DownloadStatus::Completed, 9);
    Download fast = put(DownloadStatus::Downloading);
    m_store->row(fast.id)->d.speed = -5; // a bad figure saved by some node
    put(DownloadStatus::Paused);
    const auto page = wait<DownloadService::Page>([&](auto cb) { m_service->list(DownloadStatus::Pending, 2, 1, cb); });
    QVERIFY(page);
    QCOMPARE(page->total, 5);
    QCOMPARE(page->items.size(), 2);
    QCOMPARE(page->items[0].id, pending[3].id); // priority 1 first: 1, 3; then 0, 2, 4
    QCOMPARE(page->items[1].id, pending[0].id);
    const auto all = wait<DownloadService::Page>([&](auto cb) { m_service->list(std::nullopt, 100, 0, cb); });
    QCOMPARE(all->total, 8);
    QCOMPARE(all->items.last().id, done.id); // finished last, whatever its priority
    const auto q = wait<DownloadService::Queue>([&](auto cb) { m_service->queue(cb); });
    QCOMPARE(q->unfinished.size(), 7);
    QCOMPARE(q->summary.queued, 5);
    QCOMPARE(q->summary.active, 1);
    QCOMPARE(q->summary.paused, 1);
    QCOMPARE(q->summary.totalSpeed, 0.0); // never negative
    QCOMPARE(q->summary.toJson(), (QJsonObject{{QStringLiteral("active"), 1}, {QStringLiteral("queued"), 5},
                                               {QStringLiteral("paused"), 1}, {QStringLiteral("total_speed"), 0.0}}));
}

void tst_DownloadService::liveFiguresWhenRunningHere()
{
    const Download stored = put(DownloadStatus::Downloading);
    Download live = stored;
    live.downloadedBytes = 900;
    live.percent = 90;
    m_running->running.insert(stored.id, live);
    m_running->speeds.insert(stored.id, 50);
    const DownloadResource r = m_service->resourceOf(stored);
    QCOMPARE(r.downloadedBytes, qint64(900));
    QCOMPARE(r.progress->percentage.value_or(-1), 90.0);
    QCOMPARE(r.progress->speed, 50.0);
    QCOMPARE(r.progress->eta.value_or(-1), qint64(2)); // 100 bytes at 50 B/s
    // A row of another status than the running copy (changed meanwhile): the row's figures.
    Download paused = stored;
    paused.status = DownloadStatus::Paused;
    QCOMPARE(m_service->resourceOf(paused).downloadedBytes, stored.downloadedBytes);
    // Not running here: the speed its node saved while downloading, else none.
    m_running->running.clear();
    QCOMPARE(m_service->resourceOf(stored).progress->speed, 100.0);
    QCOMPARE(m_service->resourceOf(paused).progress->speed, 0.0);
    QVERIFY(!m_service->resourceOf(paused).progress->eta);
}

void tst_DownloadService::actionsRandomized()
{
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED")
        ? quint32(qEnvironmentVariableIntValue("HERMES_TEST_SEED")) : QRandomGenerator::global()->generate();
    qInfo("seed %u (HERMES_TEST_SEED=%u reproduces it)", seed, seed);
    QRandomGenerator rng(seed);
    QHash<QString, Download> model;
    for (int i = 0; i < 8; ++i) {
        const Download d = put(allDownloadStatuses().at(int(rng.bounded(DownloadStatusCount))));
        model.insert(d.id, d);
    }
    for (int step = 0; step < 400; ++step) {
        const QStringList ids = model.keys();
        const QString id = ids.at(int(rng.bounded(int(ids.size()))));
        Download &expected = model[id];
        QString context = QStringLiteral("seed %1 step %2: ").arg(seed).arg(step);
        const int dice = int(rng.bounded(10));
        if (dice == 0) {
            // The node running it moved it on (it may fail, finish, or start).
            const DownloadStatus s = allDownloadStatuses().at(int(rng.bounded(DownloadStatusCount)));
            m_store->row(id)->d.status = s;
            m_store->row(id)->d.errorMessage = QStringLiteral("e%1").arg(step);
            m_store->row(id)->d.attempts = int(rng.bounded(5));
            expected = m_store->row(id)->d;
            continue;
        }
        if (dice == 1) {
            const int priority = int(rng.bounded(11)) - 5;
            const auto r = wait<Download>([&](auto done) { m_service->setPriority(id, priority, done); });
            QVERIFY2(bool(r) == DownloadRules::canReorder(expected.status), qPrintable(context + QStringLiteral("priority")));
            if (r)
                expected.priority = priority;
        } else {
            const DownloadAction action = allDownloadActions().at(int(rng.bounded(DownloadActionCount)));
            context += QStringLiteral("%1 %2").arg(QString(wireName(action)), QString(wireName(expected.status)));
            const auto r = act(id, action);
            const auto next = DownloadRules::after(expected.status, action);
            QVERIFY2(bool(r) == next.has_value(), qPrintable(context));
            if (r) {
                if (action != DownloadAction::Resume)
                    expected.errorMessage.clear();
                if (action == DownloadAction::Cancel)
                    expected.downloadedBytes = 0;
                if (action == DownloadAction::Retry)
                    expected.attempts = 0;
                expected.status = *next;
            } else {
                QCOMPARE(r.error().kind, Error::Kind::Conflict);
            }
        }
        const Download &stored = m_store->row(id)->d;
        QVERIFY2(stored.status == expected.status, qPrintable(context));
        QVERIFY2(stored.errorMessage == expected.errorMessage, qPrintable(context));
        QVERIFY2(stored.attempts == expected.attempts, qPrintable(context));
        QVERIFY2(stored.downloadedBytes == expected.downloadedBytes, qPrintable(context));
        QVERIFY2(stored.priority == expected.priority, qPrintable(context));
    }
    // Every change announced, none that was refused: one progress event per accepted action.
    int queueChanges = 0;
    for (const Event &e : m_broker->ofType(u"queue_update"))
        queueChanges += QueueUpdateEvent::fromJson(e.data).action == QueueAction::StatusChanged;
    QCOMPARE(queueChanges, int(m_broker->ofType(u"download_progress").size()));
}

QTEST_MAIN(tst_DownloadService)
#include "tst_downloadservice.moc"
