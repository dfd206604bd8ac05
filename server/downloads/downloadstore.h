#pragma once

#include "downloads/databaseurl.h"
#include "downloads/downloadrepository.h"

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
 */
class DownloadStore final : public QObject
{
    Q_OBJECT
public:
    static constexpr int DefaultTimeoutMs = 5000;

    explicit DownloadStore(QObject *parent = nullptr);
    ~DownloadStore() override;

    /// Connects and migrates; blocks (start-up only), bounded by the connect timeout.
    bool open(const DatabaseUrl &url, QString *error);
    /// Several nodes may share it (PostgreSQL).
    bool isShared() const { return m_url.isPostgres(); }
    /// Whether the database answered the last query (a cached state: no query per call).
    bool isReachable() const { return m_reachable.load(); }
    QString description() const { return m_url.redacted(); }

    /// Runs `job` on the store's thread; `done` gets its result on `context`'s thread, or
    /// nothing and an error (a failed query, or no answer within `timeoutMs`).
    template<typename T>
    void run(QObject *context, std::function<T(DownloadRepository &)> job,
             std::function<void(std::optional<T>, const QString &)> done,
             int timeoutMs = DefaultTimeoutMs);
    /// The same, waiting at most `timeoutMs` (shutdown only). Returns whether it ran.
    bool runBlocking(const std::function<void(DownloadRepository &)> &job, int timeoutMs);

signals:
    /// A download changed on some node (its id; "*": anything may have changed).
    void changed(const QString &id);

private:
    class Worker;
    void post(std::function<void(DownloadRepository &)> work);
    void setReachable(bool reachable) { m_reachable.store(reachable); }

    DatabaseUrl m_url;
    QThread m_thread;
    Worker *m_worker = nullptr; // lives on m_thread
    std::atomic<bool> m_reachable{false};
};

template<typename T>
void DownloadStore::run(QObject *context, std::function<T(DownloadRepository &)> job,
                        std::function<void(std::optional<T>, const QString &)> done, int timeoutMs)
{
    auto answered = std::make_shared<bool>(false); // touched on this thread only
    QPointer<QObject> guard(context);
    QTimer::singleShot(timeoutMs, context, [this, answered, done] {
        if (*answered)
            return;
        *answered = true;
        setReachable(false);
        done(std::nullopt, QStringLiteral("the database did not answer within the timeout"));
    });
    post([this, guard, answered, job = std::move(job), done](DownloadRepository &repo) {
        std::optional<T> result;
        QString error;
        bool lost = false;
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
        QMetaObject::invokeMethod(this, [this, guard, answered, done, result = std::move(result), error, lost] {
            setReachable(!lost);
            if (!guard || *answered)
                return;
            *answered = true;
            done(result, error);
        }, Qt::QueuedConnection);
    });
}

} // namespace Hermes
