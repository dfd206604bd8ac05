#include "downloads/downloadservice.h"

#include "downloads/downloadevents.h"
#include "downloads/fieldlimits.h"
#include "downloads/filenames.h"
#include "downloads/runningdownloads.h"
#include "threadaffinity.h"

#include <QFile>
#include <QPointer>
#include <QRegularExpression>
#include <QUrl>
#include <QUuid>

#include <memory>

namespace Hermes {

static Error storeError(const Error &error)
{
    return Error::unavailable("store_unavailable",
                              QStringLiteral("the download store is unavailable: ") + error.message);
}

static Error notFound(const QString &id)
{
    return Error::notFound("not_found", QStringLiteral("no download %1").arg(id));
}

static Error conflict(const Download &d, const QString &action)
{
    return Error::conflict("invalid_state", QStringLiteral("cannot %1 a download that is %2")
                                                .arg(action, QString(wireName(d.status))));
}

DownloadService::DownloadService(AbstractDownloadStore *store, DownloadEvents *events,
                                 RunningDownloads *running, const DownloadDir &dir, QObject *parent)
    : QObject(parent), m_store(store), m_events(events), m_running(running), m_dir(dir)
{
}

DownloadResource DownloadService::resourceOf(const Download &download) const
{
    HERMES_ASSERT_THREAD(this);
    return m_events->resourceOf(download);
}

// The row a request becomes (id, stored URL, file name, times), or why it is refused.
static Result<Download> rowOf(const DownloadService::NewDownload &n)
{
    const QString &url = n.url;
    const QString &filename = n.filename;
    const QString &sha256 = n.sha256;
    // Lengths first: a long value is refused before any work is spent on it.
    if (auto e = FieldLimits::tooLong("url", url, FieldLimits::UrlBytes))
        return *e;
    if (auto e = FieldLimits::tooLong("filename", filename, FieldLimits::FileNameBytes))
        return *e;
    const QUrl parsed(url, QUrl::StrictMode);
    if (!parsed.isValid() || (parsed.scheme() != u"http" && parsed.scheme() != u"https")
        || parsed.host().isEmpty())
        return Error::invalid("invalid_url", QStringLiteral("url must be an http:// or https:// URL"));
    // Anchored at both ends: `$` alone would let a trailing newline through.
    static const QRegularExpression hex(QRegularExpression::anchoredPattern(
        QStringLiteral("[0-9a-fA-F]{%1}").arg(FieldLimits::Sha256HexDigits)));
    if (!sha256.isEmpty() && !hex.match(sha256).hasMatch())
        return Error::invalid("invalid_sha256", QStringLiteral("sha256 must be %1 hexadecimal digits")
                                                    .arg(FieldLimits::Sha256HexDigits));
    // Stored percent-encoded: non-ASCII and spaces grow threefold there.
    const QString stored = parsed.toString(QUrl::FullyEncoded);
    if (stored.size() > FieldLimits::UrlBytes)
        return Error::invalid("field_too_long",
                              QStringLiteral("url is %1 bytes long once percent-encoded; at most %2 are accepted")
                                  .arg(stored.size()).arg(FieldLimits::UrlBytes));
    Download d;
    if (!filename.isNull()) {
        d.filename = FileNames::sanitize(filename);
        if (d.filename.isEmpty())
            return Error::invalid("invalid_filename", QStringLiteral("the filename has nothing usable in it"));
        if (DownloadDir::isReservedName(d.filename))
            return Error::invalid("invalid_filename",
                                  QStringLiteral("a .part name is reserved for the files of running downloads"));
        d.filenameFromRequest = true;
    } else {
        d.filename = FileNames::sanitize(FileNames::fromUrl(parsed));
        if (d.filename.isEmpty() || DownloadDir::isReservedName(d.filename))
            d.filename = QStringLiteral("download");
    }
    d.id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    d.url = stored;
    d.priority = n.priority;
    d.sha256 = sha256.toLower();
    d.createdAt = d.updatedAt = QDateTime::currentDateTimeUtc();
    return d;
}

std::optional<Error> DownloadService::refusal(const NewDownload &item)
{
    Result<Download> row = rowOf(item);
    return row ? std::nullopt : std::optional<Error>(row.error());
}

void DownloadService::add(const QString &url, const QString &filename, int priority,
                          const QString &sha256, Done<Download> done)
{
    addMany({NewDownload{url, filename, priority, sha256}}, [done](Result<QList<Download>> added) {
        if (!added)
            return done(added.error());
        done(added->first());
    });
}

void DownloadService::addMany(const QList<NewDownload> &items, Done<QList<Download>> done)
{
    HERMES_ASSERT_THREAD(this);
    if (items.isEmpty() || items.size() > MaxAdd)
        return done(Error::invalid("invalid_downloads", QStringLiteral("downloads must name 1 to %1 downloads").arg(MaxAdd)));
    QList<Download> rows;
    rows.reserve(items.size());
    for (qsizetype i = 0; i < items.size(); ++i) {
        Result<Download> row = rowOf(items.at(i));
        if (!row) {
            // One request's error, as a single add gives it; a list says which item.
            Error e = row.error();
            if (items.size() > 1)
                e.message = QStringLiteral("downloads[%1]: ").arg(i) + e.message;
            return done(e);
        }
        rows.append(std::move(*row));
    }
    m_store->insert(this, rows, [this, done](Result<AbstractDownloadStore::Inserted> added) {
        if (!added)
            return done(Error::unavailable("store_unavailable", QStringLiteral("the download could not be saved: ")
                                                                    + added.error().message));
        // Every event carries the queue after the whole transaction: the state the rows are in.
        for (const Download &row : std::as_const(added->rows)) {
            m_events->publishQueue(QueueAction::Added, row, added->summary);
            m_events->publishProgress(row);
        }
        done(added->rows);
        m_running->claimSoon();
    });
}

// The side effects of an action, beside the status the rules lead to. Runs on the locked row
// (on the store's thread: a pure function of the row).
static void applySideEffects(DownloadAction action, Download &d)
{
    switch (action) {
    case DownloadAction::Pause:
        d.errorMessage.clear();
        d.heldBy.clear(); // a person's pause now: the server will not resume it by itself
        break;
    case DownloadAction::Resume:
        d.heldBy.clear();
        d.retryingSinceMs = 0; // a fresh retry window
        break;
    case DownloadAction::Cancel:
        d.downloadedBytes = 0; // a cancelled download starts again from zero (its part file goes)
        d.percent = 0;
        d.errorMessage.clear();
        d.heldBy.clear();
        break;
    case DownloadAction::Retry:
        d.attempts = 0;
        d.retryingSinceMs = 0;
        d.errorMessage.clear();
        break;
    }
}

void DownloadService::removeParts(const QString &id)
{
    for (const QString &name : m_dir.partsOf(id))
        m_dir.remove(name);
}

// An action on the locked row, by the rules (DownloadRules): false when they refuse it.
static bool applyAction(DownloadAction action, Download &d)
{
    const std::optional<DownloadStatus> next = DownloadRules::after(d.status, action);
    if (!next)
        return false;
    applySideEffects(action, d);
    d.status = *next;
    d.speed = 0;
    d.updatedAt = QDateTime::currentDateTimeUtc();
    return true;
}

// A new priority on the locked row: false when it has no place in the queue.
static bool applyPriority(int priority, Download &d)
{
    if (!DownloadRules::canReorder(d.status))
        return false;
    d.priority = priority;
    return true;
}

void DownloadService::announceAction(DownloadAction action, DownloadStatus before, const Download &after,
                                     const QueueSummary &summary, const std::function<void(bool)> &published)
{
    if (action == DownloadAction::Cancel)
        removeParts(after.id); // every generation's; the node that ran it stops writing
    // Published here, once: the node running it only stops.
    m_events->publishProgress(after, published);
    if (before != after.status)
        m_events->publishQueue(QueueAction::StatusChanged, after, summary, published);
    m_running->stopHere(after.id, true, after.status == DownloadStatus::Cancelled,
                        QStringLiteral("%1 through this node").arg(QString(wireName(after.status))));
}

void DownloadService::announceReorder(const Download &after, const QueueSummary &summary)
{
    m_running->setPriorityHere(after.id, after.priority);
    m_events->publishQueue(QueueAction::Reordered, after, summary);
}

void DownloadService::act(const QString &id, DownloadAction action, Done<Download> done)
{
    HERMES_ASSERT_THREAD(this);
    auto change = [action](Download &d) { return applyAction(action, d); };
    m_store->control(this, id, change, false, [this, id, action, done](Result<AbstractDownloadStore::Controlled> c) {
        if (!c)
            return done(storeError(c.error()));
        if (!c->row)
            return done(notFound(id));
        if (c->refused)
            return done(conflict(*c->row, QString(wireName(action))));
        const Download &after = *c->row;
        // A download made claimable is announced to the other nodes after its change was
        // published, so that a node that claims it cannot publish its own change
        // (downloading …) before this one.
        const bool claimable = after.status == DownloadStatus::Pending;
        auto waiting = std::make_shared<int>(eventsOf(c->before, after));
        // The broker may answer while the server stops, after this service is gone.
        const auto published = [self = QPointer<DownloadService>(this), id, claimable, waiting](bool) {
            if (--*waiting == 0 && claimable && self)
                self->m_store->notifyChanged(id);
        };
        announceAction(action, c->before, after, c->summary, published);
        m_running->claimSoon();
        done(after);
    });
}

void DownloadService::setPriority(const QString &id, int priority, Done<Download> done)
{
    HERMES_ASSERT_THREAD(this);
    auto change = [priority](Download &d) { return applyPriority(priority, d); };
    m_store->control(this, id, change, false, [this, id, done](Result<AbstractDownloadStore::Controlled> c) {
        if (!c)
            return done(storeError(c.error()));
        if (!c->row)
            return done(notFound(id));
        if (c->refused)
            return done(conflict(*c->row, QStringLiteral("reorder")));
        announceReorder(*c->row, c->summary);
        done(*c->row);
    });
}

void DownloadService::actOnMany(const AbstractDownloadStore::Selection &which, BulkAction what,
                                Done<BulkResult> done)
{
    HERMES_ASSERT_THREAD(this);
    auto change = [what](Download &d) {
        return what.action ? applyAction(*what.action, d) : applyPriority(what.priority, d);
    };
    m_store->controlMany(this, which, change, [this, what, done](Result<AbstractDownloadStore::ControlledMany> c) {
        if (!c)
            return done(storeError(c.error()));
        BulkResult out;
        out.more = c->more;
        for (const QString &id : std::as_const(c->missing))
            out.skipped.append({id, "not_found", std::nullopt});
        int events = 0;
        bool claimable = false;
        for (const AbstractDownloadStore::Controlled &one : std::as_const(c->rows)) {
            if (one.refused) {
                out.skipped.append({one.row->id, "invalid_state", one.row->status});
                continue;
            }
            out.changed.append(one.row->id);
            events += eventsOf(one.before, *one.row);
            claimable |= one.row->status == DownloadStatus::Pending;
        }
        // As act(): what became claimable is announced to the other nodes (once, "*") after
        // every change was published.
        auto waiting = std::make_shared<int>(events);
        const auto published = [self = QPointer<DownloadService>(this), claimable, waiting](bool) {
            if (--*waiting == 0 && claimable && self)
                self->m_store->notifyChanged(QStringLiteral("*"));
        };
        for (const AbstractDownloadStore::Controlled &one : std::as_const(c->rows)) {
            if (one.refused)
                continue;
            if (what.action)
                announceAction(*what.action, one.before, *one.row, c->summary, published);
            else
                announceReorder(*one.row, c->summary);
        }
        if (!out.changed.isEmpty())
            m_running->claimSoon();
        done(out);
    });
}

void DownloadService::remove(const QString &id, bool deleteFile, Done<void> done)
{
    HERMES_ASSERT_THREAD(this);
    m_store->control(this, id, [](Download &) { return true; }, true,
                     [this, id, deleteFile, done](Result<AbstractDownloadStore::Controlled> r) {
        if (!r)
            return done(storeError(r.error()));
        if (!r->row)
            return done(notFound(id));
        m_running->stopHere(id, false, true, QStringLiteral("deleted"));
        removeParts(id);
        // Only a regular file by that name: a link planted there is not followed.
        if (deleteFile && r->row->status == DownloadStatus::Completed && m_dir.isRegularFile(r->row->filename))
            m_dir.remove(r->row->filename);
        m_events->publishQueue(QueueAction::Removed, *r->row, r->summary);
        done(Result<void>::success());
        m_running->claimSoon();
    });
}

void DownloadService::get(const QString &id, Done<Download> done)
{
    HERMES_ASSERT_THREAD(this);
    m_store->show(this, id, [id, done](Result<std::optional<Download>> row) {
        if (!row)
            return done(storeError(row.error()));
        if (!*row)
            return done(notFound(id));
        done(**row);
    });
}

void DownloadService::list(const ListRequest &request, Done<Page> done)
{
    HERMES_ASSERT_THREAD(this);
    m_store->showPage(this, request, [done](Result<Page> page) {
        if (!page)
            return done(storeError(page.error()));
        done(*page);
    });
}

void DownloadService::queue(const ListRequest &request, Done<Queue> done)
{
    HERMES_ASSERT_THREAD(this);
    m_store->queue(this, request, [done](Result<AbstractDownloadStore::Queue> q) {
        if (!q)
            return done(storeError(q.error()));
        QueueSummary summary = q->summary;
        summary.totalSpeed = qMax(0.0, summary.totalSpeed); // as the running nodes last saved it
        done(Queue{q->unfinished, summary, q->more});
    });
}

} // namespace Hermes
