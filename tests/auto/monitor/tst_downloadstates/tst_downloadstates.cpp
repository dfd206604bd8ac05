// Every state with its reason, in the table: the Status text a row shows for each status and
// phase (DownloadListModel::statusText), the Downloaded, Remaining, Attempts and Error columns
// at the end of the model, the server's note in the tooltip, phases arriving with REST
// downloads and events and going with a status change, and the bar going down when the server
// restarts a download from zero (a new note), never otherwise.

#include "downloadlistmodel.h"

#include <QJsonObject>
#include <QLocale>
#include <QTest>

using namespace Hermes;

Q_DECLARE_METATYPE(Hermes::DownloadRow)

class tst_DownloadStates : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase() { QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedStates)); }
    void statusTexts_data();
    void statusTexts();
    void retryCountsDown();
    void newColumnsAtTheEnd();
    void phaseFromRestAndEvents();
    void aStatusChangeWithoutAPhaseClearsIt();
    void noteInTheTooltip();
    void progressGoesDownOnARestartFromZero();
    void attemptsMade();
};

static const QDateTime Now(QDate(2026, 12, 7), QTime(12, 0, 0), Qt::UTC);

static DownloadRow row(DownloadStatus status, const QString &error = {})
{
    DownloadRow r;
    r.id = QStringLiteral("a");
    r.status = ReceivedStatus::of(status);
    r.error = error;
    return r;
}

static DownloadRow withPhase(DownloadRow r, DownloadPhase phase)
{
    r.phase = DownloadPhaseInfo::of(phase);
    r.phase.attempt = r.attempts + 1;
    return r;
}

void tst_DownloadStates::statusTexts_data()
{
    QTest::addColumn<DownloadRow>("row");
    QTest::addColumn<QString>("text");
    QTest::newRow("queued") << row(DownloadStatus::Pending) << QStringLiteral("Queued");
    QTest::newRow("downloading, no phase (an older server)") << row(DownloadStatus::Downloading) << QStringLiteral("Downloading");
    QTest::newRow("transferring") << withPhase(row(DownloadStatus::Downloading), DownloadPhase::Transferring)
                                  << QStringLiteral("Downloading");
    QTest::newRow("waiting") << withPhase(row(DownloadStatus::Downloading), DownloadPhase::WaitingForConnection)
                             << QStringLiteral("Waiting for a connection");
    QTest::newRow("connecting") << withPhase(row(DownloadStatus::Downloading), DownloadPhase::Connecting)
                                << QStringLiteral("Connecting");
    QTest::newRow("stalled") << withPhase(row(DownloadStatus::Downloading), DownloadPhase::Stalled) << QStringLiteral("Stalled");
    QTest::newRow("verifying") << row(DownloadStatus::Processing) << QStringLiteral("Verifying");
    QTest::newRow("completed") << row(DownloadStatus::Completed) << QStringLiteral("Completed");
    QTest::newRow("cancelled") << row(DownloadStatus::Cancelled) << QStringLiteral("Cancelled");
    QTest::newRow("paused") << row(DownloadStatus::Paused) << QStringLiteral("Paused");
    QTest::newRow("paused, disk full")
        << row(DownloadStatus::Paused, QStringLiteral("cannot write /d/a.1.part: No space left on device; paused until 64 MB are free"))
        << QStringLiteral("Paused: cannot write /d/a.1.part");
    QTest::newRow("failed, checksum")
        << row(DownloadStatus::Failed, QStringLiteral("SHA-256 mismatch: expected 00, got 11"))
        << QStringLiteral("Failed: SHA-256 mismatch");
    QTest::newRow("failed, HTTP") << row(DownloadStatus::Failed, QStringLiteral("HTTP 404 Not Found"))
                                  << QStringLiteral("Failed: HTTP 404 Not Found");
    QTest::newRow("failed, retried")
        << row(DownloadStatus::Failed, QStringLiteral("HTTP 503 Error (retried for 3600 s, 12 attempts)"))
        << QStringLiteral("Failed: HTTP 503 Error");
    QTest::newRow("failed, no reason") << row(DownloadStatus::Failed) << QStringLiteral("Failed");
    DownloadRow retrying = row(DownloadStatus::Pending, QStringLiteral("HTTP 503 Error; retrying in 8 s (attempt 2)"));
    retrying.attempts = 1;
    retrying = withPhase(retrying, DownloadPhase::Retrying);
    retrying.phase.maxAttempts = 5;
    retrying.phase.nextAttemptAt = Now.addSecs(8);
    QTest::newRow("retrying, limited") << retrying << QStringLiteral("Retrying 2/5 in 8 s");
    retrying.phase.maxAttempts.reset();
    retrying.phase.nextAttemptAt = Now.addSecs(75);
    QTest::newRow("retrying, window only") << retrying << QStringLiteral("Retrying 2 in 1 min 15 s");
    retrying.phase.nextAttemptAt = Now.addSecs(-1);
    QTest::newRow("retrying, due") << retrying << QStringLiteral("Retrying 2");
    DownloadRow newer = row(DownloadStatus::Downloading);
    newer.phase.phaseText = QStringLiteral("throttled");
    QTest::newRow("a newer server's phase") << newer << QStringLiteral("Downloading (throttled)");
    DownloadRow unknown;
    unknown.status = ReceivedStatus{std::nullopt, QStringLiteral("archived")};
    QTest::newRow("a newer server's status") << unknown << QStringLiteral("archived");
}

void tst_DownloadStates::statusTexts()
{
    QFETCH(DownloadRow, row);
    QFETCH(QString, text);
    QCOMPARE(DownloadListModel::statusText(row, Now), text);
}

void tst_DownloadStates::retryCountsDown()
{
    DownloadRow r = withPhase(row(DownloadStatus::Pending), DownloadPhase::Retrying);
    r.phase.maxAttempts = 3;
    r.phase.nextAttemptAt = Now.addSecs(8);
    QCOMPARE(DownloadListModel::statusText(r, Now.addSecs(3)), QStringLiteral("Retrying 1/3 in 5 s"));
    QCOMPARE(DownloadListModel::statusText(r, Now.addSecs(8)), QStringLiteral("Retrying 1/3"));
}

static QJsonObject download(const QString &status, const QJsonObject &extra = {})
{
    QJsonObject d{{QStringLiteral("id"), QStringLiteral("a")},
                  {QStringLiteral("url"), QStringLiteral("http://h/a.bin")},
                  {QStringLiteral("filename"), QStringLiteral("a.bin")},
                  {QStringLiteral("status"), status},
                  {QStringLiteral("attempts"), 0},
                  {QStringLiteral("created_at"), QStringLiteral("2026-01-01T00:00:00.000Z")},
                  {QStringLiteral("updated_at"), QStringLiteral("2026-01-01T00:00:01.000Z")},
                  {QStringLiteral("progress"), QJsonObject{{QStringLiteral("percentage"), 30.0},
                                                          {QStringLiteral("downloaded_bytes"), 3000},
                                                          {QStringLiteral("total_bytes"), 10000},
                                                          {QStringLiteral("speed"), 0.0}}}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
        d.insert(it.key(), it.value());
    return d;
}

static QJsonObject progressEvent(const QString &status, double percent, qint64 bytes, const QJsonObject &extra = {})
{
    QJsonObject e{{QStringLiteral("download_id"), QStringLiteral("a")},
                  {QStringLiteral("status"), status},
                  {QStringLiteral("progress"), QJsonObject{{QStringLiteral("percentage"), percent},
                                                          {QStringLiteral("downloaded_bytes"), bytes},
                                                          {QStringLiteral("total_bytes"), 10000},
                                                          {QStringLiteral("speed"), 100.0}}}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
        e.insert(it.key(), it.value());
    return e;
}

static QString cell(const DownloadListModel &m, int column, int role = Qt::DisplayRole)
{
    return m.index(0, column).data(role).toString();
}

void tst_DownloadStates::newColumnsAtTheEnd()
{
    // Added after every column there was: a view's saved header state keeps its meaning.
    QCOMPARE(int(DownloadListModel::Url), 10);
    QCOMPARE(int(DownloadListModel::Downloaded), 11);
    QCOMPARE(int(DownloadListModel::Error), DownloadListModel::ColumnCount - 1);
    DownloadListModel model;
    model.mergeSnapshot({download(QStringLiteral("failed"),
                                  {{QStringLiteral("error_message"), QStringLiteral("HTTP 503 Error (retried for 3600 s, 4 attempts)")},
                                   {QStringLiteral("attempts"), 4}})});
    QCOMPARE(model.headerData(DownloadListModel::Downloaded, Qt::Horizontal, Qt::DisplayRole).toString(), QStringLiteral("Downloaded"));
    QCOMPARE(model.headerData(DownloadListModel::Remaining, Qt::Horizontal, Qt::DisplayRole).toString(), QStringLiteral("Remaining"));
    QCOMPARE(model.headerData(DownloadListModel::Attempts, Qt::Horizontal, Qt::DisplayRole).toString(), QStringLiteral("Attempts"));
    QCOMPARE(model.headerData(DownloadListModel::Error, Qt::Horizontal, Qt::DisplayRole).toString(), QStringLiteral("Error"));
    QCOMPARE(cell(model, DownloadListModel::Downloaded), QStringLiteral("2.9 KiB"));
    QCOMPARE(cell(model, DownloadListModel::Remaining), QStringLiteral("6.8 KiB"));
    QCOMPARE(cell(model, DownloadListModel::Attempts), QStringLiteral("4"));
    QCOMPARE(cell(model, DownloadListModel::Error), QStringLiteral("HTTP 503 Error (retried for 3600 s, 4 attempts)"));
    QCOMPARE(cell(model, DownloadListModel::Status), QStringLiteral("Failed: HTTP 503 Error"));
    QCOMPARE(model.index(0, DownloadListModel::Remaining).data(DownloadListModel::SortRole).toLongLong(), 7000);
    QCOMPARE(model.index(0, DownloadListModel::Attempts).data(DownloadListModel::SortRole).toInt(), 4);
    // Completed: nothing remains to show, and it took one attempt.
    model.applyProgress(progressEvent(QStringLiteral("completed"), 100, 10000), QStringLiteral("2026-01-01T00:00:02.000Z"));
    QCOMPARE(cell(model, DownloadListModel::Remaining), QString());
    QCOMPARE(cell(model, DownloadListModel::Attempts), QStringLiteral("5"));
}

void tst_DownloadStates::phaseFromRestAndEvents()
{
    DownloadListModel model;
    model.mergeSnapshot({download(QStringLiteral("downloading"),
                                  {{QStringLiteral("phase"), QStringLiteral("waiting_for_connection")},
                                   {QStringLiteral("attempt"), 1}, {QStringLiteral("max_attempts"), QJsonValue()},
                                   {QStringLiteral("next_attempt_at"), QJsonValue()}})});
    QCOMPARE(cell(model, DownloadListModel::Status), QStringLiteral("Waiting for a connection"));
    QCOMPARE(cell(model, DownloadListModel::Speed), QString()); // not "0 bytes/s"
    QCOMPARE(cell(model, DownloadListModel::Eta), QString());   // not "∞"
    model.applyProgress(progressEvent(QStringLiteral("downloading"), 30, 3000, {{QStringLiteral("phase"), QStringLiteral("connecting")}}),
                        QStringLiteral("2026-01-01T00:00:02.000Z"));
    QCOMPARE(cell(model, DownloadListModel::Status), QStringLiteral("Connecting"));
    // An event without the member (an older server's) keeps the phase while the status stays.
    model.applyProgress(progressEvent(QStringLiteral("downloading"), 31, 3100), QStringLiteral("2026-01-01T00:00:03.000Z"));
    QCOMPARE(cell(model, DownloadListModel::Status), QStringLiteral("Connecting"));
    model.applyProgress(progressEvent(QStringLiteral("downloading"), 32, 3200, {{QStringLiteral("phase"), QStringLiteral("stalled")}}),
                        QStringLiteral("2026-01-01T00:00:04.000Z"));
    QCOMPARE(cell(model, DownloadListModel::Status), QStringLiteral("Stalled"));
    QCOMPARE(model.row(QStringLiteral("a"))->percent, 32.0);
    QCOMPARE(cell(model, DownloadListModel::Speed), QStringLiteral("100 bytes/s")); // what the window still says
    QCOMPARE(cell(model, DownloadListModel::Eta), QStringLiteral("∞"));
    // Retrying, the time on the server's clock.
    const QString at = QDateTime::currentDateTimeUtc().addSecs(30).toString(Qt::ISODateWithMs);
    model.applyProgress(progressEvent(QStringLiteral("pending"), 32, 3200,
                              {{QStringLiteral("phase"), QStringLiteral("retrying")}, {QStringLiteral("attempt"), 2},
                               {QStringLiteral("max_attempts"), 5}, {QStringLiteral("next_attempt_at"), at},
                               {QStringLiteral("error_message"), QStringLiteral("HTTP 503 Error; retrying in 30 s (attempt 2)")}}),
                        QStringLiteral("2026-01-01T00:00:05.000Z"));
    QVERIFY2(cell(model, DownloadListModel::Status).startsWith(QStringLiteral("Retrying 2/5 in ")), qPrintable(cell(model, DownloadListModel::Status)));
    // Back to an ordinary transfer: just downloading.
    model.applyProgress(progressEvent(QStringLiteral("downloading"), 1, 100,
                              {{QStringLiteral("phase"), QStringLiteral("transferring")}, {QStringLiteral("error_message"), QJsonValue()}}),
                        QStringLiteral("2026-01-01T00:00:06.000Z"));
    QCOMPARE(cell(model, DownloadListModel::Status), QStringLiteral("Downloading"));
}

void tst_DownloadStates::aStatusChangeWithoutAPhaseClearsIt()
{
    DownloadListModel model;
    model.mergeSnapshot({download(QStringLiteral("downloading"), {{QStringLiteral("phase"), QStringLiteral("stalled")}})});
    QCOMPARE(cell(model, DownloadListModel::Status), QStringLiteral("Stalled"));
    // A queue_update brings the new status only: the old status's phase goes.
    QueueUpdateEvent q;
    q.action = QueueAction::StatusChanged;
    q.downloadId = QStringLiteral("a");
    q.status = ReceivedStatus::of(DownloadStatus::Paused);
    model.applyQueueUpdate(q.toJson(), QStringLiteral("2026-01-01T00:00:02.000Z"));
    QCOMPARE(cell(model, DownloadListModel::Status), QStringLiteral("Paused"));
    // So does a download_progress of an older server (no phase member) with another status.
    model.mergeSnapshot({download(QStringLiteral("downloading"), {{QStringLiteral("phase"), QStringLiteral("connecting")},
                                                                  {QStringLiteral("updated_at"), QStringLiteral("2026-01-01T00:00:03.000Z")}})});
    QCOMPARE(cell(model, DownloadListModel::Status), QStringLiteral("Connecting"));
    model.applyProgress(progressEvent(QStringLiteral("processing"), 100, 10000), QStringLiteral("2026-01-01T00:00:04.000Z"));
    QCOMPARE(cell(model, DownloadListModel::Status), QStringLiteral("Verifying"));
}

void tst_DownloadStates::noteInTheTooltip()
{
    DownloadListModel model;
    model.mergeSnapshot({download(QStringLiteral("downloading"),
                                  {{QStringLiteral("note"), QStringLiteral("the server does not support resuming (HTTP Range); restarted from zero")}})});
    QCOMPARE(model.row(QStringLiteral("a"))->note, QStringLiteral("the server does not support resuming (HTTP Range); restarted from zero"));
    QVERIFY(cell(model, DownloadListModel::Status, Qt::ToolTipRole).contains(QStringLiteral("restarted from zero")));
    QVERIFY(cell(model, DownloadListModel::Status, Qt::ToolTipRole).startsWith(QStringLiteral("http://h/a.bin")));
}

void tst_DownloadStates::progressGoesDownOnARestartFromZero()
{
    DownloadListModel model;
    model.mergeSnapshot({download(QStringLiteral("downloading"))});
    model.applyProgress(progressEvent(QStringLiteral("downloading"), 60, 6000), QStringLiteral("2026-01-01T00:00:02.000Z"));
    QCOMPARE(model.row(QStringLiteral("a"))->percent, 60.0);
    // Fewer bytes of the same moment as the row's state may be an event seen out of order:
    // the bar stays.
    model.applyProgress(progressEvent(QStringLiteral("downloading"), 50, 5000), QStringLiteral("2026-01-01T00:00:02.000Z"));
    QCOMPARE(model.row(QStringLiteral("a"))->percent, 60.0);
    QCOMPARE(model.row(QStringLiteral("a"))->downloaded, 6000);
    // From a newer event they are a restart, with a reason or not: the bar follows the bytes.
    model.applyProgress(progressEvent(QStringLiteral("downloading"), 50, 5000), QStringLiteral("2026-01-01T00:00:03.000Z"));
    QCOMPARE(model.row(QStringLiteral("a"))->percent, 50.0);
    QCOMPARE(model.row(QStringLiteral("a"))->downloaded, 5000);
    // The server restarted it from zero and says why: the bar goes down.
    const QString why = QStringLiteral("the file changed on the server since the part was written (If-Range); restarted from zero");
    model.applyProgress(progressEvent(QStringLiteral("downloading"), 0, 0, {{QStringLiteral("note"), why}}),
                        QStringLiteral("2026-01-01T00:00:04.000Z"));
    QCOMPARE(model.row(QStringLiteral("a"))->percent, 0.0);
    QCOMPARE(model.row(QStringLiteral("a"))->downloaded, 0);
    model.applyProgress(progressEvent(QStringLiteral("downloading"), 20, 2000, {{QStringLiteral("note"), why}}),
                        QStringLiteral("2026-01-01T00:00:05.000Z"));
    QCOMPARE(model.row(QStringLiteral("a"))->percent, 20.0);
    // The same reason a second time: fewer bytes than before, so down again.
    model.applyProgress(progressEvent(QStringLiteral("downloading"), 0, 0, {{QStringLiteral("note"), why}}),
                        QStringLiteral("2026-01-01T00:00:06.000Z"));
    QCOMPARE(model.row(QStringLiteral("a"))->percent, 0.0);
    // And the note alone (the same, more bytes) does not let a glitch through.
    model.applyProgress(progressEvent(QStringLiteral("downloading"), 30, 3000, {{QStringLiteral("note"), why}}),
                        QStringLiteral("2026-01-01T00:00:07.000Z"));
    model.applyProgress(progressEvent(QStringLiteral("downloading"), 25, 3000, {{QStringLiteral("note"), why}}),
                        QStringLiteral("2026-01-01T00:00:08.000Z"));
    QCOMPARE(model.row(QStringLiteral("a"))->percent, 30.0);
}

void tst_DownloadStates::attemptsMade()
{
    DownloadRow r = row(DownloadStatus::Completed);
    QCOMPARE(r.attemptsMade(), 1); // never "0" for a completed download
    r.attempts = 2;
    QCOMPARE(r.attemptsMade(), 3);
    QCOMPARE(row(DownloadStatus::Failed).attemptsMade(), 1); // a checksum mismatch counts no failed attempt
    QCOMPARE(row(DownloadStatus::Pending).attemptsMade(), 0);
    r = row(DownloadStatus::Downloading);
    r.attempts = 1;
    QCOMPARE(r.attemptsMade(), 2);
}

QTEST_GUILESS_MAIN(tst_DownloadStates)
#include "tst_downloadstates.moc"
