#include "downloads/downloadrow.h"

#include "downloads/sqlrow.h"
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

// What only a read at `now` can say (see selected()).
static QString computed(const QString &now)
{
    // The lease decides, not the status alone: a row stays `downloading` after its node died
    // until another claims it (the claim clears the phase), and a phase saved by a dead node
    // is not what the download does.
    return QStringLiteral(", CASE WHEN owner <> '' AND lease_until >= %1 THEN phase ELSE '' END,"
                          " CASE WHEN not_before > %1 THEN not_before - %1 ELSE 0 END").arg(now);
}

QString selected(const QString &now)
{
    return Columns + computed(now);
}

QString shown(const QString &now)
{
    // Columns in its order; a constant where DownloadResource shows nothing of the column.
    static const QString Shown = QStringLiteral(
        "id, url, filename, 0, priority, position, sha256, status,"
        " downloaded_bytes, total_bytes, error_message, note, attempts, created_at, updated_at,"
        " completed_at, '', '', '', speed, percent, 0, 0, '', 0, '', ''");
    return Shown + computed(now);
}

Download from(const SqlRow &r)
{
    Download d;
    d.id = r.text(0);
    d.url = r.text(1);
    d.filename = r.text(2);
    d.filenameFromRequest = r.integer(3) != 0;
    d.priority = int(r.integer(4));
    d.position = r.integer(5);
    d.sha256 = r.text(6);
    d.status = fromWire<DownloadStatus>(r.text(7)).value_or(DownloadStatus::Failed);
    d.downloadedBytes = r.integer(8);
    d.totalBytes = r.integer(9);
    d.errorMessage = r.text(10);
    d.note = r.text(11);
    d.attempts = int(r.integer(12));
    d.createdAt = parseIsoTimestamp(r.text(13));
    d.updatedAt = parseIsoTimestamp(r.text(14));
    d.completedAt = parseIsoTimestamp(r.text(15));
    d.owner = r.text(16);
    d.etag = r.text(17);
    d.lastModified = r.text(18);
    d.speed = r.real(19);
    d.percent = r.real(20);
    d.leaseGeneration = r.integer(21);
    d.partGeneration = r.integer(22);
    d.partCheck = r.text(23);
    d.retryingSinceMs = r.integer(24);
    d.heldBy = r.text(25);
    d.announce = r.text(26);
    d.phase = fromWire<DownloadPhase>(r.text(27));
    d.retryDueInMs = r.integer(28);
    return d;
}

Download from(const QSqlQuery &q)
{
    return from(QtSqlRow(q));
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
