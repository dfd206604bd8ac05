// DownloadStore's reads for the API (show, showPage, queue) on DownloadReaders' connections, on
// a real SQLite file and a real PostgreSQL: they are answered while the store's thread is held
// by a long write job (a test that fails when they go back to that thread), they see what is
// committed and not the held job's uncommitted change, and they read the same values as the
// store's own reads through Qt SQL (SQLite's are read by the SQLite library itself), for rows
// of Unicode, control characters, quotes, nulls and every status, whole pages and page by page
// after a cursor (seeded, HERMES_TEST_SEED). Pages at any offset share one prepared statement
// (PostgreSQL); the readers' queue is bounded (a read past it is refused at once) and a read
// whose caller the timeout answered is not run; a read's failure or timeout does not mark the
// store unreachable (its own connection decides); a PostgreSQL read connection whose backend was
// ended reconnects.

#include "downloads/downloadstore.h"
#include "storedatabases.h"

#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <QThread>

#include <atomic>
#include <cmath>
#include <memory>

using namespace Hermes;
using namespace Hermes::Test;
using Page = AbstractDownloadStore::Page;
using Request = AbstractDownloadStore::ListRequest;

class tst_DownloadReaders : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void readsAnswerWhileTheStoreThreadIsHeld_data() { stores(); }
    void readsAnswerWhileTheStoreThreadIsHeld();
    void readsGiveWhatTheStoreReads_data() { stores(); }
    void readsGiveWhatTheStoreReads();
    void offsetPagesShareOneStatement();
    void aFullQueueRefusesAtOnce_data() { stores(); }
    void aFullQueueRefusesAtOnce();
    void aReadPastItsTimeoutIsNotRun_data() { stores(); }
    void aReadPastItsTimeoutIsNotRun();
    void aLostReadLeavesTheStoreUp_data() { stores(); }
    void aLostReadLeavesTheStoreUp();
    void anEndedReadConnectionReconnects();

private:
    static void stores() { StoreDatabases::addStores(); }
    /// A store opened on a new database of `store`'s kind; null (and skipped) without PostgreSQL.
    std::unique_ptr<DownloadStore> open(const QString &store);

    StoreDatabases m_db;
    int m_opened = 0;
    QString m_database; ///< the database of the store open() opened last
};

void tst_DownloadReaders::initTestCase()
{
    QString error;
    QVERIFY2(m_db.start(&error), qPrintable(error));
}

void tst_DownloadReaders::cleanupTestCase()
{
    m_db.stop();
}

std::unique_ptr<DownloadStore> tst_DownloadReaders::open(const QString &store)
{
    const QString url = m_db.newUrl(store, QStringLiteral("readers%1.db").arg(++m_opened));
    const Result<DatabaseUrl> parsed = DatabaseUrl::parse(url, {});
    if (!parsed)
        return nullptr;
    m_database = parsed->database;
    auto s = std::make_unique<DownloadStore>();
    if (!s->open(*parsed))
        return nullptr;
    return s;
}

#define OPEN_STORE(store)                                                                            \
    if (store == u"postgres" && !m_db.postgres)                                                         \
        QSKIP("PostgreSQL is not installed (apt-get install postgresql libqt6sql6-psql)");            \
    const std::unique_ptr<DownloadStore> s = open(store);                                            \
    QVERIFY(s)

static Download row(const QString &name)
{
    Download d;
    d.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    d.url = QStringLiteral("http://127.0.0.1:1/") + d.id;
    d.filename = name;
    d.createdAt = d.updatedAt = QDateTime::currentDateTimeUtc();
    return d;
}

/// On the store's thread (in a job): `sql` on the store's own connection.
static bool onStoreConnection(const QString &sql)
{
    for (const QString &name : QSqlDatabase::connectionNames()) {
        if (name.startsWith(QStringLiteral("hermes-store-")))
            return QSqlQuery(QSqlDatabase::database(name, false)).exec(sql);
    }
    return false;
}

/// Whether `answer` arrived within 10 s.
template<typename T>
static bool arrived(const std::optional<T> &answer)
{
    return QTest::qWaitFor([&] { return answer.has_value(); }, 10000);
}

void tst_DownloadReaders::readsAnswerWhileTheStoreThreadIsHeld()
{
    QFETCH(QString, store);
    OPEN_STORE(store);
    std::optional<Result<AbstractDownloadStore::Inserted>> inserted;
    s->insert(s.get(), row(QStringLiteral("committed.bin")), [&](Result<AbstractDownloadStore::Inserted> r) { inserted.emplace(r); });
    QVERIFY(arrived(inserted) && *inserted);
    const QString id = (*inserted)->rows.constFirst().id;

    // The store's thread changes the row in a transaction it holds open for 3 s, then rolls
    // it back: a write job that takes long (a group commit's sync on a slow disk, a bulk action).
    static constexpr int HoldMs = 3000;
    std::atomic<int> held{0}; // 1: the change is made, 2: rolled back
    std::optional<Result<bool>> holdDone;
    s->run<bool>(s.get(), [&held, id](DownloadRepository &) {
        const bool changed = onStoreConnection(QStringLiteral("BEGIN"))
            && onStoreConnection(QStringLiteral("UPDATE downloads SET filename = 'uncommitted.bin' WHERE id = '%1'").arg(id));
        held = 1;
        QThread::msleep(HoldMs);
        onStoreConnection(QStringLiteral("ROLLBACK"));
        held = 2;
        return changed;
    }, [&](Result<bool> r) { holdDone.emplace(r); });
    QTRY_COMPARE_WITH_TIMEOUT(held.load(), 1, 10000);
    QElapsedTimer clock;
    clock.start();
    const quint64 readsBefore = s->readsRun();

    std::optional<Result<std::optional<Download>>> one;
    std::optional<Result<Page>> page, counted;
    std::optional<Result<AbstractDownloadStore::Queue>> queue;
    s->show(s.get(), id, [&](Result<std::optional<Download>> r) { one.emplace(r); });
    s->showPage(s.get(), Request{std::nullopt, 100, 0, std::nullopt, false}, [&](Result<Page> r) { page.emplace(r); });
    s->showPage(s.get(), Request{std::nullopt, 100, 0, std::nullopt, true}, [&](Result<Page> r) { counted.emplace(r); });
    s->queue(s.get(), Request{std::nullopt, 100, 0, std::nullopt, false},
             [&](Result<AbstractDownloadStore::Queue> r) { queue.emplace(r); });
    QTRY_VERIFY_WITH_TIMEOUT(one && page && counted && queue, 10000);
    const qint64 answeredMs = clock.elapsed();
    qInfo() << "four reads answered in" << answeredMs << "ms while the store's thread was held";
    QCOMPARE(held.load(), 1); // still held: the reads did not wait for the store's thread
    QVERIFY2(answeredMs < HoldMs / 2, "the reads waited for the store's thread");
    QCOMPARE(s->readsRun() - readsBefore, quint64(4));

    // What is committed, not the held transaction's change.
    QVERIFY(*one && **one);
    QCOMPARE((**one)->filename, QStringLiteral("committed.bin"));
    QVERIFY(*page && *counted && *queue);
    QCOMPARE((*page)->items.size(), 1);
    QCOMPARE((*page)->items.constFirst().filename, QStringLiteral("committed.bin"));
    QCOMPARE((*counted)->total, 1);
    QCOMPARE((*queue)->unfinished.size(), 1);
    QCOMPARE((*queue)->summary.queued, 1);

    QVERIFY(arrived(holdDone) && *holdDone && **holdDone); // the change had been made, then rolled back
}

void tst_DownloadReaders::readsGiveWhatTheStoreReads()
{
    QFETCH(QString, store);
    OPEN_STORE(store);
    QRandomGenerator random(m_db.seed);
    // Names of every UTF-8 length, control characters, quotes and backslashes (what a client
    // may send as a filename is sanitized before it is stored; the store keeps any text).
    const QString alphabet = QStringLiteral("aZ09 .-_\"\\'\t\u00e9\u00df\u20ac\u4e2d\u0416") + QString::fromUcs4(U"\U0001F600\U00010348");
    const auto text = [&](int max) {
        QString out;
        const int n = int(random.bounded(max + 1));
        for (int i = 0; i < n; ++i) {
            const uint c = random.bounded(uint(alphabet.size()));
            out += alphabet.at(c);
            if (alphabet.at(c).isHighSurrogate())
                out += alphabet.at(c + 1);
            else if (alphabet.at(c).isLowSurrogate())
                out.chop(1);
        }
        return out;
    };
    QList<Download> rows;
    for (int i = 0; i < 60; ++i) {
        Download d = row(text(40) + QStringLiteral(".bin"));
        d.url += u'/' + text(30);
        d.priority = int(random.bounded(5)) - 2;
        d.status = allDownloadStatuses().at(int(random.bounded(allDownloadStatuses().size())));
        d.sha256 = random.bounded(2) ? QString(64, u'a') : QString();
        d.errorMessage = random.bounded(2) ? text(50) : QString();
        d.note = random.bounded(3) == 0 ? text(20) : QString();
        d.totalBytes = random.bounded(2) ? qint64(random.bounded(1 << 30)) * 1000 : -1;
        d.downloadedBytes = d.totalBytes > 0 ? d.totalBytes / 2 : qint64(random.bounded(1000));
        d.attempts = int(random.bounded(4));
        d.speed = random.bounded(2) ? random.bounded(1e7) : 0.0;
        d.percent = std::floor(random.bounded(1000.0)) / 10;
        d.createdAt = QDateTime::fromMSecsSinceEpoch(qint64(random.bounded(4e12)), Qt::UTC);
        d.updatedAt = d.createdAt.addMSecs(qint64(random.bounded(1e6)));
        if (random.bounded(2))
            d.completedAt = d.updatedAt;
        rows.append(d);
    }
    std::optional<Result<AbstractDownloadStore::Inserted>> inserted;
    s->insert(s.get(), rows, [&](Result<AbstractDownloadStore::Inserted> r) { inserted.emplace(r); });
    QVERIFY(arrived(inserted) && *inserted);

    // What the API shows of a download, as the store's thread reads it (whole rows, Qt SQL).
    const auto shown = [](const Download &d) {
        return QVariantList{d.id, d.url, d.filename, d.priority, d.position, d.sha256, int(d.status),
                            d.downloadedBytes, d.totalBytes, d.errorMessage, d.note, d.attempts, d.createdAt,
                            d.updatedAt, d.completedAt, d.speed, d.percent, d.phase ? int(*d.phase) : -1,
                            d.retryDueInMs};
    };
    for (const bool withTotal : {false, true}) {
        const Request request{std::nullopt, 1000, 0, std::nullopt, withTotal};
        std::optional<Result<Page>> theirs, ours;
        s->list(s.get(), request, [&](Result<Page> r) { theirs.emplace(r); });
        s->showPage(s.get(), request, [&](Result<Page> r) { ours.emplace(r); });
        QVERIFY(arrived(theirs) && *theirs && arrived(ours) && *ours);
        QCOMPARE((*ours)->items.size(), rows.size());
        QCOMPARE((*ours)->items.size(), (*theirs)->items.size());
        QCOMPARE((*ours)->total, (*theirs)->total);
        for (qsizetype i = 0; i < rows.size(); ++i)
            QCOMPARE(shown((*ours)->items.at(i)), shown((*theirs)->items.at(i)));
    }
    // Page by page after a cursor (statements with bound values: prepared once on PostgreSQL),
    // by status too.
    for (const std::optional<DownloadStatus> status : {std::optional<DownloadStatus>(), std::optional(DownloadStatus::Pending)}) {
        std::optional<ListCursor> after;
        for (int pages = 0; pages < 100; ++pages) {
            const Request request{status, 7, 0, after, false};
            std::optional<Result<Page>> theirs, ours;
            s->list(s.get(), request, [&](Result<Page> r) { theirs.emplace(r); });
            s->showPage(s.get(), request, [&](Result<Page> r) { ours.emplace(r); });
            QVERIFY(arrived(theirs) && *theirs && arrived(ours) && *ours);
            QCOMPARE((*ours)->items.size(), (*theirs)->items.size());
            QCOMPARE((*ours)->more, (*theirs)->more);
            for (qsizetype i = 0; i < (*ours)->items.size(); ++i)
                QCOMPARE(shown((*ours)->items.at(i)), shown((*theirs)->items.at(i)));
            if (!(*ours)->more)
                break;
            after = ListCursor::after((*ours)->items.constLast());
        }
    }
    for (const Download &d : std::as_const(rows)) {
        std::optional<Result<std::optional<Download>>> theirs, ours;
        s->get(s.get(), d.id, [&](Result<std::optional<Download>> r) { theirs.emplace(r); });
        s->show(s.get(), d.id, [&](Result<std::optional<Download>> r) { ours.emplace(r); });
        QVERIFY(arrived(theirs) && *theirs && **theirs && arrived(ours) && *ours && **ours);
        QCOMPARE(shown(***ours), shown(***theirs));
    }
    std::optional<Result<std::optional<Download>>> none;
    s->show(s.get(), QUuid::createUuid().toString(QUuid::WithoutBraces), [&](Result<std::optional<Download>> r) { none.emplace(r); });
    QVERIFY(arrived(none) && *none && !**none);
}

/// Holds both read threads in jobs until release() (10 s at most), so that what is posted
/// meanwhile waits in the queue.
struct HeldReaders
{
    std::shared_ptr<std::atomic<int>> entered = std::make_shared<std::atomic<int>>(0);
    std::shared_ptr<std::atomic<bool>> released = std::make_shared<std::atomic<bool>>(false);
    int answered = 0;

    ~HeldReaders() { *released = true; } // a failed test does not leave the threads held
    bool hold(DownloadStore &s)
    {
        for (int i = 0; i < DownloadStore::ReadThreads; ++i) {
            s.read<int>(&s, [entered = entered, released = released](ReadConnection &) {
                ++*entered;
                QElapsedTimer held;
                held.start();
                while (!*released && !held.hasExpired(10000))
                    QThread::msleep(5);
                return 0;
            }, [this](Result<int>) { ++answered; }, 15000);
        }
        return QTest::qWaitFor([&] { return entered->load() == DownloadStore::ReadThreads; }, 10000);
    }
    bool release()
    {
        *released = true;
        return QTest::qWaitFor([&] { return answered == DownloadStore::ReadThreads; }, 10000);
    }
};

void tst_DownloadReaders::offsetPagesShareOneStatement()
{
    // A page's LIMIT and OFFSET are bound values: a read connection that keeps its statements
    // prepared (PgReads) prepares the page's statement once, not once per offset asked for
    // (they were in the statement's text: 50 offsets, 50 statements, a parse and plan each).
    const QString store = QStringLiteral("postgres");
    OPEN_STORE(store);
    QList<Download> rows;
    for (int i = 0; i < 60; ++i)
        rows.append(row(QStringLiteral("f%1.bin").arg(i)));
    std::optional<Result<AbstractDownloadStore::Inserted>> inserted;
    s->insert(s.get(), rows, [&](Result<AbstractDownloadStore::Inserted> r) { inserted.emplace(r); });
    QVERIFY(arrived(inserted) && *inserted);
    auto prepared = std::make_shared<std::atomic<quint64>>(0);
    for (int offset = 1; offset <= 50; ++offset) {
        const Request request{std::nullopt, 5, offset, std::nullopt, false};
        std::optional<Result<Page>> theirs, ours;
        s->list(s.get(), request, [&](Result<Page> r) { theirs.emplace(r); });
        s->read<Page>(s.get(), [request, prepared](ReadConnection &c) {
            const quint64 before = c.statementsPrepared();
            Page p = c.lists().page(request);
            *prepared += c.statementsPrepared() - before;
            return p;
        }, [&](Result<Page> r) { ours.emplace(r); });
        QVERIFY(arrived(theirs) && *theirs && arrived(ours) && *ours);
        QCOMPARE((*ours)->items.size(), (*theirs)->items.size());
        QCOMPARE((*ours)->more, (*theirs)->more);
        for (qsizetype i = 0; i < (*ours)->items.size(); ++i)
            QCOMPARE((*ours)->items.at(i).id, (*theirs)->items.at(i).id);
        QCOMPARE((*ours)->items.constFirst().id, (*theirs)->items.constFirst().id);
    }
    // At most once on each read connection.
    QVERIFY2(prepared->load() <= quint64(DownloadStore::ReadThreads),
             qPrintable(QStringLiteral("%1 statements prepared for 50 pages").arg(prepared->load())));
}

void tst_DownloadReaders::aFullQueueRefusesAtOnce()
{
    QFETCH(QString, store);
    OPEN_STORE(store);
    HeldReaders held;
    QVERIFY(held.hold(*s));
    // The queue's bound fills; the reads past it are answered at once (503 store_unavailable),
    // while the threads are still held, instead of waiting behind a queue that grows unbounded.
    static constexpr int Extra = 20;
    const int posted = int(DownloadReaders::MaxQueued) + Extra;
    auto ran = std::make_shared<std::atomic<int>>(0);
    int answered = 0, refused = 0;
    for (int i = 0; i < posted; ++i) {
        s->read<int>(s.get(), [ran](ReadConnection &) { return ++*ran; }, [&](Result<int> r) {
            ++answered;
            if (!r) {
                QCOMPARE(r.error().code, QByteArray("store_unavailable"));
                ++refused;
            }
        }, 15000);
    }
    QVERIFY2(QTest::qWaitFor([&] { return refused == Extra; }, 5000),
             qPrintable(QStringLiteral("%1 of %2 reads refused while the queue was full").arg(refused).arg(Extra)));
    QCOMPARE(answered, Extra);
    QCOMPARE(ran->load(), 0);
    QVERIFY(s->isReachable()); // a full queue is not an unreachable database
    QVERIFY(held.release());
    QTRY_COMPARE_WITH_TIMEOUT(answered, posted, 15000);
    QCOMPARE(refused, Extra);
    QCOMPARE(ran->load(), int(DownloadReaders::MaxQueued));
}

void tst_DownloadReaders::aReadPastItsTimeoutIsNotRun()
{
    QFETCH(QString, store);
    OPEN_STORE(store);
    HeldReaders held;
    QVERIFY(held.hold(*s));
    // Five reads wait past their timeout: their callers get the timeout's answer, and once a
    // thread is free they are dropped, not run for nobody ahead of the reads behind them.
    auto ran = std::make_shared<std::atomic<int>>(0);
    int timedOut = 0;
    const quint64 expiredBefore = s->readsExpired();
    for (int i = 0; i < 5; ++i) {
        s->read<int>(s.get(), [ran](ReadConnection &) { return ++*ran; }, [&](Result<int> r) {
            if (!r)
                ++timedOut;
        }, 200);
    }
    QTRY_COMPARE_WITH_TIMEOUT(timedOut, 5, 5000);
    // The readers' timeouts are not the store's connection's: it stays up (a probe of it ran).
    QVERIFY(s->isReachable());
    QVERIFY(held.release());
    QTRY_COMPARE_WITH_TIMEOUT(s->readsExpired() - expiredBefore, quint64(5), 5000);
    // A read after them runs, and the dropped ones never did.
    std::optional<Result<int>> after;
    s->read<int>(s.get(), [ran](ReadConnection &) { return ran->load(); }, [&](Result<int> r) { after.emplace(r); });
    QVERIFY(arrived(after) && *after);
    QCOMPARE(**after, 0);
    QCOMPARE(ran->load(), 0);
    QVERIFY(s->isReachable());
}

void tst_DownloadReaders::aLostReadLeavesTheStoreUp()
{
    QFETCH(QString, store);
    OPEN_STORE(store);
    QVERIFY(s->isReachable());
    // A read connection that reports its connection lost: the store's own connection decides
    // whether the database is reachable (hermes_store_up, /readyz), not whichever connection
    // answered last — that flag went down with the read and back up with the next write.
    std::optional<Result<int>> failed;
    s->read<int>(s.get(), [](ReadConnection &) -> int { throw StoreFailure{QStringLiteral("server closed the connection"), true}; },
                 [&](Result<int> r) {
        failed.emplace(r);
        QVERIFY(s->isReachable()); // as it is answered
    });
    QVERIFY(arrived(failed) && !*failed);
    QCOMPARE(failed->error().code, QByteArray("store_unavailable"));
    QVERIFY(s->isReachable());
    // The probe it asked for ran on the store's thread and found the database.
    std::optional<Result<std::optional<Download>>> got;
    s->get(s.get(), QStringLiteral("none"), [&](Result<std::optional<Download>> r) { got.emplace(r); });
    QVERIFY(arrived(got) && *got);
    QVERIFY(s->isReachable());
    // The store's own connection still decides the other way: a lost connection there is down.
    std::optional<Result<int>> lost;
    s->run<int>(s.get(), [](DownloadRepository &) -> int { throw StoreFailure{QStringLiteral("gone"), true}; },
                [&](Result<int> r) { lost.emplace(r); });
    QVERIFY(arrived(lost) && !*lost);
    // recover() found the connection answering, but the job said it was lost: down until the
    // next answer of that connection.
    QVERIFY(!s->isReachable());
    std::optional<Result<std::optional<Download>>> again;
    s->get(s.get(), QStringLiteral("none"), [&](Result<std::optional<Download>> r) { again.emplace(r); });
    QVERIFY(arrived(again) && *again);
    QVERIFY(s->isReachable());
}

void tst_DownloadReaders::anEndedReadConnectionReconnects()
{
    // PostgreSQL ends the read connections' backends (a restart, an administrator, a pooler):
    // each connection answers at most one read with the error, then reads again on a new
    // connection; the store's own connection, untouched, keeps the store up.
    const QString store = QStringLiteral("postgres");
    OPEN_STORE(store);
    std::optional<Result<AbstractDownloadStore::Inserted>> inserted;
    s->insert(s.get(), row(QStringLiteral("kept.bin")), [&](Result<AbstractDownloadStore::Inserted> r) { inserted.emplace(r); });
    QVERIFY(arrived(inserted) && *inserted);
    const QByteArray ended = m_db.postgres->psql(QStringLiteral(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE application_name = 'hermes-server-read' AND datname = '%1'").arg(m_database));
    QCOMPARE(ended.trimmed(), QByteArray::number(DownloadStore::ReadThreads));
    int failures = 0, pages = 0;
    for (int i = 0; i < 10; ++i) {
        std::optional<Result<Page>> page;
        s->showPage(s.get(), Request{std::nullopt, 10, 0, std::nullopt, true}, [&](Result<Page> r) { page.emplace(r); });
        QVERIFY(arrived(page));
        if (!*page) {
            ++failures;
            continue;
        }
        ++pages;
        QCOMPARE((*page)->items.size(), 1);
        QCOMPARE((*page)->total, 1);
    }
    QVERIFY2(failures <= DownloadStore::ReadThreads, qPrintable(QString::number(failures)));
    QCOMPARE(pages, 10 - failures);
    QVERIFY(s->isReachable());
}

QTEST_GUILESS_MAIN(tst_DownloadReaders)

#include "tst_downloadreaders.moc"
