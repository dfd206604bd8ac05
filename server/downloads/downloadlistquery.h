#pragma once

#include "downloads/abstractdownloadstore.h"
#include "downloads/download.h"
#include "downloads/sqldialect.h"
#include "protocol/payloads.h"

#include <QList>
#include <QString>
#include <QVariantList>

#include <functional>
#include <optional>

class QSqlQuery;

namespace Hermes {

/**
 * The reading side of the `downloads` table: pages of the queue order and the queue's figures.
 *
 * Part of DownloadRepository (same connection, same thread, same StoreFailure on error); a
 * class of its own because paging is one job with its own rules: the queue order is the index
 * downloads_queue_order (queue_rank, position, id), filtered by status downloads_status_order
 * (status, queue_rank, position, id), so a page after a cursor is one index seek at any depth
 * (ListCursor). Offset paging walks the same index and skips rows: kept for the clients that
 * page by offset, linear in the offset. The plans of its statements at 100,000 downloads, on
 * both databases, are in bench/RESULTS.md (bench/rest100k.py prints them).
 */
class DownloadListQuery final
{
public:
    using Exec = std::function<QSqlQuery(const QString &sql, const QVariantList &binds)>;
    DownloadListQuery(const SqlDialect &dialect, Exec exec) : m_dialect(dialect), m_exec(std::move(exec)) {}

    /// One page of `request` (all downloads, or those with its status).
    AbstractDownloadStore::Page page(const AbstractDownloadStore::ListRequest &request);
    /// One page of the unfinished downloads (the request's status is not used).
    AbstractDownloadStore::Page unfinished(const AbstractDownloadStore::ListRequest &request);
    /// The queue over every node (speed as the running nodes last saved it), from the counts
    /// the database keeps per status (migration 6): the same cost at any number of downloads.
    /// `deltaRows` gets the number of count rows read, for DownloadRepository to fold them.
    QueueSummary counts(int *deltaRows = nullptr);

    /// The ORDER BY of the queue order, for the statements of DownloadRepository too.
    static const QString Order;

private:
    /// `page` with its total when the request asks for one: the downloads `where` picks (a
    /// condition on `status` only, with its binds; every download when empty).
    AbstractDownloadStore::Page withTotal(AbstractDownloadStore::Page page,
                                          const AbstractDownloadStore::ListRequest &request,
                                          const QString &where, const QVariantList &binds);
    AbstractDownloadStore::Page run(const QString &where, QVariantList binds,
                                    const AbstractDownloadStore::ListRequest &request);

    SqlDialect m_dialect;
    Exec m_exec;
};

} // namespace Hermes
