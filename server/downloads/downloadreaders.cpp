#include "downloads/downloadreaders.h"

#include "downloads/downloadrepository.h"
#include "downloads/pgreads.h"
#include "downloads/sqlitereads.h"
#include "logging.h"

#include <QThread>

#include <memory>

namespace Hermes {

DownloadReaders::~DownloadReaders()
{
    {
        const std::lock_guard lock(m_mutex);
        m_stop = true;
        m_queue.clear(); // their callers' timeouts answer them, if anyone still waits
    }
    m_wake.notify_all();
    for (QThread *thread : m_running) {
        // A read stuck on a vanished server must not keep the process from exiting.
        if (!thread->wait(5000)) {
            qCWarning(lcHub) << "downloads: a read thread is stuck in a query; leaving it";
            thread->terminate();
            thread->wait(1000);
        }
        delete thread;
    }
}

QString DownloadReaders::open(const DatabaseUrl &url, int timeoutMs)
{
    for (int i = 0; i < m_threads; ++i) {
        QThread *thread = QThread::create([this, url] { serve(url); });
        thread->setObjectName(QStringLiteral("hermes-store-read"));
        m_running.push_back(thread);
        thread->start();
    }
    std::unique_lock lock(m_mutex);
    if (!m_wake.wait_for(lock, std::chrono::milliseconds(timeoutMs), [this] { return m_connected == m_threads; }))
        return QStringLiteral("the database %1 did not answer the read connections within %2 ms")
            .arg(url.redacted()).arg(timeoutMs);
    return m_failure;
}

bool DownloadReaders::post(Job job, Clock::time_point deadline)
{
    {
        const std::lock_guard lock(m_mutex);
        if (m_stop || m_queue.size() >= MaxQueued)
            return false;
        m_queue.push_back({std::move(job), deadline});
    }
    m_wake.notify_one();
    return true;
}

void DownloadReaders::serve(const DatabaseUrl &url)
{
    std::unique_ptr<ReadConnection> connection;
    if (url.isPostgres())
        connection = std::make_unique<PgReads>(url);
    else
        connection = std::make_unique<SqliteReads>(url);
    QString failure;
    try {
        connection->open();
    } catch (const StoreFailure &f) {
        // Kept serving: a job's failure reconnects (recover()), as on the store's thread.
        failure = f.message;
    }
    {
        const std::lock_guard lock(m_mutex);
        if (m_failure.isEmpty())
            m_failure = failure;
        ++m_connected;
    }
    m_wake.notify_all();
    for (;;) {
        Queued next;
        {
            std::unique_lock lock(m_mutex);
            // Bounded, as every wait: an idle thread looks at the stop flag once a second anyway.
            m_wake.wait_for(lock, std::chrono::seconds(1), [this] { return m_stop || !m_queue.empty(); });
            if (m_stop)
                return;
            if (m_queue.empty())
                continue;
            next = std::move(m_queue.front());
            m_queue.pop_front();
        }
        if (Clock::now() >= next.deadline) { // its caller has its answer (the timeout's)
            ++m_jobsExpired;
            continue;
        }
        next.job(*connection);
        ++m_jobsRun;
    }
}

} // namespace Hermes
