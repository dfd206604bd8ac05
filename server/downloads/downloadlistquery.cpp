#include "downloads/downloadlistquery.h"

#include "downloads/downloadrow.h"

#include <QSqlQuery>
#include <QVariant>

namespace Hermes {

const QString DownloadListQuery::Order = QStringLiteral(" ORDER BY queue_rank, position, id");

DownloadListQuery::Exec DownloadListQuery::overQtSql(std::function<QSqlQuery(const QString &, const QVariantList &)> exec)
{
    return [exec = std::move(exec)](const QString &sql, const QVariantList &binds, const Row &row) {
        QSqlQuery q = exec(sql, binds);
        const QtSqlRow current(q);
        while (row && q.next() && row(current)) {
        }
    };
}

QString DownloadListQuery::columns() const
{
    return m_rows == Rows::Shown ? DownloadRow::shown(m_dialect.nowMs()) : DownloadRow::selected(m_dialect.nowMs());
}

std::optional<Download> DownloadListQuery::one(const QString &id)
{
    std::optional<Download> out;
    m_exec(QStringLiteral("SELECT %1 FROM downloads WHERE id = ?").arg(columns()), {QVariant(id)},
           [&out](const SqlRow &r) {
        out = DownloadRow::from(r);
        return false;
    });
    return out;
}

AbstractDownloadStore::Page DownloadListQuery::page(const AbstractDownloadStore::ListRequest &request)
{
    if (!request.status)
        return withTotal(run(QString(), {}, request), request, QString(), {});
    const QString status = QStringLiteral("status = ?");
    const QVariantList binds{QVariant(QString(wireName(*request.status)))};
    return withTotal(run(status, binds, request), request, status, binds);
}

AbstractDownloadStore::Page DownloadListQuery::unfinished(const AbstractDownloadStore::ListRequest &request)
{
    // A range of downloads_queue_order: the unfinished ranks come before every finished one.
    static const QString unfinished = QStringLiteral("status IN (%1)")
        .arg(DownloadRow::statusList([](DownloadStatus s) { return !DownloadRules::isFinished(s); }));
    AbstractDownloadStore::ListRequest r = request;
    r.status.reset();
    return withTotal(run(QStringLiteral("queue_rank < %1").arg(ListCursor::FinishedRank), {}, r), request, unfinished, {});
}

AbstractDownloadStore::Page DownloadListQuery::withTotal(AbstractDownloadStore::Page page,
                                                         const AbstractDownloadStore::ListRequest &request,
                                                         const QString &where, const QVariantList &binds)
{
    if (!request.withTotal)
        return page;
    // From the counts the database keeps (migration 6), not a scan of the rows.
    page.total = 0;
    m_exec(QStringLiteral("SELECT SUM(n) FROM download_counts") + (where.isEmpty() ? QString() : QStringLiteral(" WHERE ") + where),
           binds, [&page](const SqlRow &r) {
        page.total = int(r.integer(0));
        return false;
    });
    return page;
}

AbstractDownloadStore::Page DownloadListQuery::run(const QString &where, QVariantList binds,
                                                   const AbstractDownloadStore::ListRequest &request)
{
    AbstractDownloadStore::Page page;
    QStringList conditions;
    if (!where.isEmpty())
        conditions.append(where);
    if (request.after) {
        // A row value: SQLite (3.15+) and PostgreSQL both seek the index to it.
        conditions.append(QStringLiteral("(queue_rank, position, id) > (?, ?, ?)"));
        binds << QVariant(request.after->rank) << QVariant(request.after->position) << QVariant(request.after->id);
    } else if (request.offset > 0 && m_dialect.isPostgres()) {
        // PostgreSQL: the offset's row is found by walking the order's index alone (its key is
        // all the subquery reads: an index-only scan once the table is vacuumed), then the page
        // is one seek from it. A plain OFFSET fetched every skipped row from the table: p99
        // 247 ms against 94 ms at random depths of 100,000 (bench/RESULTS.md). The same rows:
        // the order is total (id is unique), and one statement sees one snapshot; past the
        // end the subquery has no row, and nothing compares to it. Not SQLite's way: it does
        // not seek an index to a row value compared with a subquery, and scanned from the
        // start (p99 29 ms with OFFSET, 74 ms this way). The offset is bound, not written in:
        // one statement text for the pages at every offset, so a connection that keeps its
        // statements prepared (PgReads) prepares it once.
        const QVariantList whereBinds = binds;
        conditions.append(QStringLiteral("(queue_rank, position, id) >= (SELECT queue_rank, position, id FROM downloads")
                          + (where.isEmpty() ? QString() : QStringLiteral(" WHERE ") + where)
                          + Order + QStringLiteral(" LIMIT 1 OFFSET ?)"));
        binds << whereBinds << QVariant(qint64(request.offset));
    }
    // One row past the limit says whether more follow, without counting them.
    QString sql = QStringLiteral("SELECT %1 FROM downloads").arg(columns());
    if (!conditions.isEmpty())
        sql += QStringLiteral(" WHERE ") + conditions.join(QStringLiteral(" AND "));
    // The limit is written in (a client asks for one size): PostgreSQL plans a LIMIT it cannot
    // see for 10 % of the rows, and would then plan every cursor page anew with its value
    // rather than keep the generic plan.
    sql += Order + QStringLiteral(" LIMIT %1").arg(request.limit + 1);
    if (!request.after && request.offset > 0 && !m_dialect.isPostgres()) {
        sql += QStringLiteral(" OFFSET ?");
        binds << QVariant(qint64(request.offset));
    }
    page.items.reserve(request.limit);
    m_exec(sql, binds, [&](const SqlRow &r) {
        if (page.items.size() == request.limit) {
            page.more = true;
            return false;
        }
        page.items.append(DownloadRow::from(r));
        return true;
    });
    return page;
}

QueueSummary DownloadListQuery::counts(int *deltaRows)
{
    QueueSummary c;
    // The deltas of every status (migration 6): a few rows per status once folded, whatever
    // the number of downloads.
    int rows = 0;
    m_exec(QStringLiteral("SELECT status, SUM(n), COUNT(*) FROM download_counts GROUP BY status"), {},
           [&](const SqlRow &r) {
        rows += int(r.integer(2));
        const auto status = fromWire<DownloadStatus>(r.text(0));
        const int n = int(r.integer(1));
        if (!status)
            return true;
        if (*status == DownloadStatus::Pending)
            c.queued += n;
        else if (*status == DownloadStatus::Paused)
            c.paused += n;
        if (DownloadRules::isActive(*status))
            c.active += n;
        return true;
    });
    if (deltaRows)
        *deltaRows = rows;
    c.totalSpeed = 0;
    m_exec(QStringLiteral("SELECT SUM(speed) FROM downloads WHERE status = ?"),
           {QVariant(QString(wireName(DownloadStatus::Downloading)))}, [&c](const SqlRow &r) {
        c.totalSpeed = r.real(0);
        return false;
    });
    return c;
}

} // namespace Hermes
