// DownloadStore on SQLite: group commit. Jobs that queue up while a commit runs share the next
// one; a job that fails inside a group (a duplicate id) leaves nothing of its own while the
// others keep theirs; every answer arrives; what was answered as saved is in the file when it
// is opened again. A group SQLite rolled back on its own (a full disk) fails only the jobs in
// it, the later ones go into the next group; a quick job's answer is not held behind a slow
// job queued after it (groups are cut by time, bulk jobs run alone). An answered request leaves
// no timer behind to fire (a timer per request left to run out stalled the main thread at
// thousands of requests per second).

#include "downloads/downloadstore.h"

#include <QElapsedTimer>
#include <QHash>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QThread>
#include <QTest>
#include <QUuid>

using namespace Hermes;

class tst_DownloadStore : public QObject
{
    Q_OBJECT

private slots:
    void queuedWritesShareCommitsAndEachAnswerIsKept();
    void groupRolledBackBySqliteFailsOnlyItsOwnJobs();
    void slowJobDoesNotHoldBackTheAnswersBeforeIt();
    void answeredRequestsLeaveNoTimerBehind();
};

static Download row(const QString &id)
{
    Download d;
    d.id = id;
    d.url = QStringLiteral("http://127.0.0.1:1/") + id;
    d.filename = id;
    d.createdAt = d.updatedAt = QDateTime::currentDateTimeUtc();
    return d;
}

void tst_DownloadStore::queuedWritesShareCommitsAndEachAnswerIsKept()
{
    QTemporaryDir dir;
    const Result<DatabaseUrl> url = DatabaseUrl::parse(dir.filePath(QStringLiteral("hermes.db")), {});
    QVERIFY(url);
    static constexpr int N = 40;
    QStringList ids;
    for (int i = 0; i < N; ++i)
        ids << QUuid::createUuid().toString(QUuid::WithoutBraces);
    {
        DownloadStore store;
        QVERIFY(store.open(*url));
        const quint64 before = store.commits();
        int saved = 0, refused = 0;
        // Posted at once: the store's thread finds them queued behind the first commit.
        for (int i = 0; i < N; ++i) {
            store.insert(&store, row(ids[i]), [&](Result<AbstractDownloadStore::Inserted> r) { ++(r ? saved : refused); });
            if (i == N / 2) // the same id again: refused, inside whatever group it lands in
                store.insert(&store, row(ids[i]), [&](Result<AbstractDownloadStore::Inserted> r) { ++(r ? saved : refused); });
        }
        QTRY_COMPARE_WITH_TIMEOUT(saved + refused, N + 1, 20000);
        QCOMPARE(saved, N);
        QCOMPARE(refused, 1);
        const quint64 commits = store.commits() - before;
        qInfo() << N + 1 << "jobs," << commits << "commits";
        QVERIFY2(commits < quint64(N / 2), "the queued jobs were committed one by one");
    }
    // Opened again: every row answered as saved is there, once.
    DownloadStore store;
    QVERIFY(store.open(*url));
    std::optional<Result<AbstractDownloadStore::Page>> page;
    store.list(&store, std::nullopt, 1000, 0, [&](Result<AbstractDownloadStore::Page> p) { page.emplace(p); });
    QTRY_VERIFY_WITH_TIMEOUT(page.has_value(), 10000);
    QVERIFY(*page);
    QCOMPARE((*page)->items.size(), N);
}

/// On the store's thread (in a job): `sql` on the store's connection; the query, run.
static QSqlQuery onStoreConnection(const QString &sql)
{
    for (const QString &name : QSqlDatabase::connectionNames()) {
        if (name.startsWith(QStringLiteral("hermes-store-"))) {
            QSqlQuery q(QSqlDatabase::database(name, false));
            q.exec(sql);
            return q;
        }
    }
    return QSqlQuery();
}

/// The ids of every row in `url`'s database (empty and a failure if it did not answer).
static QStringList idsIn(const DatabaseUrl &url)
{
    DownloadStore store;
    if (!store.open(url))
        return {};
    std::optional<Result<AbstractDownloadStore::Page>> page;
    store.list(&store, std::nullopt, 1000, 0, [&](Result<AbstractDownloadStore::Page> p) { page.emplace(p); });
    if (!QTest::qWaitFor([&] { return page.has_value(); }, 10000) || !*page)
        return {};
    QStringList ids;
    for (const Download &d : (*page)->items)
        ids << d.id;
    return ids;
}

void tst_DownloadStore::groupRolledBackBySqliteFailsOnlyItsOwnJobs()
{
    QTemporaryDir dir;
    const Result<DatabaseUrl> url = DatabaseUrl::parse(dir.filePath(QStringLiteral("hermes.db")), {});
    QVERIFY(url);
    const QStringList ids{QStringLiteral("before"), QStringLiteral("after-1"), QStringLiteral("after-2")};
    QHash<QString, bool> saved; // id -> answered as saved
    int answers = 0;
    {
        DownloadStore store;
        QVERIFY(store.open(*url));
        // A database that may grow by 64 pages (256 KB) and a table without triggers: one row of
        // 1 MB in it fails with SQLITE_FULL, and SQLite rolls back the whole transaction (no
        // statement journal to roll back only the statement).
        QVERIFY(store.runBlocking([](DownloadRepository &) {
            QSqlQuery pages = onStoreConnection(QStringLiteral("PRAGMA page_count"));
            if (!pages.next())
                throw StoreFailure{QStringLiteral("no page count"), false};
            onStoreConnection(QStringLiteral("PRAGMA max_page_count = %1").arg(pages.value(0).toInt() + 64));
            if (!onStoreConnection(QStringLiteral("CREATE TABLE filler (b BLOB)")).isActive())
                throw StoreFailure{QStringLiteral("no filler table"), false};
        }, 5000));
        // Held on the store's thread meanwhile: what follows is queued, and runs as one group.
        store.run<bool>(&store, [](DownloadRepository &) { QThread::msleep(300); return true; }, [](Result<bool>) {});
        const auto insert = [&](const QString &id) {
            store.insert(&store, row(id), [&, id](Result<AbstractDownloadStore::Inserted> r) { saved[id] = bool(r); ++answers; });
        };
        insert(ids[0]);
        std::optional<bool> filled;
        store.run<bool>(&store, [](DownloadRepository &) {
            return onStoreConnection(QStringLiteral("INSERT INTO filler VALUES (randomblob(1000000))")).isActive();
        }, [&](Result<bool> r) { filled = r && *r; });
        insert(ids[1]);
        insert(ids[2]);
        QTRY_COMPARE_WITH_TIMEOUT(answers, 3, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(filled.has_value(), 10000);
        QVERIFY(!*filled); // the disk was full
    }
    // What each insert was answered is what the file holds: nothing saved reported failed
    // (a retry would duplicate it), nothing reported saved lost; the later ones not lost.
    const QStringList stored = idsIn(*url);
    for (const QString &id : ids)
        QVERIFY2(saved.value(id) == stored.contains(id), qPrintable(id + (saved.value(id) ? " answered saved" : " answered failed")));
    QVERIFY(saved.value(ids[1]));
    QVERIFY(saved.value(ids[2]));
}

void tst_DownloadStore::slowJobDoesNotHoldBackTheAnswersBeforeIt()
{
    QTemporaryDir dir;
    const Result<DatabaseUrl> url = DatabaseUrl::parse(dir.filePath(QStringLiteral("hermes.db")), {});
    QVERIFY(url);
    DownloadStore store;
    QVERIFY(store.open(*url));
    QElapsedTimer clock;
    clock.start();
    // A quick insert queued right before a slow job: a bulk one (a long timeout, as
    // controlMany), then an ordinary one after a group already older than its time.
    for (const int timeoutMs : {int(DownloadStore::BulkTimeoutMs), int(DownloadStore::DefaultTimeoutMs)}) {
        store.run<bool>(&store, [](DownloadRepository &) { QThread::msleep(200); return true; }, [](Result<bool>) {});
        qint64 quickAt = -1, slowAt = -1;
        store.insert(&store, row(QUuid::createUuid().toString(QUuid::WithoutBraces)),
                     [&](Result<AbstractDownloadStore::Inserted> r) { QVERIFY(r); quickAt = clock.elapsed(); });
        if (timeoutMs == DownloadStore::DefaultTimeoutMs) // the group is older than its time after this
            store.run<bool>(&store, [](DownloadRepository &) { QThread::msleep(100); return true; }, [](Result<bool>) {});
        store.run<bool>(&store, [](DownloadRepository &) { QThread::msleep(1500); return true; },
                        [&](Result<bool>) { slowAt = clock.elapsed(); }, timeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(slowAt >= 0, 10000);
        QVERIFY(quickAt >= 0);
        qInfo() << "timeout" << timeoutMs << ": quick answered" << slowAt - quickAt << "ms before the slow one";
        QVERIFY2(quickAt + 1000 < slowAt, "the quick job's answer waited for the slow job");
    }
}

/// Counts the timer events delivered on the main thread.
class TimerEvents final : public QObject
{
public:
    int count = 0;
    bool eventFilter(QObject *, QEvent *e) override
    {
        count += e->type() == QEvent::Timer;
        return false;
    }
};

void tst_DownloadStore::answeredRequestsLeaveNoTimerBehind()
{
    QTemporaryDir dir;
    const Result<DatabaseUrl> url = DatabaseUrl::parse(dir.filePath(QStringLiteral("hermes.db")), {});
    QVERIFY(url);
    DownloadStore store;
    QVERIFY(store.open(*url));
    static constexpr int N = 200, TimeoutMs = 300;
    int answered = 0;
    for (int i = 0; i < N; ++i)
        store.run<bool>(&store, [](DownloadRepository &) { return true; }, [&](Result<bool> r) { answered += bool(r); }, TimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(answered, N, 10000);
    // Each request's timeout would have run out by now: none of them may fire any more.
    TimerEvents timers;
    QCoreApplication::instance()->installEventFilter(&timers);
    QTest::qWait(2 * TimeoutMs);
    QCoreApplication::instance()->removeEventFilter(&timers);
    qInfo() << timers.count << "timer events after" << N << "answered requests";
    QVERIFY2(timers.count < N / 10, "the timeouts of answered requests still ran");
}

QTEST_GUILESS_MAIN(tst_DownloadStore)

#include "tst_downloadstore.moc"
