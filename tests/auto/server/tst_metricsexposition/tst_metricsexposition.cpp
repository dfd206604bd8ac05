// /metrics of the real server by the Prometheus conventions: `promtool check metrics` (the
// linter of Debian's prometheus package) accepts a live scrape taken after real traffic (a
// download from a local file server, a retried one, publishes, a stream); the families a
// dashboard needs are there and move when they should; docs/metrics.md lists exactly the
// families a scrape has; the shipped alert rules and dashboard use only families that exist.

#include "fileserver.h"
#include "serverprocess.h"
#include "sseclient.h"
#include "testutil.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTest>

#include <algorithm>

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
    void everyRejectionIsCounted();
    void requestsAreCountedByRoutePattern();
    void resumesAndResyncsByOutcome();
    void brokerAndStoreFamilies();
    void documentedTableMatchesTheScrape();
    void alertsAndDashboardUseExposedFamilies();

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
    // Small limits, so that the rejection tests reach them quickly.
    env.insert(QStringLiteral("HERMES_SSE_MAX_CONNECTIONS_PER_KEY"), QStringLiteral("2"));
    env.insert(QStringLiteral("HERMES_HTTP_HEADER_TIMEOUT"), QStringLiteral("1"));
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
    for (const char *gauge : {"hermes_downloads", "hermes_store_up", "hermes_open_connections",
                              "hermes_download_volume_free_bytes", "hermes_download_volume_size_bytes", "process_open_fds", "process_max_fds",
                              "process_resident_memory_bytes", "process_virtual_memory_bytes",
                              "process_start_time_seconds", "hermes_build_info", "hermes_sse_active_connections"})
        QTest::newRow(gauge) << QByteArray(gauge) << QByteArray("gauge");
    for (const char *counter : {"hermes_downloads_completed_total", "hermes_downloads_failed_total",
                                "hermes_downloads_retried_total", "hermes_downloaded_bytes_total",
                                "process_cpu_seconds_total", "hermes_sse_sent_bytes_total",
                                "hermes_events_lost_total", "hermes_http_requests_total",
                                "hermes_http_rejected_requests_total", "hermes_sse_resumes_total",
                                "hermes_sse_replayed_events_total", "hermes_sse_resyncs_total",
                                "hermes_broker_reconnects_total", "hermes_store_failed_queries_total"})
        QTest::newRow(counter) << QByteArray(counter) << QByteArray("counter");
    QTest::newRow("publish latency") << QByteArray("hermes_broker_publish_duration_seconds") << QByteArray("histogram");
    QTest::newRow("delivery lag") << QByteArray("hermes_broker_delivery_lag_seconds") << QByteArray("histogram");
    QTest::newRow("store latency") << QByteArray("hermes_store_query_duration_seconds") << QByteArray("histogram");
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
    QCOMPARE(sampleValue(after, "hermes_downloads{scope=\"node\",status=\"active\"}"), 0.0);
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

// The sum of every sample of `name` whose labels contain each of `parts`.
static double sumOf(const QByteArray &text, const QByteArray &name, const QList<QByteArray> &parts = {})
{
    double sum = 0;
    for (const QByteArray &line : text.split('\n')) {
        if (!line.startsWith(name + '{') && !line.startsWith(name + ' '))
            continue;
        const QByteArray series = line.left(line.lastIndexOf(' '));
        if (std::all_of(parts.begin(), parts.end(), [&](const QByteArray &p) { return series.contains(p); }))
            sum += line.sliced(line.lastIndexOf(' ') + 1).toDouble();
    }
    return sum;
}

// Every family of a scrape, with its type.
static QMap<QByteArray, QByteArray> familiesOf(const QByteArray &text)
{
    QMap<QByteArray, QByteArray> out;
    for (const QByteArray &line : text.split('\n')) {
        if (line.startsWith("# TYPE ")) {
            const QList<QByteArray> words = line.split(' ');
            out.insert(words.value(2), words.value(3));
        }
    }
    return out;
}

static QByteArray readSource(const char *path)
{
    QFile f(QStringLiteral(HERMES_SOURCE_DIR "/") + QLatin1StringView(path));
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void tst_MetricsExposition::everyRejectionIsCounted()
{
    QTRY_COMPARE_WITH_TIMEOUT(sampleValue(scrape(), "hermes_sse_active_connections"), 0.0, 10000);
    const QByteArray before = scrape();
    // 429: the key holds its 2 streams (HERMES_SSE_MAX_CONNECTIONS_PER_KEY), 3 more are refused.
    SseClient a, b;
    a.open(m_server->port(), "/api/v1/events/stream", Auth);
    b.open(m_server->port(), "/api/v1/events/stream", Auth);
    QTRY_VERIFY_WITH_TIMEOUT(!a.events().isEmpty() && !b.events().isEmpty(), 10000);
    for (int i = 0; i < 3; ++i)
        QCOMPARE(httpRequest(m_server->port(), "GET", "/api/v1/events/stream", Auth).status, 429);
    // 413: a publish body over HERMES_MAX_PUBLISH_BYTES, refused before it is read.
    QCOMPARE(httpRequest(m_server->port(), "POST", "/api/v1/events/publish",
                         Auth + QList<QPair<QByteArray, QByteArray>>{{"Content-Type", "application/json"}},
                         QByteArray(70000, ' ')).status, 413);
    // 408: a head that stops arriving (HERMES_HTTP_HEADER_TIMEOUT=1).
    QTcpSocket slow;
    slow.connectToHost(QHostAddress::LocalHost, m_server->port());
    QVERIFY(slow.waitForConnected(5000));
    slow.write("GET /livez HTTP/1.1\r\nHost: x\r\n");
    QTRY_VERIFY_WITH_TIMEOUT(slow.bytesAvailable() > 0 || slow.state() != QAbstractSocket::ConnectedState, 10000);
    QVERIFY2(slow.readAll().startsWith("HTTP/1.1 408"), "no 408");

    const QByteArray after = scrape();
    const auto moved = [&](const QByteArray &name, const QList<QByteArray> &parts) {
        return sumOf(after, name, parts) - sumOf(before, name, parts);
    };
    QCOMPARE(moved("hermes_sse_connections_rejected_total", {"reason=\"too_many_streams\""}), 3.0);
    QCOMPARE(moved("hermes_http_rejected_requests_total",
                   {"route=\"/api/v1/events/stream\"", "status=\"429\"", "reason=\"too_many_streams\""}), 3.0);
    QCOMPARE(moved("hermes_http_rejected_requests_total", {"status=\"413\"", "reason=\"payload_too_large\""}), 1.0);
    QCOMPARE(moved("hermes_http_rejected_requests_total", {"status=\"408\"", "reason=\"request_timeout\""}), 1.0);
    QCOMPARE(sumOf(after, "hermes_open_connections", {"kind=\"stream\""}), 2.0);
}

void tst_MetricsExposition::requestsAreCountedByRoutePattern()
{
    const QByteArray before = scrape();
    QCOMPARE(httpRequest(m_server->port(), "GET", "/api/v1/downloads/no-such-download", Auth).status, 404);
    QCOMPARE(httpRequest(m_server->port(), "GET", "/no/such/path", Auth).status, 404);
    QCOMPARE(httpRequest(m_server->port(), "DELETE", "/livez", Auth).status, 405);
    const QByteArray after = scrape();
    // Raw paths never become label values: the series stay a fixed set whatever clients ask.
    QVERIFY(!after.contains("no-such-download"));
    QVERIFY(!after.contains("/no/such/path"));
    const QList<QByteArray> byPattern{"route=\"/api/v1/downloads/{}\"", "method=\"GET\"", "status_class=\"4xx\""};
    QCOMPARE(sumOf(after, "hermes_http_requests_total", byPattern) - sumOf(before, "hermes_http_requests_total", byPattern), 1.0);
    const QList<QByteArray> unrouted{"route=\"unrouted\"", "status_class=\"4xx\""};
    QCOMPARE(sumOf(after, "hermes_http_requests_total", unrouted) - sumOf(before, "hermes_http_requests_total", unrouted), 2.0);
    QCOMPARE(sumOf(after, "hermes_http_rejected_requests_total", {"reason=\"method_not_allowed\""})
                 - sumOf(before, "hermes_http_rejected_requests_total", {"reason=\"method_not_allowed\""}), 1.0);
    QVERIFY(sumOf(after, "hermes_http_requests_total", {"route=\"/metrics\"", "status_class=\"2xx\""}) >= 1);
}

void tst_MetricsExposition::resumesAndResyncsByOutcome()
{
    QTRY_COMPARE_WITH_TIMEOUT(sampleValue(scrape(), "hermes_sse_active_connections"), 0.0, 10000);
    const auto publish = [&] {
        const HttpReply r = httpRequest(m_server->port(), "POST", "/api/v1/events/publish",
                                        Auth + QList<QPair<QByteArray, QByteArray>>{{"Content-Type", "application/json"}},
                                        R"({"channel":"queue:updates","type":"queue_update","data":{}})");
        return QJsonDocument::fromJson(r.body).object().value(QStringLiteral("id")).toString().toUtf8();
    };
    const QByteArray queueEvents = "hermes_events_published_total{channel=\"queue:updates\"}";
    const double published = sampleValue(scrape(), queueEvents);
    const QByteArray from = publish();
    QVERIFY(!from.isEmpty());
    publish();
    publish();
    // The broker confirms before the hub has the events in its history: a resume opened
    // earlier would get them live, not replayed.
    QTRY_COMPARE_WITH_TIMEOUT(sampleValue(scrape(), queueEvents), published + 3, 10000);
    const QByteArray before = scrape();
    {
        SseClient replayed;
        replayed.open(m_server->port(), "/api/v1/events/stream", Auth + QList<QPair<QByteArray, QByteArray>>{{"Last-Event-ID", from}});
        QTRY_VERIFY_WITH_TIMEOUT(replayed.nonHeartbeatEvents().size() >= 3, 10000); // connected + 2
        SseClient resync;
        resync.open(m_server->port(), "/api/v1/events/stream", Auth + QList<QPair<QByteArray, QByteArray>>{{"Last-Event-ID", "not-an-id"}});
        QTRY_VERIFY_WITH_TIMEOUT(resync.nonHeartbeatEvents().size() >= 2, 10000); // connected, resync_required
    }
    const QByteArray after = scrape();
    const auto moved = [&](const QByteArray &name, const QList<QByteArray> &parts) {
        return sumOf(after, name, parts) - sumOf(before, name, parts);
    };
    QCOMPARE(moved("hermes_sse_resumes_total", {"outcome=\"replayed\""}), 1.0);
    QCOMPARE(moved("hermes_sse_resumes_total", {"outcome=\"resync\""}), 1.0);
    QCOMPARE(moved("hermes_sse_replayed_events_total", {}), 2.0);
    QCOMPARE(moved("hermes_sse_resyncs_total", {"reason=\"invalid_last_event_id\""}), 1.0);
    QCOMPARE(moved("hermes_sse_resyncs_total", {}), 1.0);
}

void tst_MetricsExposition::brokerAndStoreFamilies()
{
    const QByteArray text = scrape();
    QCOMPARE(sampleValue(text, "hermes_broker_up{broker=\"memory\"}"), 1.0);
    QCOMPARE(sampleValue(text, "hermes_broker_reconnects_total"), 0.0);
    QVERIFY(sampleValue(text, "hermes_broker_delivery_lag_seconds_count") >= 1); // the publishes above
    QCOMPARE(sampleValue(text, "hermes_store_up{backend=\"sqlite\"}"), 1.0);
    QVERIFY(sampleValue(text, "hermes_store_query_duration_seconds_count") >= 1); // the queue summary
    QCOMPARE(sampleValue(text, "hermes_store_failed_queries_total"), 0.0);
    // Cluster-wide figures say so; this node's own too.
    QVERIFY(sampleValue(text, "hermes_downloads{scope=\"cluster\",status=\"queued\"}") >= 0);
    QVERIFY(sampleValue(text, "hermes_downloads{scope=\"node\",status=\"active\"}") >= 0);
}

// docs/metrics.md is the one list of the metrics: its table rows are exactly the families a
// live scrape has, with the same types.
void tst_MetricsExposition::documentedTableMatchesTheScrape()
{
    const QByteArray doc = readSource("docs/metrics.md");
    QVERIFY(!doc.isEmpty());
    static const QRegularExpression row(QStringLiteral("^\\| `([a-z_:]+)` \\| (counter|gauge|histogram) \\|([^|]*)\\|"),
                                        QRegularExpression::MultilineOption);
    static const QRegularExpression labelName(QStringLiteral("`([a-z_]+)`"));
    QMap<QByteArray, QByteArray> documented;
    QMap<QByteArray, QSet<QByteArray>> documentedLabels;
    for (const auto &m : row.globalMatch(QString::fromUtf8(doc))) {
        documented.insert(m.captured(1).toUtf8(), m.captured(2).toUtf8());
        QSet<QByteArray> &labels = documentedLabels[m.captured(1).toUtf8()];
        for (const auto &l : labelName.globalMatch(m.captured(3)))
            labels.insert(l.captured(1).toUtf8());
    }
    const QByteArray text = scrape();
    QMap<QByteArray, QByteArray> scraped = familiesOf(text);
    // The label names of each family's samples (histograms' `le` aside) are the documented ones.
    static const QRegularExpression sample(QStringLiteral("^([a-z_:]+)\\{([^}]*)\\} "), QRegularExpression::MultilineOption);
    static const QRegularExpression pair(QStringLiteral("([a-z_]+)=\"[^\"]*\""));
    for (const auto &m : sample.globalMatch(QString::fromUtf8(text))) {
        QByteArray family = m.captured(1).toUtf8();
        for (const char *suffix : {"_bucket", "_sum", "_count"}) {
            if (!scraped.contains(family) && family.endsWith(suffix))
                family.chop(qstrlen(suffix));
        }
        for (const auto &p : pair.globalMatch(m.captured(2))) {
            const QByteArray name = p.captured(1).toUtf8();
            QVERIFY2(name == "le" || documentedLabels.value(family).contains(name),
                     (family + " has the label " + name + ", which docs/metrics.md does not name").constData());
        }
    }
    // Present only with Sentinel (tst_redissentinel checks them).
    for (const char *sentinelOnly : {"hermes_redis_master_info", "hermes_redis_master_switches_total"}) {
        QVERIFY2(documented.contains(sentinelOnly), sentinelOnly);
        scraped.insert(sentinelOnly, documented.value(sentinelOnly));
    }
    for (auto it = scraped.begin(); it != scraped.end(); ++it)
        QVERIFY2(documented.value(it.key()) == it.value(),
                 (it.key() + " (" + it.value() + ") is exposed but not documented so in docs/metrics.md").constData());
    for (auto it = documented.begin(); it != documented.end(); ++it)
        QVERIFY2(scraped.contains(it.key()), (it.key() + " is in docs/metrics.md but not exposed").constData());
}

// What the shipped alert rules and dashboard query exists in a live scrape (a renamed family
// would leave an alert that can never fire).
void tst_MetricsExposition::alertsAndDashboardUseExposedFamilies()
{
    const QMap<QByteArray, QByteArray> scraped = familiesOf(scrape());
    QSet<QByteArray> known;
    for (auto it = scraped.begin(); it != scraped.end(); ++it) {
        known.insert(it.key());
        if (it.value() == "histogram")
            known.unite({it.key() + "_bucket", it.key() + "_sum", it.key() + "_count"});
    }
    known.unite({"hermes_redis_master_info", "hermes_redis_master_switches_total", "up"});
    QByteArray exprs = readSource("packaging/prometheus/hermes-alerts.yml");
    QVERIFY(!exprs.isEmpty());
    const QJsonObject dashboard = QJsonDocument::fromJson(readSource("packaging/grafana/hermes-dashboard.json")).object();
    QVERIFY(!dashboard.isEmpty());
    int queries = 0;
    for (const QJsonValue &panel : dashboard.value(QStringLiteral("panels")).toArray()) {
        for (const QJsonValue &target : panel.toObject().value(QStringLiteral("targets")).toArray()) {
            exprs += '\n' + target.toObject().value(QStringLiteral("expr")).toString().toUtf8();
            ++queries;
        }
    }
    QVERIFY(queries >= 10);
    static const QRegularExpression name(QStringLiteral("\\b((?:hermes|process)_[a-z_]+)\\b"));
    int names = 0;
    for (const auto &m : name.globalMatch(QString::fromUtf8(exprs))) {
        ++names;
        QVERIFY2(known.contains(m.captured(1).toUtf8()), qPrintable(m.captured(1) + QStringLiteral(" is not in a live scrape")));
    }
    QVERIFY(names >= 20);
}

QTEST_GUILESS_MAIN(tst_MetricsExposition)
#include "tst_metricsexposition.moc"
