// RedisHistoryReader: the Load call for each mode, and what a reply says — events in id order,
// trimmed ids and counts per channel, entries that are not events skipped, unusable replies
// refused with the words the log shows; a tail read in pages keeps the newest events that
// fit the history's bounds, with the floor below them. Replies are built by hand (RESP text read by
// hiredis' own reader, so the trees are exactly what the broker gets), and once read from a
// real redis-server after the Publish script wrote the streams.

#include "broker/redishistoryreader.h"
#include "broker/redistailread.h"

#include "redisprocess.h"
#include "broker/redisconnection.h"

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
    void oldestAndNewestByIdInEitherOrder();
    void tailReadKeepsTheNewestThatFit_data();
    void tailReadKeepsTheNewestThatFit();
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
    // The Load script's damage element (why the check failed) and its last one, the epoch the
    // current one replaced with the finding node's mark of it (after the streams' "more").
    QFETCH(QByteArray, origin);
    QFETCH(QByteArray, epoch);
    QFETCH(QByteArray, position);
    QFETCH(QByteArray, queue);
    const RedisHistoryReader reader(RedisKeyspace(QStringLiteral("hermes:")), 100);
    const ReplyTree reply = tree(QVariantList{Epoch, QVariantList{}, QVariantList{}, QVariantList{},
                                              QVariantList{}, QByteArray("the sequence is below"),
                                              QVariantList{QByteArray(), QByteArray(), QByteArray()}, origin});
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

void tst_RedisHistoryReader::oldestAndNewestByIdInEitherOrder()
{
    const RedisHistoryReader reader(RedisKeyspace(QStringLiteral("hermes:")), 100);
    // A tail arrives newest first, a gap oldest first: the oldest entry read is the lowest id.
    for (const bool newestFirst : {true, false}) {
        QVariantList entries{entry("10-0", {QByteArray("e"), envelope("d", 1)}),
                             entry("20-0", {QByteArray("e"), envelope("d", 2)}),
                             entry("30-0", {QByteArray("x"), QByteArray("y")})};
        if (newestFirst)
            std::reverse(entries.begin(), entries.end());
        const ReplyTree reply = tree(QVariantList{Epoch, entries, QVariantList{}, QVariantList{},
                                                  QVariantList{}, QByteArray(),
                                                  QVariantList{QByteArray("1"), QByteArray(), QByteArray()}});
        const Result<RedisHistoryReader::Loaded> loaded = reader.parse(reply.get());
        QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error().message));
        QCOMPARE(loaded->oldestRead[Channel::Downloads], EventId(10, 0, loaded->epoch));
        QCOMPARE(loaded->newestRead[Channel::Downloads], EventId(30, 0, loaded->epoch));
        QVERIFY(loaded->more[Channel::Downloads]);
        QVERIFY(!loaded->more[Channel::Queue]);
    }
}

namespace {

/// hiredis' blocking connection: the same reply trees as the broker's asynchronous one.
class BlockingRedis
{
public:
    explicit BlockingRedis(quint16 port)
        : m_context(redisConnectWithTimeout("127.0.0.1", port, timeval{5, 0}), redisFree)
    {
        if (m_context && !m_context->err)
            redisSetTimeout(m_context.get(), timeval{5, 0});
    }
    bool isOpen() const { return m_context && !m_context->err; }
    ReplyTree run(const QList<QByteArray> &args)
    {
        std::vector<const char *> argv;
        std::vector<size_t> lengths;
        for (const QByteArray &a : args) {
            argv.push_back(a.constData());
            lengths.push_back(size_t(a.size()));
        }
        return ReplyTree(static_cast<redisReply *>(redisCommandArgv(m_context.get(), int(argv.size()),
                                                                    argv.data(), lengths.data())),
                         freeReplyObject);
    }

private:
    std::unique_ptr<redisContext, void (*)(redisContext *)> m_context;
};

/// Publishes through the Publish script, as a node does; returns the id.
QByteArray publish(BlockingRedis &redis, const RedisKeyspace &keys, Channel channel,
                   const QByteArray &envelope, const QByteArray &candidate)
{
    const RedisScripts::Publish call{
        .stream = keys.stream(channel), .sequence = keys.sequence(), .epoch = keys.epoch(),
        .trimmed = keys.trimmed(channel), .streams = keys.streams(), .heads = keys.heads(),
        .config = keys.config(),
        .maxLength = 1000, .envelope = envelope, .channel = channel.nameBytes(),
        .candidateEpoch = candidate, .eventsChannel = keys.eventsChannel(),
    };
    const ReplyTree reply = redis.run(call.command());
    return reply ? RedisReply::string(reply.get()) : QByteArray();
}

} // namespace

void tst_RedisHistoryReader::readsWhatThePublishScriptWrote()
{
    RedisProcess redis;
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    BlockingRedis blocking(redis.port());
    QVERIFY(blocking.isOpen());
    const RedisKeyspace keys(QStringLiteral("hermes:"));
    const QByteArray candidate = EventId::epochText(EventId::randomEpoch());
    QList<QByteArray> published;
    for (int i = 0; i < 6; ++i) {
        published.append(publish(blocking, keys, Channel::all()[size_t(i % Channel::Count)],
                                 envelope("t", i), candidate));
        QVERIFY(EventId::parse(published.last()));
    }

    const RedisHistoryReader reader(keys, 100);
    ReplyTree reply = blocking.run(reader.call(Mode::Tail, EventId(), 0).command());
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
    reply = blocking.run(reader.call(Mode::After, second, second.epoch()).command());
    QVERIFY(reply);
    loaded = reader.parse(reply.get());
    QVERIFY2(loaded, qPrintable(loaded ? QString() : loaded.error().message));
    QCOMPARE(idsOf(loaded->events), published.mid(2));
}

void tst_RedisHistoryReader::tailReadKeepsTheNewestThatFit_data()
{
    QTest::addColumn<int>("events");
    QTest::addColumn<int>("payloadBytes");
    QTest::addColumn<int>("streamLength");
    QTest::addColumn<int>("historySize");
    QTest::addColumn<qint64>("historyBytes");
    QTest::addColumn<int>("kept");
    QTest::addColumn<QString>("floor"); // "none", "left out" (the newest not kept), "below kept"
    // 10 KiB events weigh about 20 KiB held: a 100 KiB budget keeps 5 (the fifth crosses it).
    QTest::newRow("bytes") << 40 << 10 * 1024 << 1000 << 1000 << qint64(100 * 1024) << 5 << QStringLiteral("left out");
    QTest::newRow("count") << 40 << 100 << 1000 << 7 << (qint64(1) << 40) << 7 << QStringLiteral("left out");
    QTest::newRow("stream length") << 40 << 100 << 25 << 1000 << (qint64(1) << 40) << 25 << QStringLiteral("below kept");
    QTest::newRow("to its end") << 40 << 100 << 1000 << 1000 << (qint64(1) << 40) << 40 << QStringLiteral("none");
    // Pages of at most PageBytes: 300 KiB events, all kept, read four to a page.
    QTest::newRow("pages") << 12 << 300 * 1024 << 1000 << 1000 << (qint64(1) << 40) << 12 << QStringLiteral("none");
}

void tst_RedisHistoryReader::tailReadKeepsTheNewestThatFit()
{
    QFETCH(int, events);
    QFETCH(int, payloadBytes);
    QFETCH(int, streamLength);
    QFETCH(int, historySize);
    QFETCH(qint64, historyBytes);
    QFETCH(int, kept);
    QFETCH(QString, floor);
    RedisProcess redis;
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    BlockingRedis blocking(redis.port());
    QVERIFY(blocking.isOpen());
    const RedisKeyspace keys(QStringLiteral("hermes:"));
    const QByteArray candidate = EventId::epochText(EventId::randomEpoch());
    QList<QByteArray> published;
    for (int i = 0; i < events; ++i) {
        const QByteArray blob(payloadBytes, 'x');
        published.append(publish(blocking, keys, Channel::Downloads,
                                 R"({"type":"t","data":{"b":")" + blob + R"("},"timestamp":"2026-01-01T00:00:00.000Z"})",
                                 candidate));
        QVERIFY(EventId::parse(published.last()));
        // Another channel's events in between: a channel's floor is its own.
        QVERIFY(EventId::parse(publish(blocking, keys, Channel::Queue, envelope("q", i), candidate)));
    }

    const RedisHistoryReader reader(keys, streamLength, historySize, historyBytes);
    RedisTailRead tail(keys, historySize, historyBytes);
    const auto begin = [&] {
        const ReplyTree reply = blocking.run(reader.call(Mode::Tail, EventId(), 0).command());
        Result<RedisHistoryReader::Loaded> first = reader.parse(reply.get());
        if (!first)
            return false;
        tail.begin(std::move(*first), reader.readLimit(Mode::Tail));
        return true;
    };
    QVERIFY(begin());
    int pages = 1;
    qint64 largestReply = 0;
    while (const std::optional<RedisScripts::TailPage> page = tail.next()) {
        QVERIFY(page->pageBytes >= 1 && page->pageBytes <= RedisHistoryReader::PageBytes);
        const ReplyTree reply = blocking.run(page->command());
        qint64 bytes = 0;
        for (size_t i = 0; reply && reply->type == REDIS_REPLY_ARRAY && i < reply->element[1]->elements; ++i)
            bytes += reply->element[1]->element[i]->element[1]->element[1]->len;
        largestReply = std::max(largestReply, bytes);
        const Result<RedisTailRead::Page> added = tail.add(reply.get());
        QVERIFY2(added, qPrintable(added ? QString() : added.error().message));
        QVERIFY(*added == RedisTailRead::Page::Read);
        QVERIFY2(++pages < 200, "the read does not end");
    }
    // A page ends once it carries its bytes: at most one entry beyond them.
    QVERIFY2(largestReply <= RedisHistoryReader::PageBytes + payloadBytes + 200,
             qPrintable(QString::number(largestReply)));
    ChannelFloors floors;
    const RedisHistoryReader::Loaded loaded = tail.take(&floors);
    QList<QByteArray> downloads;
    for (const Event &e : loaded.events) {
        if (e.channel == Channel::Downloads)
            downloads.append(e.id.toByteArray());
    }
    QCOMPARE(downloads, published.mid(events - kept));
    QCOMPARE(loaded.events.size(), kept + std::min({events, streamLength, historySize}));
    const EventId oldestKept = *EventId::parse(published[events - kept]);
    const EventId expected = floor == QLatin1String("none") ? EventId()
        : floor == QLatin1String("left out") ? *EventId::parse(published[events - kept - 1])
                                             : oldestKept.previous();
    QCOMPARE(floors[Channel::Downloads], expected);
    qInfo("%d page(s), the largest %lld bytes of values", pages, largestReply);

    // The channel's stream deleted (or evicted) between two pages: the floor is the newest
    // event it had, not the oldest read so far (a resume from between them would skip what
    // was lost without a resync).
    QVERIFY(begin());
    if (const std::optional<RedisScripts::TailPage> page = tail.next()) {
        QCOMPARE(page->stream, keys.stream(Channel::Downloads));
        blocking.run({"DEL", keys.stream(Channel::Downloads)});
        const ReplyTree reply = blocking.run(page->command());
        const Result<RedisTailRead::Page> added = tail.add(reply.get());
        QVERIFY(added && *added == RedisTailRead::Page::Read);
        for (int i = 0; i < 200 && tail.next(); ++i) {
            const ReplyTree more = blocking.run(tail.next()->command());
            QVERIFY(tail.add(more.get()));
        }
        QVERIFY(!tail.next());
        ChannelFloors vanished;
        tail.take(&vanished);
        QCOMPARE(vanished[Channel::Downloads], *EventId::parse(published.last()));
        // Published again, for the flush below.
        for (int i = 0; i < events; ++i) {
            published.append(publish(blocking, keys, Channel::Downloads, envelope("d", i), candidate));
            QVERIFY(EventId::parse(published.last()));
        }
    }

    // A database flushed between two pages: the read starts over, never mixes two histories.
    QVERIFY(begin());
    if (const std::optional<RedisScripts::TailPage> page = tail.next()) {
        blocking.run({"FLUSHALL"});
        const ReplyTree reply = blocking.run(page->command());
        const Result<RedisTailRead::Page> added = tail.add(reply.get());
        QVERIFY(added && *added == RedisTailRead::Page::EpochChanged);
    }
}

QTEST_MAIN(tst_RedisHistoryReader)
#include "tst_redishistoryreader.moc"
