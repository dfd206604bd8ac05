#pragma once

#include "result.h"

#include <QString>

namespace Hermes {

/**
 * HERMES_DATABASE_URL, parsed: `sqlite:///absolute/path.db` (or a plain path), or
 * `postgresql://user[:password]@host[:port]/database[?libpq options]` (`postgres://` too).
 *
 * The password may also come from a file (HERMES_DATABASE_PASSWORD_FILE, which wins over the
 * URL) or, when neither gives one, from libpq's own PGPASSWORD / PGPASSFILE (~/.pgpass).
 * redacted() is the only form that may be logged.
 */
struct DatabaseUrl
{
    enum class Kind { Sqlite, Postgres };
    Kind kind = Kind::Sqlite;
    QString path;      ///< SQLite: the database file
    QString host;      ///< PostgreSQL: empty = libpq's default (the local socket)
    int port = -1;     ///< -1: libpq's default (5432)
    QString user;
    QString password;  ///< never log it
    QString database;
    QString options;   ///< libpq connection options from the query, `;`-separated for QPSQL

    /// Parses `url`; `passwordFile` (may be empty) replaces the URL's password. An error
    /// (Invalid, `invalid_database_url`) names the setting and never holds the password.
    static Result<DatabaseUrl> parse(const QString &url, const QString &passwordFile);
    /// The URL with the password replaced by `***`, for logs and errors.
    QString redacted() const;
    bool isPostgres() const { return kind == Kind::Postgres; }
};

} // namespace Hermes
