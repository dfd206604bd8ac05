#include "logging.h"

#include <QDateTime>
#include <mutex>
#include <QRegularExpression>

#include <algorithm>

#include <cstdio>
#include <sys/stat.h>

namespace Hermes {
Q_LOGGING_CATEGORY(lcConfig, "hermes.config", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHttp, "hermes.http", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHub, "hermes.hub", QtInfoMsg)
Q_LOGGING_CATEGORY(lcAuth, "hermes.auth", QtInfoMsg)
Q_LOGGING_CATEGORY(lcBroker, "hermes.broker", QtInfoMsg)
Q_LOGGING_CATEGORY(lcClient, "hermes.client", QtInfoMsg)

namespace Logging {

namespace {
std::mutex s_secretsMutex; // pthread, so ThreadSanitizer sees it contended
QList<QByteArray> s_secrets; // guarded by s_secretsMutex: messages come from every thread
Format s_format = Format::Terminal;
bool s_installed = false;

// sd-daemon(3): the syslog priorities journald reads from a line's "<N>" prefix.
char priority(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg: return '7';
    case QtInfoMsg: return '6';
    case QtWarningMsg: return '4';
    case QtCriticalMsg: return '3';
    case QtFatalMsg: return '2';
    }
    return '6';
}

const char *levelName(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg: return "debug";
    case QtInfoMsg: return "info";
    case QtWarningMsg: return "warning";
    case QtCriticalMsg: return "error";
    case QtFatalMsg: return "fatal";
    }
    return "info";
}

void handler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const QByteArray line = formatLine(s_format, type, context.category, message) + '\n';
    std::fwrite(line.constData(), 1, size_t(line.size()), stderr); // one write per message
    std::fflush(stderr);
    if (type == QtFatalMsg)
        std::abort();
}
} // namespace

bool stderrIsJournal()
{
    const QByteArray stream = qgetenv("JOURNAL_STREAM");
    const qsizetype colon = stream.indexOf(':');
    if (colon <= 0)
        return false;
    struct stat st {};
    if (::fstat(2, &st) != 0)
        return false;
    bool devOk = false, inoOk = false;
    const qulonglong dev = stream.first(colon).toULongLong(&devOk);
    const qulonglong ino = stream.sliced(colon + 1).toULongLong(&inoOk);
    return devOk && inoOk && dev == qulonglong(st.st_dev) && ino == qulonglong(st.st_ino);
}

void install()
{
    s_format = stderrIsJournal() ? Format::Journal : Format::Terminal;
    if (!s_installed)
        qInstallMessageHandler(handler);
    s_installed = true;
}

void setSecrets(const QList<QByteArray> &secrets)
{
    QList<QByteArray> kept;
    for (const QByteArray &s : secrets) {
        if (s.size() >= 4 && !kept.contains(s))
            kept.append(s);
    }
    // Longest first, so a secret that contains another is masked whole.
    std::sort(kept.begin(), kept.end(), [](const QByteArray &a, const QByteArray &b) { return a.size() > b.size(); });
    std::lock_guard lock(s_secretsMutex);
    s_secrets = kept;
}

QByteArray formatLine(Format format, QtMsgType type, const char *category, const QString &message)
{
    QByteArray text = message.toUtf8();
    {
        std::lock_guard lock(s_secretsMutex);
        for (const QByteArray &secret : std::as_const(s_secrets))
            text.replace(secret, "[redacted]");
    }
    const QByteArray cat = category && *category && qstrcmp(category, "default") != 0
        ? QByteArray(category) + ": " : QByteArray();
    QByteArray out;
    if (format == Format::Journal) {
        // Every line of a multi-line message gets the prefix: journald reads each line alone.
        const QByteArray prefix = QByteArray("<") + priority(type) + '>';
        const QList<QByteArray> lines = text.split('\n');
        for (qsizetype i = 0; i < lines.size(); ++i) {
            if (i > 0)
                out += '\n';
            out += prefix + (i == 0 ? cat : QByteArray()) + lines.at(i);
        }
        return out;
    }
    out = QDateTime::currentDateTime().toString(Qt::ISODateWithMs).toUtf8() + ' '
        + levelName(type) + ' ' + cat + text;
    return out;
}

static int levelRank(const QString &name)
{
    static const QStringList names{QStringLiteral("debug"), QStringLiteral("info"),
                                   QStringLiteral("warning"), QStringLiteral("error")};
    return int(names.indexOf(name.trimmed().toLower()));
}

// The rules that let through `rank` and above for `pattern`.
static QString rulesFor(const QString &pattern, int rank)
{
    static const char *types[] = {"debug", "info", "warning", "critical"};
    QString out;
    for (int i = 0; i < 4; ++i)
        out += QStringLiteral("%1.%2=%3\n").arg(pattern, QLatin1StringView(types[i]),
                                               i >= rank || i == 3 ? QStringLiteral("true")
                                                                   : QStringLiteral("false"));
    return out;
}

Result<QString> parseLevelSpec(const QString &spec)
{
    static const QRegularExpression categoryPattern(
        QRegularExpression::anchoredPattern(QStringLiteral("[A-Za-z0-9_.-]+\\*?|\\*")));
    int defaultRank = 1; // info
    QString perCategory;
    for (const QString &rawItem : spec.split(u',', Qt::SkipEmptyParts)) {
        const QString item = rawItem.trimmed();
        if (item.isEmpty())
            continue;
        const qsizetype eq = item.indexOf(u'=');
        const QString level = eq < 0 ? item : item.sliced(eq + 1);
        const int rank = levelRank(level);
        if (rank < 0)
            return Error::invalid("invalid_log_level",
                                  QStringLiteral("\"%1\" is not a level (error, warning, info, debug)").arg(level.trimmed()));
        if (eq < 0) {
            defaultRank = rank;
            continue;
        }
        const QString category = item.first(eq).trimmed();
        if (!categoryPattern.match(category).hasMatch())
            return Error::invalid("invalid_log_level",
                                  QStringLiteral("\"%1\" is not a logging category (e.g. hermes.http)").arg(category));
        perCategory += rulesFor(category, rank);
    }
    // The default covers every category but never turns on Qt's own debug output (qt.*),
    // which floods; name a qt category to see it.
    QString out = rulesFor(QStringLiteral("*"), std::max(defaultRank, 1));
    if (defaultRank == 0)
        out += rulesFor(QStringLiteral("hermes.*"), 0) + rulesFor(QStringLiteral("default"), 0);
    return out + perCategory;
}

Result<void> setLevelSpec(const QString &spec)
{
    const Result<QString> rules = parseLevelSpec(spec);
    if (!rules)
        return rules.error();
    QLoggingCategory::setFilterRules(*rules);
    return {};
}

} // namespace Logging
} // namespace Hermes
