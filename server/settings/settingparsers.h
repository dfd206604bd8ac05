#pragma once

#include "result.h"
#include "settings/serversettings.h"

#include <QHostAddress>
#include <QString>

namespace Hermes {

/**
 * The settings that have a syntax of their own, parsed from the text Config resolved (which
 * has checked the type already). A failure is the problem alone, e.g. `"x" is not an octal
 * umask (0000 to 0777)`: the table's entry puts the variable's name before it.
 */
namespace SettingParsers {

/// An IP address, or `localhost` (127.0.0.1).
Result<QHostAddress> hostAddress(const QString &text);
/// The text itself, which must not be empty.
Result<QString> nonEmpty(const QString &text);
/// `named` or `envelope` (a Choice: nothing else gets here).
Result<EventStyle> eventStyle(const QString &text);
/// A Logging level spec (`warning,hermes.http=debug`), kept as text.
Result<QString> logLevelSpec(const QString &text);
/// An octal umask, 0000 to 0777.
Result<int> octalUmask(const QString &text);
/// `host:port` or `[v6]:port` with an IP address (or localhost); empty: none (port 0).
Result<ListenAddress> listenAddress(const QString &text);

} // namespace SettingParsers

} // namespace Hermes
