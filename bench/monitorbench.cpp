// monitorbench: is hermes-monitor smooth on the real path? A local server thread writes real
// SSE bytes over a TCP socket — 10,000 download_progress events a second over 1,000 downloads,
// in 10 ms bursts — into MonitorSession and a shown MainWindow (sorted by speed, filtered by
// text and by the sidebar, counts live). Then the server's list grows to 5,000 downloads and
// the window reloads it (paged REST over the socket, merged into the rows).
//
// Prints how late a 10 ms timer on the UI thread ran (what a user feels as lag), the CPU the
// client used (UI thread, and the whole process minus the server thread), and the reload
// time. Asserts nothing. Usage: monitorbench [seconds=5] [events_per_second=10000]
// [rows inserted per event-loop turn on a reload=100, 0: all at once]

#include "mainwindow.h"
#include "monitorsession.h"
#include "statussidebar.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLineEdit>
#include <QPointer>
#include <QStandardPaths>
#include <QTableView>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>
#include <QUrlQuery>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>

using namespace Hermes;

namespace {

double threadCpuSeconds()
{
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double processCpuSeconds()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

QJsonObject download(int i, const QDateTime &t)
{
    return {{"id", QStringLiteral("d%1").arg(i)}, {"url", QStringLiteral("https://mirror.example/file-%1.iso").arg(i)},
            {"filename", QStringLiteral("file-%1.iso").arg(i)}, {"status", "downloading"}, {"priority", 0},
            {"attempts", 1}, {"created_at", t.addSecs(i).toString(Qt::ISODateWithMs)},
            {"updated_at", t.toString(Qt::ISODateWithMs)},
            {"progress", QJsonObject{{"percentage", 0}, {"downloaded_bytes", 0}, {"total_bytes", 1e9}, {"speed", 0}, {"eta", -1}}}};
}

/// The server side, on its own thread: REST pages and one event stream.
class Server final : public QObject
{
public:
    std::atomic<int> downloads{1000};
    std::atomic<qint64> written{0};
    std::atomic<bool> streaming{false};
    double cpuSeconds = 0; ///< this thread's CPU, read after it stopped
    int eventsPerSecond = 10000;

    void start()
    {
        m_listen.listen(QHostAddress::LocalHost, 0);
        connect(&m_listen, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_listen.nextPendingConnection())
                connect(s, &QTcpSocket::readyRead, this, [this, s] { onRequest(s); });
        });
        m_burst.setInterval(10);
        m_burst.setTimerType(Qt::PreciseTimer);
        connect(&m_burst, &QTimer::timeout, this, &Server::burst);
    }
    quint16 port() const { return m_listen.serverPort(); }
    void stop()
    {
        m_burst.stop();
        cpuSeconds = threadCpuSeconds() - m_cpuStart;
    }

private:
    void onRequest(QTcpSocket *s)
    {
        QByteArray &buf = m_buffers[s];
        buf += s->readAll();
        const qsizetype end = buf.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        const QByteArray target = buf.left(end).split(' ').value(1);
        buf.clear();
        const QUrl url(QString::fromLatin1("http://x" + target));
        if (url.path() == u"/api/v1/events/stream") {
            s->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
                     "data: {\"type\":\"connected\",\"data\":{\"heartbeat_interval\":30},\"timestamp\":\"2026-01-01T00:00:00.000Z\"}\n\n");
            m_stream = s;
            return;
        }
        const QUrlQuery q(url);
        const int offset = q.queryItemValue("offset").toInt(), limit = q.queryItemValue("limit").toInt();
        const QDateTime t0(QDate(2026, 1, 1), QTime(0, 0), Qt::UTC);
        QJsonArray items;
        for (int i = offset; i < qMin(int(downloads), offset + limit); ++i)
            items.append(download(i, t0));
        const QByteArray body = QJsonDocument(QJsonObject{{"items", items}, {"total", int(downloads)}}).toJson(QJsonDocument::Compact);
        s->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size())
                 + "\r\n\r\n" + body);
    }

    void burst()
    {
        if (!m_stream || !streaming)
            return;
        const int perBurst = eventsPerSecond / 100;
        QByteArray out;
        out.reserve(perBurst * 420);
        const QDateTime t0(QDate(2026, 1, 1), QTime(1, 0), Qt::UTC);
        for (int k = 0; k < perBurst; ++k, ++m_n) {
            const int i = int(m_n % 1000);
            const double pct = std::min(100.0, double(m_n / 1000) * 0.1);
            const QString ts = t0.addMSecs(m_n / 10).toString(Qt::ISODateWithMs);
            out += "id: " + QByteArray::number(m_n) + "\ndata: {\"type\":\"download_progress\",\"data\":{\"download_id\":\"d"
                   + QByteArray::number(i) + "\",\"status\":\"downloading\",\"progress\":{\"percentage\":"
                   + QByteArray::number(pct) + ",\"status\":\"downloading\",\"downloaded_bytes\":"
                   + QByteArray::number(qint64(pct * 1e7)) + ",\"total_bytes\":1000000000,\"speed\":"
                   + QByteArray::number((i * 7919 + m_n) % 5000000) + ",\"eta\":" + QByteArray::number(100 + i)
                   + "},\"error_message\":null,\"filename\":\"file-" + QByteArray::number(i) + ".iso\",\"url\":\"https://mirror.example/file-"
                   + QByteArray::number(i) + ".iso\"},\"timestamp\":\"" + ts.toLatin1() + "\"}\n\n";
        }
        written += out.size();
        m_stream->write(out);
    }

public:
    void startStreaming()
    {
        streaming = true;
        m_cpuStart = threadCpuSeconds();
        m_burst.start();
    }

private:
    // Children, so that moveToThread() takes them along.
    QTcpServer m_listen{this};
    QHash<QTcpSocket *, QByteArray> m_buffers;
    QPointer<QTcpSocket> m_stream;
    QTimer m_burst{this};
    double m_cpuStart = 0;
    qint64 m_n = 0;
};

struct Lag
{
    QList<double> samples;
    double pct(double p) const
    {
        if (samples.isEmpty())
            return 0;
        QList<double> s = samples;
        std::sort(s.begin(), s.end());
        return s.at(std::min<qsizetype>(s.size() - 1, qsizetype(p / 100 * s.size())));
    }
    double max() const { return samples.isEmpty() ? 0 : *std::max_element(samples.cbegin(), samples.cend()); }
};

} // namespace

int main(int argc, char *argv[])
{
    qputenv("QT_QPA_PLATFORM", qgetenv("QT_QPA_PLATFORM").isEmpty() ? "offscreen" : qgetenv("QT_QPA_PLATFORM"));
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true); // no settings of a real user touched
    const int seconds = argc > 1 ? std::atoi(argv[1]) : 5;
    const int rate = argc > 2 ? std::atoi(argv[2]) : 10000;

    QThread serverThread;
    Server server;
    server.eventsPerSecond = rate;
    server.moveToThread(&serverThread);
    serverThread.start();
    QMetaObject::invokeMethod(&server, [&] { server.start(); }, Qt::BlockingQueuedConnection);

    MonitorSession session;
    if (argc > 3)
        session.setInsertSlice(std::atoi(argv[3]));
    MonitorSettings settings;
    settings.server = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(server.port()));
    MainWindow window(&session, settings);
    window.resize(1400, 900);
    window.show();
    window.table()->sortByColumn(DownloadListModel::Speed, Qt::DescendingOrder); // order changes all the time
    window.findChild<QLineEdit *>()->setText(QStringLiteral("file-")); // a text filter that keeps every row
    window.sidebar()->setCurrentRow(1);                                 // "Downloading": a status filter
    qint64 events = 0;
    QObject::connect(&session.stream(), &EventStreamClient::eventReceived, [&] { ++events; });

    // The UI-thread probe: a 10 ms timer; how late it fires is how long the UI was busy.
    Lag lag;
    QElapsedTimer clock;
    qint64 expected = 0;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(10);
    QObject::connect(&probe, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed();
        if (expected)
            lag.samples.append(double(now - expected) / 1e6);
        expected = now + 10'000'000;
    });

    session.start();
    QElapsedTimer wait;
    wait.start();
    while (session.snapshotsLoaded() < 1 && wait.elapsed() < 20000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    std::printf("snapshot: %d downloads in %lld ms\n", session.model().rowCount(), wait.elapsed());

    // Phase 0: the same window with no events, for the machine's own noise (other processes
    // on a shared box delay timers too).
    clock.start();
    probe.start();
    QTimer::singleShot(2000, &app, &QApplication::quit);
    app.exec();
    probe.stop();
    std::printf("idle baseline (no events): timer lateness p50=%.2f ms p99=%.2f ms max=%.2f ms\n", lag.pct(50), lag.pct(99), lag.max());
    lag.samples.clear();
    expected = 0;

    // Phase 1: 10,000 updates/s.
    QMetaObject::invokeMethod(&server, [&] { server.startStreaming(); }, Qt::BlockingQueuedConnection);

    clock.start();
    probe.start();
    const double ui0 = threadCpuSeconds(), proc0 = processCpuSeconds();
    QElapsedTimer wall;
    wall.start();
    const qint64 events0 = events;
    QTimer::singleShot(seconds * 1000, &app, &QApplication::quit);
    app.exec();
    probe.stop();
    const double wallS = wall.nsecsElapsed() / 1e9;
    const double ui = threadCpuSeconds() - ui0;
    QMetaObject::invokeMethod(&server, [&] { server.stop(); }, Qt::BlockingQueuedConnection);
    const double proc = processCpuSeconds() - proc0;
    std::printf("feed: %lld events in %.1f s (%.0f/s, %.1f MB/s of SSE) over %d rows, sorted by speed, text + status filter, sidebar counts\n",
                events - events0, wallS, double(events - events0) / wallS, double(server.written) / wallS / 1e6,
                session.model().rowCount());
    std::printf("ui lag (10 ms timer lateness): p50=%.2f ms p99=%.2f ms max=%.2f ms (%lld samples)\n", lag.pct(50), lag.pct(99),
                lag.max(), qint64(lag.samples.size()));
    std::printf("cpu: ui thread %.1f%% of a core; client process %.1f%% (all threads but the server's; server thread %.1f%%)\n",
                100 * ui / wallS, 100 * (proc - server.cpuSeconds) / wallS, 100 * server.cpuSeconds / wallS);

    // Phase 2: the list grows to 5,000; a reload (F5) pages it and merges it into the rows.
    server.downloads = 5000;
    Lag reloadLag;
    expected = 0;
    lag.samples.clear();
    probe.start();
    QElapsedTimer reload;
    reload.start();
    const int before = session.snapshotsLoaded();
    session.reload();
    while (session.snapshotsLoaded() == before && reload.elapsed() < 30000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    const qint64 reloadMs = reload.elapsed();
    QElapsedTimer settle;
    settle.start();
    while (settle.elapsed() < 300)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    probe.stop();
    std::printf("reload: %d downloads in %lld ms (5 pages of REST over the socket, merged without reset), ui lag p99 %.1f ms max %.1f ms\n",
                session.model().rowCount(), reloadMs, lag.pct(99), lag.max());

    serverThread.quit();
    serverThread.wait();
    return 0;
}
