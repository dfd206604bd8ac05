#pragma once

#include "downloads/download.h"

#include <QString>

class QSqlQuery;

namespace Hermes {

class SqlRow;

/// One row of the `downloads` table as a Download: the columns every query that reads whole
/// rows selects, in the order from() reads them (DownloadRepository, DownloadListQuery).
namespace DownloadRow {

/// The stored columns a new row is written with.
extern const QString Columns;
/// What a SELECT reads: Columns, then what only a read at `now` (the store's clock, in SQL)
/// can say: the saved phase while the lease of the node that saved it holds, and how long
/// until a waiting retry is due.
QString selected(const QString &now);
/// selected() for what the API shows of a download (DownloadResource): the columns it does
/// not show (the lease, the validators, the part file's, the engine's bookkeeping) are read as
/// constants in their places, so from() reads either, and a page of 100 rows carries ten
/// columns fewer from the database.
QString shown(const QString &now);
/// A row read with selected() or shown().
Download from(const SqlRow &row);
Download from(const QSqlQuery &q);
/// The statuses `select` picks, as SQL: `'completed', 'failed', 'cancelled'`. The sets come
/// from the download rules, the words from the protocol, so the queries say what the rules say.
QString statusList(bool (*select)(DownloadStatus));

} // namespace DownloadRow
} // namespace Hermes
