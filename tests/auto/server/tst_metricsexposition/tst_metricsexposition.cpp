// /metrics of the real server by the Prometheus conventions: `promtool check metrics` (the
// linter of Debian's prometheus package) accepts a live scrape taken after real traffic (a
// download from a local file server, a retried one, publishes, a stream); the families a
// dashboard needs are there and move when they should.

#include "fileserver.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTest>

using namespace Hermes::Test;

static const QList<QPair<QByteArray, QByteArray>> Auth{{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey}};

// The value of one sample (name with its labels, exactly as exposed), or -1.
static double sampleValue(const QByteArray &text, const QByteArray &series)
{
    for (const QByteArray &line : text.split('\n')) {
        if (line.startsWith(series + ' '))
            return line.sliced(series.size() + 1).toDouble();
    }
    return -1;
}

class tst_MetricsExposition : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase() { m_server.reset(); }
    void promtoolAcceptsALiveScrape();
    void familiesAndValues_data();
    void familiesAndValues();
    void downloadCountersMove();
    void publishLatencyIsAHistogram();

private:
    QByteArray scrape() { return httpRequest(m_server->port(), "GET", "/metrics", Auth).body; }
    std::unique_ptr<ServerProcess> m_server;
    FileServer m_files;
};

void tst_MetricsExposition::initTestCase()
{
    m_files.addFile("/ok.bin", FileServer::File(FileServer::makeContent(100000)));
    FileServer::File flaky(FileServer::makeContent(50000, 2));
    flaky.status = 503;
    m_files.addFile("/broken.bin", flaky);
    m_server = std::make_unique<ServerProcess>();
    QProcessEnvironment env;
    env.insert(QStringLiteral("HERMES_DOWNLOAD_MAX_ATTEMPTS"), QStringLiteral("2"));
    env.insert(QStringLiteral("HERMES_DOWNLOAD_RETRY_DELAY"), QStringLiteral("10"));
    QVERIFY2(m_server->start(env), qPrintable(m_server->errorString()));
}

void tst_MetricsExposition::promtoolAcceptsALiveScrape()
{
    const QString promtool = QStandardPaths::findExecutable(QStringLiteral("promtool"));
    if (promtool.isEmpty())
        QFAIL("promtool is not installed (Debian package prometheus, in HERMES_TEST_PACKAGES)");
    SseClient stream;
    stream.open(m_server->port(), "/api/v1/events/stream", Auth);
    QTRY_VERIFY_WITH_TIMEOUT(!stream.events().isEmpty(), 10000);
    QCOMPARE(httpRequest(m_server->port(), "POST", "/api/v1/events/publish", Auth + QList<QPair<QByteArray, QByteArray>>{{"Content-Type", "application/json"}},
                         R"({"channel":"queue:updates","type":"queue_update","data":{}})").status, 202);
    const QByteArray text = scrape();
    QVERIFY(!text.isEmpty());
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(promtool, {QStringLiteral("check"), QStringLiteral("metrics")});
    QVERIFY(p.waitForStarted(5000));
    p.write(text);
    p.closeWriteChannel();
    QVERIFY(p.waitForFinished(30000));
    const QByteArray out = p.readAll();
    // promtool exits non-zero and prints the offending metric for every convention broken.
    QVERIFY2(p.exitCode() == 0 && out.trimmed().isEmpty(), (out + "\n---\n" + text).constData());
}

void tst_MetricsExposition::familiesAndValues_data()
{
    QTest::addColumn<QByteArray>("family");
    QTest::addColumn<QByteArray>("type");
    for (const char *gauge : {"hermes_downloads_active", "hermes_downloads_queued", "hermes_downloads_paused",
                              "hermes_download_volume_free_bytes", "process_open_fds", "process_max_fds",
                              "process_resident_memory_bytes", "process_virtual_memory_bytes",
                              "process_start_time_seconds", "hermes_build_info", "hermes_sse_active_connections"})
        QTest::newRow(gauge) << QByteArray(gauge) << QByteArray("gauge");
    for (const char *counter : {"hermes_downloads_completed_total", "hermes_downloads_failed_total",
                                "hermes_downloads_retried_total", "hermes_downloaded_bytes_total",
                                "process_cpu_seconds_total", "hermes_sse_sent_bytes_total",
                                "hermes_events_lost_total"})
        QTest::newRow(counter) << QByteArray(counter) << QByteArray("counter");
    QTest::newRow("publish latency") << QByteArray("hermes_broker_publish_duration_seconds") << QByteArray("histogram");
}

void tst_MetricsExposition::familiesAndValues()
{
    QFETCH(QByteArray, family);
    QFETCH(QByteArray, type);
    const QByteArray text = scrape();
    QVERIFY2(text.contains("# TYPE " + family + ' ' + type + '\n'), family.constData());
    // The names the naming guide rejects are gone.
    QVERIFY(!text.contains("hermes_sse_bytes_sent_total"));
    QVERIFY(!text.contains("hermes_uptime_seconds"));
    if (family == "process_open_fds") {
        QVERIFY(sampleValue(text, "process_open_fds") >= 4);
        QVERIFY(sampleValue(text, "process_max_fds") >= sampleValue(text, "process_open_fds"));
    }
    if (family == "process_start_time_seconds") {
        const double start = sampleValue(text, "process_start_time_seconds");
        const double now = double(QDateTime::currentMSecsSinceEpoch()) / 1000;
        QVERIFY2(start > now - 300 && start <= now + 1, QByteArray::number(start, 'f', 3).constData());
    }
    if (family == "process_resident_memory_bytes")
        QVERIFY(sampleValue(text, "process_resident_memory_bytes") > 1 << 20);
    if (family == "hermes_build_info") {
        static const QRegularExpression info(QStringLiteral("^hermes_build_info\\{version=\"[0-9.]+\",qt_version=\"6\\.[0-9.]+\"\\} 1$"),
                                             QRegularExpression::MultilineOption);
        QVERIFY2(info.match(QString::fromUtf8(text)).hasMatch(), text.constData());
    }
    if (family == "hermes_download_volume_free_bytes")
        QVERIFY(sampleValue(text, family) > 0);
}

void tst_MetricsExposition::downloadCountersMove()
{
    const QByteArray before = scrape();
    const auto post = [&](const QString &url) {
        return httpRequest(m_server->port(), "POST", "/api/v1/downloads",
                           Auth + QList<QPair<QByteArray, QByteArray>>{{"Content-Type", "application/json"}},
                           QJsonDocument(QJsonObject{{QStringLiteral("url"), url}}).toJson()).status;
    };
    QCOMPARE(post(m_files.url("/ok.bin")), 201);
    QCOMPARE(post(m_files.url("/broken.bin")), 201);
    QTRY_COMPARE_WITH_TIMEOUT(sampleValue(scrape(), "hermes_downloads_completed_total"),
                              sampleValue(before, "hermes_downloads_completed_total") + 1, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(sampleValue(scrape(), "hermes_downloads_failed_total"),
                              sampleValue(before, "hermes_downloads_failed_total") + 1, 20000);
    const QByteArray after = scrape();
    // Two attempts allowed: one retry, then it fails for good.
    QCOMPARE(sampleValue(after, "hermes_downloads_retried_total"), sampleValue(before, "hermes_downloads_retried_total") + 1);
    QCOMPARE(sampleValue(after, "hermes_downloaded_bytes_total"), sampleValue(before, "hermes_downloaded_bytes_total") + 100000);
    QCOMPARE(sampleValue(after, "hermes_downloads_active"), 0.0);
}

void tst_MetricsExposition::publishLatencyIsAHistogram()
{
    const double before = sampleValue(scrape(), "hermes_broker_publish_duration_seconds_count");
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(httpRequest(m_server->port(), "POST", "/api/v1/events/publish",
                             Auth + QList<QPair<QByteArray, QByteArray>>{{"Content-Type", "application/json"}},
                             R"({"channel":"system:notifications","type":"system_notification","data":{}})").status, 202);
    }
    const QByteArray text = scrape();
    QCOMPARE(sampleValue(text, "hermes_broker_publish_duration_seconds_count"), before + 3);
    QCOMPARE(sampleValue(text, "hermes_broker_publish_duration_seconds_bucket{le=\"+Inf\"}"), before + 3);
    // Buckets are cumulative: never decreasing with the bound.
    double last = 0;
    for (const QByteArray &line : text.split('\n')) {
        if (!line.startsWith("hermes_broker_publish_duration_seconds_bucket"))
            continue;
        const double v = line.sliced(line.lastIndexOf(' ') + 1).toDouble();
        QVERIFY2(v >= last, line.constData());
        last = v;
    }
    QVERIFY(sampleValue(text, "hermes_broker_publish_duration_seconds_sum") >= 0);
}

QTEST_GUILESS_MAIN(tst_MetricsExposition)
#include "tst_metricsexposition.moc"
