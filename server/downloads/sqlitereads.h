#pragma once

#include "downloads/databaseurl.h"
#include "downloads/downloadlistquery.h"
#include "downloads/downloadreaders.h"
#include "downloads/sqldialect.h"

struct sqlite3;

namespace Hermes {

/**
 * A read connection to the SQLite store through the SQLite library itself, for the API's reads
 * (DownloadReaders): Qt SQL made a QVariant and a UTF-16 copy (SQLite's own conversion, then
 * Qt's) of every column of every row, and took SQLite's mutex around each call, which was most
 * of the CPU of a page of 100 rows at 100,000 downloads (issue 27). Here a text column is read
 * as SQLite stores it (UTF-8) straight into its QString, a number as a number, and the
 * connection is opened read-only and without SQLite's mutexes (one thread uses it).
 *
 * The statements are DownloadListQuery's, the same ones the store's thread runs through Qt.
 * Throws StoreFailure on error, as DownloadRepository does.
 */
class SqliteReads final : public ReadConnection
{
public:
    explicit SqliteReads(const DatabaseUrl &url);
    ~SqliteReads() override;
    SqliteReads(const SqliteReads &) = delete;
    SqliteReads &operator=(const SqliteReads &) = delete;

    /// Opens the database file (which the store created and migrated).
    void open() override;
    DownloadListQuery &lists() override { return m_lists; }
    /// Reopens the file: a read that failed leaves nothing to keep.
    void recover() override;

private:
    void exec(const QString &sql, const QVariantList &binds, const DownloadListQuery::Row &row);
    void close();

    DatabaseUrl m_url;
    SqlDialect m_dialect{SqlDialect::Kind::Sqlite};
    DownloadListQuery m_lists;
    sqlite3 *m_db = nullptr;
};

} // namespace Hermes
