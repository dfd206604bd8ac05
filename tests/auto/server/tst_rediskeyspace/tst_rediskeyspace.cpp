// RedisKeyspace and RedisScripts: every key and channel name from a prefix, spelled out here
// because nodes of other versions share the database (the names are a contract); each script's
// arguments in the order the script reads them; and, on a real redis-server, that each script
// touches the keys its struct names (so a member moved in the struct cannot go unnoticed).

#include "broker/rediskeyspace.h"
#include "broker/redisscripts.h"

#include "redisprocess.h"
#include "respclient.h"

#include <QTest>

using namespace Hermes;
using namespace Hermes::Test;

class tst_RedisKeyspace : public QObject
{
    Q_OBJECT

private slots:
    void keysFromThePrefix_data();
    void keysFromThePrefix();
    void adoptionKeyIsTheSha1OfChannelAndPayload();
    void publishArgumentsInScriptOrder();
    void adoptArgumentsInScriptOrder();
    void loadArgumentsInScriptOrder();
    void eventMessages_data();
    void eventMessages();
    void scriptsTouchTheKeysTheirStructsName();
};

// As Event::envelopeJson() writes it.
static const QByteArray Envelope = R"({"type":"t","data":{"n":1},"timestamp":"2026-01-01T00:00:00.000Z"})";

void tst_RedisKeyspace::keysFromThePrefix_data()
{
    QTest::addColumn<QString>("prefix");
    QTest::newRow("default") << QStringLiteral("hermes:");
    QTest::newRow("another") << QStringLiteral("staging/h:");
}

void tst_RedisKeyspace::keysFromThePrefix()
{
    QFETCH(QString, prefix);
    const QByteArray p = prefix.toUtf8();
    const RedisKeyspace keys(prefix);
    QCOMPARE(keys.sequence(), p + "seq");
    QCOMPARE(keys.epoch(), p + "epoch");
    QCOMPARE(keys.stream(Channel::Downloads), p + "stream:download:updates");
    QCOMPARE(keys.stream(Channel::Queue), p + "stream:queue:updates");
    QCOMPARE(keys.stream(Channel::System), p + "stream:system:notifications");
    QCOMPARE(keys.trimmed(Channel::Downloads), p + "trimmed:download:updates");
    QCOMPARE(keys.trimmed(Channel::Queue), p + "trimmed:queue:updates");
    QCOMPARE(keys.trimmed(Channel::System), p + "trimmed:system:notifications");
    // The arrays follow Channel::all(): the scripts read the streams in that order.
    for (Channel c : Channel::all()) {
        QCOMPARE(keys.streams()[size_t(c.index())], keys.stream(c));
        QCOMPARE(keys.trimmedKeys()[size_t(c.index())], keys.trimmed(c));
    }
    QCOMPARE(keys.eventsChannel(), p + "events");
    QCOMPARE(keys.lossesChannel(), p + "lost");
    QCOMPARE(keys.subscriptions(), (QList<QByteArray>{p + "events", "download:updates", "queue:updates",
                                                      "system:notifications", p + "lost"}));
    // The Python Hermes' keys and channels carry no prefix.
    QCOMPARE(RedisKeyspace::pythonToken("sse_abc"), QByteArray("sse:token:sse_abc"));
}

void tst_RedisKeyspace::adoptionKeyIsTheSha1OfChannelAndPayload()
{
    const QByteArray payload = R"({"type":"t","data":{}})";
    // sha1("download:updates\n" + payload), as every node of every version computes it.
    QCOMPARE(RedisKeyspace(QStringLiteral("hermes:")).adoption(Channel::Downloads, payload),
             QByteArray("hermes:adopt:01c59b056c47d4762f1a0ecfc8894512878ca5ca"));
    QCOMPARE(RedisKeyspace(QStringLiteral("hermes:")).adoption(Channel::Queue, payload),
             QByteArray("hermes:adopt:b5406517c6e0d6d2612fc47c65c3798089b6e7a0"));
    QCOMPARE(RedisKeyspace(QStringLiteral("x:")).adoption(Channel::Downloads, payload),
             QByteArray("x:adopt:01c59b056c47d4762f1a0ecfc8894512878ca5ca"));
    QVERIFY(RedisKeyspace(QStringLiteral("hermes:")).adoption(Channel::Downloads, payload + ' ')
            != RedisKeyspace(QStringLiteral("hermes:")).adoption(Channel::Downloads, payload));
}

// EVAL <script> <numkeys> KEYS… ARGV…: everything but the script's text.
static QList<QByteArray> withoutScript(const QList<QByteArray> &command)
{
    if (command.size() < 3 || command[0] != "EVAL" || !command[1].contains("redis.call"))
        return {"not an EVAL"};
    return command.mid(2);
}

void tst_RedisKeyspace::publishArgumentsInScriptOrder()
{
    const RedisScripts::Publish call{
        .stream = "k-stream", .sequence = "k-seq", .epoch = "k-epoch", .trimmed = "k-trimmed",
        .streams = {"k-s1", "k-s2", "k-s3"}, .heads = "k-heads", .config = "k-config",
        .maxLength = 250, .envelope = "a-envelope", .channel = "a-channel",
        .candidateEpoch = "a-candidate", .eventsChannel = "a-events",
    };
    // KEYS: stream, seq, epoch, the stream's trimmed key, the three streams, heads, config.
    // ARGV: maxlen, envelope, channel, candidate epoch, internal channel.
    QCOMPARE(withoutScript(call.command()),
             (QList<QByteArray>{"9", "k-stream", "k-seq", "k-epoch", "k-trimmed", "k-s1", "k-s2", "k-s3",
                                "k-heads", "k-config", "250", "a-envelope", "a-channel", "a-candidate", "a-events"}));
}

void tst_RedisKeyspace::adoptArgumentsInScriptOrder()
{
    const RedisScripts::Adopt call{
        .stream = "k-stream", .sequence = "k-seq", .epoch = "k-epoch", .trimmed = "k-trimmed",
        .adoption = "k-adopt", .streams = {"k-s1", "k-s2", "k-s3"}, .heads = "k-heads", .config = "k-config",
        .maxLength = 250, .envelope = "a-envelope", .channel = "a-channel",
        .candidateEpoch = "a-candidate", .eventsChannel = "a-events", .windowMs = 60000,
    };
    // KEYS: stream, seq, epoch, the stream's trimmed key, adoption key, the three streams,
    // heads, config. ARGV: maxlen, envelope, channel, candidate epoch, internal channel, window (ms).
    QCOMPARE(withoutScript(call.command()),
             (QList<QByteArray>{"10", "k-stream", "k-seq", "k-epoch", "k-trimmed", "k-adopt", "k-s1", "k-s2",
                                "k-s3", "k-heads", "k-config", "250", "a-envelope", "a-channel", "a-candidate", "a-events",
                                "60000"}));
}

void tst_RedisKeyspace::loadArgumentsInScriptOrder()
{
    RedisScripts::Load call{
        .epoch = "k-epoch", .streams = {"k-s1", "k-s2", "k-s3"}, .trimmed = {"k-t1", "k-t2", "k-t3"},
        .sequence = "k-seq", .heads = "k-heads", .origin = "k-origin",
        .candidateEpoch = "a-candidate", .count = 70, .mode = RedisScripts::Load::Mode::Tail,
        .after = "5-1", .callerEpoch = "a-epoch", .markEpoch = "m-epoch", .markPosition = "9-2",
        .markChannels = {"m-1", "", "m-3"}, .eventsChannel = "a-events",
        .channels = {"c-1", "c-2", "c-3"}, .pageBytes = 4096,
    };
    // KEYS: epoch, the three streams, their three trimmed keys, seq, heads, origin. ARGV: candidate
    // epoch, count, mode, after, the caller's epoch, the mark (epoch, position, per channel),
    // internal channel, the channels' names, the page's bytes.
    QCOMPARE(withoutScript(call.command()),
             (QList<QByteArray>{"10", "k-epoch", "k-s1", "k-s2", "k-s3", "k-t1", "k-t2", "k-t3", "k-seq",
                                "k-heads", "k-origin", "a-candidate", "70", "tail", "5-1", "a-epoch", "m-epoch",
                                "9-2", "m-1", "", "m-3", "a-events", "c-1", "c-2", "c-3", "4096"}));
    // TailPage: KEYS epoch, the stream, its trimmed key, heads; ARGV: below which id, count,
    // bytes, the channel's name.
    const RedisScripts::TailPage page{.epoch = "k-epoch", .stream = "k-s2", .trimmed = "k-t2",
                                      .heads = "k-heads", .before = "7-0", .count = 5,
                                      .pageBytes = 300, .channel = "c-2"};
    QCOMPARE(withoutScript(page.command()),
             (QList<QByteArray>{"4", "k-epoch", "k-s2", "k-t2", "k-heads", "7-0", "5", "300", "c-2"}));
    call.mode = RedisScripts::Load::Mode::After;
    QCOMPARE(withoutScript(call.command()).at(13), QByteArray("after"));
}

void tst_RedisKeyspace::eventMessages_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QByteArray>("id");       // empty: not an event
    QTest::addColumn<QString>("error");
    QTest::newRow("event") << "k3x9q2-1700000000000-3\nqueue:updates\n" + Envelope
                           << QByteArray("k3x9q2-1700000000000-3") << QString();
    QTest::newRow("one line") << QByteArray("k3x9q2-1-0") << QByteArray()
                              << QStringLiteral("not an event message");
    QTest::newRow("two lines") << QByteArray("k3x9q2-1-0\nqueue:updates") << QByteArray()
                               << QStringLiteral("not an event message");
    QTest::newRow("no epoch") << "1-0\nqueue:updates\n" + Envelope << QByteArray()
                              << QStringLiteral("bad id or channel");
    QTest::newRow("unknown channel") << "k3x9q2-1-0\nqueue\n" + Envelope << QByteArray()
                                     << QStringLiteral("bad id or channel");
    QTest::newRow("not an envelope") << QByteArray("k3x9q2-1-0\nqueue:updates\n[1]") << QByteArray()
                                     << QStringLiteral("the envelope is not a JSON object");
}

void tst_RedisKeyspace::eventMessages()
{
    QFETCH(QByteArray, payload);
    QFETCH(QByteArray, id);
    QFETCH(QString, error);
    const Result<Event> event = RedisScripts::parseEventMessage(payload);
    QCOMPARE(event.ok(), !id.isEmpty());
    if (!event) {
        QCOMPARE(event.error().kind, Error::Kind::Invalid);
        QCOMPARE(event.error().message, error);
        return;
    }
    QCOMPARE(event->id.toByteArray(), id);
    QVERIFY(event->channel == Channel::Queue);
    QCOMPARE(event->envelopeJson(), Envelope);
}

static QByteArray string(const QVariant &reply)
{
    return reply.toByteArray();
}

void tst_RedisKeyspace::scriptsTouchTheKeysTheirStructsName()
{
    RedisProcess redis;
    QVERIFY2(redis.start(), qPrintable(redis.errorString()));
    RespClient client;
    QVERIFY(client.connectTo(redis.port()));
    const RedisKeyspace keys(QStringLiteral("t:"));
    const QByteArray candidate = EventId::epochText(EventId::randomEpoch());

    // Publish: the id of the database's (new) epoch, its entry in its channel's stream, the
    // sequence at its position.
    const auto publish = [&](Channel channel, int maxLength) {
        return RedisScripts::Publish{
            .stream = keys.stream(channel), .sequence = keys.sequence(), .epoch = keys.epoch(),
            .trimmed = keys.trimmed(channel), .streams = keys.streams(), .heads = keys.heads(),
            .config = keys.config(), .maxLength = maxLength, .envelope = Envelope, .channel = channel.nameBytes(),
            .candidateEpoch = candidate, .eventsChannel = keys.eventsChannel(),
        }.command();
    };
    const auto first = EventId::parse(string(client.command(publish(Channel::Queue, 100))));
    QVERIFY(first);
    QCOMPARE(EventId::epochText(first->epoch()), candidate);
    QCOMPARE(string(client.command({"GET", "t:epoch"})), candidate);
    QCOMPARE(string(client.command({"GET", "t:seq"})), first->position());
    const QVariantList entries = client.command({"XRANGE", "t:stream:queue:updates", "-", "+"}).toList();
    QCOMPARE(entries.size(), 1);
    QCOMPARE(string(entries[0].toList()[0]), first->position());
    QCOMPARE(entries[0].toList()[1].toList(), (QVariantList{QByteArray("e"), Envelope}));

    // Trimming: past maxlen + 64 entries the stream is cut to maxlen, and the newest id it
    // removed is kept under the stream's trimmed key.
    QList<EventId> system;
    for (int i = 0; i < 66; ++i) {
        const auto id = EventId::parse(string(client.command(publish(Channel::System, 1))));
        QVERIFY(id && *id > (system.isEmpty() ? *first : system.last()));
        system.append(*id);
    }
    QCOMPARE(client.command({"XLEN", "t:stream:system:notifications"}).toLongLong(), 1);
    QCOMPARE(string(client.command({"GET", "t:trimmed:system:notifications"})), system[64].position());
    QCOMPARE(client.command({"XLEN", "t:stream:queue:updates"}).toLongLong(), 1);

    // The deployment's stream length, once stored, wins over the caller's: a node started with
    // a shorter one (before its probe read the stored value) must not cut the others' history.
    // (redis-gray's stream-length nemesis: an outside message adopted in that moment cut a
    // stream to a hundred entries.)
    client.command({"HSET", keys.config(), "stream_length", "1000"});
    for (int i = 0; i < 66; ++i) {
        const auto id = EventId::parse(string(client.command(publish(Channel::System, 1))));
        QVERIFY(id);
        system.append(*id);
    }
    QCOMPARE(client.command({"XLEN", "t:stream:system:notifications"}).toLongLong(), 67);
    QCOMPARE(string(client.command({"GET", "t:trimmed:system:notifications"})), system[64].position());
    client.command({"HDEL", keys.config(), "stream_length"});
    client.command({"XTRIM", "t:stream:system:notifications", "MAXLEN", "1"}); // as before, for what follows

    // Adopt: the first run gives an id and marks the message for the window; another node's
    // run finds the mark and adds nothing.
    const RedisScripts::Adopt adopt{
        .stream = keys.stream(Channel::Downloads), .sequence = keys.sequence(), .epoch = keys.epoch(),
        .trimmed = keys.trimmed(Channel::Downloads), .adoption = keys.adoption(Channel::Downloads, Envelope),
        .streams = keys.streams(), .heads = keys.heads(), .config = keys.config(),
        .maxLength = 100, .envelope = Envelope, .channel = "download:updates",
        .candidateEpoch = candidate, .eventsChannel = keys.eventsChannel(), .windowMs = 60000,
    };
    const QByteArray adopted = string(client.command(adopt.command()));
    const auto adoptedId = EventId::parse(adopted);
    QVERIFY(adoptedId && *adoptedId > system.last());
    QCOMPARE(string(client.command({"GET", keys.adoption(Channel::Downloads, Envelope)})), adopted);
    const qint64 ttl = client.command({"PTTL", keys.adoption(Channel::Downloads, Envelope)}).toLongLong();
    QVERIFY2(ttl > 50000 && ttl <= 60000, qPrintable(QString::number(ttl)));
    QCOMPARE(string(client.command(adopt.command())), adopted);
    QCOMPARE(client.command({"XLEN", "t:stream:download:updates"}).toLongLong(), 1);
    // Every append records its channel's head.
    QCOMPARE(string(client.command({"HGET", "t:heads", "download:updates"})), adoptedId->position());
    QCOMPARE(string(client.command({"HGET", "t:heads", "queue:updates"})), first->position());
    QCOMPARE(string(client.command({"HGET", "t:heads", "system:notifications"})), system.last().position());

    // Load, tail: the epoch, each stream's newest entries (newest first), the trimmed ids.
    RedisScripts::Load load{
        .epoch = keys.epoch(), .streams = keys.streams(), .trimmed = keys.trimmedKeys(),
        .sequence = keys.sequence(), .heads = keys.heads(), .origin = keys.origin(),
        .candidateEpoch = EventId::epochText(EventId::randomEpoch()), .count = 10,
        .mode = RedisScripts::Load::Mode::Tail, .after = "0-0", .callerEpoch = "0",
        .eventsChannel = keys.eventsChannel(),
        .channels = {"download:updates", "queue:updates", "system:notifications"},
        .pageBytes = 1 << 20,
    };
    QVariantList reply = client.command(load.command()).toList();
    QCOMPARE(reply.size(), 8);
    QCOMPARE(string(reply[5]), QByteArray()); // no damage
    // Each stream read to its end: none may hold more.
    QCOMPARE(reply[6].toList(), (QVariantList{QByteArray(), QByteArray(), QByteArray()}));
    QCOMPARE(string(reply[7]), QByteArray()); // no epoch replaced
    QCOMPARE(string(reply[0]), candidate);
    QCOMPARE(string(reply[1].toList()[0].toList()[0]), adoptedId->position());
    QCOMPARE(string(reply[2].toList()[0].toList()[0]), first->position());
    QCOMPARE(string(reply[3].toList()[0].toList()[0]), system.last().position());
    QCOMPARE(reply[4].toList(), (QVariantList{QByteArray(), QByteArray(), system[64].position()}));

    // Load, after an id of the same epoch: only what follows it.
    load.mode = RedisScripts::Load::Mode::After;
    load.after = first->position();
    load.callerEpoch = candidate;
    reply = client.command(load.command()).toList();
    QCOMPARE(string(reply[0]), candidate);
    QCOMPARE(reply[1].toList().size(), 1);
    QCOMPARE(reply[2].toList().size(), 0);
    QCOMPARE(reply[3].toList().size(), 1);

    // Load, after an id beyond the sequence (a database that went back in time): a new epoch,
    // the sequence above the caller's id.
    const QByteArray beyond = QByteArray::number(adoptedId->ms() + 1000) + "-0";
    load.after = beyond;
    reply = client.command(load.command()).toList();
    QCOMPARE(string(reply[0]), load.candidateEpoch);
    QCOMPARE(string(client.command({"GET", "t:epoch"})), load.candidateEpoch);
    QCOMPARE(string(client.command({"GET", "t:seq"})), beyond);
    QVERIFY(!string(reply[5]).isEmpty());
    // … whose origin is the epoch it replaced, at what the caller had delivered (no mark: no
    // channel ids).
    QCOMPARE(string(reply[7]), candidate + "\n" + beyond + "\n\n\n");

    // A mark whose channel id is gone (not in its stream, above its trimmed id): a new epoch.
    const QByteArray epochNow = string(client.command({"GET", "t:epoch"}));
    load.mode = RedisScripts::Load::Mode::Tail;
    load.candidateEpoch = EventId::epochText(EventId::randomEpoch());
    load.markEpoch = epochNow;
    load.markPosition = beyond;
    load.markChannels = {QByteArray(), QByteArray::number(adoptedId->ms() + 500) + "-0", QByteArray()};
    reply = client.command(load.command()).toList();
    QCOMPARE(string(reply[0]), load.candidateEpoch);
    QVERIFY2(string(reply[5]).contains("queue:updates"), string(reply[5]).constData());
    QCOMPARE(string(reply[7]), epochNow + "\n" + beyond + "\n\n" + load.markChannels[1] + "\n");
    // Ids at or below a trimmed id, or still in their stream, pass.
    load.markEpoch = load.candidateEpoch;
    load.candidateEpoch = EventId::epochText(EventId::randomEpoch());
    load.markChannels = {adoptedId->position(), first->position(), system[10].position()};
    reply = client.command(load.command()).toList();
    QCOMPARE(string(reply[0]), load.markEpoch);
    QCOMPARE(string(reply[5]), QByteArray());

    // A stream key that vanished: its trimmed id rises to the channel's head, never falls.
    QCOMPARE(client.command({"DEL", "t:stream:queue:updates"}).toLongLong(), 1);
    reply = client.command(load.command()).toList();
    QCOMPARE(reply[4].toList()[1], QVariant(first->position()));
    QCOMPARE(string(reply[5]), QByteArray());
    QCOMPARE(client.command({"SET", "t:trimmed:queue:updates", "1-0"}).toByteArray(), QByteArray("OK"));
    client.command(publish(Channel::Queue, 100)); // the stream is back, the head above
    client.command({"SET", "t:trimmed:queue:updates", first->position()});
    client.command(load.command());
    QCOMPARE(string(client.command({"GET", "t:trimmed:queue:updates"})), first->position());

    // TailPage: below an id, newest first, until the bytes are read (the first entry
    // whatever its size), with the epoch and the trimmed id of the same instant.
    const QByteArray epochThen = string(client.command({"GET", "t:epoch"}));
    QList<EventId> queue;
    for (int i = 0; i < 5; ++i)
        queue.append(*EventId::parse(string(client.command(publish(Channel::Queue, 100)))));
    RedisScripts::TailPage page{.epoch = keys.epoch(), .stream = keys.stream(Channel::Queue),
                                .trimmed = keys.trimmed(Channel::Queue), .heads = keys.heads(),
                                .before = queue[4].position(), .count = 10,
                                .pageBytes = 2 * Envelope.size(), .channel = "queue:updates"};
    reply = client.command(page.command()).toList();
    QCOMPARE(reply.size(), 4);
    QCOMPARE(string(reply[0]), epochThen);
    QCOMPARE(reply[1].toList().size(), 2); // the bytes of two entries
    QCOMPARE(string(reply[1].toList()[0].toList()[0]), queue[3].position());
    QCOMPARE(string(reply[2]), QByteArray("1"));
    QCOMPARE(string(reply[3]), first->position());
    page.pageBytes = 1;
    QCOMPARE(client.command(page.command()).toList()[1].toList().size(), 1);
    page.count = 2;
    page.pageBytes = 1 << 20;
    reply = client.command(page.command()).toList();
    QCOMPARE(reply[1].toList().size(), 2); // the count
    QCOMPARE(string(reply[2]), QByteArray("1"));
    page.count = 100;
    reply = client.command(page.command()).toList();
    QCOMPARE(string(reply[2]), QByteArray()); // read to its end

    // The stream vanished between two pages (evicted, deleted): its trimmed id rises to the
    // channel's head, as Load raises it, and the page says so; the read does not end as if
    // the stream had been read to its end with nothing lost.
    QCOMPARE(client.command({"DEL", "t:stream:queue:updates"}).toLongLong(), 1);
    reply = client.command(page.command()).toList();
    QCOMPARE(reply[1].toList().size(), 0);
    QCOMPARE(string(reply[3]), queue[4].position());
    QCOMPARE(string(client.command({"GET", "t:trimmed:queue:updates"})), queue[4].position());
}

QTEST_MAIN(tst_RedisKeyspace)
#include "tst_rediskeyspace.moc"
