#pragma once

class QSqlDatabase;
struct pg_conn;

namespace Hermes {

/**
 * Routes a PostgreSQL connection's notices (NOTICE, WARNING, ... that the server sends beside
 * a query's result) through the log, category hermes.postgres, with a priority: WARNING as a
 * warning, DEBUG as debug, the rest (NOTICE, INFO, LOG) as info. Without it libpq prints them
 * raw on stderr, where the journal gets them without a priority.
 *
 * Qt's QPSQL driver neither does this nor exposes it, but QSqlDriver::handle() is the PGconn,
 * and PQsetNoticeReceiver is taken from the libpq that the driver already loaded (dlopen
 * with RTLD_NOLOAD): no libpq at build time. The priority comes from the notice's
 * non-localized severity field, so a server with a translated lc_messages logs the same. Should that fail (another driver build), the
 * connection asks the server to send warnings and errors only (client_min_messages), so no
 * raw notice line remains either way.
 */
class PostgresNotices
{
public:
    /// For an open QPSQL connection; does nothing for another driver.
    static void route(QSqlDatabase &database);
    /// For a libpq connection of the server's own (PgReads); false when it could not route
    /// them (then the caller asks for warnings and errors only).
    static bool route(pg_conn *connection);
};

} // namespace Hermes
