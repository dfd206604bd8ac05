// RedisHistoryReader: the Load call for each mode, and what a reply says — events in id order,
// trimmed ids and counts per channel, entries that are not events skipped, unusable replies
// refused with the words the log shows, floors. Replies are built by hand (RESP text read by
// hiredis' own reader, so the trees are exactly what the broker gets), and once read from a
// real redis-server after the Publish script wrote the streams.

#include "broker/redishistoryreader.h"

#include "redisprocess.h"
#include "respclient.h"

#include <hiredis/hiredis.h>

#include <QTest>

#include <memory>

using namespace Hermes;
using namespace Hermes::Test;

class tst_RedisHistoryReader : public QObject
{
    Q_OBJECT

private slots:
    void callForEachMode();
    void eventsInIdOrderWithTrimmedIdsAndCounts();
    void entriesThatAreNotEventsAreSkipped();
    void damageAndOrigin_data();
    void damageAndOrigin();
    void unusableRepliesAreRefused_data();
    void unusableRepliesAreRefused();
    void floors();
    void readsWhatThePublishScriptWrote();
};

using Mode = RedisHistoryReader::Mode;
using ReplyTree = std::unique_ptr<redisReply, void (*)(void *)>;

/// A reply tree from a description: QByteArray a bulk string, QVariantList an array, an
/// invalid QVariant nil, qint64 an integer, QString an error reply.
static QByteArray resp(const QVariant &value)
{
    switch (value.typeId()) {
    case QMetaType::QByteArray: {
        const QByteArray bytes = value.toByteArray();
        return '$' + QByteArray::number(bytes.size()) + "\r\n" + bytes + "\r\n";
    }
    case QMetaType::QVariantList: {
        const QVariantList list = value.toList();
        QByteArray out = '*' + QByteArray::number(list.size()) + "\r\n";
        for (const QVariant &v : list)
            out += resp(v);
        return out;
    }
    case QMetaType::LongLong:
        return ':' + QByteArray::number(value.toLongLong()) + "\r\n";
    case QMetaType::QString:
        return '-' + value.toString().toUtf8() + "\r\n";
    default:
        return "$-1\r\n";
    }
}

static ReplyTree tree(const QVariant &value)
{
    const QByteArray bytes = resp(value);
    redisReader *reader = redisReaderCreate();
    redisReaderFeed(reader, bytes.constData(), size_t(bytes.size()));
    void *reply = nullptr;
    if (redisReaderGetReply(reader, &reply) != REDIS_OK)
        reply = nullptr;
    redisReaderFree(reader);
    return ReplyTree(static_cast<redisReply *>(reply), freeReplyObject);
}

static QByteArray envelope(const char *type, int n)
{
    return QByteArray(R"({"type":")") + type + R"(","data":{"n":)" + QByteArray::number(n)
        + R"(},"timestamp":"2026-01-01T00:00:00.000Z"})";
}

static QVariantList entry(const char *position, const QVariantList &fields)
{
    return {QByteArray(position), fields};
}

static const QByteArray Epoch = "k3x9q2";

static QList<QByteArray> idsOf(const QList<Event> &events)
{
    QList<QByteArray> out;
    for (const Event &e : events)
        out.append(e.id.toByteArray());
    return out;
}

void tst_RedisHistoryReader::callForEachMode()
{
    const RedisKeyspace keys(QStringLiteral("hermes:"));
    const RedisHistoryReader reader(keys, 100);
    QCOMPARE(reader.readLimit(Mode::Tail), 100);
    // Streams are capped near their length, so twice that reads whatever is left of a gap.
    QCOMPARE(reader.readLimit(Mode::After), 1200);

    // A node that delivered nothing yet, of no epoch yet.
    const RedisScripts::Load first = reader.call(Mode::Tail, EventId(), 0);
    QCOMPARE(first.epoch, keys.epoch());
    QVERIFY(first.streams == keys.streams());
    QVERIFY(first.trimmed == keys.trimmedKeys());
    QCOMPARE(first.sequence, keys.sequence());
    QVERIFY(EventId::parseEpoch(first.candidateEpoch) != 0);
    QCOMPARE(first.count, 100);
    QVERIFY(first.mode == Mode::Tail);
    QCOMPARE(first.after, QByteArray("0-0"));
    QCOMPARE(first.callerEpoch, QByteArray("0"));

    const quint32 epoch = EventId::parseEpoch(Epoch);
    const RedisScripts::Load gap = reader.call(Mode::After, EventId(1700000000000, 4, epoch), epoch);
    QCOMPARE(gap.count, 1200);
    QVERIFY(gap.mode == Mode::After);
    QCOMPARE(gap.after, QByteArray("1700000000000-4"));
    QCOMPARE(gap.callerEpoch, Epoch);
}

void tst_RedisHistoryReader::eventsInIdOrderWithTrimmedIdsAndCounts()
{
    const RedisHistoryReader reader(RedisKeyspace(QStringLiteral("hermes:")), 100);
    // As the script answers a tail load: per stream the newest entries first.
    const ReplyTree reply = tree(QVariantList{
        Epoch,
        QVariantList{entry("20-0", {QByteArray("e"), envelope("d", 2)}),
                     entry("10-0", {QByteArray("e"), envelope("d", 1)})},
        QVariantList{entry("15-3", {QByteArray("e"), envelope("q", 1)})},
        QVariantList{},
        QVariantList{QByteArray(), QByteArray("9-0"), QByteArray()},
    });
    QVERIFY(reply);
    const Result<RedisHistoryReader::Loaded> loaded = reader.parse(reply.get());
    QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error().message));
    QCOMPARE(loaded->epoch, EventId::parseEpoch(Epoch));
    QCOMPARE(idsOf(loaded->events), (QList<QByteArray>{"k3x9q2-10-0", "k3x9q2-15-3", "k3x9q2-20-0"}));
    QVERIFY(loaded->events[0].channel == Channel::Downloads);
    QVERIFY(loaded->events[1].channel == Channel::Queue);
    QCOMPARE(loaded->events[1].envelopeJson(), envelope("q", 1));
    QCOMPARE(loaded->counts[Channel::Downloads], 2);
    QCOMPARE(loaded->counts[Channel::Queue], 1);
    QCOMPARE(loaded->counts[Channel::System], 0);
    QVERIFY(loaded->trimmed[Channel::Downloads].isNull());
    QCOMPARE(loaded->trimmed[Channel::Queue], EventId(9, 0, EventId::parseEpoch(Epoch)));
    QVERIFY(loaded->trimmed[Channel::System].isNull());
}

void tst_RedisHistoryReader::entriesThatAreNotEventsAreSkipped()
{
    const RedisHistoryReader reader(RedisKeyspace(QStringLiteral("hermes:")), 100);
    const ReplyTree reply = tree(QVariantList{
        Epoch,
        QVariantList{
            QByteArray("not an entry"),
            QVariantList{QByteArray("1-0")},                                   // no fields
            entry("2-0", {QByteArray("x"), QByteArray("y")}),                  // no envelope
            entry("3-0", {QByteArray("e"), QByteArray("not json")}),           // not an envelope
            QVariantList{QByteArray("4-0"), QVariant()},                       // fields nil
            entry("5-0", {QByteArray("f"), QByteArray("v"), QByteArray("e"), envelope("d", 5)}),
            entry("6-0", {QByteArray("e")}),                                   // a field without value
        },
        QVariant(),                                                            // not a list of entries
        QVariantList{entry("7-0", {QByteArray("e"), envelope("s", 7)})},
        QByteArray("not a list of trimmed ids"),
    });
    QVERIFY(reply);
    const Result<RedisHistoryReader::Loaded> loaded = reader.parse(reply.get());
    QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error().message));
    QCOMPARE(idsOf(loaded->events), (QList<QByteArray>{"k3x9q2-5-0", "k3x9q2-7-0"}));
    // Every entry with an id counts, event or not: a full page of them must read on past it.
    QCOMPARE(loaded->counts[Channel::Downloads], 5);
    QCOMPARE(loaded->oldestRead[Channel::Downloads], EventId(2, 0, loaded->epoch));
    QCOMPARE(loaded->newestRead[Channel::Downloads], EventId(6, 0, loaded->epoch));
    QCOMPARE(loaded->unreadable, 4);
    QCOMPARE(loaded->counts[Channel::Queue], 0);
    QCOMPARE(loaded->counts[Channel::System], 1);
    QVERIFY(loaded->trimmed == ChannelFloors{});
}

void tst_RedisHistoryReader::damageAndOrigin_data()
{
    QTest::addColumn<QByteArray>("origin");
    QTest::addColumn<QByteArray>("epoch");    // the origin's epoch ('': none)
    QTest::addColumn<QByteArray>("position"); // the origin's position ('': null)
    QTest::addColumn<QByteArray>("queue");    // its queue channel's id ('': null)
    QTest::newRow("whole") << QByteArray("a1b2c3\n50-1\n\n40-0\n") << QByteArray("a1b2c3")
                           << QByteArray("50-1") << QByteArray("40-0");
    // A channel above the position (another node's numbers): the position rises to it.
    QTest::newRow("channel above") << QByteArray("a1b2c3\n0-0\n\n40-0\n") << QByteArray("a1b2c3")
                                   << QByteArray("40-0") << QByteArray("40-0");
    QTest::newRow("nothing delivered") << QByteArray("a1b2c3\n0-0\n\n\n") << QByteArray("a1b2c3")
                                       << QByteArray() << QByteArray();
    QTest::newRow("none") << QByteArray() << QByteArray() << QByteArray() << QByteArray();
    QTest::newRow("too few lines") << QByteArray("a1b2c3\n50-1") << QByteArray() << QByteArray() << QByteArray();
    QTest::newRow("bad epoch") << QByteArray("A!\n50-1\n\n\n") << QByteArray() << QByteArray() << QByteArray();
}

void tst_RedisHistoryReader::damageAndOrigin()
{
    // The Load script's last two elements: why the check failed, and the epoch the current
    // one replaced with the finding node's mark of it.
    QFETCH(QByteArray, origin);
    QFETCH(QByteArray, epoch);
    QFETCH(QByteArray, position);
    QFETCH(QByteArray, queue);
    const RedisHistoryReader reader(RedisKeyspace(QStringLiteral("hermes:")), 100);
    const ReplyTree reply = tree(QVariantList{Epoch, QVariantList{}, QVariantList{}, QVariantList{},
                                              QVariantList{}, QByteArray("the sequence is below"), origin});
    QVERIFY(reply);
    const Result<RedisHistoryReader::Loaded> loaded = reader.parse(reply.get());
    QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error().message));
    QCOMPARE(loaded->damage, QStringLiteral("the sequence is below"));
    const quint32 e = EventId::parseEpoch(epoch);
    QCOMPARE(loaded->origin.epoch, e);
    QCOMPARE(loaded->origin.position, position.isEmpty() ? EventId() : *EventId::fromPosition(position, e));
    QCOMPARE(loaded->origin.channels[Channel::Queue],
             queue.isEmpty() ? EventId() : *EventId::fromPosition(queue, e));
    QVERIFY(loaded->origin.channels[Channel::Downloads].isNull());
}

void tst_RedisHistoryReader::unusableRepliesAreRefused_data()
{
    QTest::addColumn<QVariant>("reply");
    QTest::addColumn<QString>("message");
    QTest::newRow("error") << QVariant(QStringLiteral("ERR boom"))
                           << QStringLiteral("cannot read the streams: ERR boom");
    QTest::newRow("four elements") << QVariant(QVariantList{Epoch, QVariantList{}, QVariantList{}, QVariantList{}})
                                   << QStringLiteral("cannot read the streams: ");
    QTest::newRow("integer") << QVariant(qint64(1)) << QStringLiteral("cannot read the streams: ");
    QTest::newRow("nil") << QVariant() << QStringLiteral("cannot read the streams: ");
    QTest::newRow("no epoch") << QVariant(QVariantList{QByteArray(), QVariantList{}, QVariantList{},
                                                       QVariantList{}, QVariantList{}})
                              << QStringLiteral("p:epoch holds no valid epoch");
    QTest::newRow("bad epoch") << QVariant(QVariantList{QByteArray("K3X!"), QVariantList{}, QVariantList{},
                                                        QVariantList{}, QVariantList{}})
                               << QStringLiteral("p:epoch holds no valid epoch");
}

void tst_RedisHistoryReader::unusableRepliesAreRefused()
{
    QFETCH(QVariant, reply);
    QFETCH(QString, message);
    const RedisHistoryReader reader(RedisKeyspace(QStringLiteral("p:")), 100);
    const ReplyTree tree = ::tree(reply);
    QVERIFY(tree);
    const Result<RedisHistoryReader::Loaded> loaded = reader.parse(tree.get());
    QVERIFY(!loaded);
    QCOMPARE(loaded.error().kind, Error::Kind::Unavailable);
    QCOMPARE(loaded.error().message, message);
}

void tst_RedisHistoryReader::floors()
{
    const quint32 epoch = EventId::parseEpoch(Epoch);
    RedisHistoryReader::Loaded loaded;
    loaded.epoch = epoch;
    auto add = [&](Channel channel, quint64 ms) {
        Event e;
        e.channel = channel;
        e.id = EventId(ms, 0, epoch);
        loaded.events.append(e);
        ++loaded.counts[channel.index()];
        if (loaded.oldestRead[size_t(channel.index())].isNull())
            loaded.oldestRead[size_t(channel.index())] = e.id;
        loaded.newestRead[size_t(channel.index())] = e.id;
    };
    add(Channel::Downloads, 10);
    add(Channel::Queue, 11);
    add(Channel::Downloads, 12);
    add(Channel::Queue, 13);
    loaded.trimmed[Channel::Queue] = EventId(5, 0, epoch);
    loaded.trimmed[Channel::System] = EventId(3, 0, epoch);

    // Read below the limit: all there is; the floors are what trimming removed.
    ChannelFloors floors = loaded.floors(3);
    QVERIFY(floors[Channel::Downloads].isNull());
    QCOMPARE(floors[Channel::Queue], EventId(5, 0, epoch));
    QCOMPARE(floors[Channel::System], EventId(3, 0, epoch));

    // Read up to the limit: older entries may be there, but not in this history.
    floors = loaded.floors(2);
    QCOMPARE(floors[Channel::Downloads], EventId(10, 0, epoch).previous());
    QCOMPARE(floors[Channel::Queue], EventId(11, 0, epoch).previous());
    QCOMPARE(floors[Channel::System], EventId(3, 0, epoch));
}

void tst_RedisHistoryReader::readsWhatThePublishScriptWrote()
{
    RedisProcess redis;
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    RespClient client;
    QVERIFY(client.connectTo(redis.port()));
    const RedisKeyspace keys(QStringLiteral("hermes:"));
    const QByteArray candidate = EventId::epochText(EventId::randomEpoch());
    QList<QByteArray> published;
    for (int i = 0; i < 6; ++i) {
        const Channel channel = Channel::all()[size_t(i % Channel::Count)];
        const RedisScripts::Publish call{
            .stream = keys.stream(channel), .sequence = keys.sequence(), .epoch = keys.epoch(),
            .trimmed = keys.trimmed(channel), .streams = keys.streams(), .heads = keys.heads(),
            .config = keys.config(),
            .maxLength = 100, .envelope = envelope("t", i), .channel = channel.nameBytes(),
            .candidateEpoch = candidate, .eventsChannel = keys.eventsChannel(),
        };
        published.append(client.command(call.command()).toByteArray());
        QVERIFY(EventId::parse(published.last()));
    }

    // The broker's connection is asynchronous; hiredis' blocking one gives the same reply tree.
    const timeval timeout{5, 0};
    std::unique_ptr<redisContext, void (*)(redisContext *)> context(
        redisConnectWithTimeout("127.0.0.1", redis.port(), timeout), redisFree);
    QVERIFY(context && !context->err);
    QCOMPARE(redisSetTimeout(context.get(), timeout), REDIS_OK);
    const auto run = [&](const QList<QByteArray> &args) {
        std::vector<const char *> argv;
        std::vector<size_t> lengths;
        for (const QByteArray &a : args) {
            argv.push_back(a.constData());
            lengths.push_back(size_t(a.size()));
        }
        return ReplyTree(static_cast<redisReply *>(redisCommandArgv(context.get(), int(argv.size()),
                                                                    argv.data(), lengths.data())),
                         freeReplyObject);
    };

    const RedisHistoryReader reader(keys, 100);
    ReplyTree reply = run(reader.call(Mode::Tail, EventId(), 0).command());
    QVERIFY(reply);
    Result<RedisHistoryReader::Loaded> loaded = reader.parse(reply.get());
    QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error().message));
    QCOMPARE(EventId::epochText(loaded->epoch), candidate);
    QCOMPARE(idsOf(loaded->events), published);
    for (int i = 0; i < 6; ++i)
        QCOMPARE(loaded->events[i].envelopeJson(), envelope("t", i));
    QCOMPARE(loaded->counts[Channel::Downloads], 2);

    // After the second event, in its epoch: the four that followed.
    const auto second = *EventId::parse(published[1]);
    reply = run(reader.call(Mode::After, second, second.epoch()).command());
    QVERIFY(reply);
    loaded = reader.parse(reply.get());
    QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error().message));
    QCOMPARE(idsOf(loaded->events), published.mid(2));
}

QTEST_MAIN(tst_RedisHistoryReader)
#include "tst_redishistoryreader.moc"
