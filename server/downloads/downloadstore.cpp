#include "downloads/downloadstore.h"
#include "downloads/postgresnotices.h"

#include "logging.h"

#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>

#include <deque>
#include <future>
#include <mutex>
#include <vector>

namespace Hermes {

/// Lives on the store's thread: owns the connections.
class DownloadStore::Worker final : public QObject
{
public:
    Worker(DownloadStore *store, const DatabaseUrl &url) : m_store(store), m_url(url) {}
    ~Worker() override { closeListener(); }

    std::unique_ptr<DownloadRepository> repo;

    /// Any thread: queues a job (`alone`: in a transaction of its own, see runGroup); the
    /// store's thread runs the queue (drain).
    void enqueue(Work work, bool alone)
    {
        const std::lock_guard lock(m_queueMutex);
        m_queue.push_back({std::move(work), alone});
        if (!m_draining) {
            m_draining = true;
            QMetaObject::invokeMethod(this, [this] { drain(false); }, Qt::QueuedConnection);
        }
    }

    /// Runs what is queued, in order. On SQLite the jobs taken together share one transaction
    /// (group commit): with synchronous=FULL each commit costs a sync of the WAL (2-3 ms on
    /// this kind of disk), and a busy node queues several writes meanwhile — they now cost one.
    /// Every answer goes out after the commit that made its writes durable, exactly as with a
    /// transaction per job. PostgreSQL keeps one transaction per job: its row locks (several
    /// nodes claim from one table) are not held across other jobs. `all`: until the queue is
    /// empty (before the worker goes); otherwise one batch, then the loop's other events.
    void drain(bool all)
    {
        static constexpr std::size_t MaxBatch = 256; // bounds how long a batch holds the write lock
        do {
            std::vector<Queued> jobs;
            {
                const std::lock_guard lock(m_queueMutex);
                const std::size_t n = std::min(m_queue.size(), MaxBatch);
                jobs.assign(std::make_move_iterator(m_queue.begin()), std::make_move_iterator(m_queue.begin() + std::ptrdiff_t(n)));
                m_queue.erase(m_queue.begin(), m_queue.begin() + std::ptrdiff_t(n));
            }
            for (std::size_t next = 0; repo && next < jobs.size();)
                next = runGroup(jobs, next);
            const std::lock_guard lock(m_queueMutex);
            if (m_queue.empty()) {
                m_draining = false;
                return;
            }
        } while (all);
        QMetaObject::invokeMethod(this, [this] { drain(false); }, Qt::QueuedConnection);
    }

    void startListening()
    {
        if (!m_url.isPostgres())
            return;
        m_ping = new QTimer(this);
        connect(m_ping, &QTimer::timeout, this, [this] { pingListener(); });
        m_ping->start(2000);
        openListener();
    }

private:
    struct Queued
    {
        Work work;
        bool alone; ///< a bulk job (a long timeout): never holds the answers of others back
    };

    /// Runs the jobs from `first` on in one transaction (SQLite), until the group has taken
    /// MaxGroupMs or a job to run alone is next: a slow job delays the answers of those before
    /// it in its group, so the group is closed before it gets slow. Returns the next job.
    std::size_t runGroup(std::vector<Queued> &jobs, std::size_t first)
    {
        static constexpr qint64 MaxGroupMs = 50; // a quick job's answer waits at most this, and a commit
        const auto joins = [&](std::size_t i) { return i < jobs.size() && !jobs[i].alone; };
        bool batched = !m_url.isPostgres() && joins(first) && joins(first + 1);
        if (batched) {
            try {
                repo->beginBatch();
            } catch (const StoreFailure &) {
                batched = false; // one transaction each, as without batching
            }
        }
        ++m_store->m_commits;
        if (!batched) {
            jobs[first].work(*repo)(std::nullopt); // committed by its own transaction
            return first + 1;
        }
        QElapsedTimer began;
        began.start();
        std::vector<Delivery> answers;
        std::size_t next = first;
        // A job after which SQLite rolled the whole transaction back on its own (disk full, I/O
        // error) ends the group: the jobs after it go into the next one, not into a transaction
        // committed behind the group's back (commitBatch then fails the group's jobs).
        do
            answers.push_back(jobs[next++].work(*repo));
        while (!repo->batchLost() && joins(next) && !began.hasExpired(MaxGroupMs));
        std::optional<StoreFailure> failure;
        try {
            repo->commitBatch();
        } catch (const StoreFailure &f) {
            failure = f;
            try {
                repo->recover();
            } catch (const StoreFailure &) {
                failure->connection = true;
            }
        }
        for (Delivery &answer : answers)
            answer(failure);
        return next;
    }

    void openListener()
    {
        closeListener();
        m_listenName = QStringLiteral("hermes-listen-") + QUuid::createUuid().toString(QUuid::WithoutBraces);
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), m_listenName);
        db.setHostName(m_url.host);
        if (m_url.port > 0)
            db.setPort(m_url.port);
        db.setUserName(m_url.user);
        db.setPassword(m_url.password);
        db.setDatabaseName(m_url.database);
        QString options = QStringLiteral("connect_timeout=5;keepalives=1;keepalives_idle=5;"
                                         "keepalives_interval=2;keepalives_count=3;tcp_user_timeout=10000;"
                                         "application_name=hermes-server-listen");
        if (!m_url.options.isEmpty())
            options += u';' + m_url.options;
        db.setConnectOptions(options);
        if (!db.open() || !db.driver()->subscribeToNotification(QLatin1StringView(SqlDialect::Channel))) {
            if (!m_warned)
                qCWarning(lcHub).noquote() << "downloads: cannot LISTEN on" << m_url.redacted() << ":"
                                           << db.lastError().text().trimmed() << "- retrying";
            m_warned = true;
            m_listening = false;
            return;
        }
        PostgresNotices::route(db);
        connect(db.driver(), &QSqlDriver::notification, this,
                [this](const QString &, QSqlDriver::NotificationSource, const QVariant &payload) {
                    emit m_store->changed(payload.toString());
                });
        if (m_warned)
            qCInfo(lcHub).noquote() << "downloads: listening for changes again";
        m_warned = false;
        m_listening = true;
        // Whatever happened while nobody listened: everyone re-reads what matters to them.
        emit m_store->changed(QStringLiteral("*"));
    }

    void closeListener()
    {
        if (m_listenName.isEmpty())
            return;
        {
            QSqlDatabase db = QSqlDatabase::database(m_listenName, false);
            if (db.isValid()) {
                if (db.driver())
                    db.driver()->disconnect(this);
                db.close();
            }
        }
        QSqlDatabase::removeDatabase(m_listenName);
        m_listenName.clear();
    }

    void pingListener()
    {
        if (m_listening) {
            QSqlQuery q(QSqlDatabase::database(m_listenName, false));
            if (q.exec(QStringLiteral("SELECT 1")))
                return;
            qCWarning(lcHub).noquote() << "downloads: the notification connection was lost:"
                                       << q.lastError().text().trimmed();
            m_listening = false;
        }
        openListener();
    }

    DownloadStore *m_store;
    DatabaseUrl m_url;
    std::mutex m_queueMutex;
    std::deque<Queued> m_queue;  ///< under m_queueMutex
    bool m_draining = false;     ///< a drain is queued or running (under m_queueMutex)
    QString m_listenName;
    QTimer *m_ping = nullptr;
    bool m_listening = false;
    bool m_warned = false;
};

DownloadStore::DownloadStore(QObject *parent) : AbstractDownloadStore(parent)
{
    m_thread.setObjectName(QStringLiteral("hermes-store"));
}

DownloadStore::~DownloadStore()
{
    // The readers first: a read they ran last may still hand its answer to this object.
    m_readers.reset();
    if (m_worker) {
        // Behind whatever is still queued (the engine hands its leases back as it goes): the
        // thread quits only after that work ran, so nothing queued is dropped or leaked.
        Worker *worker = m_worker;
        QThread *thread = &m_thread;
        QMetaObject::invokeMethod(worker, [worker, thread] {
            worker->drain(true); // what was queued after the last drain began
            delete worker;
            thread->quit();
        }, Qt::QueuedConnection);
        m_worker = nullptr;
    } else {
        m_thread.quit();
    }
    // A query stuck on a vanished server must not keep the process from exiting.
    if (!m_thread.wait(5000)) {
        qCWarning(lcHub) << "downloads: the database thread is stuck in a query; leaving it";
        m_thread.terminate();
        m_thread.wait(1000);
    }
}

void DownloadStore::post(Work work, bool alone)
{
    // The worker, not `this`: the destructor clears m_worker (on the caller's thread) while
    // work posted before it may still be queued; the worker itself is deleted only after that
    // work, by a job queued behind it.
    if (Worker *worker = m_worker)
        worker->enqueue(std::move(work), alone);
}

Result<void> DownloadStore::open(const DatabaseUrl &url)
{
    m_url = url;
    m_thread.start();
    m_worker = new Worker(this, url);
    m_worker->moveToThread(&m_thread);
    auto opened = std::make_shared<std::promise<QString>>();
    std::future<QString> result = opened->get_future();
    QMetaObject::invokeMethod(m_worker, [this, opened] {
        m_worker->repo = std::make_unique<DownloadRepository>(
            m_url, QStringLiteral("hermes-store-") + QUuid::createUuid().toString(QUuid::WithoutBraces));
        try {
            m_worker->repo->open();
            m_worker->startListening();
            opened->set_value(QString());
        } catch (const StoreFailure &f) { // contained here, as everywhere (see StoreFailure)
            opened->set_value(f.message);
        }
    }, Qt::QueuedConnection);
    // Start-up may wait for another node's migration (the advisory lock): a minute at most.
    if (result.wait_for(std::chrono::seconds(60)) != std::future_status::ready)
        return unavailable(QStringLiteral("the database %1 did not answer within 60 s").arg(m_url.redacted()));
    QString error = result.get();
    if (error.isEmpty()) { // the schema is there now: the read connections need it
        m_readers = std::make_unique<DownloadReaders>(ReadThreads);
        error = m_readers->open(m_url, 10000);
    }
    setReachable(error.isEmpty());
    if (!error.isEmpty())
        return unavailable(error);
    return Result<void>::success();
}

void DownloadStore::probe()
{
    if (m_probing || !m_worker)
        return;
    m_probing = true;
    // recover(): SELECT 1, a new connection if that fails; its outcome is the flag (owner).
    run<bool>(this, [](DownloadRepository &repo) {
        repo.recover();
        return true;
    }, [this](const Result<bool> &) { m_probing = false; });
}

bool DownloadStore::runBlocking(const std::function<void(DownloadRepository &)> &job, int timeoutMs)
{
    auto done = std::make_shared<std::promise<bool>>();
    std::future<bool> result = done->get_future();
    post([job, done](DownloadRepository &repo) -> Delivery {
        bool ran = true;
        try {
            job(repo);
        } catch (const StoreFailure &) { // contained here (see StoreFailure)
            ran = false;
        }
        // Answered once committed (it may share a batch).
        return [done, ran](const std::optional<StoreFailure> &commitFailure) { done->set_value(ran && !commitFailure); };
    });
    return result.wait_for(std::chrono::milliseconds(timeoutMs)) == std::future_status::ready && result.get();
}

// --- the operations: each one job on the store's thread --------------------------------------

void DownloadStore::insert(QObject *context, const QList<Download> &downloads, Done<Inserted> done)
{
    // A list (up to 1,000 rows: a pasted list) is a bulk job: the long timeout, so a slow store
    // does not answer "unavailable" for a list it then saves, and a transaction of its own.
    run<Inserted>(context, [rows = downloads](DownloadRepository &repo) mutable {
        repo.insert(rows); // assigns their positions
        return Inserted{rows, repo.counts()};
    }, std::move(done), downloads.size() > 1 ? BulkTimeoutMs : DefaultTimeoutMs);
}

void DownloadStore::control(QObject *context, const QString &id, Change change, bool remove,
                            Done<Controlled> done)
{
    run<Controlled>(context, [id, change = std::move(change), remove](DownloadRepository &repo) {
        Controlled c;
        c.row = repo.control(id, [&c, &change](Download &d) {
            c.before = d.status;
            return change(d);
        }, remove, &c.refused);
        if (c.row && !c.refused)
            c.summary = repo.counts();
        return c;
    }, std::move(done));
}

void DownloadStore::controlMany(QObject *context, const Selection &which, Change change,
                                Done<ControlledMany> done)
{
    run<ControlledMany>(context, [which, change = std::move(change)](DownloadRepository &repo) {
        ControlledMany c;
        c.rows = repo.controlMany(which, change, &c.missing, &c.more);
        c.summary = repo.counts();
        return c;
    }, std::move(done), BulkTimeoutMs);
}

void DownloadStore::get(QObject *context, const QString &id, Done<std::optional<Download>> done)
{
    run<std::optional<Download>>(context, [id](DownloadRepository &repo) { return repo.get(id); },
                                 std::move(done));
}

void DownloadStore::show(QObject *context, const QString &id, Done<std::optional<Download>> done)
{
    read<std::optional<Download>>(context, [id](ReadConnection &c) { return c.lists().one(id); },
                                  std::move(done));
}

void DownloadStore::list(QObject *context, const ListRequest &request, Done<Page> done)
{
    run<Page>(context, [request](DownloadRepository &repo) { return repo.lists().page(request); },
              std::move(done));
}

void DownloadStore::showPage(QObject *context, const ListRequest &request, Done<Page> done)
{
    read<Page>(context, [request](ReadConnection &c) {
        DownloadListQuery &lists = c.lists();
        // With its total: the page and the count from one state of the table.
        if (request.withTotal)
            return lists.together([&] { return lists.page(request); });
        return lists.page(request);
    }, std::move(done));
}

void DownloadStore::queue(QObject *context, const ListRequest &request, Done<Queue> done)
{
    // The counts are read, never folded here (a read connection does not write): the writes
    // fold them (DownloadRepository::counts).
    read<Queue>(context, [request](ReadConnection &c) {
        DownloadListQuery &lists = c.lists();
        return lists.together([&] {
            Page p = lists.unfinished(request);
            return Queue{std::move(p.items), lists.counts(), p.more};
        });
    }, std::move(done));
}

void DownloadStore::claim(QObject *context, const QString &node, int leaseMs, int max, int clusterLimit,
                          const QStringList &busy, Done<Claimed> done)
{
    run<Claimed>(context, [node, leaseMs, max, clusterLimit, busy](DownloadRepository &repo) {
        Claimed c;
        c.rows = repo.claim(node, leaseMs, max, clusterLimit, busy, &c.nextRetryInMs);
        return c;
    }, std::move(done));
}

void DownloadStore::renew(QObject *context, const QString &node, int leaseMs, const QStringList &runs,
                          Done<QHash<QString, DownloadStatus>> done)
{
    run<QHash<QString, DownloadStatus>>(context, [node, leaseMs, runs](DownloadRepository &repo) {
        return repo.renew(node, leaseMs, runs);
    }, std::move(done));
}

void DownloadStore::release(const QString &id, const QString &node)
{
    // Nobody waits for it: a release that fails leaves the lease to expire.
    run<bool>(this, [id, node](DownloadRepository &repo) { repo.release(id, node); return true; },
              [](Result<bool>) {});
}

void DownloadStore::notifyChanged(const QString &id)
{
    run<bool>(this, [id](DownloadRepository &repo) { repo.notify(id); return true; }, [](Result<bool>) {});
}

bool DownloadStore::releaseAll(const QString &node, int timeoutMs)
{
    return runBlocking([node](DownloadRepository &repo) { repo.releaseAll(node); }, timeoutMs);
}

bool DownloadStore::resetOwners(int timeoutMs)
{
    return runBlocking([](DownloadRepository &repo) { repo.resetOwners(); }, timeoutMs);
}

void DownloadStore::update(QObject *context, const Download &download, const QString &node,
                           DownloadStatus expected, qint64 retryInMs, bool release, bool withSummary,
                           Done<std::optional<QueueSummary>> done)
{
    run<std::optional<QueueSummary>>(context, [download, node, expected, retryInMs, release, withSummary](
                                                  DownloadRepository &repo) {
        std::optional<QueueSummary> summary;
        if (repo.update(download, node, expected, retryInMs, release))
            summary = withSummary ? repo.counts() : QueueSummary{};
        return summary;
    }, std::move(done));
}

} // namespace Hermes
