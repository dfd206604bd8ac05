// DownloadListQuery on a real SQLite file and a real PostgreSQL: cursor pages walked while
// downloads are added, removed, paused, finished and reprioritized between pages (seeded,
// the seed printed; HERMES_TEST_SEED replays one) against a model of the table, offset pages,
// the queue_rank column against DownloadRules, the queue's page and counts, and the plans
// SQLite makes of the statements that run (an index seek, no sort).

#include "downloads/databaseurl.h"
#include "downloads/downloadrepository.h"
#include "downloads/listcursor.h"
#include "storedatabases.h"

#include <QHash>
#include <QRandomGenerator>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>
#include <memory>
#include <tuple>

using namespace Hermes;
using namespace Hermes::Test;
using Request = AbstractDownloadStore::ListRequest;

namespace {

struct Key
{
    qint64 rank, position;
    QString id;
    bool operator<(const Key &o) const { return std::tie(rank, position, id) < std::tie(o.rank, o.position, o.id); }
};

Key keyOf(const Download &d)
{
    const ListCursor c = ListCursor::after(d);
    return {c.rank, c.position, c.id};
}

} // namespace

class tst_DownloadListQuery : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void cursorsRoundTrip();
    void rankIsTheQueueOrder_data() { stores(); }
    void rankIsTheQueueOrder();
    void cursorWalkUnderChanges_data() { stores(); }
    void cursorWalkUnderChanges();
    void offsetAndCursorAgree_data() { stores(); }
    void offsetAndCursorAgree();
    void queuePageAndCounts_data() { stores(); }
    void queuePageAndCounts();
    void countsFollowEveryChange_data() { stores(); }
    void countsFollowEveryChange();
    void countsOfAnOlderSchema();
    void concurrentNodesKeepTheCounts();
    void foldedCountsAreReclaimed();
    void sqlitePlansSeekTheIndex();

private:
    static void stores() { StoreDatabases::addStores(); }
    std::unique_ptr<DownloadRepository> open(const QString &store);
    Download add(DownloadRepository &repo, DownloadStatus status, int priority);

    StoreDatabases m_db;
    int m_opened = 0;
};

void tst_DownloadListQuery::initTestCase()
{
    QString error;
    QVERIFY2(m_db.start(&error), qPrintable(error));
}

void tst_DownloadListQuery::cleanupTestCase()
{
    m_db.stop();
}

std::unique_ptr<DownloadRepository> tst_DownloadListQuery::open(const QString &store)
{
    const QString url = m_db.newUrl(store, QStringLiteral("list%1.db").arg(++m_opened));
    if (url.isEmpty())
        return nullptr;
    const auto parsed = DatabaseUrl::parse(url, QString());
    if (!parsed)
        return nullptr;
    auto repo = std::make_unique<DownloadRepository>(*parsed, QStringLiteral("list-%1").arg(++m_opened));
    try {
        repo->open();
    } catch (const StoreFailure &f) {
        qWarning("%s", qPrintable(f.message));
        return nullptr;
    }
    return repo;
}

Download tst_DownloadListQuery::add(DownloadRepository &repo, DownloadStatus status, int priority)
{
    Download d;
    d.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    d.url = QStringLiteral("http://127.0.0.1:1/") + d.id;
    d.filename = d.id + QStringLiteral(".bin");
    d.status = status;
    d.priority = priority;
    d.createdAt = d.updatedAt = QDateTime::currentDateTimeUtc();
    repo.insert(d);
    return d;
}

#define OPEN_OR_SKIP(repo)                                                                         \
    QFETCH(QString, store);                                                                        \
    auto repo = open(store);                                                                       \
    if (!repo && store == u"postgres" && !m_db.postgres)                                              \
        QSKIP("PostgreSQL is not installed (apt-get install postgresql libqt6sql6-psql)");         \
    QVERIFY(repo)

void tst_DownloadListQuery::cursorsRoundTrip()
{
    const ListCursor c{2001 + 1000 - 7, 123456789012, QStringLiteral("0b7e8d2a-1f1e-4d4c-9c59-0f8a1c2b3d4e")};
    QCOMPARE(ListCursor::decode(c.encode()), c);
    // Nothing else is a cursor: not its other spellings, not junk, not a forged rank.
    for (const QByteArray &bad : {QByteArray(), QByteArray("x"), c.encode() + "=", c.encode() + "%3D",
                                  QByteArray("MS4yLg"), QByteArray("LTEuMS5h"), QByteArray(200, 'A'),
                                  ListCursor{999999, 1, QStringLiteral("a")}.encode(),
                                  ListCursor{5, 1, QStringLiteral("a")}.encode(),
                                  ListCursor{5, 1, QStringLiteral("0B7E8D2A-1F1E-4D4C-9C59-0F8A1C2B3D4E")}.encode(),
                                  ListCursor{5, 1, QStringLiteral("0b7e8d2a-1f1e-4d4c-9c59-0f8a1c2b3d4") + QChar(0)}.encode()})
        QVERIFY2(!ListCursor::decode(bad), bad.constData());
}

void tst_DownloadListQuery::rankIsTheQueueOrder()
{
    // The column the database generates (migration 5) and ListCursor's rank agree for every
    // status: a new finished status with no migration of its own fails here.
    OPEN_OR_SKIP(repo);
    for (DownloadStatus s : allDownloadStatuses()) {
        for (int priority : {-1000, -1, 0, 5, 1000}) {
            const Download d = add(*repo, s, priority);
            bool found = false;
            const auto page = repo->lists().page(Request{s, 1000, 0, std::nullopt, true});
            for (const Download &row : page.items)
                found |= row.id == d.id;
            QVERIFY(found);
            // Seek to just before it: it comes first, so the database orders by the same rank.
            const Request after{s, 1, 0, ListCursor{ListCursor::rankOf(s, priority), d.position, QStringLiteral("")}, false};
            const auto next = repo->lists().page(after);
            QVERIFY2(!next.items.isEmpty() && next.items.first().id == d.id, wireName(s).data());
        }
    }
}

void tst_DownloadListQuery::cursorWalkUnderChanges()
{
    OPEN_OR_SKIP(repo);
    QRandomGenerator rng(m_db.seed);
    const auto randomStatus = [&rng] {
        const QList<DownloadStatus> all = allDownloadStatuses();
        return all.at(rng.bounded(int(all.size())));
    };
    QHash<QString, Download> model;
    for (int i = 0; i < 400; ++i) {
        const Download d = add(*repo, randomStatus(), int(rng.bounded(7)) - 3);
        model.insert(d.id, d);
    }
    for (int walk = 0; walk < 6; ++walk) {
        const std::optional<DownloadStatus> status = walk % 3 == 2 ? std::optional(randomStatus()) : std::nullopt;
        const auto matches = [&status](const Download &d) { return !status || d.status == *status; };
        // Throughout: present and matching from the first page to the last, never moved.
        QSet<QString> throughout, moved, ever;
        for (const Download &d : std::as_const(model)) {
            ever.insert(d.id);
            if (matches(d))
                throughout.insert(d.id);
        }
        QHash<QString, int> seen;
        std::optional<ListCursor> cursor;
        int pages = 0;
        for (;; ++pages) {
            QVERIFY2(pages < 2000, "the walk does not end");
            const int limit = 1 + int(rng.bounded(40));
            const auto page = repo->lists().page(Request{status, limit, 0, cursor, false});
            QVERIFY(page.items.size() <= limit);
            for (qsizetype i = 0; i < page.items.size(); ++i) {
                const Download &row = page.items.at(i);
                QVERIFY2(ever.contains(row.id), "a row that never existed");
                QVERIFY(matches(row));
                if (i > 0)
                    QVERIFY(keyOf(page.items.at(i - 1)) < keyOf(row));
                if (cursor)
                    QVERIFY((Key{cursor->rank, cursor->position, cursor->id} < keyOf(row)));
                ++seen[row.id];
            }
            if (!page.more)
                break;
            QVERIFY(!page.items.isEmpty());
            cursor = ListCursor::after(page.items.last());
            // Between two pages: adds, removals, status and priority changes.
            const int changes = int(rng.bounded(12));
            for (int c = 0; c < changes; ++c) {
                const int what = int(rng.bounded(4));
                if (what == 0 || model.isEmpty()) {
                    const Download d = add(*repo, randomStatus(), int(rng.bounded(7)) - 3);
                    model.insert(d.id, d);
                    ever.insert(d.id);
                    continue;
                }
                const QString id = model.keys().at(rng.bounded(int(model.size())));
                bool refused = false;
                if (what == 1) {
                    QVERIFY(repo->control(id, [](Download &) { return true; }, true, &refused));
                    model.remove(id);
                    throughout.remove(id);
                    continue;
                }
                Download &m = model[id];
                const Key before = keyOf(m);
                const bool matched = matches(m);
                if (what == 2)
                    m.status = randomStatus();
                else
                    m.priority = int(rng.bounded(7)) - 3;
                const Download wanted = m;
                QVERIFY(repo->control(id, [&wanted](Download &d) {
                    d.status = wanted.status;
                    d.priority = wanted.priority;
                    return true;
                }, false, &refused));
                if (keyOf(m).rank != before.rank)
                    moved.insert(id);
                if (matched != matches(m))
                    throughout.remove(id);
            }
        }
        for (auto it = seen.cbegin(); it != seen.cend(); ++it)
            QVERIFY2(it.value() == 1 || moved.contains(it.key()), qPrintable(it.key() + QStringLiteral(" seen twice")));
        int checked = 0;
        for (const QString &id : std::as_const(throughout)) {
            if (moved.contains(id))
                continue;
            QVERIFY2(seen.value(id) == 1, qPrintable(QStringLiteral("%1 missing (seed %2, walk %3)").arg(id).arg(m_db.seed).arg(walk)));
            ++checked;
        }
        QVERIFY(checked > 0 || status);
        qInfo("walk %d (%s): %d pages, %d rows seen, %d present throughout and in place, %d moved",
              walk, status ? wireName(*status).data() : "all", pages + 1, int(seen.size()), checked, int(moved.size()));
    }
}

void tst_DownloadListQuery::offsetAndCursorAgree()
{
    OPEN_OR_SKIP(repo);
    QRandomGenerator rng(m_db.seed ^ 0x5a5a);
    QList<Download> model;
    for (int i = 0; i < 150; ++i) {
        const QList<DownloadStatus> all = allDownloadStatuses();
        model.append(add(*repo, all.at(rng.bounded(int(all.size()))), int(rng.bounded(5)) - 2));
    }
    std::sort(model.begin(), model.end(), [](const Download &a, const Download &b) { return keyOf(a) < keyOf(b); });
    QStringList byOffset, byCursor;
    for (int offset = 0;;) {
        const auto page = repo->lists().page(Request{std::nullopt, 17, offset, std::nullopt, true});
        QCOMPARE(page.total, int(model.size()));
        for (const Download &d : page.items)
            byOffset.append(d.id);
        offset += int(page.items.size());
        if (!page.more)
            break;
    }
    std::optional<ListCursor> cursor;
    for (;;) {
        const auto page = repo->lists().page(Request{std::nullopt, 23, 0, cursor, false});
        for (const Download &d : page.items)
            byCursor.append(d.id);
        if (!page.more)
            break;
        cursor = ListCursor::after(page.items.last());
    }
    QStringList expected;
    for (const Download &d : std::as_const(model))
        expected.append(d.id);
    QCOMPARE(byOffset, expected);
    QCOMPARE(byCursor, expected);
    // Past the end: nothing, and nothing more.
    const auto past = repo->lists().page(Request{std::nullopt, 10, int(model.size()) + 5, std::nullopt, false});
    QVERIFY(past.items.isEmpty() && !past.more);
    // By status (the filter's value bound twice: the page's and its offset row's), at random
    // page sizes and starting offsets.
    for (const DownloadStatus status : allDownloadStatuses()) {
        QStringList want;
        for (const Download &d : std::as_const(model)) {
            if (d.status == status)
                want.append(d.id);
        }
        const int limit = 1 + int(rng.bounded(9));
        const int start = int(rng.bounded(quint32(want.size() + 2)));
        QStringList got;
        for (int offset = start;;) {
            const auto page = repo->lists().page(Request{status, limit, offset, std::nullopt, false});
            for (const Download &d : page.items)
                got.append(d.id);
            offset += int(page.items.size());
            if (!page.more)
                break;
        }
        QVERIFY2(got == want.mid(start), qPrintable(QStringLiteral("%1 from %2 by %3 (seed %4)")
                                                        .arg(QString::fromLatin1(wireName(status))).arg(start).arg(limit).arg(m_db.seed)));
    }
}

void tst_DownloadListQuery::queuePageAndCounts()
{
    OPEN_OR_SKIP(repo);
    QHash<DownloadStatus, int> n;
    QRandomGenerator rng(m_db.seed ^ 0xa5a5);
    QStringList unfinished;
    QList<Download> rows;
    for (int i = 0; i < 120; ++i) {
        const QList<DownloadStatus> all = allDownloadStatuses();
        const DownloadStatus s = all.at(rng.bounded(int(all.size())));
        rows.append(add(*repo, s, int(rng.bounded(5)) - 2));
        ++n[s];
    }
    std::sort(rows.begin(), rows.end(), [](const Download &a, const Download &b) { return keyOf(a) < keyOf(b); });
    for (const Download &d : std::as_const(rows)) {
        if (!d.isFinished())
            unfinished.append(d.id);
    }
    QStringList paged;
    std::optional<ListCursor> cursor;
    for (int pages = 0; pages < 100; ++pages) {
        const auto page = repo->lists().unfinished(Request{DownloadStatus::Completed, 7, 0, cursor, false});
        for (const Download &d : page.items)
            paged.append(d.id);
        if (!page.more)
            break;
        cursor = ListCursor::after(page.items.last());
    }
    QCOMPARE(paged, unfinished);
    const QueueSummary c = repo->counts();
    QCOMPARE(c.queued, n.value(DownloadStatus::Pending));
    QCOMPARE(c.paused, n.value(DownloadStatus::Paused));
    int active = 0;
    for (auto it = n.cbegin(); it != n.cend(); ++it)
        active += DownloadRules::isActive(it.key()) ? it.value() : 0;
    QCOMPARE(c.active, active);
}

void tst_DownloadListQuery::countsFollowEveryChange()
{
    // The counts the database keeps (migration 6) against a model, after every one of 800
    // random adds, removals and status changes (several folds of the deltas on the way), from
    // two connections to the same database where there can be two (PostgreSQL's nodes).
    OPEN_OR_SKIP(repo);
    std::unique_ptr<DownloadRepository> other;
    if (store == u"postgres") {
        const auto url = DatabaseUrl::parse(m_db.postgres->url(m_db.postgres->createDatabase()), QString());
        QVERIFY(url);
        repo = std::make_unique<DownloadRepository>(*url, QStringLiteral("counts-a"));
        other = std::make_unique<DownloadRepository>(*url, QStringLiteral("counts-b"));
        repo->open();
        other->open();
    }
    QRandomGenerator rng(m_db.seed ^ 0x5a5a);
    const QList<DownloadStatus> all = allDownloadStatuses();
    QHash<QString, DownloadStatus> model;
    for (int op = 0; op < 800; ++op) {
        DownloadRepository &r = other && rng.bounded(2) ? *other : *repo;
        const int what = model.isEmpty() ? 0 : int(rng.bounded(5));
        if (what <= 1) {
            const Download d = add(r, all.at(rng.bounded(int(all.size()))), 0);
            model.insert(d.id, d.status);
        } else {
            const QString id = model.keys().at(rng.bounded(int(model.size())));
            bool refused = false;
            if (what == 2) {
                QVERIFY(r.control(id, [](Download &) { return true; }, true, &refused));
                model.remove(id);
            } else {
                const DownloadStatus to = all.at(rng.bounded(int(all.size())));
                QVERIFY(r.control(id, [to](Download &d) { d.status = to; return true; }, false, &refused));
                model[id] = to;
            }
        }
        QHash<DownloadStatus, int> n;
        for (const DownloadStatus s : std::as_const(model))
            ++n[s];
        const QueueSummary c = r.counts();
        int active = 0;
        for (auto it = n.cbegin(); it != n.cend(); ++it)
            active += DownloadRules::isActive(it.key()) ? it.value() : 0;
        const QByteArray at = QStringLiteral("op %1, seed %2").arg(op).arg(m_db.seed).toUtf8();
        const auto where = [&at] { return at.constData(); };
        QVERIFY2(c.queued == n.value(DownloadStatus::Pending) && c.paused == n.value(DownloadStatus::Paused)
                     && c.active == active, where());
        if (op % 25 == 0) {
            const DownloadStatus s = all.at(rng.bounded(int(all.size())));
            QVERIFY2(r.lists().page(Request{s, 1, 0, std::nullopt, true}).total == n.value(s), where());
            QVERIFY2(r.lists().page(Request{std::nullopt, 1, 0, std::nullopt, true}).total == model.size(), where());
        }
    }
}

void tst_DownloadListQuery::concurrentNodesKeepTheCounts()
{
    // Three PostgreSQL connections on their own threads (three nodes) add, change and remove
    // at once, each counting after every change, so their folds race each other and the
    // others' uncommitted deltas; at the end the kept counts equal COUNT(*) by status.
    if (!m_db.postgres)
        QSKIP("PostgreSQL is not installed (apt-get install postgresql libqt6sql6-psql)");
    const QString database = m_db.postgres->createDatabase();
    const auto url = DatabaseUrl::parse(m_db.postgres->url(database), QString());
    QVERIFY(url);
    {
        DownloadRepository first(*url, QStringLiteral("nodes-migrate"));
        first.open();
    }
    std::atomic<int> failures{0};
    std::vector<std::thread> nodes;
    for (int n = 0; n < 3; ++n) {
        nodes.emplace_back([&, n] {
            try {
                DownloadRepository repo(*url, QStringLiteral("nodes-%1").arg(n));
                repo.open();
                QRandomGenerator rng(m_db.seed + quint32(n));
                const QList<DownloadStatus> all = allDownloadStatuses();
                QStringList mine;
                for (int op = 0; op < 250; ++op) {
                    const int what = mine.isEmpty() ? 0 : int(rng.bounded(4));
                    bool refused = false;
                    if (what == 0) {
                        Download d;
                        d.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
                        d.url = QStringLiteral("http://127.0.0.1:1/") + d.id;
                        d.filename = d.id + QStringLiteral(".bin");
                        d.status = all.at(rng.bounded(int(all.size())));
                        d.createdAt = d.updatedAt = QDateTime::currentDateTimeUtc();
                        repo.insert(d);
                        mine.append(d.id);
                    } else if (what == 1) {
                        repo.control(mine.takeAt(rng.bounded(int(mine.size()))), [](Download &) { return true; }, true, &refused);
                    } else {
                        const DownloadStatus to = all.at(rng.bounded(int(all.size())));
                        repo.control(mine.at(rng.bounded(int(mine.size()))), [to](Download &d) { d.status = to; return true; },
                                     false, &refused);
                    }
                    repo.counts();
                }
            } catch (const StoreFailure &f) {
                qWarning("node %d: %s", n, qPrintable(f.message));
                ++failures;
            }
        });
    }
    for (std::thread &t : nodes)
        t.join();
    QCOMPARE(failures.load(), 0);
    const QByteArray truth = m_db.postgres->psql(QStringLiteral("SELECT string_agg(status || '=' || n, ',' ORDER BY status) FROM "
                                                             "(SELECT status, COUNT(*) n FROM downloads GROUP BY status) c"), database);
    const QByteArray kept = m_db.postgres->psql(QStringLiteral("SELECT string_agg(status || '=' || n, ',' ORDER BY status) FROM "
                                                            "(SELECT status, SUM(n) n FROM download_counts GROUP BY status HAVING SUM(n) <> 0) c"), database);
    QCOMPARE(kept, truth);
    QVERIFY(m_db.postgres->psql(QStringLiteral("SELECT COUNT(*) FROM download_counts"), database).trimmed().toInt() < 600); // folded on the way
}

void tst_DownloadListQuery::foldedCountsAreReclaimed()
{
    // On PostgreSQL every count scans download_counts whole, dead rows included: the rows a
    // fold deleted stayed until autovacuum came by (600+ pages after 100,000 adds, 0.7 ms of
    // the database's CPU per GET /queue). A fold vacuums them away: after 3,000 deltas folded
    // several times the table is a few pages, not the 20 or so all of them fill.
    if (!m_db.postgres)
        QSKIP("PostgreSQL is not installed (apt-get install postgresql libqt6sql6-psql)");
    const QString database = m_db.postgres->createDatabase();
    const auto url = DatabaseUrl::parse(m_db.postgres->url(database), QString());
    QVERIFY(url);
    DownloadRepository repo(*url, QStringLiteral("reclaim"));
    repo.open();
    const Download d = add(repo, DownloadStatus::Pending, 0);
    for (int i = 0; i < 1500; ++i) {
        bool refused = false;
        const DownloadStatus to = i % 2 ? DownloadStatus::Pending : DownloadStatus::Paused;
        QVERIFY(repo.control(d.id, [to](Download &row) { row.status = to; return true; }, false, &refused));
        const QueueSummary c = repo.counts();
        QCOMPARE(c.queued + c.paused, 1);
    }
    const int pages = m_db.postgres->psql(QStringLiteral("SELECT pg_relation_size('download_counts') / 8192"), database).trimmed().toInt();
    qInfo("download_counts: %d pages after 3,000 deltas", pages);
    QVERIFY2(pages <= 6, qPrintable(QString::number(pages)));
}

void tst_DownloadListQuery::countsOfAnOlderSchema()
{
    // A database at schema 5 with downloads in it: migration 6 counts them.
    const QString path = m_db.dir.filePath(QStringLiteral("schema5.db"));
    const auto url = DatabaseUrl::parse(QStringLiteral("sqlite://") + path, QString());
    QVERIFY(url);
    {
        DownloadRepository repo(*url, QStringLiteral("schema5-a"));
        repo.open();
        for (int i = 0; i < 30; ++i)
            add(repo, i % 3 ? DownloadStatus::Pending : DownloadStatus::Paused, 0);
    }
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("schema5"));
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery q(db);
        for (const char *sql : {"DROP TRIGGER downloads_count_insert", "DROP TRIGGER downloads_count_delete",
                                "DROP TRIGGER downloads_count_status", "DROP TABLE download_counts",
                                "ALTER TABLE downloads DROP COLUMN phase", // migration 7's
                                "UPDATE schema_version SET version = 5"})
            QVERIFY2(q.exec(QLatin1StringView(sql)), sql);
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("schema5"));
    DownloadRepository repo(*url, QStringLiteral("schema5-b"));
    repo.open();
    QCOMPARE(repo.schemaVersion(), 7);
    const QueueSummary c = repo.counts();
    QCOMPARE(c.queued, 20);
    QCOMPARE(c.paused, 10);
}

void tst_DownloadListQuery::sqlitePlansSeekTheIndex()
{
    // The statements DownloadListQuery sends, recorded, then explained by SQLite on the same
    // file: a page after a cursor is a seek of the queue-order index (with or without a status),
    // never a sort of the table.
    const QString path = m_db.dir.filePath(QStringLiteral("plans.db"));
    const auto url = DatabaseUrl::parse(QStringLiteral("sqlite://") + path, QString());
    QVERIFY(url);
    DownloadRepository repo(*url, QStringLiteral("plans"));
    repo.open();
    for (int i = 0; i < 50; ++i)
        add(repo, i % 3 ? DownloadStatus::Pending : DownloadStatus::Completed, i % 5);
    QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("explain"));
    db.setDatabaseName(path);
    QVERIFY(db.open());
    // No ANALYZE: the server never runs one, so the planner works without statistics.
    QStringList plans;
    const auto explained = [&](const QString &sql, const QVariantList &binds) {
        QSqlQuery explain(db);
        explain.prepare(QStringLiteral("EXPLAIN QUERY PLAN ") + sql);
        for (const QVariant &b : binds)
            explain.addBindValue(b);
        [&] { QVERIFY2(explain.exec(), qPrintable(sql)); }();
        QString plan;
        while (explain.next())
            plan += explain.value(3).toString() + u'\n';
        plans.append(sql.left(60) + QStringLiteral(" -> ") + plan);
        QSqlQuery q(db);
        q.prepare(sql);
        for (const QVariant &b : binds)
            q.addBindValue(b);
        q.exec();
        return q;
    };
    DownloadListQuery recorder(SqlDialect(SqlDialect::Kind::Sqlite), DownloadListQuery::overQtSql(explained));
    // The API's read connections read fewer columns (DownloadRow::shown): the same plans.
    DownloadListQuery shown(SqlDialect(SqlDialect::Kind::Sqlite), DownloadListQuery::overQtSql(explained),
                            DownloadListQuery::Rows::Shown);
    const ListCursor somewhere{1000, 10, QStringLiteral("m")};
    for (DownloadListQuery *lists : {&recorder, &shown}) {
        plans.clear();
        lists->page(Request{std::nullopt, 100, 0, somewhere, false});
        QVERIFY2(plans.size() == 1 && plans[0].contains(u"USING INDEX downloads_queue_order ((queue_rank,position,id)>(?,?,?))")
                     && !plans[0].contains(u"TEMP B-TREE"), qPrintable(plans.join(u'\n')));
    }
    plans.clear();
    recorder.page(Request{DownloadStatus::Pending, 100, 0, somewhere, false});
    QVERIFY2(plans.size() == 1 && plans[0].contains(u"USING INDEX downloads_status_order (status=? AND (queue_rank,position,id)>(?,?,?))")
                 && !plans[0].contains(u"TEMP B-TREE"), qPrintable(plans.join(u'\n')));
    plans.clear();
    recorder.unfinished(Request{std::nullopt, 100, 0, somewhere, false});
    QVERIFY2(plans.size() == 1 && plans[0].contains(u"downloads_queue_order") && !plans[0].contains(u"TEMP B-TREE"),
             qPrintable(plans.join(u'\n')));
    plans.clear();
    recorder.counts();
    // The kept counts (a few rows), and the speed of the running downloads by the status index.
    QVERIFY2(plans.size() == 2 && plans[0].contains(u"download_counts") && !plans[0].contains(u"downloads ")
                 && plans[1].contains(u"USING INDEX downloads_status"), qPrintable(plans.join(u'\n')));
    db.close();
}

QTEST_GUILESS_MAIN(tst_DownloadListQuery)
#include "tst_downloadlistquery.moc"
