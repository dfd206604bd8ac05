#include "downloads/downloadlistquery.h"

#include "downloads/downloadrow.h"

#include <QSqlQuery>
#include <QVariant>

namespace Hermes {

const QString DownloadListQuery::Order = QStringLiteral(" ORDER BY queue_rank, position, id");

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
    QSqlQuery q = m_exec(QStringLiteral("SELECT SUM(n) FROM download_counts")
                             + (where.isEmpty() ? QString() : QStringLiteral(" WHERE ") + where), binds);
    page.total = q.next() ? q.value(0).toInt() : 0;
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
    }
    // One row past the limit says whether more follow, without counting them.
    QString sql = QStringLiteral("SELECT %1 FROM downloads").arg(DownloadRow::selected(m_dialect.nowMs()));
    if (!conditions.isEmpty())
        sql += QStringLiteral(" WHERE ") + conditions.join(QStringLiteral(" AND "));
    sql += Order + QStringLiteral(" LIMIT %1").arg(request.limit + 1);
    if (!request.after && request.offset > 0)
        sql += QStringLiteral(" OFFSET %1").arg(request.offset);
    QSqlQuery q = m_exec(sql, binds);
    while (q.next()) {
        if (page.items.size() == request.limit) {
            page.more = true;
            break;
        }
        page.items.append(DownloadRow::from(q));
    }
    return page;
}

QueueSummary DownloadListQuery::counts(int *deltaRows)
{
    QueueSummary c;
    // The deltas of every status (migration 6): a few rows per status once folded, whatever
    // the number of downloads.
    QSqlQuery q = m_exec(QStringLiteral("SELECT status, SUM(n), COUNT(*) FROM download_counts GROUP BY status"), {});
    int rows = 0;
    while (q.next()) {
        rows += q.value(2).toInt();
        const auto status = fromWire<DownloadStatus>(q.value(0).toString());
        const int n = q.value(1).toInt();
        if (!status)
            continue;
        if (*status == DownloadStatus::Pending)
            c.queued += n;
        else if (*status == DownloadStatus::Paused)
            c.paused += n;
        if (DownloadRules::isActive(*status))
            c.active += n;
    }
    q.finish();
    if (deltaRows)
        *deltaRows = rows;
    QSqlQuery speed = m_exec(QStringLiteral("SELECT SUM(speed) FROM downloads WHERE status = ?"),
                             {QVariant(QString(wireName(DownloadStatus::Downloading)))});
    c.totalSpeed = speed.next() ? speed.value(0).toDouble() : 0;
    return c;
}

} // namespace Hermes
