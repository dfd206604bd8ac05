// hermes-monitor: the operator's desktop view of a hermes-server download queue.

#include "apikeyvault.h"
#include "mainwindow.h"
#include "monitorsession.h"
#include "monitorsettings.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFile>
#include <QLibraryInfo>
#include <QLocale>
#include <QMessageBox>
#include <QTranslator>

using namespace Hermes;

/// --help or --version among the arguments: answered without a display.
static bool onlyAsksForHelpOrVersion(int argc, char *argv[])
{
    for (int i = 1; i < argc; ++i) {
        const QByteArrayView arg(argv[i]);
        if (arg == "--help" || arg == "-h" || arg == "-?" || arg == "--help-all" || arg == "--version" || arg == "-v")
            return true;
    }
    return false;
}

static void addOptions(QCommandLineParser &parser, const QCommandLineOption &server, const QCommandLineOption &keyFile)
{
    parser.setApplicationDescription(QStringLiteral("Watches and controls a Hermes download queue."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption(server);
    parser.addOption(keyFile);
}

int main(int argc, char *argv[])
{
    QCoreApplication::setOrganizationName(QStringLiteral("Hermes"));
    QCoreApplication::setApplicationName(QStringLiteral("hermes-monitor"));
    QCoreApplication::setApplicationVersion(QStringLiteral(HERMES_VERSION));
    const QCommandLineOption server(QStringLiteral("server"),
                                    QStringLiteral("Server URL (overrides the settings), e.g. http://127.0.0.1:8000."),
                                    QStringLiteral("url"));
    const QCommandLineOption keyFile(QStringLiteral("api-key-file"),
                                     QStringLiteral("Read the API key from this file (overrides the settings)."),
                                     QStringLiteral("file"));
    if (onlyAsksForHelpOrVersion(argc, argv)) {
        // A QApplication needs a display (xcb aborts without one); printing the usage or the
        // version must work over ssh and in package checks, so a core application answers.
        QCoreApplication cli(argc, argv);
        QCommandLineParser parser;
        addOptions(parser, server, keyFile);
        // Qt's own GUI options (-platform, -style …) are unknown to a core application: they
        // do not stop the help or the version.
        parser.parse(cli.arguments());
        if (parser.isSet(QStringLiteral("help")) || parser.isSet(QStringLiteral("help-all")))
            parser.showHelp(0);
        parser.showVersion();
    }
    QApplication app(argc, argv);
    QApplication::setDesktopFileName(QStringLiteral("hermes-monitor"));

    // The monitor's words in the user's language (built in), and Qt's own dialogs' words when
    // Debian's qt6-translations-l10n is installed.
    QTranslator qtTranslator, translator;
    if (qtTranslator.load(QLocale(), QStringLiteral("qtbase"), QStringLiteral("_"),
                          QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        QApplication::installTranslator(&qtTranslator);
    if (translator.load(QLocale(), QStringLiteral("hermes-monitor"), QStringLiteral("_"), QStringLiteral(":/i18n")))
        QApplication::installTranslator(&translator);

    QCommandLineParser parser;
    addOptions(parser, server, keyFile);
    parser.process(app);

    MonitorSettings settings = MonitorSettings::load();
    if (parser.isSet(server)) {
        const QUrl url(parser.value(server), QUrl::StrictMode);
        if (!url.isValid() || (url.scheme() != u"http" && url.scheme() != u"https")) {
            std::fprintf(stderr, "hermes-monitor: --server must be an http(s) URL\n");
            return 64;
        }
        settings.server = url;
    }
    if (parser.isSet(keyFile)) {
        QFile f(parser.value(keyFile));
        if (!f.open(QIODevice::ReadOnly)) {
            std::fprintf(stderr, "hermes-monitor: cannot read %s: %s\n", qPrintable(f.fileName()),
                         qPrintable(f.errorString()));
            return 64;
        }
        settings.apiKey = f.readLine().trimmed();
    }

    MonitorSession session;
    if (parser.isSet(keyFile)) {
        MainWindow *window = new MainWindow(&session, settings);
        window->setAttribute(Qt::WA_DeleteOnClose);
        window->show();
        session.start();
        return app.exec();
    }
    // The key comes from the keyring (or its 0600 file) asynchronously: a keyring may ask the
    // user to unlock it, and the window must not freeze meanwhile.
    ApiKeyVault vault;
    vault.read([&](const QByteArray &key) {
        settings.apiKey = key;
        auto *window = new MainWindow(&session, settings);
        window->setAttribute(Qt::WA_DeleteOnClose);
        window->show();
        session.start();
    });
    return app.exec();
}
