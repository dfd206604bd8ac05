#pragma once

#include "downloads/download.h"

#include <QList>
#include <QSqlDatabase>
#include <QString>

namespace Hermes {

/**
 * Downloads kept in SQLite through Qt SQL, so their state survives restarts.
 *
 * The schema is versioned (`schema_version`) and migrated forward on open. WAL journal with
 * synchronous=FULL and one transaction per write: a SIGKILL at any point leaves either the old
 * or the new record, never half of one.
 */
class DownloadStore final
{
public:
    ~DownloadStore();

    /// `url` is `sqlite:///absolute/path.db` (HERMES_DATABASE_URL) or a plain file path.
    bool open(const QString &url, QString *error);
    bool save(const Download &download, QString *error = nullptr);
    bool remove(const QString &id);
    QList<Download> all() const;
    qint64 nextPosition() const;
    int schemaVersion() const;
    /// For readiness: the connection is open and answers `SELECT 1`.
    bool isReachable() const;

    /// The migrations, in order; index + 1 is the version each one produces.
    static const QStringList &migrations();

private:
    bool migrate(QString *error);
    QString m_connection;
};

} // namespace Hermes
