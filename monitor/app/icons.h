#pragma once

#include <QIcon>

namespace Hermes::Icons {

/// A freedesktop icon from the desktop's theme, or the bundled one of the same name.
QIcon named(const char *name);
/// The icon of a download status (`pending`, `downloading`, …), always the bundled one, so that
/// states look the same everywhere; the status is also always shown as a word.
QIcon status(const QString &status);

} // namespace Hermes::Icons
