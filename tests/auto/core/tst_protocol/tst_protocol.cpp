// The protocol's vocabulary (shared/protocol/): every name spelled once, the download rules as
// one table, and the payloads round-trip through their JSON.

#include "protocol/channel.h"
#include "protocol/downloadstatus.h"
#include "protocol/payloads.h"
#include "protocol/vocabulary.h"
#include "protocol/wirenames.h"

#include <QJsonDocument>
#include <QSet>
#include <QTest>

using namespace Hermes;

class tst_Protocol : public QObject
{
    Q_OBJECT
private slots:
    void channels_data();
    void channels();
    void channelIdentities();
    void wireNamesRoundTrip();
    void downloadRules_data();
    void downloadRules();
    void downloadRulesAgreeWithHelpers();
    void progressEventRoundTrip();
    void progressEventIsLenient();
    void queueUpdateRoundTrip();
    void notificationRoundTrip();
    void downloadResourceRoundTrip();
    void streamEventsHaveTheirShape();
    void receivedEventInBothStyles();
};

void tst_Protocol::channels_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("channel");
    QTest::newRow("downloads") << "downloads" << "download:updates";
    QTest::newRow("queue") << "queue" << "queue:updates";
    QTest::newRow("system") << "system" << "system:notifications";
    QTest::newRow("full name") << "queue:updates" << "queue:updates";
    QTest::newRow("unknown") << "other" << "";
    QTest::newRow("case") << "Queue" << "";
}

void tst_Protocol::channels()
{
    QFETCH(QString, name);
    QFETCH(QString, channel);
    const auto parsed = Channel::fromAnyName(name);
    QCOMPARE(parsed ? QString(parsed->name()) : QString(), channel);
    QCOMPARE(Channel::fromName(channel).has_value(), !channel.isEmpty());
}

void tst_Protocol::channelIdentities()
{
    Channel::Mask all = 0;
    QSet<QString> names;
    for (Channel c : Channel::all()) {
        QCOMPARE(Channel::fromIndex(c.index())->id(), c.id());
        QCOMPARE(Channel::fromName(QString(c.name()))->id(), c.id());
        QCOMPARE(Channel::fromAnyName(QString(c.shortName()))->id(), c.id());
        QCOMPARE(c.bit(), Channel::bitOf(c.id()));
        QVERIFY(c.isIn(c.bit()));
        QVERIFY(!(all & c.bit())); // one bit each
        all |= c.bit();
        names.insert(c.name());
        QCOMPARE(QString::fromLatin1(c.nameBytes()), QString(c.name()));
    }
    QCOMPARE(all, Channel::AllMask);
    QCOMPARE(names.size(), Channel::Count);
    QVERIFY(!Channel::fromIndex(Channel::Count));
    QVERIFY(!Channel::fromIndex(-1));
}

template<typename Enum, std::size_t N>
static void checkRoundTrip(const std::array<Enum, N> &values)
{
    QSet<QString> seen;
    for (Enum v : values) {
        const QString name = wireName(v);
        QVERIFY(!name.isEmpty());
        QVERIFY2(!seen.contains(name), qPrintable(name));
        seen.insert(name);
        QCOMPARE(fromWire<Enum>(name), std::optional<Enum>(v));
        QVERIFY(!fromWire<Enum>(name.toUpper() + u'x'));
    }
}

void tst_Protocol::wireNamesRoundTrip()
{
    checkRoundTrip(WireNames<EventType, 7>::values());
    checkRoundTrip(WireNames<ResyncReason, 6>::values());
    checkRoundTrip(WireNames<QueueAction, 4>::values());
    checkRoundTrip(WireNames<NotificationType, 3>::values());
    checkRoundTrip(WireNames<EventStyle, 2>::values());
    checkRoundTrip(WireNames<DownloadStatus, DownloadStatusCount>::values());
    checkRoundTrip(WireNames<DownloadAction, DownloadActionCount>::values());
    // The names other programs rely on (the Python Hermes, its web app).
    QCOMPARE(wireName(EventType::DownloadProgress), QLatin1StringView("download_progress"));
    QCOMPARE(wireName(DownloadStatus::Cancelled), QLatin1StringView("cancelled"));
    QCOMPARE(wireName(ResyncReason::UnknownEventId), QLatin1StringView("unknown_event_id"));
    QVERIFY(!fromWire<EventType>(u""));
}

void tst_Protocol::downloadRules_data()
{
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("action");
    QTest::addColumn<QString>("to"); // empty: refused
    const char *rows[][3] = {
        {"pending", "pause", "paused"},       {"downloading", "pause", "paused"},
        {"processing", "pause", ""},          {"paused", "pause", ""},
        {"completed", "pause", ""},           {"paused", "resume", "pending"},
        {"pending", "resume", ""},            {"failed", "resume", ""},
        {"pending", "cancel", "cancelled"},   {"downloading", "cancel", "cancelled"},
        {"paused", "cancel", "cancelled"},    {"failed", "cancel", "cancelled"},
        {"processing", "cancel", ""},         {"completed", "cancel", ""},
        {"cancelled", "cancel", ""},          {"failed", "retry", "pending"},
        {"cancelled", "retry", "pending"},    {"completed", "retry", ""},
        {"downloading", "retry", ""},
    };
    for (const auto &row : rows)
        QTest::addRow("%s %s", row[1], row[0]) << row[0] << row[1] << row[2];
}

void tst_Protocol::downloadRules()
{
    QFETCH(QString, from);
    QFETCH(QString, action);
    QFETCH(QString, to);
    const auto after = DownloadRules::after(*fromWire<DownloadStatus>(from), *fromWire<DownloadAction>(action));
    QCOMPARE(after ? QString(wireName(*after)) : QString(), to);
}

void tst_Protocol::downloadRulesAgreeWithHelpers()
{
    for (DownloadAction a : allDownloadActions()) {
        const QList<DownloadStatus> from = DownloadRules::appliesTo(a);
        QVERIFY(!from.isEmpty());
        for (DownloadStatus s : allDownloadStatuses())
            QCOMPARE(from.contains(s), DownloadRules::allows(s, a));
    }
    for (DownloadStatus s : allDownloadStatuses()) {
        QCOMPARE(DownloadRules::canReorder(s), !DownloadRules::isFinished(s));
        QVERIFY(!(DownloadRules::isActive(s) && DownloadRules::isFinished(s)));
        // Nothing leads back into a running state by itself: actions only queue.
        for (DownloadAction a : allDownloadActions()) {
            if (const auto to = DownloadRules::after(s, a))
                QVERIFY(!DownloadRules::isActive(*to));
        }
    }
}

void tst_Protocol::progressEventRoundTrip()
{
    DownloadProgressEvent e;
    e.downloadId = QStringLiteral("d1");
    e.status = ReceivedStatus::of(DownloadStatus::Completed);
    DownloadProgressInfo p;
    p.percentage = 100;
    p.status = e.status;
    p.downloadedBytes = 2048;
    p.totalBytes = 2048;
    p.speed = 0;
    e.progress = p;
    e.errorMessage = QString();
    e.filename = QStringLiteral("a.iso");
    e.url = QStringLiteral("http://x/a.iso");
    e.attempts = 2;
    e.result = DownloadResult{QStringLiteral("http://x/a.iso"), QStringLiteral("a.iso"), 2048};
    const QJsonObject json = e.toJson();
    // The Python payload's shape: nulls where nothing is known.
    QVERIFY(json.value(QStringLiteral("error_message")).isNull());
    QVERIFY(json.value(QStringLiteral("progress")).toObject().value(QStringLiteral("eta")).isNull());
    QCOMPARE(json.value(QStringLiteral("result")).toObject().value(QStringLiteral("file_size")).toInteger(), 2048);
    const DownloadProgressEvent back = DownloadProgressEvent::fromJson(json);
    QCOMPARE(back.downloadId, e.downloadId);
    QCOMPARE(back.status->known, std::optional<DownloadStatus>(DownloadStatus::Completed));
    QCOMPARE(*back.progress->percentage, 100.0);
    QCOMPARE(*back.progress->downloadedBytes, 2048);
    QCOMPARE(*back.progress->totalBytes, 2048);
    QVERIFY(!back.progress->eta);
    QCOMPARE(*back.errorMessage, QString());
    QCOMPARE(*back.filename, QStringLiteral("a.iso"));
    QCOMPARE(*back.attempts, 2);
    QCOMPARE(back.result->fileSize, 2048);
    QCOMPARE(back.toJson(), json);
}

void tst_Protocol::progressEventIsLenient()
{
    // An older or foreign publisher: fields missing or of other types are absent, an unknown
    // status is kept as its word.
    const QJsonObject data = QJsonDocument::fromJson(
        R"({"download_id":"d2","status":"archiving","progress":{"percentage":"x","speed":5},"attempts":"3"})").object();
    const DownloadProgressEvent e = DownloadProgressEvent::fromJson(data);
    QCOMPARE(e.downloadId, QStringLiteral("d2"));
    QVERIFY(!e.status->known);
    QCOMPARE(e.status->text, QStringLiteral("archiving"));
    QVERIFY(!e.progress->percentage);
    QCOMPARE(e.progress->speed, 5.0);
    QVERIFY(!e.filename);
    QVERIFY(!e.errorMessage);
    QVERIFY(!e.attempts);
    QVERIFY(!e.result);
    QVERIFY(!DownloadProgressEvent::fromJson({}).progress);
    // A count that is not whole is no count: a client keeps the one it had.
    const DownloadProgressInfo fractional = DownloadProgressInfo::fromJson(
        QJsonDocument::fromJson(R"({"downloaded_bytes":12.5,"total_bytes":100})").object());
    QVERIFY(!fractional.downloadedBytes);
    QCOMPARE(fractional.totalBytes, std::optional<qint64>(100));
}

void tst_Protocol::queueUpdateRoundTrip()
{
    QueueUpdateEvent e;
    e.action = QueueAction::StatusChanged;
    e.downloadId = QStringLiteral("d3");
    e.status = ReceivedStatus::of(DownloadStatus::Paused);
    e.queueLength = 4;
    e.active = 1;
    e.priority = -2;
    e.position = 17;
    e.createdAt = QDateTime(QDate(2026, 12, 1), QTime(10, 0), Qt::UTC);
    const QJsonObject json = e.toJson();
    QCOMPARE(json.value(QStringLiteral("action")).toString(), QStringLiteral("status_changed"));
    QCOMPARE(json.value(QStringLiteral("created_at")).toString(), QStringLiteral("2026-12-01T10:00:00.000Z"));
    const QueueUpdateEvent back = QueueUpdateEvent::fromJson(json);
    QCOMPARE(back.action, std::optional<QueueAction>(QueueAction::StatusChanged));
    QCOMPARE(back.status->known, std::optional<DownloadStatus>(DownloadStatus::Paused));
    QCOMPARE(*back.priority, -2);
    QCOMPARE(*back.position, 17);
    QCOMPARE(back.createdAt, e.createdAt);
    QCOMPARE(back.toJson(), json);
    // The Python payload has neither priority nor created_at.
    const QueueUpdateEvent python = QueueUpdateEvent::fromJson(QJsonDocument::fromJson(
        R"({"action":"removed","download_id":"d4","status":"cancelled"})").object());
    QCOMPARE(python.action, std::optional<QueueAction>(QueueAction::Removed));
    QVERIFY(!python.priority);
    QVERIFY(!python.createdAt.isValid());
}

void tst_Protocol::notificationRoundTrip()
{
    SystemNotificationEvent e;
    e.notificationType = NotificationType::Warning;
    e.message = QStringLiteral("Disk almost full");
    QJsonObject json = e.toJson();
    QVERIFY(!json.contains(QStringLiteral("download_id")));
    QCOMPARE(SystemNotificationEvent::fromJson(json).notificationType, std::optional<NotificationType>(NotificationType::Warning));
    e.downloadId = QStringLiteral("d5");
    json = e.toJson();
    QCOMPARE(SystemNotificationEvent::fromJson(json).downloadId, QStringLiteral("d5"));
    QCOMPARE(SystemNotificationEvent::fromJson(json).toJson(), json);
}

void tst_Protocol::downloadResourceRoundTrip()
{
    DownloadResource d;
    d.id = QStringLiteral("d6");
    d.url = QStringLiteral("https://example.org/f.bin");
    d.filename = QStringLiteral("f.bin");
    d.status = ReceivedStatus::of(DownloadStatus::Downloading);
    d.priority = 3;
    d.position = 9;
    DownloadProgressInfo p;
    p.percentage = 12.5;
    p.status = d.status;
    p.downloadedBytes = 125;
    p.totalBytes = 1000;
    p.speed = 50;
    p.eta = 18;
    d.progress = p;
    d.downloadedBytes = 125;
    d.totalBytes = 1000;
    d.attempts = 1;
    d.createdAt = QDateTime(QDate(2026, 12, 2), QTime(8, 30), Qt::UTC);
    d.updatedAt = QStringLiteral("2026-12-02T08:31:00.000Z");
    const QJsonObject json = d.toJson();
    QCOMPARE(json.value(QStringLiteral("speed")).toDouble(), 50.0); // repeated at the top
    QCOMPARE(json.value(QStringLiteral("eta")).toInteger(), 18);
    QVERIFY(json.value(QStringLiteral("sha256")).isNull());
    QVERIFY(json.value(QStringLiteral("completed_at")).isNull());
    const DownloadResource back = DownloadResource::fromJson(json);
    QCOMPARE(back.toJson(), json);
    QCOMPARE(back.createdAt, d.createdAt);
    QVERIFY(!back.completedAt.isValid());
}

void tst_Protocol::streamEventsHaveTheirShape()
{
    const QJsonObject connected = ConnectedEvent{QStringLiteral("conn_1"), 30, QStringLiteral("t")}.toJson();
    QCOMPARE(connected.keys(), (QStringList{"connection_id", "heartbeat_interval", "timestamp"}));
    QCOMPARE(ConnectedEvent::heartbeatIntervalOf(connected), std::optional<double>(30));
    ResyncRequiredEvent resync{ResyncReason::HistoryReset, QString(), QStringLiteral("t")};
    QCOMPARE(resync.toJson().keys(), (QStringList{"reason", "timestamp"}));
    resync.lastEventId = QStringLiteral("abc");
    QCOMPARE(resync.toJson().value(QStringLiteral("reason")).toString(), QStringLiteral("history_reset"));
    QCOMPARE(resync.toJson().value(QStringLiteral("last_event_id")).toString(), QStringLiteral("abc"));
    QCOMPARE(HeartbeatEvent{QStringLiteral("t")}.toJson().keys(), QStringList{"timestamp"});
}

void tst_Protocol::receivedEventInBothStyles()
{
    const ReceivedEvent envelope = ReceivedEvent::decode(
        u"message", QStringLiteral(R"({"type":"queue_update","data":{"download_id":"d"},"timestamp":"T"})"));
    QCOMPARE(envelope.type, QStringLiteral("queue_update"));
    QCOMPARE(envelope.data.value(QStringLiteral("download_id")).toString(), QStringLiteral("d"));
    QCOMPARE(envelope.timestamp, QStringLiteral("T"));
    const ReceivedEvent named = ReceivedEvent::decode(
        u"queue_update", QStringLiteral(R"({"download_id":"d","timestamp":"T"})"));
    QCOMPARE(named.type, QStringLiteral("queue_update"));
    QCOMPARE(named.data.value(QStringLiteral("download_id")).toString(), QStringLiteral("d"));
    QCOMPARE(named.timestamp, QStringLiteral("T"));
    QVERIFY(ReceivedEvent::decode(u"message", QStringLiteral("not json")).type.isEmpty());
}

QTEST_MAIN(tst_Protocol)
#include "tst_protocol.moc"
