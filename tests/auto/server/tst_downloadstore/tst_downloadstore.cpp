// DownloadStore on SQLite: group commit. Jobs that queue up while a commit runs share the next
// one; a job that fails inside a group (a duplicate id) leaves nothing of its own while the
// others keep theirs; every answer arrives; what was answered as saved is in the file when it
// is opened again.

#include "downloads/downloadstore.h"

#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

using namespace Hermes;

class tst_DownloadStore : public QObject
{
    Q_OBJECT

private slots:
    void queuedWritesShareCommitsAndEachAnswerIsKept();
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

QTEST_GUILESS_MAIN(tst_DownloadStore)

#include "tst_downloadstore.moc"
