#pragma once

#include <QSqlQuery>
#include <QString>
#include <QVariant>

namespace Hermes {

/**
 * One row of a result, by column index, whoever ran the statement: Qt SQL (QtSqlRow) or the
 * SQLite library itself (SqliteReads, for the API's reads). DownloadRow reads a Download from
 * either; a NULL reads as 0 or an empty string.
 */
class SqlRow
{
public:
    virtual ~SqlRow() = default;
    virtual QString text(int column) const = 0;
    virtual qint64 integer(int column) const = 0;
    virtual double real(int column) const = 0;
};

/// The current row of a QSqlQuery.
class QtSqlRow final : public SqlRow
{
public:
    explicit QtSqlRow(const QSqlQuery &q) : m_q(q) {}
    QString text(int column) const override { return m_q.value(column).toString(); }
    qint64 integer(int column) const override { return m_q.value(column).toLongLong(); }
    double real(int column) const override { return m_q.value(column).toDouble(); }

private:
    const QSqlQuery &m_q;
};

} // namespace Hermes
