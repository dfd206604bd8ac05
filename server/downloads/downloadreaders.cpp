#include "downloads/downloadreaders.h"

#include "downloads/downloadrepository.h"
#include "downloads/sqlitereads.h"
#include "logging.h"

#include <QHash>
#include <QSqlQuery>
#include <QThread>
#include <QUuid>

#include <chrono>
#include <memory>
#include <optional>

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

void DownloadReaders::post(Job job)
{
    {
        const std::lock_guard lock(m_mutex);
        if (m_stop)
            return;
        m_queue.push_back(std::move(job));
    }
    m_wake.notify_all();
}

namespace {

/// A read connection through Qt SQL (PostgreSQL), its statements prepared once: QPSQL prepares
/// a statement with bound values as PREPARE, EXECUTE and DEALLOCATE, three round trips and a
/// parse and plan by the server for each page, where a prepared one is one EXECUTE.
class QtReads final : public ReadConnection
{
public:
    explicit QtReads(const DatabaseUrl &url)
        // Not "hermes-store-": that prefix names the store thread's own connection.
        : m_name(QStringLiteral("hermes-read-") + QUuid::createUuid().toString(QUuid::WithoutBraces)),
          m_repo(url, m_name),
          m_lists(SqlDialect(SqlDialect::Kind::Postgres),
                  [this](const QString &sql, const QVariantList &binds, const DownloadListQuery::Row &row) {
                      exec(sql, binds, row);
                  }, DownloadListQuery::Rows::Shown)
    {
    }
    void open() override { m_repo.open(false); }
    DownloadListQuery &lists() override { return m_lists; }
    void recover() override
    {
        m_prepared.clear(); // a new connection has none of them
        m_repo.recover();
    }

private:
    void exec(const QString &sql, const QVariantList &binds, const DownloadListQuery::Row &row)
    {
        // Bounded: an offset page's OFFSET is in its text, so their statements differ.
        static constexpr qsizetype MaxPrepared = 32;
        const QSqlDatabase db = QSqlDatabase::database(m_name, false);
        std::optional<QSqlQuery> once;
        QSqlQuery *q = nullptr;
        bool ok = false;
        if (binds.isEmpty()) {
            q = &once.emplace(db);
            q->setForwardOnly(true);
            ok = q->exec(sql);
        } else {
            auto prepared = m_prepared.find(sql);
            if (prepared == m_prepared.end()) {
                if (m_prepared.size() >= MaxPrepared)
                    m_prepared.clear();
                QSqlQuery p(db);
                p.setForwardOnly(true);
                if (!p.prepare(sql))
                    throw StoreFailure::of(p.lastError(), db.isOpen());
                prepared = m_prepared.insert(sql, p);
            }
            q = &prepared.value();
            for (qsizetype i = 0; i < binds.size(); ++i)
                q->bindValue(int(i), binds.at(i));
            ok = q->exec();
        }
        if (!ok)
            throw StoreFailure::of(q->lastError(), db.isOpen());
        const QtSqlRow current(*q);
        while (row && q->next() && row(current)) {
        }
        q->finish();
    }

    QString m_name;
    DownloadRepository m_repo;
    DownloadListQuery m_lists;
    QHash<QString, QSqlQuery> m_prepared; ///< by their text; before the connection goes (m_repo)
};

} // namespace

void DownloadReaders::serve(const DatabaseUrl &url)
{
    std::unique_ptr<ReadConnection> connection;
    if (url.isPostgres())
        connection = std::make_unique<QtReads>(url);
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
        Job job;
        {
            std::unique_lock lock(m_mutex);
            // Bounded, as every wait: an idle thread looks at the stop flag once a second anyway.
            m_wake.wait_for(lock, std::chrono::seconds(1), [this] { return m_stop || !m_queue.empty(); });
            if (m_stop)
                return;
            if (m_queue.empty())
                continue;
            job = std::move(m_queue.front());
            m_queue.pop_front();
        }
        job(*connection);
        ++m_jobsRun;
    }
}

} // namespace Hermes
