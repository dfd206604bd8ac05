#pragma once

#include "downloads/abstractdownloadstore.h"
#include "downloads/databaseurl.h"
#include "downloads/downloadreaders.h"
#include "downloads/downloadrepository.h"
#include "metricswriter.h"
#include "threadaffinity.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

namespace Hermes {

/**
 * The download store: SQLite (one node) or PostgreSQL (several nodes sharing one queue),
 * used without ever blocking the event loop.
 *
 * Qt SQL is synchronous and a database on the network may stall, so every query runs on the
 * store's own thread (DownloadRepository) and answers through a callback on the caller's
 * thread, or with an error once `timeoutMs` passed. On PostgreSQL a second connection
 * LISTENs for the other nodes' changes (changed()) and is pinged so a lost server is noticed.
 *
 * The repository reports failures as StoreFailure exceptions; they are caught here, on the
 * store's thread, and never leave it: callers get a Result.
 *
 * The API's reads (show(), showPage(), queue()) run on DownloadReaders' connections instead,
 * beside the writes: they see what is committed, and never wait for a group commit.
 */
class DownloadStore final : public AbstractDownloadStore
{
    Q_OBJECT
public:
    static constexpr int DefaultTimeoutMs = 5000;
    /// controlMany(): up to 10,000 rows locked and written in one transaction.
    static constexpr int BulkTimeoutMs = 30000;
    /// Threads (and connections) for the API's reads: two, so that one slow page does not hold
    /// the others back, and no more (the box this was measured on has two cores, and the main
    /// thread writes every page's JSON).
    static constexpr int ReadThreads = 2;

    explicit DownloadStore(QObject *parent = nullptr);
    ~DownloadStore() override;

    /// Connects and migrates; blocks (start-up only), bounded by the connect timeout.
    Result<void> open(const DatabaseUrl &url);
    bool isShared() const override { return m_url.isPostgres(); }
    /// Whether the database answered the store's own connection's last query (a cached state:
    /// no query per call). That connection alone decides, so the flag does not flap between
    /// what the read connections and the store's thread last saw: a read that lost its
    /// connection or timed out asks the store's thread to check (probe()).
    HERMES_ANY_THREAD bool isReachable() const { return m_reachable.load(); }
    QString description() const override { return m_url.redacted(); }
    /// Every query run() answered, from the call to the answer (the wait for the store's thread
    /// included), and those that failed or timed out: for the metrics.
    const LatencyHistogram &queryLatency() const { return m_queryLatency; }
    HERMES_ANY_THREAD quint64 failedQueries() const { return m_failedQueries.load(); }
    /// Jobs the store's thread ran alone plus groups it committed together (a group counts
    /// once): below the number of jobs when writes queued up (tst_downloadstore).
    HERMES_ANY_THREAD quint64 commits() const { return m_commits.load(); }

    /// Runs `job` on the store's thread; `done` gets its result on `context`'s thread (which
    /// must be the store's own: the main thread), or an Error of kind Unavailable (a failed
    /// query, or no answer within `timeoutMs`) with the database's words.
    template<typename T>
    void run(QObject *context, std::function<T(DownloadRepository &)> job, Done<T> done,
             int timeoutMs = DefaultTimeoutMs)
    {
        post(answering<T, DownloadRepository>(context, std::move(job), std::move(done), timeoutMs, true),
             timeoutMs > DefaultTimeoutMs); // a bulk job: slow, alone
    }
    /// The same on a read connection (DownloadReaders), beside the store's thread: for reads
    /// that need no order with the writes (they see what is committed). Refused at once (an
    /// Unavailable error) when the readers' queue is full.
    template<typename T>
    void read(QObject *context, std::function<T(ReadConnection &)> job, Done<T> done,
              int timeoutMs = DefaultTimeoutMs)
    {
        Refusal refuse;
        auto work = answering<T, ReadConnection>(context, std::move(job), std::move(done), timeoutMs, false, &refuse);
        const auto deadline = DownloadReaders::Clock::now() + std::chrono::milliseconds(timeoutMs);
        // A read commits nothing: answered as soon as it ran.
        if (!m_readers)
            refuse(QStringLiteral("the store is not open"));
        else if (!m_readers->post([work = std::move(work)](ReadConnection &c) { work(c)(std::nullopt); }, deadline))
            refuse(QStringLiteral("too many reads are waiting for the database"));
    }
    /// Read jobs run so far (tests: that the API's reads went to the read connections).
    HERMES_ANY_THREAD quint64 readsRun() const { return m_readers ? m_readers->jobsRun() : 0; }
    /// Read jobs dropped unrun: their caller had been answered by the timeout (tests).
    HERMES_ANY_THREAD quint64 readsExpired() const { return m_readers ? m_readers->jobsExpired() : 0; }
    /// The same, waiting at most `timeoutMs` (start-up and shutdown only). Returns whether it ran.
    bool runBlocking(const std::function<void(DownloadRepository &)> &job, int timeoutMs);

    void insert(QObject *context, const QList<Download> &downloads, Done<Inserted> done) override;
    using AbstractDownloadStore::insert;
    void control(QObject *context, const QString &id, Change change, bool remove,
                 Done<Controlled> done) override;
    /// With a longer timeout than one row's: thousands of rows are written in it.
    void controlMany(QObject *context, const Selection &which, Change change,
                     Done<ControlledMany> done) override;
    void get(QObject *context, const QString &id, Done<std::optional<Download>> done) override;
    void show(QObject *context, const QString &id, Done<std::optional<Download>> done) override;
    using AbstractDownloadStore::list;
    void list(QObject *context, const ListRequest &request, Done<Page> done) override;
    void showPage(QObject *context, const ListRequest &request, Done<Page> done) override;
    void queue(QObject *context, const ListRequest &request, Done<Queue> done) override;
    void claim(QObject *context, const QString &node, int leaseMs, int max, int clusterLimit,
               const QStringList &busy, Done<Claimed> done) override;
    void renew(QObject *context, const QString &node, int leaseMs, const QStringList &runs,
               Done<QHash<QString, DownloadStatus>> done) override;
    void release(const QString &id, const QString &node) override;
    void notifyChanged(const QString &id) override;
    bool releaseAll(const QString &node, int timeoutMs) override;
    bool resetOwners(int timeoutMs) override;
    void update(QObject *context, const Download &download, const QString &node,
                DownloadStatus expected, qint64 retryInMs, bool release, bool withSummary,
                Done<std::optional<QueueSummary>> done) override;

private:
    class Worker;
    /// What a job hands back to send its answer: run once the job's writes are committed, with
    /// the commit's failure if the commit failed (then nothing of the job was kept).
    using Delivery = std::function<void(const std::optional<StoreFailure> &commitFailure)>;
    using Work = std::function<Delivery(DownloadRepository &)>;
    /// Queues `work` on the store's thread. On SQLite, jobs that queued up while the previous
    /// ones ran are committed together (group commit): one sync of the journal for all, and
    /// no answer sent before it. `alone`: a bulk job, in a transaction of its own (the group
    /// before it is committed and answered first).
    void post(Work work, bool alone = false);
    /// Answers a job that will not run, with an Unavailable error of these words.
    using Refusal = std::function<void(const QString &message)>;
    /// run() and read(): `job` wrapped to answer `done` on the caller's thread, once, with its
    /// result or the error it (or the commit after it) failed with, or with the timeout's.
    /// `owner`: the job runs on the store's own connection, whose outcome is isReachable();
    /// a read's lost connection or timeout asks for a probe() instead. `refusal` (optional) is
    /// set to what answers the job when it is never run.
    template<typename T, typename Connection>
    std::function<Delivery(Connection &)> answering(QObject *context, std::function<T(Connection &)> job,
                                                     Done<T> done, int timeoutMs, bool owner,
                                                     Refusal *refusal = nullptr);
    /// A check of the store's connection on its thread (one at a time), whose outcome sets
    /// isReachable(): after a read connection found the database gone or slow.
    void probe();
    void setReachable(bool reachable) { m_reachable.store(reachable); }
    static Error unavailable(const QString &message)
    {
        return Error::unavailable("store_unavailable", message);
    }

    DatabaseUrl m_url;
    QThread m_thread;
    Worker *m_worker = nullptr; // lives on m_thread
    std::unique_ptr<DownloadReaders> m_readers; // after open()
    std::atomic<bool> m_reachable{false};
    bool m_probing = false; ///< a probe() is queued or running (the store's caller thread)
    LatencyHistogram m_queryLatency;
    std::atomic<quint64> m_failedQueries{0};
    std::atomic<quint64> m_commits{0};
};

template<typename T, typename Connection>
std::function<DownloadStore::Delivery(Connection &)> DownloadStore::answering(
    QObject *context, std::function<T(Connection &)> job, Done<T> done, int timeoutMs, bool owner,
    Refusal *refusal)
{
    HERMES_ASSERT_THREAD(this);
    HERMES_ASSERT_THREAD(context);
    auto answered = std::make_shared<bool>(false); // touched on this thread only
    QPointer<QObject> guard(context);
    QElapsedTimer timer;
    timer.start();
    // A timer of its own, stopped by the answer: a single-shot timer left to run out kept every
    // request's timer in Qt's sorted timer list for `timeoutMs` (25,000 at 5,000 answers per
    // second), and registering and removing them stalled the main thread for seconds (issue 27).
    auto *deadline = new QTimer(context);
    deadline->setSingleShot(true);
    QObject::connect(deadline, &QTimer::timeout, context, [this, answered, done, timer, deadline, owner] {
        deadline->deleteLater();
        if (*answered)
            return;
        *answered = true;
        m_queryLatency.observe(double(timer.nsecsElapsed()) / 1e9);
        ++m_failedQueries;
        if (owner)
            setReachable(false);
        else
            probe();
        done(unavailable(QStringLiteral("the database did not answer within the timeout")));
    });
    deadline->start(timeoutMs);
    QPointer<QTimer> pending(deadline);
    // Sends the answer on the caller's thread (from any thread), unless it was answered already.
    auto finish = [this, guard, answered, done, timer, pending, owner](std::optional<T> result, QString error, bool lost) {
        QMetaObject::invokeMethod(this, [this, guard, answered, done, result = std::move(result), error, lost, timer, pending, owner] {
            delete pending.data(); // on the caller's thread, as the timer (nothing once its context went)
            if (owner)
                setReachable(!lost);
            else if (lost)
                probe();
            if (!guard || *answered)
                return;
            m_queryLatency.observe(double(timer.nsecsElapsed()) / 1e9);
            if (!result)
                ++m_failedQueries;
            // Delivered on the caller's thread: `context`'s, checked here.
            HERMES_ASSERT_THREAD(guard.data());
            *answered = true;
            if (result)
                done(*result);
            else
                done(unavailable(error));
        }, Qt::QueuedConnection);
    };
    if (refusal)
        *refusal = [finish](const QString &message) { finish(std::nullopt, message, false); };
    return [job = std::move(job), finish](Connection &repo) -> Delivery {
        std::optional<T> result;
        QString error;
        bool lost = false;
        // The one place StoreFailure is caught: it never crosses to the caller's thread.
        try {
            result.emplace(job(repo));
        } catch (const StoreFailure &f) {
            error = f.message;
            lost = f.connection;
            try {
                repo.recover();
            } catch (const StoreFailure &) {
                lost = true;
            }
        }
        return [finish, result = std::move(result), error, lost](const std::optional<StoreFailure> &commitFailure) mutable {
            if (commitFailure) { // nothing of the job was kept: its answer is the commit's error
                result.reset();
                error = commitFailure->message;
                lost = lost || commitFailure->connection;
            }
            finish(std::move(result), error, lost);
        };
    };
}

} // namespace Hermes
