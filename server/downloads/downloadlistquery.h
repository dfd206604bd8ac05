#pragma once

#include "downloads/abstractdownloadstore.h"
#include "downloads/download.h"
#include "downloads/sqldialect.h"
#include "downloads/sqlrow.h"
#include "protocol/payloads.h"

#include <QList>
#include <QString>
#include <QVariantList>

#include <functional>
#include <optional>

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
 *
 * It runs its statements through `Exec`: Qt SQL on the store's thread (overQtSql()), and on
 * the API's read connections the database's own library, SQLite (SqliteReads) or libpq
 * (PgReads): a page of 100 rows through Qt SQL is a QVariant and a UTF-16 copy per column,
 * most of a page's cost. A page's offset is a bound value (one statement for every offset).
 */
class DownloadListQuery final
{
public:
    /// Calls back for each row until `row` answers false (`row` may be empty: no rows wanted).
    using Row = std::function<bool(const SqlRow &)>;
    /// Runs one statement; throws StoreFailure on error.
    using Exec = std::function<void(const QString &sql, const QVariantList &binds, const Row &row)>;
    /// Which columns the rows carry: every one (the engine's), or what the API shows
    /// (DownloadRow::shown: the rest left at their defaults).
    enum class Rows { Whole, Shown };
    DownloadListQuery(const SqlDialect &dialect, Exec exec, Rows rows = Rows::Whole)
        : m_dialect(dialect), m_exec(std::move(exec)), m_rows(rows) {}
    /// An Exec on Qt SQL: `exec` runs the statement and answers the query, positioned before its
    /// first row.
    static Exec overQtSql(std::function<QSqlQuery(const QString &sql, const QVariantList &binds)> exec);

    /// One download, or nothing when there is no such download.
    std::optional<Download> one(const QString &id);

    /// One page of `request` (all downloads, or those with its status).
    AbstractDownloadStore::Page page(const AbstractDownloadStore::ListRequest &request);
    /// One page of the unfinished downloads (the request's status is not used).
    AbstractDownloadStore::Page unfinished(const AbstractDownloadStore::ListRequest &request);
    /// The queue over every node (speed as the running nodes last saved it), from the counts
    /// the database keeps per status (migration 6): the same cost at any number of downloads.
    /// `deltaRows` gets the number of count rows read, for DownloadRepository to fold them.
    QueueSummary counts(int *deltaRows = nullptr);

    /// Runs `reads` (statements of this class) in one read-only transaction, so they all see
    /// one state of the table: a page and its total, a queue page and its figures. For a
    /// connection in no transaction of its own (DownloadReaders'); on the store's thread the
    /// writes are between the jobs, never between the statements of one.
    template<typename F>
    auto together(F reads) -> decltype(reads())
    {
        m_exec(m_dialect.beginRead(), {}, {});
        try {
            auto out = reads();
            m_exec(QStringLiteral("COMMIT"), {}, {});
            return out;
        } catch (...) { // a StoreFailure: no transaction is left open behind it
            try {
                m_exec(QStringLiteral("ROLLBACK"), {}, {});
            } catch (...) {
            }
            throw;
        }
    }

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
    /// What a row's SELECT reads (DownloadRow::selected or shown).
    QString columns() const;

    SqlDialect m_dialect;
    Exec m_exec;
    Rows m_rows;
};

} // namespace Hermes
