#include "downloads/downloadrow.h"

#include "protocol/timestamp.h"

#include <QSqlQuery>
#include <QStringList>
#include <QVariant>

namespace Hermes::DownloadRow {

const QString Columns = QStringLiteral(
    "id, url, filename, filename_from_request, priority, position, sha256, status,"
    " downloaded_bytes, total_bytes, error_message, note, attempts, created_at, updated_at,"
    " completed_at, owner, etag, last_modified, speed, percent, lease_generation, part_generation,"
    " part_check, retrying_since, held_by, announce");

QString selected(const QString &now)
{
    // The lease decides, not the status alone: a row stays `downloading` after its node died
    // until another claims it (the claim clears the phase), and a phase saved by a dead node
    // is not what the download does.
    return Columns
        + QStringLiteral(", CASE WHEN owner <> '' AND lease_until >= %1 THEN phase ELSE '' END,"
                         " CASE WHEN not_before > %1 THEN not_before - %1 ELSE 0 END").arg(now);
}

Download from(const QSqlQuery &q)
{
    Download d;
    d.id = q.value(0).toString();
    d.url = q.value(1).toString();
    d.filename = q.value(2).toString();
    d.filenameFromRequest = q.value(3).toInt() != 0;
    d.priority = q.value(4).toInt();
    d.position = q.value(5).toLongLong();
    d.sha256 = q.value(6).toString();
    d.status = fromWire<DownloadStatus>(q.value(7).toString()).value_or(DownloadStatus::Failed);
    d.downloadedBytes = q.value(8).toLongLong();
    d.totalBytes = q.value(9).toLongLong();
    d.errorMessage = q.value(10).toString();
    d.note = q.value(11).toString();
    d.attempts = q.value(12).toInt();
    d.createdAt = parseIsoTimestamp(q.value(13).toString());
    d.updatedAt = parseIsoTimestamp(q.value(14).toString());
    d.completedAt = parseIsoTimestamp(q.value(15).toString());
    d.owner = q.value(16).toString();
    d.etag = q.value(17).toString();
    d.lastModified = q.value(18).toString();
    d.speed = q.value(19).toDouble();
    d.percent = q.value(20).toDouble();
    d.leaseGeneration = q.value(21).toLongLong();
    d.partGeneration = q.value(22).toLongLong();
    d.partCheck = q.value(23).toString();
    d.retryingSinceMs = q.value(24).toLongLong();
    d.heldBy = q.value(25).toString();
    d.announce = q.value(26).toString();
    d.phase = fromWire<DownloadPhase>(q.value(27).toString());
    d.retryDueInMs = q.value(28).toLongLong();
    return d;
}

QString statusList(bool (*select)(DownloadStatus))
{
    QStringList out;
    for (DownloadStatus s : allDownloadStatuses()) {
        if (select(s))
            out.append(u'\'' + QString(wireName(s)) + u'\'');
    }
    return out.join(QStringLiteral(", "));
}

} // namespace Hermes::DownloadRow
