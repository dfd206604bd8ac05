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

// libpq-fe.h's (the PGconn and PGresult are opaque here). A notice *receiver* gets the notice
// as a PGresult whose fields are apart; a notice *processor* gets one formatted line whose
// severity word is translated by the server's lc_messages ("WARNUNG:" in German), so a
// priority read from it would be wrong on a localized server.
using NoticeReceiver = void (*)(void *arg, const void *result);
using SetNoticeReceiver = NoticeReceiver (*)(void *conn, NoticeReceiver proc, void *arg);
using ResultErrorField = char *(*)(const void *result, int fieldcode);

// postgres_ext.h's PG_DIAG_* codes, the protocol's field type bytes (stable since 7.4; the
// non-localized severity since 9.6).
constexpr int SeverityNonLocalized = 'V';
constexpr int SeverityLocalized = 'S';
constexpr int MessagePrimary = 'M';
constexpr int MessageDetail = 'D';
constexpr int MessageHint = 'H';

struct Libpq
{
    SetNoticeReceiver setNoticeReceiver = nullptr;
    ResultErrorField resultErrorField = nullptr;
};

const Libpq &libpq()
{
    static const Libpq functions = [] {
        Libpq f;
        // The driver plugin loaded libpq.so.5 privately (RTLD_LOCAL), and the server links it
        // (PgReads): ask for the copy already loaded.
        if (void *handle = dlopen("libpq.so.5", RTLD_LAZY | RTLD_NOLOAD)) {
            f.setNoticeReceiver = reinterpret_cast<SetNoticeReceiver>(dlsym(handle, "PQsetNoticeReceiver"));
            f.resultErrorField = reinterpret_cast<ResultErrorField>(dlsym(handle, "PQresultErrorField"));
        }
        return f;
    }();
    return functions;
}

QString field(const void *result, int code)
{
    const char *value = libpq().resultErrorField(result, code);
    return value ? QString::fromUtf8(value).trimmed() : QString();
}

void logNotice(void *, const void *result)
{
    QString severity = field(result, SeverityNonLocalized);
    if (severity.isEmpty()) // a server older than 9.6 sends only the translated one
        severity = field(result, SeverityLocalized);
    // One line per notice: a journal entry, DETAIL and HINT after the message.
    QString text = field(result, MessagePrimary);
    for (const int extra : {MessageDetail, MessageHint}) {
        const QString more = field(result, extra);
        if (!more.isEmpty())
            text += QLatin1StringView(" | ") + more;
    }
    text.replace(u'\n', QLatin1StringView(" | "));
    if (severity == u"WARNING")
        qCWarning(lcPostgres).noquote() << text;
    else if (severity == u"DEBUG")
        qCDebug(lcPostgres).noquote() << text;
    else
        qCInfo(lcPostgres).noquote() << (severity.isEmpty() ? text : severity.toLower() + QStringLiteral(": ") + text);
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
    if (const Libpq &pq = libpq(); conn && pq.setNoticeReceiver && pq.resultErrorField) {
        pq.setNoticeReceiver(conn, &logNotice, nullptr);
        return;
    }
    qCDebug(lcPostgres) << "no libpq notice receiver; asking for warnings and errors only";
    QSqlQuery(database).exec(QStringLiteral("SET client_min_messages TO warning"));
}

bool PostgresNotices::route(pg_conn *connection)
{
    const Libpq &pq = libpq();
    if (!connection || !pq.setNoticeReceiver || !pq.resultErrorField)
        return false;
    pq.setNoticeReceiver(connection, &logNotice, nullptr);
    return true;
}

} // namespace Hermes
