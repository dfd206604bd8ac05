#include "memorydownloadstore.h"

#include <QTimer>

#include <algorithm>
#include <tuple>
#include <utility>

namespace Hermes::Test {

void MemoryDownloadStore::deliver(QObject *context, std::function<void()> call)
{
    QPointer<QObject> guard(context);
    QTimer::singleShot(0, this, [guard, call = std::move(call)] {
        if (guard)
            call();
    });
}

void MemoryDownloadStore::timeOutPending()
{
    const auto pending = std::exchange(m_pending, {});
    for (const auto &[context, call] : pending)
        deliver(context, call);
}

Download MemoryDownloadStore::put(Download d)
{
    d.position = ++m_lastPosition;
    m_rows.insert(d.id, Row{d, 0, 0});
    return d;
}

QueueSummary MemoryDownloadStore::summary() const
{
    QueueSummary s;
    for (const Row &r : m_rows) {
        s.queued += r.d.status == DownloadStatus::Pending;
        s.active += r.d.isActive();
        s.paused += r.d.status == DownloadStatus::Paused;
        if (r.d.status == DownloadStatus::Downloading)
            s.totalSpeed += r.d.speed;
    }
    return s;
}

QList<Download> MemoryDownloadStore::ordered(std::optional<DownloadStatus> status) const
{
    QList<Download> out;
    for (const Row &r : m_rows) {
        if (!status || r.d.status == *status)
            out.append(r.d);
    }
    std::sort(out.begin(), out.end(), [](const Download &a, const Download &b) {
        if (a.isFinished() != b.isFinished())
            return !a.isFinished();
        if (a.priority != b.priority)
            return a.priority > b.priority;
        if (a.position != b.position)
            return a.position < b.position;
        return a.id < b.id;
    });
    return out;
}

void MemoryDownloadStore::insert(QObject *context, const QList<Download> &downloads, Done<Inserted> done)
{
    answer<Inserted>("insert", context, [this, downloads] {
        Inserted inserted;
        for (const Download &d : downloads)
            inserted.rows.append(put(d));
        inserted.summary = summary();
        return inserted;
    }, std::move(done));
}

void MemoryDownloadStore::control(QObject *context, const QString &id, Change change, bool remove,
                                  Done<Controlled> done)
{
    answer<Controlled>("control", context, [this, id, change, remove] {
        Controlled c;
        Row *r = row(id);
        if (!r)
            return c;
        Download d = r->d;
        c.before = d.status;
        if (!change(d)) {
            c.refused = true;
            c.row = d;
            return c;
        }
        if (remove) {
            m_rows.remove(id);
        } else {
            write(*r, d);
        }
        c.row = d;
        c.summary = summary();
        return c;
    }, std::move(done));
}

void MemoryDownloadStore::write(Row &r, const Download &d)
{
    // Only what a control action decides, as the repository writes it.
    r.d.status = d.status;
    r.d.priority = d.priority;
    r.d.errorMessage = d.errorMessage;
    r.d.attempts = d.attempts;
    r.d.downloadedBytes = d.downloadedBytes;
    r.d.speed = d.speed;
    r.d.updatedAt = d.updatedAt;
    r.d.filename = d.filename;
    r.d.percent = d.percent;
    r.d.note = d.note;
    r.d.retryingSinceMs = d.retryingSinceMs;
    r.d.heldBy = d.heldBy;
    r.d.announce.clear(); // superseded by this change (as the real store)
    r.notBefore = 0;
}

void MemoryDownloadStore::controlMany(QObject *context, const Selection &which, Change change,
                                      Done<ControlledMany> done)
{
    answer<ControlledMany>("controlMany", context, [this, which, change] {
        ControlledMany c;
        QStringList ids = which.ids;
        if (ids.isEmpty()) {
            for (const Row &r : std::as_const(m_rows)) {
                if (which.statuses.contains(r.d.status))
                    ids.append(r.d.id);
            }
        }
        ids.sort();
        ids.removeDuplicates();
        if (which.ids.isEmpty() && ids.size() > which.limit) {
            c.more = true;
            ids.resize(which.limit);
        }
        for (const QString &id : std::as_const(ids)) {
            Row *r = row(id);
            if (!r) {
                c.missing.append(id);
                continue;
            }
            Controlled &one = c.rows.emplace_back();
            Download d = r->d;
            one.before = d.status;
            one.refused = !change(d);
            if (!one.refused)
                write(*r, d);
            one.row = d;
        }
        c.summary = summary();
        return c;
    }, std::move(done));
}

void MemoryDownloadStore::get(QObject *context, const QString &id, Done<std::optional<Download>> done)
{
    answer<std::optional<Download>>("get", context, [this, id]() -> std::optional<Download> {
        if (const Row *r = row(id))
            return r->d;
        return std::nullopt;
    }, std::move(done));
}

// As DownloadListQuery: rows after the cursor (or past the offset), one page, whether more follow.
static AbstractDownloadStore::Page pageOf(const QList<Download> &all, const AbstractDownloadStore::ListRequest &r)
{
    QList<Download> rest;
    for (const Download &d : all) {
        const ListCursor k = ListCursor::after(d);
        if (!r.after || std::tie(k.rank, k.position, k.id) > std::tie(r.after->rank, r.after->position, r.after->id))
            rest.append(d);
    }
    if (!r.after)
        rest = rest.mid(r.offset);
    return AbstractDownloadStore::Page{rest.mid(0, r.limit), r.withTotal ? int(all.size()) : 0, rest.size() > r.limit};
}

void MemoryDownloadStore::list(QObject *context, const ListRequest &request, Done<Page> done)
{
    answer<Page>("list", context, [this, request] { return pageOf(ordered(request.status), request); },
                 std::move(done));
}

void MemoryDownloadStore::queue(QObject *context, const ListRequest &request, Done<Queue> done)
{
    answer<Queue>("queue", context, [this, request] {
        QList<Download> unfinished;
        for (const Download &d : ordered()) {
            if (!d.isFinished())
                unfinished.append(d);
        }
        Page p = pageOf(unfinished, request);
        return Queue{p.items, summary(), p.more};
    }, std::move(done));
}

void MemoryDownloadStore::claim(QObject *context, const QString &node, int leaseMs, int max,
                                int clusterLimit, const QStringList &busy, Done<Claimed> done)
{
    answer<Claimed>("claim", context, [this, node, leaseMs, max, clusterLimit, busy] {
        Claimed c;
        for (int i = 0; i < max; ++i) {
            if (clusterLimit > 0) {
                const auto running = std::count_if(m_rows.cbegin(), m_rows.cend(), [this](const Row &r) {
                    return !r.d.owner.isEmpty() && r.leaseUntil >= nowMs;
                });
                if (running >= clusterLimit)
                    break;
            }
            Row *next = nullptr;
            // A pending announcement whose node died first (as the real store), then free work.
            for (Row &r : m_rows) {
                if (busy.contains(r.d.id))
                    continue;
                if (!r.d.announce.isEmpty() && !r.d.owner.isEmpty() && r.leaseUntil < nowMs) {
                    next = &r;
                    break;
                }
            }
            for (const Download &d : ordered()) {
                if (next)
                    break;
                Row &r = m_rows[d.id];
                if (busy.contains(d.id))
                    continue;
                const bool runnable = d.status == DownloadStatus::Pending || d.isActive();
                if (runnable && (r.d.owner.isEmpty() || r.leaseUntil < nowMs) && r.notBefore <= nowMs) {
                    next = &r;
                    break;
                }
            }
            if (!next)
                break;
            next->d.leaseGeneration += 1; // the claim's fencing token, as the real store bumps it
            c.rows.append(next->d); // the previous owner, if any
            next->d.owner = node;
            next->leaseUntil = nowMs + leaseMs;
        }
        qint64 soonest = -1;
        for (const Row &r : std::as_const(m_rows)) {
            if (r.d.status == DownloadStatus::Pending && r.notBefore > nowMs)
                soonest = soonest < 0 ? r.notBefore - nowMs : qMin(soonest, r.notBefore - nowMs);
        }
        c.nextRetryInMs = soonest;
        return c;
    }, std::move(done));
}

void MemoryDownloadStore::renew(QObject *context, const QString &node, int leaseMs, const QStringList &runs,
                                Done<QHash<QString, DownloadStatus>> done)
{
    m_lastRenewed = runs;
    answer<QHash<QString, DownloadStatus>>("renew", context, [this, node, leaseMs, runs] {
        QHash<QString, DownloadStatus> owned;
        for (const QString &id : runs) {
            Row *r = row(id);
            if (r && r->d.owner == node) {
                r->leaseUntil = nowMs + leaseMs;
                owned.insert(id, r->d.status);
            }
        }
        return owned;
    }, std::move(done));
}

void MemoryDownloadStore::release(const QString &id, const QString &node)
{
    ++m_calls[QStringLiteral("release")];
    if (!m_answering)
        return;
    if (Row *r = row(id); r && r->d.owner == node) {
        r->d.owner.clear();
        r->leaseUntil = 0;
        r->d.speed = 0;
    }
}

bool MemoryDownloadStore::releaseAll(const QString &node, int)
{
    ++m_calls[QStringLiteral("releaseAll")];
    if (!m_answering)
        return false;
    for (Row &r : m_rows) {
        if (r.d.owner != node || !r.d.announce.isEmpty())
            continue;
        r.d.owner.clear();
        r.leaseUntil = 0;
        r.d.speed = 0;
        if (r.d.isActive())
            r.d.status = DownloadStatus::Pending;
    }
    return true;
}

bool MemoryDownloadStore::resetOwners(int)
{
    ++m_calls[QStringLiteral("resetOwners")];
    for (Row &r : m_rows) {
        if (!r.d.announce.isEmpty())
            continue; // the next claim finishes it
        r.d.owner.clear();
        r.leaseUntil = 0;
        r.d.speed = 0;
    }
    return true;
}

void MemoryDownloadStore::update(QObject *context, const Download &download, const QString &node,
                                 DownloadStatus expected, qint64 retryInMs, bool release, bool withSummary,
                                 Done<std::optional<QueueSummary>> done)
{
    answer<std::optional<QueueSummary>>("update", context, [=, this]() -> std::optional<QueueSummary> {
        if (beforeUpdate)
            beforeUpdate(download);
        Row *r = row(download.id);
        if (!r || r->d.owner != node || r->d.leaseGeneration != download.leaseGeneration
            || r->d.status != expected)
            return std::nullopt; // fenced: not this node's (this claim's) any more
        const Download before = r->d;
        r->d = download;
        // What the running node does not write stays the store's.
        r->d.priority = before.priority;
        r->d.position = before.position;
        r->d.sha256 = before.sha256;
        r->d.url = before.url;
        r->d.createdAt = before.createdAt;
        r->d.filenameFromRequest = before.filenameFromRequest;
        r->d.owner = before.owner;
        if (retryInMs >= 0)
            r->notBefore = nowMs + retryInMs;
        if (release) {
            r->d.owner.clear();
            r->leaseUntil = 0;
        }
        return withSummary ? summary() : QueueSummary{};
    }, std::move(done));
}

} // namespace Hermes::Test
