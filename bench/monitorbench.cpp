// monitorbench: is the monitor smooth with 1,000 downloads updating 10 times a second?
// Offscreen QTableView + filter proxy + progress delegate over DownloadListModel, fed 10,000
// progress updates per second for a few seconds. Prints how late a 10 ms timer ran (what a
// user feels as lag) and the busy share of the event loop. Asserts nothing.

#include "downloadfiltermodel.h"
#include "downloadlistmodel.h"
#include "progressdelegate.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QHeaderView>
#include <QJsonArray>
#include <QTableView>
#include <QTimer>

#include <algorithm>
#include <cstdio>

using namespace Hermes;

int main(int argc, char *argv[])
{
    qputenv("QT_QPA_PLATFORM", qgetenv("QT_QPA_PLATFORM").isEmpty() ? "offscreen" : qgetenv("QT_QPA_PLATFORM"));
    QApplication app(argc, argv);
    const int downloads = 1000, ratePerDownload = 10, seconds = 5;
    const int coalesceMs = argc > 1 ? std::atoi(argv[1]) : 50;

    DownloadListModel model;
    model.setCoalescingInterval(coalesceMs);
    QJsonArray rows;
    for (int i = 0; i < downloads; ++i)
        rows.append(QJsonObject{{QStringLiteral("id"), QString::number(i)},
                                {QStringLiteral("filename"), QStringLiteral("file-%1.iso").arg(i)},
                                {QStringLiteral("status"), QStringLiteral("downloading")},
                                {QStringLiteral("created_at"), QStringLiteral("2026-01-01T00:00:00.000Z")}});
    model.mergeSnapshot(rows);
    DownloadFilterModel proxy;
    proxy.setSourceModel(&model);
    QTableView view;
    view.setModel(&proxy);
    view.setItemDelegateForColumn(DownloadListModel::Progress, new ProgressDelegate(&view));
    view.setSortingEnabled(true);
    view.sortByColumn(DownloadListModel::Speed, Qt::DescendingOrder); // the worst case: order changes
    view.resize(1200, 800);
    view.show();

    // Updates arrive in bursts every 10 ms, as events from the stream would.
    qint64 applied = 0, busyNs = 0;
    int tick = 0;
    QTimer feed;
    feed.setInterval(10);
    QObject::connect(&feed, &QTimer::timeout, [&] {
        QElapsedTimer t;
        t.start();
        const int perTick = downloads * ratePerDownload / 100;
        for (int k = 0; k < perTick; ++k) {
            const int i = (tick * perTick + k) % downloads;
            const double pct = std::min(100.0, (tick * perTick + k) / double(downloads) * 0.5);
            model.applyProgress({{QStringLiteral("download_id"), QString::number(i)},
                                 {QStringLiteral("status"), QStringLiteral("downloading")},
                                 {QStringLiteral("progress"), QJsonObject{{QStringLiteral("percentage"), pct},
                                                                         {QStringLiteral("downloaded_bytes"), qint64(pct * 1e6)},
                                                                         {QStringLiteral("total_bytes"), qint64(1e8)},
                                                                         {QStringLiteral("speed"), double((i * 7919 + tick) % 100000)},
                                                                         {QStringLiteral("eta"), 100}}}},
                                QStringLiteral("2026-01-01T00:%1Z").arg(tick, 8, 10, QChar(u'0')));
            ++applied;
        }
        ++tick;
        busyNs += t.nsecsElapsed();
    });

    // The probe: a 10 ms timer; how late it fires is how long the UI was unresponsive.
    QList<double> lateness;
    QElapsedTimer clock;
    qint64 expected = 0;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(10);
    QObject::connect(&probe, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed();
        if (expected)
            lateness.append(double(now - expected) / 1e6);
        expected = now + 10'000'000;
    });

    QElapsedTimer wall;
    wall.start();
    clock.start();
    feed.start();
    probe.start();
    QTimer::singleShot(seconds * 1000, &app, &QApplication::quit);
    app.exec();
    std::sort(lateness.begin(), lateness.end());
    auto pct = [&](double p) { return lateness.isEmpty() ? 0.0 : lateness.at(std::min<qsizetype>(lateness.size() - 1, qsizetype(p / 100 * lateness.size()))); };
    std::printf("downloads=%d updates/s=%d coalesce_ms=%d applied=%lld in %.1f s\n", downloads,
                downloads * ratePerDownload, coalesceMs, applied, wall.elapsed() / 1000.0);
    std::printf("ui lag (10 ms timer lateness): p50=%.1f ms p99=%.1f ms max=%.1f ms\n", pct(50), pct(99),
                lateness.isEmpty() ? 0.0 : lateness.last());
    std::printf("model update cost: %.1f%% of one core (%.2f us per update)\n",
                100.0 * double(busyNs) / double(wall.nsecsElapsed()), double(busyNs) / 1000.0 / double(std::max<qint64>(1, applied)));
    return 0;
}
