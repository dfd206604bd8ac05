#pragma once

#include <QKeySequence>
#include <QString>

#include <functional>

class QAction;
class QObject;

namespace Hermes {

/// A QAction as the monitor makes them all: its text, a themed icon (or none), a shortcut (or
/// none), and what it does — for the window's own actions and the download actions alike.
QAction *makeAction(QObject *parent, const QString &text, const char *icon, const QKeySequence &key,
                    std::function<void()> slot);

} // namespace Hermes
