// DownloadStore's reads for the API (show, showPage, queue) on DownloadReaders' connections, on
// a real SQLite file and a real PostgreSQL: they are answered while the store's thread is held
// by a long write job (a test that fails when they go back to that thread), they see what is
// committed and not the held job's uncommitted change, and they read the same values as the
// store's own reads through Qt SQL (SQLite's are read by the SQLite library itself), for rows
// of Unicode, control characters, quotes, nulls and every status, whole pages and page by page
// after a cursor (seeded, HERMES_TEST_SEED).

#include "downloads/downloadstore.h"
#include "storedatabases.h"

#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

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

private:
    static void stores() { StoreDatabases::addStores(); }
    /// A store opened on a new database of `store`'s kind; null (and skipped) without PostgreSQL.
    std::unique_ptr<DownloadStore> open(const QString &store);

    StoreDatabases m_db;
    int m_opened = 0;
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

QTEST_GUILESS_MAIN(tst_DownloadReaders)

#include "tst_downloadreaders.moc"
