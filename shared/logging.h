#pragma once

#include "result.h"

#include <QByteArray>
#include <QList>
#include <QLoggingCategory>
#include <QString>

namespace Hermes {
// One category per area, so `--log-level info,hermes.http=debug` turns on just that.
Q_DECLARE_LOGGING_CATEGORY(lcConfig)
Q_DECLARE_LOGGING_CATEGORY(lcHttp)
Q_DECLARE_LOGGING_CATEGORY(lcHub)
Q_DECLARE_LOGGING_CATEGORY(lcAuth)
Q_DECLARE_LOGGING_CATEGORY(lcBroker)
Q_DECLARE_LOGGING_CATEGORY(lcClient)

/**
 * How a daemon writes its log: one line per message on stderr.
 *
 * Under systemd (stderr is the journal stream named by JOURNAL_STREAM) every line starts with
 * its sd-daemon(3) priority, `<3>` to `<7>`, and carries no timestamp (journald adds one), so
 * `journalctl -p warning` works; elsewhere a line is `time level category: message`. Known
 * secrets (API keys, the token secret, passwords) are replaced by `[redacted]` in every line,
 * whoever logged it. The level is a spec like `info` or `warning,hermes.http=debug`.
 */
namespace Logging {

enum class Format { Terminal, Journal };

/// Installs the message handler (idempotent). `Journal` when stderrIsJournal().
void install();
/// True when stderr is the journal stream systemd connected (JOURNAL_STREAM = its dev:ino).
bool stderrIsJournal();

/// Parses a level spec: comma-separated `level` (the default for every category) and
/// `category=level` items (a category may end with `*`); levels are error, warning, info,
/// debug. Returns QLoggingCategory filter rules, or an error (Invalid, invalid_log_level).
Result<QString> parseLevelSpec(const QString &spec);
/// Applies a spec parsed by parseLevelSpec (QT_LOGGING_RULES in the environment still wins).
Result<void> setLevelSpec(const QString &spec);

/// Values never to be written (shorter than 4 bytes are ignored: they would mask too much).
void setSecrets(const QList<QByteArray> &secrets);

/// One formatted line (without the newline), for tests and the handler.
QByteArray formatLine(Format format, QtMsgType type, const char *category, const QString &message);

} // namespace Logging
} // namespace Hermes
