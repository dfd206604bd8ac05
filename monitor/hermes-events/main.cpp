// hermes-events: tails a Server-Sent Events stream on the terminal (for scripts and debugging).
// Works with any text/event-stream server; with hermes-server it resumes by Last-Event-ID.

#include "eventstreamclient.h"
#include "json.h"
#include "signalwatcher.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QMetaEnum>

#include <csignal>
#include <cstdio>

using namespace Hermes;

namespace {

constexpr int ExitUsage = 64;   // EX_USAGE
constexpr int ExitGaveUp = 1;
constexpr int ExitAuth = 2;

[[noreturn]] void usageError(const QString &message)
{
    std::fprintf(stderr, "hermes-events: %s\n(see hermes-events --help)\n", qPrintable(message));
    std::exit(ExitUsage);
}

void printLine(const QByteArray &line)
{
    std::fwrite(line.constData(), 1, size_t(line.size()), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout); // scripts read it line by line, as it happens
}

// `json` with every line break between tokens made a space, so it stays one line; empty when
// a string in it holds a raw control character: QJsonDocument accepts one, RFC 8259 (and
// jq) do not, so such data is no JSON to embed.
QByteArray oneLineJson(QByteArray json)
{
    bool inString = false;
    bool escaped = false;
    for (char &c : json) {
        if (inString) {
            if (uchar(c) < 0x20)
                return {};
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    return json;
}

// The jsonl "data" member: the event's data itself when it is a JSON object or array (so `jq
// .data.status` works without fromjson), else the data as a JSON string (plain text, and a
// bare number, string or literal, which would be ambiguous with text). Embedded verbatim, not
// re-serialised, so numbers keep their every digit and members their order.
QByteArray jsonlData(const QString &data, bool raw)
{
    const QByteArray utf8 = data.toUtf8();
    if (!raw) {
        const QByteArray trimmed = utf8.trimmed();
        if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
            QJsonParseError error{};
            QJsonDocument::fromJson(trimmed, &error);
            if (error.error == QJsonParseError::NoError) {
                if (QByteArray line = oneLineJson(trimmed); !line.isEmpty())
                    return line;
            }
        }
    }
    return Json::quote(data);
}

int parseCount(const QCommandLineParser &parser, const QString &name, int min)
{
    bool ok = false;
    const int value = parser.value(name).toInt(&ok);
    if (!ok || value < min)
        usageError(QStringLiteral("--%1 must be a whole number ≥ %2, not \"%3\"")
                       .arg(name).arg(min).arg(parser.value(name)));
    return value;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("hermes-events"));
    QCoreApplication::setApplicationVersion(QStringLiteral(HERMES_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Tails a Server-Sent Events stream. Events go to stdout, logs to stderr.\n"
        "Exit codes: 0 done (--max-events reached, stream closed with --no-reconnect, or a "
        "signal), 1 connection failed, protocol error with --no-reconnect, or gave up after "
        "--max-attempts, 2 authentication failed, 64 bad arguments (EX_USAGE, an unknown "
        "option included)."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions({
        {QStringLiteral("url"), QStringLiteral("The stream URL (required)."), QStringLiteral("url")},
        {QStringLiteral("api-key"), QStringLiteral("API key, sent as Authorization: Bearer (or set "
                                                   "HERMES_API_KEY)."), QStringLiteral("key")},
        {QStringLiteral("api-key-file"), QStringLiteral("Read the API key from this file."),
         QStringLiteral("file")},
        {QStringLiteral("last-event-id"), QStringLiteral("Resume after this event id."),
         QStringLiteral("id")},
        {QStringLiteral("max-events"), QStringLiteral("Exit 0 after this many events (every "
                                                      "dispatched event counts, heartbeats and "
                                                      "connected included); 0 = unlimited."),
         QStringLiteral("n"), QStringLiteral("0")},
        {QStringLiteral("no-reconnect"), QStringLiteral("Exit when the stream ends instead of "
                                                        "reconnecting.")},
        {QStringLiteral("format"), QStringLiteral("text or jsonl (one {\"type\",\"data\",\"id\"} "
                                                  "object per event; \"data\" is the event's "
                                                  "data itself when that is a JSON object or "
                                                  "array, else a JSON string)."),
         QStringLiteral("format"), QStringLiteral("text")},
        {QStringLiteral("raw-data"), QStringLiteral("With jsonl, \"data\" is always the data as a "
                                                    "JSON string, even when it is JSON.")},
        {QStringLiteral("emit-retry"), QStringLiteral("With jsonl, also print {\"retry\":<ms>} "
                                                      "for every retry: field.")},
        {QStringLiteral("heartbeat-interval"), QStringLiteral("The heartbeat interval in seconds to "
                                                              "assume until the server announces "
                                                              "its own (Hermes does, in its "
                                                              "connected event); no bytes for 2× "
                                                              "it means the connection is dead."),
         QStringLiteral("s"), QStringLiteral("30")},
        {QStringLiteral("max-attempts"), QStringLiteral("Reconnect attempts before giving up; 0 = "
                                                        "never (after 10 fast attempts it keeps "
                                                        "trying every --max-delay)."),
         QStringLiteral("n"), QStringLiteral("0")},
        {QStringLiteral("max-delay"), QStringLiteral("Longest wait between attempts, seconds."),
         QStringLiteral("s"), QStringLiteral("30")},
        {QStringLiteral("max-event-bytes"), QStringLiteral("Largest line or event accepted; a "
                                                           "larger one is a protocol error that "
                                                           "ends the connection (and counts as a "
                                                           "reconnect attempt)."),
         QStringLiteral("bytes"), QString::number(SseParser::DefaultLimit)},
        {QStringLiteral("verbose"), QStringLiteral("Log connection state changes to stderr.")},
    });
    // parse(), not process(): process() exits 1 on an unknown option, and every usage error
    // exits 64 (EX_USAGE, sysexits.h) so that scripts tell a typo from a failed connection.
    if (!parser.parse(QCoreApplication::arguments()))
        usageError(parser.errorText());
    if (parser.isSet(QStringLiteral("help")))
        parser.showHelp(0);
    if (parser.isSet(QStringLiteral("version")))
        parser.showVersion();
    if (!parser.positionalArguments().isEmpty())
        usageError(QStringLiteral("unexpected argument \"%1\"").arg(parser.positionalArguments().first()));

    const QUrl url(parser.value(QStringLiteral("url")), QUrl::StrictMode);
    if (!parser.isSet(QStringLiteral("url")))
        usageError(QStringLiteral("--url is required"));
    if (!url.isValid() || (url.scheme() != u"http" && url.scheme() != u"https") || url.host().isEmpty())
        usageError(QStringLiteral("--url must be an http:// or https:// URL, not \"%1\"")
                       .arg(parser.value(QStringLiteral("url"))));
    const QString format = parser.value(QStringLiteral("format"));
    if (format != u"text" && format != u"jsonl")
        usageError(QStringLiteral("--format must be text or jsonl, not \"%1\"").arg(format));
    const bool jsonl = format == u"jsonl";
    const bool rawData = parser.isSet(QStringLiteral("raw-data"));
    const int maxEvents = parseCount(parser, QStringLiteral("max-events"), 0);
    const int heartbeat = parseCount(parser, QStringLiteral("heartbeat-interval"), 1);
    const int maxAttempts = parseCount(parser, QStringLiteral("max-attempts"), 0);
    const int maxDelay = parseCount(parser, QStringLiteral("max-delay"), 1);
    const int maxEventBytes = parseCount(parser, QStringLiteral("max-event-bytes"), 64);
    const bool verbose = parser.isSet(QStringLiteral("verbose"));

    QByteArray apiKey = qgetenv("HERMES_API_KEY");
    if (parser.isSet(QStringLiteral("api-key")))
        apiKey = parser.value(QStringLiteral("api-key")).toUtf8();
    if (parser.isSet(QStringLiteral("api-key-file"))) {
        QFile file(parser.value(QStringLiteral("api-key-file")));
        if (!file.open(QIODevice::ReadOnly))
            usageError(QStringLiteral("cannot read the API key file %1: %2")
                           .arg(file.fileName(), file.errorString()));
        apiKey = file.readLine().trimmed();
        if (apiKey.isEmpty())
            usageError(QStringLiteral("the API key file %1 is empty").arg(file.fileName()));
    }

    EventStreamClient client;
    client.setUrl(url);
    client.setApiKey(apiKey);
    client.setLastEventId(parser.value(QStringLiteral("last-event-id")));
    client.setReconnectEnabled(!parser.isSet(QStringLiteral("no-reconnect")));
    client.setHeartbeatIntervalMs(heartbeat * 1000);
    client.backoff().setMaxAttempts(maxAttempts);
    client.backoff().setCapMs(maxDelay * 1000);
    client.setMaxBufferBytes(maxEventBytes);

    int count = 0;
    int exitCode = 0;
    bool streamEnded = false;
    QObject::connect(&client, &EventStreamClient::eventReceived, &app,
                     [&](const SseParser::Event &event) {
        if (maxEvents > 0 && count >= maxEvents)
            return;
        if (jsonl) {
            printLine("{\"type\":" + Json::quote(event.type) + ",\"data\":" + jsonlData(event.data, rawData)
                      + ",\"id\":" + Json::quote(event.lastEventId) + '}');
        } else {
            const QString id = event.lastEventId.isEmpty() ? QString() : QStringLiteral("[") + event.lastEventId + QStringLiteral("] ");
            printLine((id + event.type + QStringLiteral(": ") + event.data).toUtf8());
        }
        if (maxEvents > 0 && ++count >= maxEvents) {
            client.close();
            QCoreApplication::exit(0);
        }
    });
    if (jsonl && parser.isSet(QStringLiteral("emit-retry"))) {
        QObject::connect(&client, &EventStreamClient::retryReceived, &app, [](int ms) {
            printLine("{\"retry\":" + QByteArray::number(ms) + '}');
        });
    }
    QObject::connect(&client, &EventStreamClient::errorOccurred, &app, [](const QString &message) {
        std::fprintf(stderr, "hermes-events: %s\n", qPrintable(message));
    });
    QObject::connect(&client, &EventStreamClient::authenticationFailed, &app, [&] {
        exitCode = ExitAuth;
    });
    QObject::connect(&client, &EventStreamClient::streamEnded, &app, [&] { streamEnded = true; });
    QObject::connect(&client, &EventStreamClient::stateChanged, &app,
                     [&](EventStreamClient::State state) {
        if (verbose) {
            // The state's name in lower case: disconnected, connecting, connected, reconnecting.
            QString line = QString::fromLatin1(QMetaEnum::fromType<EventStreamClient::State>().valueToKey(int(state))).toLower();
            if (state == EventStreamClient::State::Reconnecting)
                line += client.maxAttempts() > 0
                    ? QStringLiteral(" (attempt %1 of %2, in %3 ms)")
                          .arg(client.attempt()).arg(client.maxAttempts()).arg(client.nextDelayMs())
                    : QStringLiteral(" (attempt %1, in %2 ms)").arg(client.attempt()).arg(client.nextDelayMs());
            std::fprintf(stderr, "hermes-events: %s\n", qPrintable(line));
        }
        if (state != EventStreamClient::State::Disconnected)
            return;
        // Disconnected without being asked: the server closed the stream under --no-reconnect
        // (success), or the connection failed, or reconnecting gave up.
        if (exitCode == 0 && !(streamEnded && parser.isSet(QStringLiteral("no-reconnect"))))
            exitCode = ExitGaveUp;
        QCoreApplication::exit(exitCode);
    });

    SignalWatcher signalWatcher({SIGINT, SIGTERM});
    QObject::connect(&signalWatcher, &SignalWatcher::signalReceived, &app, [&] {
        client.close();
        QCoreApplication::exit(0);
    });

    client.open();
    return app.exec();
}
