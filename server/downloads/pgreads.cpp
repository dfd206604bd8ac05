#include "downloads/pgreads.h"

#include "downloads/downloadrepository.h"
#include "downloads/postgresnotices.h"

#include <QVariant>

#include <libpq-fe.h>

#include <charconv>
#include <memory>
#include <vector>

namespace Hermes {

/// Frees the result however the read ends.
struct PgResult
{
    PGresult *handle = nullptr;
    ~PgResult() { PQclear(handle); }
};

namespace {

/// One row of a whole result (text format: each value as PostgreSQL writes it).
class PgRow final : public SqlRow
{
public:
    explicit PgRow(const PGresult *result) : m_result(result) {}
    void setRow(int row) { m_row = row; }
    QString text(int column) const override
    {
        if (PQgetisnull(m_result, m_row, column))
            return QString();
        return QString::fromUtf8(PQgetvalue(m_result, m_row, column), PQgetlength(m_result, m_row, column));
    }
    qint64 integer(int column) const override
    {
        // A NULL is an empty value: 0, as QVariant's. A SUM of BIGINTs is a NUMERIC, written
        // with its integer digits only.
        qint64 out = 0;
        const char *v = PQgetvalue(m_result, m_row, column);
        std::from_chars(v, v + PQgetlength(m_result, m_row, column), out);
        return out;
    }
    double real(int column) const override
    {
        // PostgreSQL writes the shortest text that reads back as the same double (12+).
        double out = 0;
        const char *v = PQgetvalue(m_result, m_row, column);
        std::from_chars(v, v + PQgetlength(m_result, m_row, column), out);
        return out;
    }

private:
    const PGresult *m_result;
    int m_row = 0;
};

/// A bound value as the text PostgreSQL reads for the parameter's type (inferred by the server).
QByteArray parameter(const QVariant &v)
{
    switch (v.typeId()) {
    case QMetaType::Int:
    case QMetaType::UInt:
    case QMetaType::LongLong:
    case QMetaType::ULongLong:
    case QMetaType::Bool:
        return QByteArray::number(v.toLongLong());
    case QMetaType::Double:
        return QByteArray::number(v.toDouble(), 'g', 17);
    default:
        return v.toString().toUtf8();
    }
}

} // namespace

PgReads::PgReads(const DatabaseUrl &url)
    : m_url(url),
      m_lists(m_dialect, [this](const QString &sql, const QVariantList &binds, const DownloadListQuery::Row &row) {
          exec(sql, binds, row);
      }, DownloadListQuery::Rows::Shown)
{
}

PgReads::~PgReads()
{
    close();
}

QByteArray PgReads::numbered(const QString &sql)
{
    QByteArray out;
    const QByteArray in = sql.toUtf8();
    out.reserve(in.size() + 16);
    char quote = 0; // inside '...' or "..." (a doubled quote closes and reopens: the same)
    int n = 0;
    for (const char c : in) {
        if (quote) {
            if (c == quote)
                quote = 0;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '?') {
            out += '$' + QByteArray::number(++n);
            continue;
        }
        out += c;
    }
    return out;
}

void PgReads::open()
{
    close();
    // As the store's connection (DownloadRepository::connect): every network wait is bounded,
    // UTF-8 both ways; named apart in pg_stat_activity. The URL's own options last: they win.
    QList<QByteArray> keys{"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                           "keepalives_count", "tcp_user_timeout", "application_name", "client_encoding"};
    QList<QByteArray> values{"5", "1", "5", "2", "3", "10000", "hermes-server-read", "UTF8"};
    const auto add = [&](const char *key, const QString &value) {
        if (!value.isEmpty()) {
            keys.append(key);
            values.append(value.toUtf8());
        }
    };
    add("host", m_url.host);
    add("port", m_url.port > 0 ? QString::number(m_url.port) : QString());
    add("user", m_url.user);
    add("password", m_url.password); // none: libpq's PGPASSWORD / ~/.pgpass
    add("dbname", m_url.database);
    for (const QString &option : m_url.options.split(u';', Qt::SkipEmptyParts)) {
        const qsizetype eq = option.indexOf(u'=');
        if (eq > 0) {
            keys.append(option.left(eq).trimmed().toUtf8());
            values.append(option.mid(eq + 1).trimmed().toUtf8());
        }
    }
    std::vector<const char *> k, v;
    for (qsizetype i = 0; i < keys.size(); ++i) {
        k.push_back(keys.at(i).constData());
        v.push_back(values.at(i).constData());
    }
    k.push_back(nullptr);
    v.push_back(nullptr);
    m_conn = PQconnectdbParams(k.data(), v.data(), 0);
    if (PQstatus(m_conn) != CONNECTION_OK) {
        // libpq's messages name the host and user, never the password.
        const QString message = QString::fromUtf8(PQerrorMessage(m_conn)).trimmed();
        close();
        throw StoreFailure{QStringLiteral("cannot open the database %1: %2").arg(m_url.redacted(), message), true};
    }
    if (!PostgresNotices::route(m_conn))
        PQclear(PQexec(m_conn, "SET client_min_messages TO warning"));
    if (PQenterPipelineMode(m_conn) != 1)
        fail(QString::fromUtf8(PQerrorMessage(m_conn)));
}

void PgReads::recover()
{
    // A failed statement (a conflict, a cancel) need not mean the connection is gone: keep one
    // that answers, out of any transaction, with its prepared statements.
    if (m_conn && PQstatus(m_conn) == CONNECTION_OK) {
        try {
            collect(nullptr); // what the failed read left unread
            if (PQtransactionStatus(m_conn) != PQTRANS_IDLE)
                run("ROLLBACK", nullptr);
            PgResult probe;
            run("SELECT 1", &probe);
            if (PQresultStatus(probe.handle) == PGRES_TUPLES_OK && PQtransactionStatus(m_conn) == PQTRANS_IDLE)
                return;
        } catch (const StoreFailure &) { // a new connection, then
        }
    }
    open();
}

void PgReads::close()
{
    PQfinish(m_conn); // nothing for a null connection
    m_conn = nullptr;
    m_unread = 0;
    m_prepared.clear(); // a new connection has none of them
}

void PgReads::fail(const QString &what) const
{
    const bool lost = !m_conn || PQstatus(m_conn) != CONNECTION_OK;
    throw StoreFailure{what.trimmed(), lost};
}

void PgReads::sent(int ok)
{
    // Each statement its own pipeline: an error aborts nothing sent after it.
    if (ok != 1 || PQpipelineSync(m_conn) != 1)
        fail(QString::fromUtf8(PQerrorMessage(m_conn)));
    ++m_unread;
}

void PgReads::collect(PgResult *last)
{
    QString error;
    int nulls = 0; // one ends each statement's results; more in a row: nothing more will come
    while (m_unread > 0) {
        PGresult *r = PQgetResult(m_conn);
        if (!r) {
            if (PQstatus(m_conn) != CONNECTION_OK || ++nulls > 2) {
                // Gone, or out of step with the server: recover() starts on a new connection.
                const QString message = error.isEmpty() ? QString::fromUtf8(PQerrorMessage(m_conn)) : error;
                close();
                throw StoreFailure{message.trimmed(), true};
            }
            continue;
        }
        nulls = 0;
        switch (PQresultStatus(r)) {
        case PGRES_PIPELINE_SYNC:
            --m_unread;
            PQclear(r);
            break;
        case PGRES_TUPLES_OK:
        case PGRES_COMMAND_OK:
            if (last && m_unread == 1) { // the last statement sent: its result is wanted
                PQclear(last->handle);
                last->handle = r;
            } else {
                PQclear(r);
            }
            break;
        default: // its error, or PGRES_PIPELINE_ABORTED
            if (error.isEmpty())
                error = QString::fromUtf8(PQresultErrorMessage(r));
            PQclear(r);
        }
    }
    if (!error.isEmpty())
        fail(error);
}

void PgReads::run(const char *sql, PgResult *last)
{
    sent(PQsendQueryParams(m_conn, sql, 0, nullptr, nullptr, nullptr, nullptr, 0));
    collect(last);
}

const QByteArray &PgReads::prepared(const QString &sql)
{
    // Bounded, though the statements are few: their texts are fixed, the values bound (a
    // page's LIMIT and OFFSET too).
    static constexpr qsizetype MaxPrepared = 64;
    auto found = m_prepared.constFind(sql);
    if (found != m_prepared.cend())
        return found.value();
    if (m_prepared.size() >= MaxPrepared) {
        run("DEALLOCATE ALL", nullptr);
        m_prepared.clear();
    }
    const QByteArray name = "hermes_read_" + QByteArray::number(++m_preparedCount);
    sent(PQsendPrepare(m_conn, name.constData(), numbered(sql).constData(), 0, nullptr));
    collect(nullptr);
    return m_prepared.insert(sql, name).value();
}

void PgReads::exec(const QString &sql, const QVariantList &binds, const DownloadListQuery::Row &row)
{
    if (!m_conn)
        throw StoreFailure{QStringLiteral("the database %1 is not open for reading").arg(m_url.redacted()), true};
    if (binds.isEmpty() && !row) {
        // BEGIN, COMMIT, ROLLBACK: sent, and their answers read with the next statement's (or
        // by recover()), not waited for: two round trips fewer for a read in a transaction. The
        // server runs each as it arrives, so a COMMIT ends the transaction now all the same.
        sent(PQsendQueryParams(m_conn, sql.toUtf8().constData(), 0, nullptr, nullptr, nullptr, nullptr, 0));
        return;
    }
    const QByteArray &name = prepared(sql);
    std::vector<QByteArray> texts;
    std::vector<const char *> values;
    texts.reserve(std::size_t(binds.size())); // no reallocation: `values` points into it
    values.reserve(std::size_t(binds.size()));
    for (const QVariant &v : binds) {
        if (v.isNull()) {
            values.push_back(nullptr);
            continue;
        }
        texts.push_back(parameter(v));
        values.push_back(texts.back().constData());
    }
    sent(PQsendQueryPrepared(m_conn, name.constData(), int(values.size()), values.data(), nullptr, nullptr, 0));
    PgResult r;
    collect(&r);
    if (!row || !r.handle)
        return;
    PgRow current(r.handle);
    const int rows = PQntuples(r.handle);
    for (int i = 0; i < rows; ++i) {
        current.setRow(i);
        if (!row(current))
            return;
    }
}

} // namespace Hermes
