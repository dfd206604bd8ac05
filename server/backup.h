#pragma once

#include "result.h"

#include <QString>

namespace Hermes {

struct ServerSettings;

/**
 * `hermes-server --backup FILE`: one tar archive with what a restore needs, taken while the
 * server runs.
 *
 * - `hermes.db`: the SQLite store copied with `VACUUM INTO`, which reads one transaction, so
 *   the copy is consistent even while downloads progress; it is checked with
 *   `PRAGMA integrity_check` before it goes into the archive.
 * - `api-key`, `token-secret`: the generated key and secret, when the data dir has them
 *   (configured ones live where you put them: back those up with /etc).
 * - `MANIFEST`: version, time, schema version, number of downloads.
 *
 * Downloaded files are not included (back up the download dir with your usual file backup).
 * For a database that is not SQLite (PostgreSQL) the archive holds the key files only and the
 * report says to use pg_dump. The archive is written to FILE.tmp, mode 0600, then renamed.
 */
class Backup final
{
public:
    /// Writes the archive; `report` gets what a person should know (also on failure: what
    /// was done before it).
    static Result<void> write(const ServerSettings &settings, const QString &file, QString *report);
};

} // namespace Hermes
