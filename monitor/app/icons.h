#pragma once

#include "protocol/downloadstatus.h"

#include <QIcon>

namespace Hermes::Icons {

/// A freedesktop icon from the desktop's theme, or the bundled one of the same name.
QIcon named(const char *name);
/// The icon of a download status as it is spelled on the wire (or `all`), always the bundled
/// one, so that states look the same everywhere; the status is also always shown as a word.
/// A status without an icon of its own gets the icon of a queued download.
QIcon status(const QString &status);
QIcon status(DownloadStatus status);

} // namespace Hermes::Icons
