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

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Hermes"));
    QApplication::setApplicationName(QStringLiteral("hermes-monitor"));
    QApplication::setApplicationVersion(QStringLiteral(HERMES_VERSION));
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
    parser.setApplicationDescription(QStringLiteral("Watches and controls a Hermes download queue."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption server(QStringLiteral("server"),
                                    QStringLiteral("Server URL (overrides the settings), e.g. http://127.0.0.1:8000."),
                                    QStringLiteral("url"));
    const QCommandLineOption keyFile(QStringLiteral("api-key-file"),
                                     QStringLiteral("Read the API key from this file (overrides the settings)."),
                                     QStringLiteral("file"));
    parser.addOption(server);
    parser.addOption(keyFile);
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
