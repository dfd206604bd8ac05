#include "downloads/sqlitereads.h"

#include "downloads/downloadrepository.h"

#include <QVariant>

#include <sqlite3.h>

namespace Hermes {

namespace {

/// The current row of a stepped statement.
class SqliteRow final : public SqlRow
{
public:
    explicit SqliteRow(sqlite3_stmt *statement) : m_statement(statement) {}
    QString text(int column) const override
    {
        // The pointer first, then the size (SQLite's rule for reading a value).
        const auto *bytes = reinterpret_cast<const char *>(sqlite3_column_text(m_statement, column));
        return QString::fromUtf8(bytes, sqlite3_column_bytes(m_statement, column));
    }
    qint64 integer(int column) const override { return sqlite3_column_int64(m_statement, column); }
    double real(int column) const override { return sqlite3_column_double(m_statement, column); }

private:
    sqlite3_stmt *m_statement;
};

/// Finalizes the statement however the read ends.
struct Statement
{
    sqlite3_stmt *handle = nullptr;
    ~Statement() { sqlite3_finalize(handle); }
};

} // namespace

SqliteReads::SqliteReads(const DatabaseUrl &url)
    : m_url(url),
      m_lists(m_dialect, [this](const QString &sql, const QVariantList &binds, const DownloadListQuery::Row &row) {
          exec(sql, binds, row);
      }, DownloadListQuery::Rows::Shown)
{
}

SqliteReads::~SqliteReads()
{
    close();
}

void SqliteReads::open()
{
    close();
    const QByteArray path = m_url.path.toUtf8();
    // NOMUTEX: this connection stays on one thread; WAL lets it read beside the store's writer.
    const int rc = sqlite3_open_v2(path.constData(), &m_db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        const QString message = m_db ? QString::fromUtf8(sqlite3_errmsg(m_db)) : QString::fromUtf8(sqlite3_errstr(rc));
        close();
        throw StoreFailure{QStringLiteral("cannot open the database %1 for reading: %2").arg(m_url.redacted(), message), true};
    }
    // As the store's connection: a lock held for a moment (a checkpoint) is waited for.
    sqlite3_busy_timeout(m_db, 5000);
    // SQLite opens the WAL and its index at the first read: now, while descriptors are there,
    // not at the first page asked for under a descriptor shortage (a failed read marks the
    // store unreachable, and health answers 503 for it).
    exec(QStringLiteral("SELECT 1 FROM sqlite_master LIMIT 1"), {}, {});
}

void SqliteReads::recover()
{
    // A failed read (busy past its timeout, a statement's error) need not mean the connection
    // is gone. Closing it anyway would hand its descriptors back, and under a shortage the
    // reopen could fail, and with it every read after it: probe first, as
    // DownloadRepository::recover does, and keep a connection that answers and holds no
    // transaction.
    if (m_db && sqlite3_get_autocommit(m_db) != 0
        && sqlite3_exec(m_db, "SELECT 1", nullptr, nullptr, nullptr) == SQLITE_OK)
        return;
    open();
}

void SqliteReads::close()
{
    sqlite3_close_v2(m_db);
    m_db = nullptr;
}

void SqliteReads::exec(const QString &sql, const QVariantList &binds, const DownloadListQuery::Row &row)
{
    if (!m_db)
        throw StoreFailure{QStringLiteral("the database %1 is not open for reading").arg(m_url.redacted()), true};
    const auto fail = [this] { throw StoreFailure{QString::fromUtf8(sqlite3_errmsg(m_db)), false}; };
    Statement s;
    const QByteArray text = sql.toUtf8();
    if (sqlite3_prepare_v2(m_db, text.constData(), int(text.size()), &s.handle, nullptr) != SQLITE_OK)
        fail();
    for (int i = 0; i < binds.size(); ++i) {
        const QVariant &v = binds.at(i);
        int rc = SQLITE_OK;
        switch (v.typeId()) {
        case QMetaType::Int:
        case QMetaType::LongLong:
        case QMetaType::Bool:
            rc = sqlite3_bind_int64(s.handle, i + 1, v.toLongLong());
            break;
        case QMetaType::Double:
            rc = sqlite3_bind_double(s.handle, i + 1, v.toDouble());
            break;
        default:
            if (v.isNull()) {
                rc = sqlite3_bind_null(s.handle, i + 1);
            } else {
                const QByteArray utf8 = v.toString().toUtf8();
                rc = sqlite3_bind_text(s.handle, i + 1, utf8.constData(), int(utf8.size()), SQLITE_TRANSIENT);
            }
        }
        if (rc != SQLITE_OK)
            fail();
    }
    const SqliteRow current(s.handle);
    for (;;) {
        const int rc = sqlite3_step(s.handle);
        if (rc == SQLITE_DONE)
            return;
        if (rc != SQLITE_ROW)
            fail();
        if (!row || !row(current))
            return;
    }
}

} // namespace Hermes
