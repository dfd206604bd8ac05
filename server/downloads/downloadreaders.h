#pragma once

#include "downloads/databaseurl.h"
#include "threadaffinity.h"

#include <QString>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

class QThread;

namespace Hermes {

class DownloadListQuery;

/// One read thread's connection: its queries, and what to do after one failed.
class ReadConnection
{
public:
    virtual ~ReadConnection() = default;
    /// Connects (the first time; throws StoreFailure).
    virtual void open() = 0;
    virtual DownloadListQuery &lists() = 0;
    /// After a failure: reconnects when the connection is gone; throws StoreFailure.
    virtual void recover() = 0;
    /// Statements prepared on it so far, where they are kept (PgReads; tests: that pages at
    /// other offsets reuse one statement).
    virtual quint64 statementsPrepared() const { return 0; }
};

/**
 * The API's reads of the `downloads` table (a list page, the queue, one download) on threads
 * and connections of their own, beside the store's thread and its writes.
 *
 * At 100,000 downloads a page of 100 rows is most of a millisecond of Qt SQL, and ten clients
 * paging queued behind each other and behind the engine's writes (a group commit holds the
 * store's thread for its sync) on the one store thread (issue 27). A read needs no order with
 * the writes: it sees what is committed — SQLite's WAL lets a reader run beside the writer,
 * PostgreSQL's MVCC likewise — and every write is answered only once committed, so a client
 * that saw its write answered reads it back. The engine's own reads stay on the store's thread,
 * in order with its writes.
 *
 * Each thread owns one connection and takes jobs from one queue, so a slow read holds back
 * only its own thread. The connection is the database library's own: SQLite's (SqliteReads) or
 * libpq's (PgReads); both read only the columns the API shows. Jobs are DownloadStore's (it
 * catches StoreFailure in them and answers through its caller's thread, with its timeout).
 *
 * The queue is bounded (MaxQueued): past it a read is refused at once (DownloadStore answers it
 * 503 store_unavailable, as a read that failed) rather than queued behind more work than its
 * timeout leaves time for. A job whose deadline passed while it waited is dropped unrun: its
 * caller was answered by the timeout already, and running it would only delay the reads behind
 * it.
 */
class DownloadReaders final
{
public:
    using Job = std::function<void(ReadConnection &)>;
    using Clock = std::chrono::steady_clock;
    /// Jobs waiting at most. The two threads answer 1,000-2,000 pages (5,000+ single rows) a
    /// second at 100,000 downloads (bench/rest100k.py): 1,024 is about a second of pages, a
    /// fifth of the 5 s a read may take before its caller is answered with the timeout.
    static constexpr std::size_t MaxQueued = 1024;

    /// Starts nothing yet (open()).
    explicit DownloadReaders(int threads) : m_threads(threads) {}
    /// Stops the threads after the job each is running (a read: nobody waits for the queued
    /// ones any more), waiting 5 s at most for each.
    ~DownloadReaders();
    DownloadReaders(const DownloadReaders &) = delete;
    DownloadReaders &operator=(const DownloadReaders &) = delete;

    /// Starts the threads, each connecting to `url` (migrated already), and waits at most
    /// `timeoutMs` for their connections (start-up only). Returns the first failure's words,
    /// empty when every thread is connected.
    QString open(const DatabaseUrl &url, int timeoutMs);
    /// Queues `job` for the first free thread, to run before `deadline` or not at all. False
    /// (and `job` dropped) when MaxQueued jobs wait already, or when stopping.
    [[nodiscard]] HERMES_ANY_THREAD bool post(Job job, Clock::time_point deadline);
    /// Jobs run so far, for the tests: that the API's reads went here.
    HERMES_ANY_THREAD quint64 jobsRun() const { return m_jobsRun.load(); }
    /// Jobs dropped unrun because their deadline had passed when a thread took them.
    HERMES_ANY_THREAD quint64 jobsExpired() const { return m_jobsExpired.load(); }

private:
    /// A thread's life: connects, reports, then runs jobs until stopped.
    void serve(const DatabaseUrl &url);

    const int m_threads;
    std::vector<QThread *> m_running;
    std::mutex m_mutex;
    std::condition_variable m_wake;    ///< a job queued, a connection reported, or stop
    struct Queued
    {
        Job job;
        Clock::time_point deadline;
    };
    std::deque<Queued> m_queue;        ///< under m_mutex
    bool m_stop = false;               ///< under m_mutex
    int m_connected = 0;               ///< under m_mutex: threads that reported their connection
    QString m_failure;                 ///< under m_mutex: the first failed connection's words
    std::atomic<quint64> m_jobsRun{0};
    std::atomic<quint64> m_jobsExpired{0};
};

} // namespace Hermes
