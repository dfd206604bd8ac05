#include "downloads/postgresnotices.h"

#include <QLoggingCategory>
#include <QSqlDatabase>
#include <QSqlDriver>
#include <QSqlQuery>
#include <QVariant>

#include <dlfcn.h>

Q_LOGGING_CATEGORY(lcPostgres, "hermes.postgres", QtInfoMsg)

namespace Hermes {

namespace {

// libpq-fe.h's, stable since PostgreSQL 7: the PGconn is opaque here.
using NoticeProcessor = void (*)(void *arg, const char *message);
using SetNoticeProcessor = NoticeProcessor (*)(void *conn, NoticeProcessor proc, void *arg);

// libpq hands over one formatted message: "WARNING:  text\n" (severity, colon, two spaces;
// DETAIL and HINT lines may follow).
void logNotice(void *, const char *message)
{
    QString text = QString::fromUtf8(message).trimmed();
    const qsizetype colon = text.indexOf(u':');
    const QString severity = colon > 0 ? text.first(colon) : QString();
    if (colon > 0 && severity.size() <= 8 && severity == severity.toUpper())
        text = text.sliced(colon + 1).trimmed();
    text.replace(u'\n', QLatin1StringView(" | "));
    if (severity == u"WARNING")
        qCWarning(lcPostgres).noquote() << text;
    else if (severity == u"DEBUG")
        qCDebug(lcPostgres).noquote() << text;
    else
        qCInfo(lcPostgres).noquote() << (severity.isEmpty() ? text : severity.toLower() + QStringLiteral(": ") + text);
}

SetNoticeProcessor setNoticeProcessor()
{
    static const SetNoticeProcessor set = [] {
        // The driver plugin loaded libpq.so.5 privately (RTLD_LOCAL): ask for that copy.
        void *libpq = dlopen("libpq.so.5", RTLD_LAZY | RTLD_NOLOAD);
        return libpq ? reinterpret_cast<SetNoticeProcessor>(dlsym(libpq, "PQsetNoticeProcessor")) : nullptr;
    }();
    return set;
}

} // namespace

void PostgresNotices::route(QSqlDatabase &database)
{
    if (database.driverName() != u"QPSQL" || !database.isOpen())
        return;
    const QVariant handle = database.driver()->handle();
    // The QVariant holds a PGconn*, which Qt names by its struct: pg_conn* (PGconn* elsewhere).
    const bool isConnection = handle.isValid()
        && (qstrcmp(handle.typeName(), "pg_conn*") == 0 || qstrcmp(handle.typeName(), "PGconn*") == 0);
    void *conn = isConnection
        ? *static_cast<void *const *>(handle.constData())
        : nullptr;
    if (const SetNoticeProcessor set = setNoticeProcessor(); conn && set) {
        set(conn, &logNotice, nullptr);
        return;
    }
    qCDebug(lcPostgres) << "no libpq notice processor; asking for warnings and errors only";
    QSqlQuery(database).exec(QStringLiteral("SET client_min_messages TO warning"));
}

} // namespace Hermes
