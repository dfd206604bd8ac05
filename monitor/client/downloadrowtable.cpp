#include "downloadrowtable.h"

#include <algorithm>

namespace Hermes {

namespace {
/// For a table nobody watches.
class NoObserver final : public DownloadRowTable::Observer
{
public:
    void beginInsert(int, int) override {}
    void endInsert() override {}
    void aboutToRemove() override {}
    void beginRemove(int, int) override {}
    void endRemove() override {}
    void rowChanged(int) override {}
    void rowStatusChanged(const DownloadRow &, const ReceivedStatus &) override {}
};
NoObserver noObserver;
} // namespace

DownloadRowTable::DownloadRowTable(Observer *observer) : m_observer(observer ? observer : &noObserver) {}

const DownloadRow *DownloadRowTable::find(const QString &id) const
{
    const auto it = m_index.constFind(id);
    return it == m_index.cend() ? nullptr : &m_rows.at(*it);
}

static void fillProgress(DownloadRow &r, const DownloadProgressInfo &p, bool keepMaximum)
{
    const qint64 downloaded = p.downloadedBytes.value_or(r.downloaded);
    r.downloaded = keepMaximum ? qMax(r.downloaded, downloaded) : downloaded;
    if (p.totalBytes)
        r.size = *p.totalBytes;
    // Without a percentage, the bytes say it (a server that sends only bytes, a restart).
    double percent = r.percent;
    if (p.percentage)
        percent = *p.percentage;
    else if (p.downloadedBytes && r.size > 0)
        percent = qBound(0.0, 100.0 * double(r.downloaded) / double(r.size), 100.0);
    r.percent = keepMaximum ? qMax(r.percent, percent) : percent;
    r.speed = p.speed;
    r.eta = p.eta.value_or(-1);
}

/// A download as REST returns it: the whole truth at that moment.
static DownloadRow fromDownload(DownloadRow r, const DownloadResource &d)
{
    if (!d.id.isEmpty())
        r.id = d.id;
    r.url = d.url;
    r.name = d.filename;
    r.status = d.status.value_or(ReceivedStatus());
    r.error = d.errorMessage;
    r.note = d.note;
    r.phase = d.phase.value_or(DownloadPhaseInfo());
    r.sha256 = d.sha256;
    r.priority = d.priority;
    r.attempts = d.attempts;
    r.added = d.createdAt;
    r.completed = d.completedAt;
    r.updated = d.updatedAt;
    if (d.progress) {
        fillProgress(r, *d.progress, false);
    } else {
        r.downloaded = d.downloadedBytes;
        r.size = d.totalBytes.value_or(-1);
    }
    if (r.name.isEmpty())
        r.name = r.url.section(u'/', -1);
    return r;
}

/// A download_progress event: only what it carries. `newer`: its timestamp is after the
/// row's last update (not merely the same moment).
static DownloadRow fromEvent(DownloadRow r, const DownloadProgressEvent &e, bool newer)
{
    const bool sameStatus = !e.status || e.status->text == r.status.text;
    // The server restarted it from zero and says why: the percentage goes down on purpose.
    const bool noted = e.note && !e.note->isEmpty() && e.progress && *e.note != r.note;
    // Fewer bytes than the row has, from an event newer than the row's state: the transfer
    // started again (a restart, a new attempt, an origin without ranges), note or not. One
    // of the same moment may be a REST page or an event of the same second seen out of
    // order, so it only ever raises the progress.
    const bool fewerBytes = e.progress && e.progress->downloadedBytes && *e.progress->downloadedBytes < r.downloaded;
    const bool restarted = noted || (fewerBytes && (newer || (e.note && !e.note->isEmpty())));
    if (e.status)
        r.status = *e.status;
    if (e.phase)
        r.phase = *e.phase;
    else if (!sameStatus)
        r.phase = {}; // a server without phases: the old status's phase no longer applies
    if (e.note)
        r.note = *e.note;
    if (e.filename)
        r.name = *e.filename;
    if (e.url)
        r.url = *e.url;
    if (e.errorMessage)
        r.error = *e.errorMessage;
    if (e.attempts)
        r.attempts = *e.attempts;
    if (e.progress)
        fillProgress(r, *e.progress, sameStatus && !restarted); // a retry starts again from 0
    if (r.is(DownloadStatus::Completed) && !r.completed.isValid())
        r.completed = QDateTime::currentDateTimeUtc();
    if (r.name.isEmpty())
        r.name = r.url.section(u'/', -1);
    return r;
}

/// Whether a state stamped `timestamp` is older than what `r` has (ISO-8601 UTC from one
/// server: the text compares as the time does). A late event, or a REST page fetched before
/// the events applied since, must not undo the newer state.
static bool isOlder(const QString &timestamp, const DownloadRow &r)
{
    return !r.updated.isEmpty() && timestamp < r.updated;
}

void DownloadRowTable::account(const DownloadRow &r, int sign)
{
    if (r.status.known)
        m_counts[std::size_t(*r.status.known)] += sign;
    if (r.in(DownloadPhase::Retrying))
        m_retrying += sign;
    m_countsDirty = true;
}

void DownloadRowTable::setRow(int at, DownloadRow r)
{
    DownloadRow &old = m_rows[at];
    const ReceivedStatus from = old.status;
    if (old.priority != r.priority || old.isFinished() != r.isFinished())
        m_positionsDirty = true;
    account(old, -1);
    r.position = old.position;
    old = std::move(r);
    account(old, +1);
    m_observer->rowChanged(at);
    if (!from.text.isEmpty() && from.text != old.status.text)
        m_observer->rowStatusChanged(old, from);
}

void DownloadRowTable::rebuildIndex()
{
    m_index.clear();
    m_index.reserve(m_rows.size());
    for (int i = 0; i < m_rows.size(); ++i)
        m_index.insert(m_rows.at(i).id, i);
}

void DownloadRowTable::insertRows(const QList<DownloadRow> &rows)
{
    if (rows.isEmpty())
        return;
    const int first = int(m_rows.size());
    m_observer->beginInsert(first, first + int(rows.size()) - 1);
    for (const DownloadRow &r : rows) {
        m_index.insert(r.id, int(m_rows.size()));
        m_rows.append(r);
        account(r, +1);
    }
    m_positionsDirty = true;
    m_observer->endInsert();
}

void DownloadRowTable::removeRowsWhere(const std::function<bool(const DownloadRow &)> &drop)
{
    bool announced = false;
    for (int last = int(m_rows.size()) - 1; last >= 0; --last) {
        if (!drop(m_rows.at(last)))
            continue;
        if (!announced) {
            m_observer->aboutToRemove();
            announced = true;
        }
        int first = last;
        while (first > 0 && drop(m_rows.at(first - 1)))
            --first;
        m_observer->beginRemove(first, last);
        for (int i = first; i <= last; ++i)
            account(m_rows.at(i), -1);
        m_rows.remove(first, last - first + 1);
        rebuildIndex();
        m_observer->endRemove();
        m_positionsDirty = true;
        last = first;
    }
}

QList<DownloadResource> DownloadRowTable::mergeKnown(const QList<DownloadResource> &items, bool complete, bool mayBeStale)
{
    QHash<QString, const DownloadResource *> byId;
    byId.reserve(items.size());
    QList<const DownloadResource *> order;
    for (const DownloadResource &d : items) {
        if (d.id.isEmpty() || byId.contains(d.id))
            continue;
        byId.insert(d.id, &d);
        order.append(&d);
    }
    if (complete)
        removeRowsWhere([&](const DownloadRow &r) { return !byId.contains(r.id); });
    // A row the items lack (only when they are not complete: it may only have been missed
    // while the list was paged) keeps what it has.
    for (int i = 0; i < m_rows.size(); ++i) {
        const DownloadResource *d = byId.take(m_rows.at(i).id);
        if (!d || (mayBeStale && !d->updatedAt.isEmpty() && isOlder(d->updatedAt, m_rows.at(i))))
            continue;
        setRow(i, fromDownload(m_rows.at(i), *d));
    }
    QList<DownloadResource> fresh;
    for (const DownloadResource *d : std::as_const(order)) {
        if (byId.contains(d->id))
            fresh.append(*d);
    }
    return fresh;
}

void DownloadRowTable::insert(const QList<DownloadResource> &downloads)
{
    QList<DownloadRow> fresh;
    fresh.reserve(downloads.size());
    for (const DownloadResource &d : downloads) {
        if (!d.id.isEmpty() && !m_index.contains(d.id))
            fresh.append(fromDownload({}, d));
    }
    insertRows(fresh);
}

void DownloadRowTable::upsert(const DownloadResource &download)
{
    if (download.id.isEmpty())
        return;
    const int at = indexOf(download.id);
    if (at < 0) {
        insertRows({fromDownload({}, download)});
        return;
    }
    // Only what events do not carry: the state itself may already be newer than this answer.
    DownloadRow r = m_rows.at(at);
    r.priority = download.priority;
    r.sha256 = download.sha256;
    r.attempts = download.attempts;
    if (download.createdAt.isValid())
        r.added = download.createdAt;
    if (download.completedAt.isValid())
        r.completed = download.completedAt;
    setRow(at, std::move(r));
}

void DownloadRowTable::applyProgress(const DownloadProgressEvent &event, const QString &timestamp)
{
    if (event.downloadId.isEmpty())
        return;
    const int at = indexOf(event.downloadId);
    if (at < 0) {
        DownloadRow r;
        r.id = event.downloadId;
        // Until the details bring created_at: the event's own time, on the server's clock
        // like created_at, so that the queue order (ties go by arrival) and the moves planned
        // on it agree with the server's even before the details are in. This client's clock
        // would put a download whose event came late after ones created later.
        r.added = parseTimestamp(QJsonValue(timestamp));
        if (r.added.isValid() && r.added.timeSpec() == Qt::LocalTime)
            r.added.setTimeSpec(Qt::UTC); // a Python worker's naive utcnow().isoformat()
        if (!r.added.isValid())
            r.added = QDateTime::currentDateTimeUtc();
        r = fromEvent(r, event, true);
        r.updated = timestamp;
        insertRows({r});
        return;
    }
    if (isOlder(timestamp, m_rows.at(at)))
        return;
    const bool newer = m_rows.at(at).updated.isEmpty() || timestamp > m_rows.at(at).updated;
    DownloadRow r = fromEvent(m_rows.at(at), event, newer);
    r.updated = timestamp;
    setRow(at, std::move(r));
}

void DownloadRowTable::applyQueueUpdate(const QueueUpdateEvent &event, const QString &timestamp)
{
    if (event.action == QueueAction::Removed) {
        removeRowsWhere([&](const DownloadRow &r) { return r.id == event.downloadId; });
        return;
    }
    const int at = indexOf(event.downloadId);
    if (at < 0)
        return;
    DownloadRow r = m_rows.at(at);
    // Hermes adds the queue order to the Python payload: created_at never changes, and the
    // priority and status are taken unless a newer state is already here.
    if (event.createdAt.isValid())
        r.added = event.createdAt;
    if (r.updated.isEmpty() || timestamp >= r.updated) {
        if (event.status && event.status->text != r.status.text) {
            r.status = *event.status;
            r.phase = {}; // the old status's; the download_progress that follows brings the new one
        }
        if (event.priority)
            r.priority = *event.priority;
    }
    setRow(at, std::move(r));
}

bool DownloadRowTable::takeCountsChanged()
{
    if (!m_countsDirty)
        return false;
    m_countsDirty = false;
    double speed = 0;
    for (const DownloadRow &r : std::as_const(m_rows)) {
        if (r.is(DownloadStatus::Downloading))
            speed += r.speed;
    }
    m_totalSpeed = speed;
    return true;
}

QStringList DownloadRowTable::queueOrder() const
{
    QList<const DownloadRow *> queued;
    for (const DownloadRow &r : m_rows) {
        if (!r.isFinished())
            queued.append(&r);
    }
    // The server's order: priority first, then arrival.
    std::sort(queued.begin(), queued.end(), [](const DownloadRow *a, const DownloadRow *b) {
        if (a->priority != b->priority)
            return a->priority > b->priority;
        if (a->added != b->added)
            return a->added < b->added;
        return a->id < b->id;
    });
    QStringList ids;
    ids.reserve(queued.size());
    for (const DownloadRow *r : queued)
        ids.append(r->id);
    return ids;
}

bool DownloadRowTable::updatePositions()
{
    if (!m_positionsDirty)
        return false;
    m_positionsDirty = false;
    QHash<QString, int> places;
    const QStringList order = queueOrder();
    for (int i = 0; i < order.size(); ++i)
        places.insert(order.at(i), i + 1);
    bool changed = false;
    for (DownloadRow &r : m_rows) {
        const int p = places.value(r.id, 0);
        changed |= p != r.position;
        r.position = p;
    }
    return changed;
}

} // namespace Hermes
