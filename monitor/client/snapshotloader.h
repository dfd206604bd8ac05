#pragma once

#include "protocol/payloads.h"

#include <QList>
#include <QObject>
#include <QSet>

namespace Hermes {

class ApiClient;

/**
 * Loads every download over REST: `GET /api/v1/downloads` page after page until the server's
 * `total`, so download 1,001 and later are not lost.
 *
 * The list may change while it is paged (a download added, or one finishing moves to the
 * finished part of the order): pages are joined by id, and when the total changed between
 * pages, or fewer distinct downloads arrived than the total, the load starts over. After a
 * few times, what arrived is handed on as incomplete: it updates and adds rows, but a row it
 * lacks may only have been missed, so it is not taken as deleted.
 */
class SnapshotLoader final : public QObject
{
    Q_OBJECT
public:
    explicit SnapshotLoader(ApiClient *api, QObject *parent = nullptr);

    /// Items per request (the server allows 1-1000).
    void setPageSize(int n) { m_pageSize = qBound(1, n, 1000); }
    int pageSize() const { return m_pageSize; }

    void start();
    void cancel();
    bool isRunning() const { return m_running; }
    /// Requests made by the last load (for tests and the bench).
    int requestsMade() const { return m_requests; }

Q_SIGNALS:
    /// `complete`: every download the server had is in `items` (a row missing was deleted).
    void loaded(const QList<Hermes::DownloadResource> &items, bool complete);
    void failed(const QString &message);

private:
    void requestPage();

    ApiClient *m_api;
    int m_pageSize = 1000;
    bool m_running = false;
    quint64 m_run = 0;       ///< a cancelled run's answers are ignored
    int m_total = -1;
    int m_offset = 0;
    int m_restarts = 0;
    int m_requests = 0;
    QList<DownloadResource> m_items;
    QSet<QString> m_ids;
};

} // namespace Hermes
