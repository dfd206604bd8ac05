#pragma once

#include "result.h"

#include <QString>

namespace Hermes {

struct ServerSettings;

/**
 * The server's directories and who may read them.
 *
 * Everything the server writes is private to its user (the process umask is 077): keys, the
 * token secret, the database, part files. Finished downloads are meant to be shared with a
 * same-host reader (a media server, Samba) through a group: the download dir gets mode
 * `0777 & ~HERMES_DOWNLOAD_UMASK` (0750 by default) and, with HERMES_DOWNLOAD_GROUP, that
 * group and the setgid bit; finished files get `0666 & ~umask` (0640). When the download dir is
 * inside the data dir, the data dir lets the same classes traverse it (0710) but never list it.
 */
class StorageDirs final
{
public:
    /// Creates and sets the modes of both directories.
    static Result<void> prepare(const ServerSettings &settings);
    /// The mode finished downloads get.
    static int finishedFileMode(const ServerSettings &settings);
};

} // namespace Hermes
