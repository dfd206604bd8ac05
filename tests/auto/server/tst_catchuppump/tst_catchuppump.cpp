// CatchUpPump: a stream that is behind, fed chunk by chunk, gets exactly the events its filter
// passes between its cursor and what went out live, once and in order, in chunks bounded by
// bytes and by events scanned; a stream the history no longer reaches, or a history replaced
// under it, is told so; the pump queue takes each stream once per turn, in order. Seeded
// (HERMES_CATCHUPPUMP_SEED), the seed printed.

#include "stream/catchuppump.h"
#include "stream/eventhistory.h"
#include "stream/streamconnection.h"

#include <QRandomGenerator>
#include <QTest>

#include <memory>
#include <mutex>

using namespace Hermes;

class tst_CatchUpPump : public QObject
{
    Q_OBJECT

private slots:
    void chunksAddUpToWhatTheFilterPasses();
    void aChunkScansABoundedNumberOfEvents();
    void exceededAndReplacedHistories();
    void eachStreamOncePerTurnInOrder();
};

namespace {

constexpr quint32 Epoch = 7;

EncodedEventPtr makeEvent(quint64 ms, Channel channel, const QString &downloadId, int pad)
{
    auto e = std::make_shared<EncodedEvent>();
    e->id = EventId(ms, 0, Epoch);
    e->channel = channel;
    e->type = QStringLiteral("t");
    e->downloadId = downloadId;
    const QByteArray padding(pad, 'x');
    e->frames[int(EventStyle::Envelope)] = "id: " + e->id.toByteArray() + "\ndata: " + padding + "\n\n";
    e->frames[int(EventStyle::Named)] = "id: " + e->id.toByteArray() + "\nevent: t\n\n";
    return e;
}

std::unique_ptr<StreamConnection> stream(const StreamFilter &filter, EventStyle style, EventId cursor)
{
    StreamParams params;
    params.filter = filter;
    params.style = style;
    auto c = std::make_unique<StreamConnection>(-1, params, 0); // no socket: never sends
    c->cursor = cursor;
    return c;
}

void append(EventHistory &history, const EncodedEventPtr &e)
{
    const std::unique_lock lock(history.lock());
    history.append(e);
}

} // namespace

void tst_CatchUpPump::chunksAddUpToWhatTheFilterPasses()
{
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_CATCHUPPUMP_SEED")
        ? quint32(qEnvironmentVariableIntValue("HERMES_CATCHUPPUMP_SEED"))
        : QRandomGenerator::global()->generate();
    qInfo("seed %u (HERMES_CATCHUPPUMP_SEED to repeat)", seed);
    QRandomGenerator rng(seed);
    const QByteArray seedNote = "seed " + QByteArray::number(seed);

    for (int run = 0; run < 40 && !QTest::currentTestFailed(); ++run) {
        EventHistory history(100000);
        std::vector<EncodedEventPtr> events;
        const int n = int(rng.bounded(3000));
        for (int i = 0; i < n; ++i) {
            events.push_back(makeEvent(quint64(i + 1), *Channel::fromIndex(int(rng.bounded(Channel::Count))),
                                       rng.bounded(2) ? QStringLiteral("dl-1") : QStringLiteral("dl-2"),
                                       int(rng.bounded(900))));
            append(history, events.back());
        }
        StreamFilter filter;
        if (rng.bounded(2))
            filter.channels = Channel::fromIndex(int(rng.bounded(Channel::Count)))->bit();
        if (rng.bounded(2))
            filter.downloadId = QStringLiteral("dl-1");
        const EventStyle style = rng.bounded(2) ? EventStyle::Named : EventStyle::Envelope;
        const size_t from = n ? rng.bounded(quint32(n)) : 0;     // the stream saw events[0, from)
        const size_t upTo = from + (n ? rng.bounded(quint32(n - from + 1)) : 0); // went out live
        const EventId cursor = from ? events[from - 1]->id : EventId(0, 0, Epoch);
        const EventId limit = upTo ? events[upTo - 1]->id : EventId(0, 0, Epoch);
        const qsizetype maxClientBuffer = 1 << rng.bounded(8, 21);
        auto c = stream(filter, style, cursor);
        CatchUpPump pump(&history, maxClientBuffer);
        const qsizetype budget = qBound<qsizetype>(1024, maxClientBuffer, CatchUpPump::ChunkBytes);

        QByteArray expected;
        quint64 expectedPerChannel[Channel::Count] = {};
        for (size_t i = from; i < upTo; ++i) {
            if (filter.matches(*events[i])) {
                expected += events[i]->frame(style);
                ++expectedPerChannel[events[i]->channel.index()];
            }
        }
        QByteArray got;
        quint64 perChannel[Channel::Count] = {};
        int chunks = 0;
        while (c->cursor < limit && chunks < 100000) {
            CatchUpPump::Chunk chunk;
            QCOMPARE(pump.read(*c, limit, history.generation(), &chunk), CatchUpPump::Read::Chunk);
            ++chunks;
            QVERIFY2(c->cursor < chunk.cursor, seedNote.constData()); // always progresses
            QVERIFY2(!(limit < chunk.cursor), seedNote.constData());
            // At most one event past the byte budget.
            QVERIFY2(chunk.frames.size() < budget + 2048, seedNote.constData());
            got += chunk.frames;
            for (int i = 0; i < Channel::Count; ++i)
                perChannel[i] += chunk.perChannel[i];
            c->cursor = chunk.cursor;
        }
        QVERIFY2(got == expected, seedNote.constData());
        for (int i = 0; i < Channel::Count; ++i)
            QCOMPARE(perChannel[i], expectedPerChannel[i]);
        // Caught up: nothing more.
        CatchUpPump::Chunk last;
        QCOMPARE(pump.read(*c, limit, history.generation(), &last), CatchUpPump::Read::Chunk);
        QVERIFY(last.frames.isEmpty());
        QCOMPARE(last.cursor, limit);
    }
}

void tst_CatchUpPump::aChunkScansABoundedNumberOfEvents()
{
    // Events the stream does not want still cost a scan: a chunk stops after ChunkEvents of
    // them, without frames, at the last one it looked at, so a lock is never held long.
    EventHistory history(100000);
    const int n = CatchUpPump::ChunkEvents * 2 + 10;
    for (int i = 1; i <= n; ++i)
        append(history, makeEvent(quint64(i), Channel::System, QStringLiteral("dl-2"), 10));
    StreamFilter filter;
    filter.downloadId = QStringLiteral("dl-1");
    auto c = stream(filter, EventStyle::Envelope, EventId(0, 0, Epoch));
    CatchUpPump pump(&history, 1 << 20);
    const EventId limit(quint64(n), 0, Epoch);
    CatchUpPump::Chunk chunk;
    QCOMPARE(pump.read(*c, limit, history.generation(), &chunk), CatchUpPump::Read::Chunk);
    QVERIFY(chunk.frames.isEmpty());
    QCOMPARE(chunk.cursor, EventId(quint64(CatchUpPump::ChunkEvents), 0, Epoch));
    c->cursor = chunk.cursor;
    chunk = {};
    QCOMPARE(pump.read(*c, limit, history.generation(), &chunk), CatchUpPump::Read::Chunk);
    QCOMPARE(chunk.cursor, EventId(quint64(2 * CatchUpPump::ChunkEvents), 0, Epoch));
    c->cursor = chunk.cursor;
    chunk = {};
    QCOMPARE(pump.read(*c, limit, history.generation(), &chunk), CatchUpPump::Read::Chunk);
    QCOMPARE(chunk.cursor, limit); // fewer than ChunkEvents left: caught up
}

void tst_CatchUpPump::exceededAndReplacedHistories()
{
    EventHistory history(3);
    for (quint64 ms = 1; ms <= 6; ++ms)
        append(history, makeEvent(ms, Channel::Queue, QString(), 10));
    CatchUpPump pump(&history, 1 << 20);
    const EventId limit(6, 0, Epoch);
    CatchUpPump::Chunk chunk;
    // 1..3 were evicted: a stream at 2 missed 3, which nobody can give it any more.
    auto behind = stream({}, EventStyle::Envelope, EventId(2, 0, Epoch));
    QCOMPARE(pump.read(*behind, limit, history.generation(), &chunk), CatchUpPump::Read::Exceeded);
    // A stream at 3 misses nothing that was evicted.
    auto atTheEdge = stream({}, EventStyle::Envelope, EventId(3, 0, Epoch));
    QCOMPARE(pump.read(*atTheEdge, limit, history.generation(), &chunk), CatchUpPump::Read::Chunk);
    QCOMPARE(chunk.cursor, limit);
    // Only the stream's channels count.
    StreamFilter system;
    system.channels = Channel::bitOf(Channel::System);
    auto otherChannel = stream(system, EventStyle::Envelope, EventId(2, 0, Epoch));
    chunk = {};
    QCOMPARE(pump.read(*otherChannel, limit, history.generation(), &chunk), CatchUpPump::Read::Chunk);
    // The worker's streams are in an older generation: nothing is read until it applied the
    // new one.
    const quint64 before = history.generation();
    {
        const std::unique_lock lock(history.lock());
        history.clear();
    }
    QCOMPARE(pump.read(*atTheEdge, limit, before, &chunk), CatchUpPump::Read::HistoryAhead);
}

void tst_CatchUpPump::eachStreamOncePerTurnInOrder()
{
    EventHistory history(10);
    CatchUpPump pump(&history, 1 << 20);
    auto a = stream({}, EventStyle::Envelope, {});
    auto b = stream({}, EventStyle::Envelope, {});
    auto c = stream({}, EventStyle::Envelope, {});
    QVERIFY(pump.schedule(*a));  // the first: a turn must be made
    QVERIFY(a->pumpScheduled);
    QVERIFY(!pump.schedule(*b)); // a turn is already due
    QVERIFY(!pump.schedule(*a)); // queued once
    QVERIFY(!pump.schedule(*c));
    pump.cancel(*b);             // removed meanwhile
    std::deque<StreamConnection *> turn = pump.takeTurn();
    QCOMPARE(turn, std::deque<StreamConnection *>({a.get(), c.get()}));
    for (StreamConnection *s : turn)
        s->pumpScheduled = false;
    // The next turn starts afresh (b was removed: it is gone).
    QVERIFY(pump.schedule(*c));
    QCOMPARE(pump.takeTurn(), std::deque<StreamConnection *>({c.get()}));
    QVERIFY(pump.takeTurn().empty());
}

QTEST_GUILESS_MAIN(tst_CatchUpPump)
#include "tst_catchuppump.moc"
