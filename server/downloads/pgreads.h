#pragma once

#include "downloads/databaseurl.h"
#include "downloads/downloadlistquery.h"
#include "downloads/downloadreaders.h"
#include "downloads/sqldialect.h"

#include <QByteArray>
#include <QHash>

struct pg_conn;

namespace Hermes {

struct PgResult;

/**
 * A read connection to the PostgreSQL store through libpq itself, for the API's reads
 * (DownloadReaders), as SqliteReads is for SQLite.
 *
 * Qt's QPSQL driver fetched a forward-only result one row per libpq result, made a QVariant
 * of every column of every row (a QString from UTF-8, then a number parsed from it), and ran
 * a statement with bound values as SQL `EXECUTE name (literals)` text that the server parses
 * each time: at 100,000 downloads, with 10 clients paging, most of a page's cost on the read
 * threads (issue 27). Here each statement is prepared once per connection (the protocol's
 * Parse, then Bind/Execute with the values apart), the result comes whole in one buffer, and
 * a column is read from it as it stands: text straight from UTF-8 into its QString, a number
 * parsed from its digits. The connection is in libpq's pipeline mode, so a transaction's BEGIN
 * and COMMIT go out without waiting for their answers (read with the next statement's): a
 * queue page and its figures are three round trips, not five.
 *
 * The statements are DownloadListQuery's, the same ones the store's thread runs through Qt
 * SQL; their `?` become `$1`, `$2`... Throws StoreFailure on error, `connection` set when the
 * connection is gone.
 */
class PgReads final : public ReadConnection
{
public:
    explicit PgReads(const DatabaseUrl &url);
    ~PgReads() override;
    PgReads(const PgReads &) = delete;
    PgReads &operator=(const PgReads &) = delete;

    /// Connects (the database is the store's, migrated already).
    void open() override;
    DownloadListQuery &lists() override { return m_lists; }
    /// Keeps a connection that answers and holds no transaction; reconnects otherwise.
    void recover() override;
    quint64 statementsPrepared() const override { return m_preparedCount; }

    /// `sql` with its `?` placeholders numbered as PostgreSQL's ($1, $2, ...), outside quotes.
    static QByteArray numbered(const QString &sql);

private:
    void exec(const QString &sql, const QVariantList &binds, const DownloadListQuery::Row &row);
    /// The name of `sql`'s prepared statement on this connection, preparing it the first time.
    const QByteArray &prepared(const QString &sql);
    /// After a statement was queued (`ok`: what libpq's PQsend* answered): ends its pipeline.
    void sent(int ok);
    /// Reads the answers to everything sent; the last statement's result goes into `last`.
    /// Throws the first error among them.
    void collect(PgResult *last);
    /// `sql` (no parameters) sent and answered.
    void run(const char *sql, PgResult *last);
    /// Throws `what`, marking a lost connection as such.
    [[noreturn]] void fail(const QString &what) const;
    void close();

    DatabaseUrl m_url;
    SqlDialect m_dialect{SqlDialect::Kind::Postgres};
    DownloadListQuery m_lists;
    pg_conn *m_conn = nullptr;  ///< in pipeline mode: statements are sent, answers read later
    int m_unread = 0;           ///< pipelines sent whose answers are not read yet
    QHash<QString, QByteArray> m_prepared; ///< statement text -> its name on m_conn
    quint64 m_preparedCount = 0;           ///< statements prepared so far (tests)
};

} // namespace Hermes
