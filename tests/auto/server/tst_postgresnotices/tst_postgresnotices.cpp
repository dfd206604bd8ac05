// PostgreSQL's notices through the log (issue 26): on a real PostgreSQL, a connection that
// PostgresNotices::route() handled turns RAISE NOTICE / WARNING into hermes.postgres messages
// with their priority, and libpq writes nothing raw on stderr.

#include "downloads/postgresnotices.h"
#include "postgresprocess.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryFile>
#include <QTest>
#include <QUrl>

#include <unistd.h>

using namespace Hermes;
using namespace Hermes::Test;

namespace {

struct Logged
{
    QtMsgType type;
    QByteArray category;
    QString message;
};
QList<Logged> logged;

void capture(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    logged.append({type, QByteArray(context.category), message});
}

} // namespace

class tst_PostgresNotices : public QObject
{
    Q_OBJECT
private slots:
    void noticesAreLoggedWithAPriority();
};

void tst_PostgresNotices::noticesAreLoggedWithAPriority()
{
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QPSQL")))
        QFAIL("the Qt PostgreSQL driver is not installed (libqt6sql6-psql, in HERMES_TEST_PACKAGES)");
    PostgresProcess postgres;
    QVERIFY2(postgres.start(), qPrintable(postgres.errorString()));
    const QUrl url(postgres.url(postgres.createDatabase()));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), QStringLiteral("notices"));
        db.setHostName(url.host());
        db.setPort(url.port());
        db.setUserName(url.userName());
        db.setPassword(url.password());
        db.setDatabaseName(url.path().sliced(1));
        QVERIFY2(db.open(), qPrintable(db.lastError().text()));
        PostgresNotices::route(db);

        // What reaches fd 2 meanwhile: nothing, when libpq no longer prints.
        QTemporaryFile err;
        QVERIFY(err.open());
        const int saved = ::dup(2);
        ::dup2(err.handle(), 2);
        const QtMessageHandler previous = qInstallMessageHandler(capture);
        QSqlQuery q(db);
        const bool ok = q.exec(QStringLiteral(
            "DO $$ BEGIN RAISE NOTICE 'relation % already exists, skipping', 'downloads'; "
            "RAISE WARNING 'disk nearly full' USING HINT = 'free some space'; END $$"));
        qInstallMessageHandler(previous);
        ::fflush(stderr);
        ::dup2(saved, 2);
        ::close(saved);
        QVERIFY2(ok, qPrintable(q.lastError().text()));
        err.seek(0);
        const QByteArray raw = err.readAll();
        QVERIFY2(!raw.contains("NOTICE") && !raw.contains("WARNING"), raw.constData());

        QList<Logged> mine;
        for (const Logged &l : logged) {
            if (l.category == "hermes.postgres")
                mine.append(l);
        }
        QCOMPARE(mine.size(), 2);
        QCOMPARE(mine[0].type, QtInfoMsg);
        QCOMPARE(mine[0].message, QStringLiteral("notice: relation downloads already exists, skipping"));
        QCOMPARE(mine[1].type, QtWarningMsg);
        QVERIFY2(mine[1].message.startsWith(u"disk nearly full"), qPrintable(mine[1].message));
        QVERIFY2(mine[1].message.contains(u"free some space") && !mine[1].message.contains(u'\n'),
                 qPrintable(mine[1].message));
        db.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("notices"));
}

QTEST_GUILESS_MAIN(tst_PostgresNotices)
#include "tst_postgresnotices.moc"
