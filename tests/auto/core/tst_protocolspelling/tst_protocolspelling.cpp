// "Define each thing once": no source file outside shared/protocol/ spells a word of the
// protocol's vocabulary — a channel, an event type, a download status or action, a queue
// action, a resync reason or an event style — as a string literal. They come from shared/protocol/, so the
// server and the clients cannot drift apart (README, "Architecture").
//
// The words are taken from the protocol itself, so a new one is checked as soon as it exists.
// A few words are also words of other vocabularies and cannot be told apart by looking at a
// literal; they are listed in `otherVocabularies` with the reason.

#include "protocol/channel.h"
#include "protocol/downloadstatus.h"
#include "protocol/vocabulary.h"
#include "protocol/wirenames.h"

#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

using namespace Hermes;

class tst_ProtocolSpelling : public QObject
{
    Q_OBJECT
private slots:
    void noProtocolWordOutsideTheProtocol();
};

template<typename Enum, std::size_t N>
static void addNames(QSet<QString> *out)
{
    for (Enum v : WireNames<Enum, N>::values())
        out->insert(wireName(v));
}

static QSet<QString> protocolWords()
{
    QSet<QString> words;
    for (Channel c : Channel::all()) {
        words.insert(c.name());
        words.insert(c.shortName());
    }
    addNames<EventType, 7>(&words);
    addNames<ResyncReason, 6>(&words);
    addNames<QueueAction, 4>(&words);
    addNames<NotificationType, 3>(&words);
    addNames<EventStyle, 2>(&words);
    addNames<DownloadStatus, DownloadStatusCount>(&words);
    addNames<DownloadAction, DownloadActionCount>(&words);
    addNames<DownloadPhase, DownloadPhaseCount>(&words);
    return words;
}

// Words the protocol shares with other vocabularies: a literal of them says nothing about the
// protocol. (Uses of them as protocol words are replaced all the same; this test cannot see
// them.)
static const QSet<QString> otherVocabularies{
    QStringLiteral("error"),   // the JSON error body's member, log levels (also a notification type)
    QStringLiteral("warning"), // log levels (also a notification type)
    QStringLiteral("info"),    // log levels (also a notification type)
    QStringLiteral("message"), // the JSON error body's member, SSE's default event type
    QStringLiteral("retry"),   // SSE's retry: field (WHATWG), --retry of HERMES_SSE_RETRY
};

// A word in a file where it means something else, with why.
static const QSet<QPair<QString, QString>> elsewhere{
    // the path segment of the endpoint /api/v1/events/queue
    {QStringLiteral("server/http/eventroutes.cpp"), QStringLiteral("queue")},
    // the default download directory's name, <data dir>/downloads
    {QStringLiteral("server/settings/serversettings.cpp"), QStringLiteral("downloads")},
    // the object name of the monitor's Queue toolbar, kept in the users' saved window state
    {QStringLiteral("monitor/app/mainwindow.cpp"), QStringLiteral("queue")},
};

void tst_ProtocolSpelling::noProtocolWordOutsideTheProtocol()
{
    QSet<QString> words = protocolWords();
    QVERIFY(words.size() > 30);
    words -= otherVocabularies;
    // A string literal, with an optional u/u8/L prefix: "…" whose content is exactly a word.
    // (Not a raw string literal: moc cannot read one with a quote inside.)
    static const QRegularExpression literal(QStringLiteral("(?:\\bu8|\\bu|\\bL)?\"((?:[^\"\\\\\\n]|\\\\.)*)\""));
    const QString root = QStringLiteral(HERMES_SOURCE_DIR);
    QStringList problems;
    int files = 0;
    for (const char *part : {"server", "monitor", "shared"}) {
        QDirIterator it(root + u'/' + QLatin1StringView(part), {QStringLiteral("*.cpp"), QStringLiteral("*.h")},
                        QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString path = it.next();
            const QString relative = path.mid(root.size() + 1);
            if (relative.startsWith(u"shared/protocol/"))
                continue;
            QFile file(path);
            QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(path));
            ++files;
            const QStringList lines = QString::fromUtf8(file.readAll()).split(u'\n');
            for (int n = 0; n < lines.size(); ++n) {
                const QString &line = lines.at(n);
                if (line.trimmed().startsWith(u"//") || line.trimmed().startsWith(u"*"))
                    continue; // comments explain the protocol in its own words
                auto match = literal.globalMatch(line);
                while (match.hasNext()) {
                    const QString text = match.next().captured(1);
                    if (words.contains(text) && !elsewhere.contains({relative, text}))
                        problems << QStringLiteral("%1:%2: \"%3\"").arg(relative).arg(n + 1).arg(text);
                }
            }
        }
    }
    QVERIFY(files > 50);
    for (const QString &problem : std::as_const(problems))
        qWarning().noquote() << problem;
    QVERIFY2(problems.isEmpty(), qPrintable(QStringLiteral("%1 protocol word(s) spelled outside shared/protocol/ "
                                                          "(see above; use its types)").arg(problems.size())));
}

QTEST_MAIN(tst_ProtocolSpelling)
#include "tst_protocolspelling.moc"
