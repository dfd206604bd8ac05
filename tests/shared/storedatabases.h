#pragma once

#include "postgresprocess.h"

#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

namespace Hermes::Test {

/**
 * What the download store's suites run on: SQLite files in a temporary directory, a real
 * PostgreSQL when it is installed (a fresh database each), and the seed of their random rows
 * (HERMES_TEST_SEED replays one). Header-only: the suites that include it link Qt SQL through
 * the server's library; the other suites do not need it.
 */
struct StoreDatabases
{
    QTemporaryDir dir;
    std::unique_ptr<PostgresProcess> postgres; ///< null: PostgreSQL is not installed
    quint32 seed = 0;

    /// Draws the seed (printed) and starts PostgreSQL when it is installed; false, with why,
    /// when it is installed and did not start.
    bool start(QString *error)
    {
        seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED") ? quint32(qEnvironmentVariableIntValue("HERMES_TEST_SEED"))
                                                             : QRandomGenerator::global()->generate();
        qInfo("seed %u (HERMES_TEST_SEED=%u replays it)", seed, seed);
        if (PostgresProcess::binDir().isEmpty() || !QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")))
            return true;
        postgres = std::make_unique<PostgresProcess>();
        if (postgres->start())
            return true;
        *error = postgres->errorString();
        return false;
    }

    void stop()
    {
        if (postgres)
            postgres->stop();
    }

    /// The URL of a new database of `store` ("sqlite": the file `name` in dir; "postgres": a
    /// fresh database), empty without PostgreSQL.
    QString newUrl(const QString &store, const QString &name)
    {
        if (store == u"postgres")
            return postgres ? postgres->url(postgres->createDatabase()) : QString();
        return QStringLiteral("sqlite://") + dir.filePath(name);
    }

    /// A data function's rows: the column `store`, "sqlite" and "postgres".
    static void addStores()
    {
        QTest::addColumn<QString>("store");
        QTest::newRow("sqlite") << QStringLiteral("sqlite");
        QTest::newRow("postgres") << QStringLiteral("postgres");
    }
};

} // namespace Hermes::Test
