// monitorscreenshots: the README's pictures of hermes-monitor, taken from the real thing — a
// real hermes-server downloading from a local file server (some fast, some throttled, one
// missing), the monitor connected to it. Run it under Xvfb (scripts/monitor-screenshots.sh);
// it writes into the directory given (docs/). With --layout it takes the layout pictures
// instead: the window at 900 × 600 and 1600 × 1000, in English and in German
// (monitor-<lang>-<width>x<height>.png), a row selected so that the details pane shows.

#include "adddialog.h"
#include "connectionindicator.h"
#include "fileserver.h"
#include "mainwindow.h"
#include "serverprocess.h"
#include "testutil.h"

#include <QApplication>
#include <QDir>
#include <QRegularExpression>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLibraryInfo>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableView>
#include <QTest>
#include <QTranslator>

#include <cstdio>

using namespace Hermes;
using namespace Hermes::Test;

static void wait(int ms)
{
    QTest::qWait(ms);
}

static bool save(QWidget *w, const QString &path)
{
    const bool ok = w->grab().save(path);
    std::printf("%s %s\n", ok ? "wrote" : "could not write", qPrintable(path));
    return ok;
}

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true);
    QApplication::setApplicationVersion(QStringLiteral("0.1.0"));
    const QStringList args = QApplication::arguments().mid(1);
    const bool layoutOnly = args.contains(QStringLiteral("--layout"));
    const QStringList dirs = args.filter(QRegularExpression(QStringLiteral("^[^-]")));
    const QDir out(dirs.isEmpty() ? QStringLiteral("docs") : dirs.first());

    FileServer files;
    struct Item
    {
        const char *name;
        qint64 size;
        qint64 rate;
        int priority;
    };
    const QList<Item> items{
        {"debian-12.5.0-amd64-netinst.iso", 2 * 1024 * 1024, 0, 0},
        {"ubuntu-24.04-desktop-amd64.iso", 48 * 1024 * 1024, 900 * 1024, 5},
        {"fedora-workstation-40.iso", 40 * 1024 * 1024, 600 * 1024, 0},
        {"archlinux-2024.06.01-x86_64.iso", 30 * 1024 * 1024, 350 * 1024, 0},
        {"linuxmint-21.3-cinnamon-64bit.iso", 30 * 1024 * 1024, 200 * 1024, 0},
        {"openSUSE-Tumbleweed-DVD-x86_64.iso", 30 * 1024 * 1024, 200 * 1024, -5},
        {"alpine-standard-3.20.0-x86_64.iso", 1024 * 1024, 0, 0},
        {"kali-linux-2024.2-installer.iso", 30 * 1024 * 1024, 100 * 1024, 0},
    };
    for (const Item &i : items) {
        FileServer::File f(FileServer::makeContent(i.size));
        f.bytesPerSecond = i.rate;
        files.addFile("/" + QByteArray(i.name), f);
    }
    ServerProcess server;
    if (!server.start(QProcessEnvironment(), {QStringLiteral("--max-concurrent-downloads"), QStringLiteral("3")})) {
        std::fprintf(stderr, "hermes-server did not start: %s\n", qPrintable(server.errorString()));
        return 1;
    }
    const QList<QPair<QByteArray, QByteArray>> auth{{"Authorization", QByteArray("Bearer ") + ServerProcess::ApiKey}};
    QStringList ids;
    auto add = [&](const QString &url, int priority) {
        const HttpReply r = httpRequest(server.port(), "POST", "/api/v1/downloads", auth,
                                        QJsonDocument(QJsonObject{{"url", url}, {"priority", priority}}).toJson());
        ids.append(QJsonDocument::fromJson(r.body).object().value("id").toString());
    };
    for (const Item &i : items)
        add(files.url("/" + QByteArray(i.name)), i.priority);
    add(files.url("/ghost-image-1.0.iso"), 0); // 404: a failed download

    if (layoutOnly) {
        // More rows than the window shows, so that the table's height can be seen.
        FileServer::File mirror(FileServer::makeContent(20 * 1024 * 1024)); // made once: slow under ASan
        mirror.bytesPerSecond = 50 * 1024;
        for (int i = 0; i < 24; ++i) {
            const FileServer::File &f = mirror;
            const QByteArray path = "/mirror-" + QByteArray::number(i + 1) + "-" + items[2 + i % 6].name;
            files.addFile(path, f);
            add(files.url(path), 0);
        }
        httpRequest(server.port(), "POST", "/api/v1/downloads/" + ids[7].toUtf8() + "/pause", auth);
        bool ok = true;
        for (const bool german : {false, true}) {
            QTranslator qt, hermes;
            if (german) {
                QLocale::setDefault(QLocale(QLocale::German, QLocale::Germany));
                if (qt.load(QLocale(), QStringLiteral("qtbase"), QStringLiteral("_"), QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
                    QApplication::installTranslator(&qt);
                if (hermes.load(QStringLiteral(HERMES_MONITOR_QM)))
                    QApplication::installTranslator(&hermes);
            }
            for (const QSize size : {QSize(900, 600), QSize(1600, 1000)}) {
                QSettings().clear(); // each picture as on a first start
                MonitorSession session;
                MonitorSettings settings;
                settings.server = QUrl(server.baseUrl());
                settings.apiKey = ServerProcess::ApiKey;
                MainWindow window(&session, settings);
                window.resize(size);
                window.show();
                session.start();
                wait(3500);
                window.select(ids[1]);
                wait(800);
                // Views hear of changed rows up to 50 ms later (coalesced): a grab in between
                // would paint the table's new figures beside the details pane's old ones.
                session.model().flushChanges();
                ok &= save(&window, out.filePath(QStringLiteral("monitor-%1-%2x%3.png")
                                                     .arg(german ? u"de" : u"en").arg(size.width()).arg(size.height())));
            }
            QApplication::removeTranslator(&qt);
            QApplication::removeTranslator(&hermes);
        }
        server.terminate();
        return ok ? 0 : 1;
    }

    MonitorSession session;
    MonitorSettings settings;
    settings.server = QUrl(server.baseUrl());
    settings.apiKey = ServerProcess::ApiKey;
    settings.backoffBaseMs = 2000;
    settings.backoffCapMs = 30000;
    MainWindow window(&session, settings);
    window.resize(1280, 760);
    window.show();
    session.start();
    wait(4000);
    httpRequest(server.port(), "POST", "/api/v1/downloads/" + ids[7].toUtf8() + "/pause", auth);
    wait(2500);
    window.select(ids[1]);
    wait(600);
    session.model().flushChanges(); // see the layout pictures
    bool ok = save(&window, out.filePath(QStringLiteral("monitor.png")));

    AddDialog *dialog = window.openAddDialog({QStringLiteral("https://cdimage.debian.org/debian-cd/current/amd64/iso-cd/debian-12.5.0-amd64-netinst.iso"),
                                              QStringLiteral("https://releases.ubuntu.com/24.04/ubuntu-24.04-live-server-amd64.iso"),
                                              QStringLiteral("https://download.fedoraproject.org/pub/fedora/linux/releases/40/Server/x86_64/iso/Fedora-Server-dvd-x86_64-40.iso")},
                                             false);
    dialog->show();
    wait(500);
    ok &= save(dialog, out.filePath(QStringLiteral("monitor-add.png")));
    dialog->close();

    // The indicator's three looks, with the status bar around it.
    ok &= save(window.statusBar(), out.filePath(QStringLiteral("indicator-connected.png")));
    server.kill();
    QTest::qWaitFor([&] { return window.indicator()->look() == ConnectionIndicator::Look::Reconnecting; }, 10000);
    wait(1200);
    ok &= save(window.statusBar(), out.filePath(QStringLiteral("indicator-reconnecting.png")));
    QProcessEnvironment otherKey;
    otherKey.insert(QStringLiteral("HERMES_API_KEYS"), QStringLiteral("a-different-key"));
    server.start(otherKey);
    session.stream().reconnectNow();
    QTest::qWaitFor([&] { return window.indicator()->look() == ConnectionIndicator::Look::Disconnected; }, 10000);
    wait(500);
    ok &= save(window.statusBar(), out.filePath(QStringLiteral("indicator-disconnected.png")));
    server.terminate();
    return ok ? 0 : 1;
}
