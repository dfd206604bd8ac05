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

} // namespace DownloadRow
} // namespace Hermes
