#include "downloads/downloadlistquery.h"

#include "downloads/downloadrow.h"

#include <QSqlQuery>
#include <QVariant>

namespace Hermes {

const QString DownloadListQuery::Order = QStringLiteral(" ORDER BY queue_rank, position, id");

AbstractDownloadStore::Page DownloadListQuery::page(const AbstractDownloadStore::ListRequest &request)
{
    if (!request.status)
        return run(QString(), {}, request);
    return run(QStringLiteral("status = ?"), {QVariant(QString(wireName(*request.status)))}, request);
}

AbstractDownloadStore::Page DownloadListQuery::unfinished(const AbstractDownloadStore::ListRequest &request)
{
    // A range of downloads_queue_order: the unfinished ranks come before every finished one.
    AbstractDownloadStore::ListRequest r = request;
    r.status.reset();
    return run(QStringLiteral("queue_rank < %1").arg(ListCursor::FinishedRank), {}, r);
}

AbstractDownloadStore::Page DownloadListQuery::run(const QString &where, QVariantList binds,
                                                   const AbstractDownloadStore::ListRequest &request)
{
    AbstractDownloadStore::Page page;
    if (request.withTotal) {
        QSqlQuery count = m_exec(QStringLiteral("SELECT COUNT(*) FROM downloads")
                                     + (where.isEmpty() ? QString() : QStringLiteral(" WHERE ") + where),
                                 binds);
        page.total = count.next() ? count.value(0).toInt() : 0;
    }
    QStringList conditions;
    if (!where.isEmpty())
        conditions.append(where);
    if (request.after) {
        // A row value: SQLite (3.15+) and PostgreSQL both seek the index to it.
        conditions.append(QStringLiteral("(queue_rank, position, id) > (?, ?, ?)"));
        binds << QVariant(request.after->rank) << QVariant(request.after->position) << QVariant(request.after->id);
    }
    // One row past the limit says whether more follow, without counting them.
    QString sql = QStringLiteral("SELECT %1 FROM downloads").arg(DownloadRow::Columns);
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

QueueSummary DownloadListQuery::counts()
{
    static const QString unfinished = DownloadRow::statusList([](DownloadStatus s) { return !DownloadRules::isFinished(s); });
    QueueSummary c;
    // Only the status index (covering, and the smallest one): no table row is read.
    QSqlQuery q = m_exec(QStringLiteral("SELECT status, COUNT(*) FROM downloads%1 WHERE status IN (%2) GROUP BY status")
                             .arg(m_dialect.indexedBy("downloads_status"), unfinished), {});
    while (q.next()) {
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
    QSqlQuery speed = m_exec(QStringLiteral("SELECT SUM(speed) FROM downloads WHERE status = ?"),
                             {QVariant(QString(wireName(DownloadStatus::Downloading)))});
    c.totalSpeed = speed.next() ? speed.value(0).toDouble() : 0;
    return c;
}

} // namespace Hermes
