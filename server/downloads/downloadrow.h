#pragma once

#include "downloads/download.h"

#include <QString>

class QSqlQuery;

namespace Hermes {

/// One row of the `downloads` table as a Download: the columns every query that reads whole
/// rows selects, in the order from() reads them (DownloadRepository, DownloadListQuery).
namespace DownloadRow {

extern const QString Columns;
Download from(const QSqlQuery &q);
/// The statuses `select` picks, as SQL: `'completed', 'failed', 'cancelled'`. The sets come
/// from the download rules, the words from the protocol, so the queries say what the rules say.
QString statusList(bool (*select)(DownloadStatus));

} // namespace DownloadRow
} // namespace Hermes
