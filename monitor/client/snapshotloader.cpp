#include "snapshotloader.h"

#include "apiclient.h"

#include <QJsonArray>
#include <QPointer>

namespace Hermes {

static constexpr int MaxRestarts = 3;
static constexpr int MaxTotal = 10'000'000; // a bound on what a broken server can make us page

SnapshotLoader::SnapshotLoader(ApiClient *api, QObject *parent) : QObject(parent), m_api(api) {}

void SnapshotLoader::start()
{
    ++m_run;
    m_running = true;
    m_restarts = 0;
    m_requests = 0;
    m_total = -1;
    m_offset = 0;
    m_items = {};
    m_ids.clear();
    requestPage();
}

void SnapshotLoader::cancel()
{
    ++m_run;
    m_running = false;
    m_items = {};
    m_ids.clear();
}

void SnapshotLoader::requestPage()
{
    ++m_requests;
    const quint64 run = m_run;
    const QPointer<SnapshotLoader> self(this);
    m_api->listDownloads(m_offset, m_pageSize, [this, self, run](Result<QJsonObject> answer) {
        if (!self || run != m_run)
            return;
        if (!answer) {
            m_running = false;
            m_items = {};
            m_ids.clear();
            Q_EMIT failed(answer.error().message);
            return;
        }
        const QJsonObject &body = *answer;
        const int total = body.value(QStringLiteral("total")).toInt(-1);
        const QJsonArray page = body.value(QStringLiteral("items")).toArray();
        if (total < 0 || total > MaxTotal) {
            m_running = false;
            Q_EMIT failed(QStringLiteral("the server's download list has no valid total"));
            return;
        }
        const bool changed = m_total >= 0 && total != m_total;
        m_total = total;
        for (const QJsonValue &v : page) {
            DownloadResource d = DownloadResource::fromJson(v.toObject());
            if (!d.id.isEmpty() && !m_ids.contains(d.id)) {
                m_ids.insert(d.id);
                m_items.append(std::move(d));
            }
        }
        // A page may end early (the server bounds a page's bytes too): go on from where it did.
        m_offset += int(page.size());
        const bool more = !page.isEmpty() && m_offset < total;
        if (!changed && more) {
            requestPage();
            return;
        }
        if ((changed || m_ids.size() < total) && m_restarts < MaxRestarts) {
            // The list moved under us: page it again from the start.
            ++m_restarts;
            m_total = -1;
            m_offset = 0;
            m_items = {};
            m_ids.clear();
            requestPage();
            return;
        }
        m_running = false;
        const QList<DownloadResource> items = std::exchange(m_items, {});
        const bool complete = !changed && m_ids.size() >= total;
        m_ids.clear();
        Q_EMIT loaded(items, complete);
    });
}

} // namespace Hermes
