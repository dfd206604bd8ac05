#include "snapshotloader.h"

#include "apiclient.h"

#include <QJsonArray>
#include <QPointer>

namespace Hermes {

static constexpr int MaxItems = 10'000'000; // a bound on what a broken server can make us page

SnapshotLoader::SnapshotLoader(ApiClient *api, QObject *parent) : QObject(parent), m_api(api) {}

void SnapshotLoader::start()
{
    ++m_run;
    if (!m_started)
        m_requests = 0; // a load that starts over counts on
    m_running = true;
    m_started = true;
    m_failedMeanwhile = false;
    m_resumedAfterFailure = false;
    m_cursor.clear();
    m_offset = 0;
    m_items = {};
    m_index.clear();
    requestPage();
}

void SnapshotLoader::resume()
{
    if (!m_started) {
        start();
        return;
    }
    // A request under way is abandoned and asked again: its answer may predate the reason to
    // resume. The pages before it stay.
    ++m_run;
    m_running = true;
    m_resumedAfterFailure = m_resumedAfterFailure || m_failedMeanwhile;
    m_failedMeanwhile = false;
    requestPage();
}

void SnapshotLoader::cancel()
{
    ++m_run;
    m_running = false;
    m_started = false;
    m_items = {};
    m_index.clear();
}

void SnapshotLoader::forget(const QString &id)
{
    const qsizetype at = m_index.value(id, -1);
    if (at < 0)
        return;
    m_items.removeAt(at);
    m_index.remove(id);
    for (auto it = m_index.begin(); it != m_index.end(); ++it) {
        if (*it > at)
            --*it;
    }
}

void SnapshotLoader::fail(const QString &message, bool keepPages)
{
    m_running = false;
    m_failedMeanwhile = true;
    if (!keepPages)
        cancel();
    Q_EMIT failed(message);
}

void SnapshotLoader::take(const QJsonArray &page)
{
    for (const QJsonValue &v : page) {
        DownloadResource d = DownloadResource::fromJson(v.toObject());
        if (d.id.isEmpty())
            continue;
        // A download seen twice moved in the order while the list was paged: the later copy
        // is the newer.
        const qsizetype at = m_index.value(d.id, -1);
        if (at >= 0) {
            m_items[at] = std::move(d);
        } else {
            m_index.insert(d.id, m_items.size());
            m_items.append(std::move(d));
        }
    }
}

void SnapshotLoader::requestPage()
{
    ++m_requests;
    const quint64 run = m_run;
    const QPointer<SnapshotLoader> self(this);
    auto done = [this, self, run](Result<QJsonObject> answer) {
        if (!self || run != m_run)
            return;
        if (!answer)
            return fail(answer.error().message, true); // walks on from here when resumed
        const QJsonObject &body = *answer;
        const QJsonArray page = body.value(QStringLiteral("items")).toArray();
        const QJsonValue cursor = body.value(QStringLiteral("next_cursor"));
        const QJsonValue nextOffset = body.value(QStringLiteral("next_offset"));
        const bool cursors = body.contains(QStringLiteral("next_cursor"));
        if (!body.value(QStringLiteral("items")).isArray() || (cursors && !cursor.isNull() && !cursor.isString())
            || m_items.size() + page.size() > MaxItems) {
            return fail(QStringLiteral("the server's download list is not valid"), false);
        }
        take(page);
        const bool more = cursors ? cursor.isString() : nextOffset.isDouble();
        if (more) {
            // A page may end early (the server bounds a page's bytes too): go on from where it
            // did. A server that answers no rows, or the same place again, would page forever.
            const QString next = cursor.toString();
            const int offset = nextOffset.toInt(-1);
            if (page.isEmpty() || (cursors ? next == m_cursor : offset <= m_offset))
                return fail(QStringLiteral("the server's download list does not move on"), false);
            m_cursor = next;
            m_offset = offset;
            Q_EMIT pageLoaded(m_requests);
            if (run == m_run && m_running)
                requestPage(); // unless a slot of pageLoaded resumed or cancelled it
            return;
        }
        m_running = false;
        m_started = false;
        m_failedMeanwhile = false;
        m_index.clear();
        Q_EMIT loaded(std::exchange(m_items, {}), true);
    };
    if (m_cursor.isEmpty())
        m_api->listDownloads(m_offset, m_pageSize, std::move(done));
    else
        m_api->listDownloadsAfter(m_cursor, m_pageSize, std::move(done));
}

} // namespace Hermes
