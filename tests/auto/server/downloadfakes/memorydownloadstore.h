#pragma once

#include "downloads/abstractdownloadstore.h"

#include <QHash>
#include <QList>
#include <QPointer>

#include <functional>

namespace Hermes::Test {

/**
 * The download store in memory, for the unit suites of the engine's pieces: the same rules as
 * DownloadRepository (queue order, claims by priority and arrival with leases by the store's
 * clock, retry times, fenced writes, renewals of the listed downloads only), and answers that
 * arrive later on the caller's thread, as DownloadStore's do.
 *
 * The test drives what the real store cannot be made to do on demand: its clock (nowMs), a
 * store that stops answering (setAnswering(false): nothing is done and nothing answered), one
 * that fails (setFailing: every operation answers Unavailable), another node's changes
 * (rows() and changed()).
 */
class MemoryDownloadStore final : public AbstractDownloadStore
{
    Q_OBJECT
public:
    struct Row
    {
        Download d;
        qint64 leaseUntil = 0; ///< the store's clock
        qint64 notBefore = 0;
    };

    explicit MemoryDownloadStore(QObject *parent = nullptr) : AbstractDownloadStore(parent) {}

    /// The store's clock (ms), which leases and retry times compare against.
    qint64 nowMs = 0;
    bool shared = true;

    /// A store that does not answer: operations are neither done nor answered, until
    /// timeOutPending() answers them as DownloadStore does after its timeout.
    void setAnswering(bool answering) { m_answering = answering; }
    /// Answers every operation that got no answer with the timeout's Unavailable.
    void timeOutPending();
    void setFailing(const QString &message) { m_failing = message; }
    /// Rows by id, as another node would change them (owner, status, lease …).
    QHash<QString, Row> &rows() { return m_rows; }
    Row *row(const QString &id) { return m_rows.contains(id) ? &m_rows[id] : nullptr; }
    /// Adds a download as if it had been saved (position assigned).
    Download put(Download d);
    /// How often each operation was asked ("claim", "renew", "update", "release" …).
    int calls(const QString &operation) const { return m_calls.value(operation); }
    /// Called with each running node's write before it is applied (another node may change the
    /// row just before it, as a test decides).
    std::function<void(const Download &write)> beforeUpdate;
    /// The ids of the last renewal.
    QStringList lastRenewed() const { return m_lastRenewed; }

    bool isShared() const override { return shared; }
    QString description() const override { return QStringLiteral("memory"); }
    void insert(QObject *context, const QList<Download> &downloads, Done<Inserted> done) override;
    using AbstractDownloadStore::insert;
    void control(QObject *context, const QString &id, Change change, bool remove,
                 Done<Controlled> done) override;
    void controlMany(QObject *context, const Selection &which, Change change,
                     Done<ControlledMany> done) override;
    void get(QObject *context, const QString &id, Done<std::optional<Download>> done) override;
    using AbstractDownloadStore::list;
    void list(QObject *context, const ListRequest &request, Done<Page> done) override;
    void queue(QObject *context, const ListRequest &request, Done<Queue> done) override;
    void claim(QObject *context, const QString &node, int leaseMs, int max, int clusterLimit,
               const QStringList &busy, Done<Claimed> done) override;
    void renew(QObject *context, const QString &node, int leaseMs, const QStringList &runs,
               Done<QHash<QString, DownloadStatus>> done) override;
    void release(const QString &id, const QString &node) override;
    void notifyChanged(const QString &) override { ++m_calls[QStringLiteral("notifyChanged")]; }
    bool releaseAll(const QString &node, int timeoutMs) override;
    bool resetOwners(int timeoutMs) override;
    void update(QObject *context, const Download &download, const QString &node,
                DownloadStatus expected, qint64 retryInMs, bool release, bool withSummary,
                Done<std::optional<QueueSummary>> done) override;

    QueueSummary summary() const;
    /// In queue order: unfinished first, then priority, then arrival.
    QList<Download> ordered(std::optional<DownloadStatus> status = std::nullopt) const;

private:
    /// A control action's write on `r`.
    static void write(Row &r, const Download &d);
    /// Runs `operation` now (when the store answers) and hands its value to `done` later, on
    /// `context`'s thread.
    template<typename T>
    void answer(const char *name, QObject *context, std::function<T()> operation, Done<T> done)
    {
        ++m_calls[QString::fromLatin1(name)];
        if (!m_answering) {
            m_pending.append({context, [done] {
                done(Error::unavailable("store_unavailable", QStringLiteral("the database did not answer within the timeout")));
            }});
            return;
        }
        if (!m_failing.isEmpty()) {
            deliver(context, [done, message = m_failing] { done(Error::unavailable("store_unavailable", message)); });
            return;
        }
        T value = operation();
        deliver(context, [done, value] { done(value); });
    }
    void deliver(QObject *context, std::function<void()> call);

    QHash<QString, Row> m_rows;
    qint64 m_lastPosition = 0;
    bool m_answering = true;
    QString m_failing;
    QHash<QString, int> m_calls;
    QList<QPair<QPointer<QObject>, std::function<void()>>> m_pending;
    QStringList m_lastRenewed;
};

} // namespace Hermes::Test
