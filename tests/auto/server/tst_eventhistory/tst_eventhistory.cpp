#include "event.h"
#include "stream/eventhistory.h"
#include "stream/resumeplanner.h"

#include <QRandomGenerator>
#include <QTest>

#include <deque>

using namespace Hermes;

class tst_EventHistory : public QObject
{
    Q_OBJECT

private slots:
    void replaysExactlyTheEventsAfterAnId_data();
    void replaysExactlyTheEventsAfterAnId();
    void evictionRequiresResync();
    void newestAndSize();
    void anEventWeighsBothItsFrames();
    void theByteBoundEvictsAsTheCountBoundDoes();
    void theByteBoundAgainstAModel();
};

static EncodedEventPtr makeEvent(quint64 ms, quint64 seq, Channel channel)
{
    auto e = std::make_shared<EncodedEvent>();
    e->id = EventId(ms, seq);
    e->channel = channel;
    e->type = QStringLiteral("t");
    return e;
}

static QList<QByteArray> ids(const std::vector<EncodedEventPtr> &events)
{
    QList<QByteArray> out;
    for (const auto &e : events)
        out.append(e->id.toByteArray());
    return out;
}

void tst_EventHistory::replaysExactlyTheEventsAfterAnId_data()
{
    QTest::addColumn<QByteArray>("after");
    QTest::addColumn<int>("mask");
    QTest::addColumn<QList<QByteArray>>("expected");
    const QList<QByteArray> all{"10-0", "10-1", "11-0", "12-0", "12-1"};
    QTest::newRow("from the start") << QByteArray("0-0") << int(Channel::AllMask) << all;
    QTest::newRow("after the first") << QByteArray("10-0") << int(Channel::AllMask) << all.mid(1);
    QTest::newRow("between ids") << QByteArray("11-5") << int(Channel::AllMask) << all.mid(3);
    QTest::newRow("after the newest") << QByteArray("12-1") << int(Channel::AllMask) << QList<QByteArray>();
    QTest::newRow("in the future") << QByteArray("99-0") << int(Channel::AllMask) << QList<QByteArray>();
    QTest::newRow("one channel") << QByteArray("0-0") << int(Channel::bitOf(Channel::Queue)) << QList<QByteArray>{"10-1", "12-0"};
    QTest::newRow("two channels merged") << QByteArray("10-0") << int(Channel::bitOf(Channel::Queue) | Channel::bitOf(Channel::System))
                                         << QList<QByteArray>{"10-1", "11-0", "12-0"};
}

void tst_EventHistory::replaysExactlyTheEventsAfterAnId()
{
    QFETCH(QByteArray, after);
    QFETCH(int, mask);
    QFETCH(QList<QByteArray>, expected);
    EventHistory history(100);
    history.append(makeEvent(10, 0, Channel::Downloads));
    history.append(makeEvent(10, 1, Channel::Queue));
    history.append(makeEvent(11, 0, Channel::System));
    history.append(makeEvent(12, 0, Channel::Queue));
    history.append(makeEvent(12, 1, Channel::Downloads));
    std::vector<EncodedEventPtr> out;
    QVERIFY(history.eventsAfter(*EventId::parse(after), quint8(mask), &out));
    QCOMPARE(ids(out), expected);
}

void tst_EventHistory::evictionRequiresResync()
{
    EventHistory history(2);
    for (quint64 i = 1; i <= 5; ++i)
        history.append(makeEvent(i, 0, Channel::Downloads));
    history.append(makeEvent(6, 0, Channel::System));
    std::vector<EncodedEventPtr> out;
    // 1, 2, 3 were evicted from the downloads channel; 4 and 5 are kept.
    QVERIFY(!history.eventsAfter(EventId(2, 0), Channel::AllMask, &out));
    QVERIFY(history.eventsAfter(EventId(3, 0), Channel::AllMask, &out));
    QCOMPARE(ids(out), (QList<QByteArray>{"4-0", "5-0", "6-0"}));
    // A client of the system channel alone lost nothing.
    out.clear();
    QVERIFY(history.eventsAfter(EventId(1, 0), Channel::bitOf(Channel::System), &out));
    QCOMPARE(ids(out), QList<QByteArray>{"6-0"});
}

void tst_EventHistory::newestAndSize()
{
    EventHistory history(3);
    QVERIFY(history.newest().isNull());
    for (quint64 i = 1; i <= 10; ++i)
        history.append(makeEvent(i, 0, *Channel::fromIndex(int(i % 3))));
    QCOMPARE(history.newest(), EventId(10, 0));
    QCOMPARE(history.size(), 9);
}

static EncodedEventPtr makeSizedEvent(quint64 ms, Channel channel, qsizetype payload)
{
    auto e = std::make_shared<EncodedEvent>();
    e->id = EventId(ms, 0);
    e->channel = channel;
    e->type = QStringLiteral("t");
    e->frames[0] = QByteArray(payload, 'e');
    e->frames[1] = QByteArray(payload, 'n');
    return e;
}

void tst_EventHistory::anEventWeighsBothItsFrames()
{
    // What is counted is what is held: both frames carry the payload.
    Event event;
    event.id = EventId(1, 0);
    event.channel = Channel::System;
    event.type = QStringLiteral("big");
    event.data = {{QStringLiteral("blob"), QString(60 * 1024, u'x')}};
    const EncodedEventPtr encoded = EncodedEvent::encode(event);
    QVERIFY(encoded->heldBytes() >= 2 * 60 * 1024);
    QVERIFY(encoded->heldBytes() < 2 * 60 * 1024 + 1024);
    QCOMPARE(encoded->heldBytes(), encoded->heldBytes());
}

void tst_EventHistory::theByteBoundEvictsAsTheCountBoundDoes()
{
    // Three events of one size fit in the byte bound: a history bounded by it answers every
    // question as a history bounded to three events by count.
    const qint64 weight = makeSizedEvent(1, Channel::Downloads, 1000)->heldBytes();
    EventHistory byCount(3);
    EventHistory byBytes(1000000, 3 * weight + weight / 2);
    for (quint64 i = 1; i <= 8; ++i) {
        const EncodedEventPtr e = makeSizedEvent(i, Channel::Downloads, 1000);
        byCount.append(e);
        byBytes.append(e);
        QCOMPARE(byBytes.size(), byCount.size());
        QVERIFY(byBytes.heldBytes() <= byBytes.bytesPerChannel());
    }
    const ResumePlanner::State state{true, 0, EventId(8, 0)};
    const ResumePlanner countPlanner(&byCount, [](EventId) { return false; });
    const ResumePlanner bytePlanner(&byBytes, [](EventId) { return false; });
    for (quint64 i = 1; i <= 8; ++i) {
        const QByteArray last = EventId(i, 0).toByteArray();
        const ResumePlanner::Plan a = countPlanner.plan(last, Channel::AllMask, state, false);
        const ResumePlanner::Plan b = bytePlanner.plan(last, Channel::AllMask, state, false);
        QCOMPARE(b.kind, a.kind);
        QCOMPARE(b.reason, a.reason);
        QCOMPARE(b.kind, i < 5 ? ResumePlanner::Plan::Resync : ResumePlanner::Plan::Replay);
    }
    QCOMPARE(bytePlanner.plan("1-0", Channel::AllMask, state, false).reason,
             std::optional<ResyncReason>(ResyncReason::HistoryExceeded));
    // One event larger than the whole bound is kept alone: the newest is never evicted.
    byBytes.append(makeSizedEvent(9, Channel::Downloads, 10 * 1000));
    QCOMPARE(byBytes.size(), 1);
    QVERIFY(byBytes.covers(EventId(8, 0), Channel::AllMask));
    QVERIFY(!byBytes.covers(EventId(7, 0), Channel::AllMask));
}

void tst_EventHistory::theByteBoundAgainstAModel()
{
    // Random events of mixed sizes (a few over the whole bound) on random channels, against a
    // model of the rule: per channel, drop the oldest while over the count or over the bytes
    // (keeping the newest). After every append the history holds exactly the model's events,
    // its bytes stay within the bound, and a resume from any id seen so far — kept or evicted
    // — gets what the model says. Seeded: HERMES_TEST_SEED.
    const quint32 seed = qEnvironmentVariableIsSet("HERMES_TEST_SEED")
        ? quint32(qEnvironmentVariableIntValue("HERMES_TEST_SEED"))
        : QRandomGenerator::global()->generate();
    qInfo("seed %u (HERMES_TEST_SEED reproduces it)", seed);
    QRandomGenerator rng(seed);
    for (int round = 0; round < 40; ++round) {
        const int capacity = 1 + int(rng.bounded(60));
        const qint64 budget = 2048 + rng.bounded(200 * 1024);
        EventHistory history(capacity, budget);
        struct Model
        {
            std::deque<EncodedEventPtr> kept;
            qint64 bytes = 0;
            EventId floor;
        } model[Channel::Count];
        std::vector<EventId> seen;
        for (quint64 ms = 1; ms <= 400; ++ms) {
            const Channel channel = *Channel::fromIndex(int(rng.bounded(Channel::Count)));
            const quint32 kind = rng.bounded(100);
            const qsizetype payload = kind < 60 ? qsizetype(rng.bounded(512))
                : kind < 95                     ? qsizetype(rng.bounded(16 * 1024))
                                                : qsizetype(budget / 2 + rng.bounded(budget));
            const EncodedEventPtr e = makeSizedEvent(ms, channel, payload);
            history.append(e);
            seen.push_back(e->id);
            Model &m = model[channel.index()];
            m.kept.push_back(e);
            m.bytes += e->heldBytes();
            while (int(m.kept.size()) > capacity || (m.bytes > budget && m.kept.size() > 1)) {
                m.floor = m.kept.front()->id;
                m.bytes -= m.kept.front()->heldBytes();
                m.kept.pop_front();
            }

            qint64 total = 0;
            for (const Model &c : model) {
                total += c.bytes;
                QVERIFY2(c.bytes <= budget || c.kept.size() == 1,
                         qPrintable(QStringLiteral("seed %1: %2 bytes held over %3").arg(seed).arg(c.bytes).arg(budget)));
            }
            QCOMPARE(history.heldBytes(), total);
            const EventId after = seen[rng.bounded(quint32(seen.size()))];
            const Channel::Mask mask = Channel::Mask(1 + rng.bounded(quint32(Channel::AllMask)));
            bool covered = true;
            std::vector<EncodedEventPtr> expected;
            for (Channel c : Channel::all()) {
                if (!c.isIn(mask))
                    continue;
                covered = covered && !(after < model[c.index()].floor);
                for (const EncodedEventPtr &k : model[c.index()].kept) {
                    if (after < k->id)
                        expected.push_back(k);
                }
            }
            std::sort(expected.begin(), expected.end(),
                      [](const EncodedEventPtr &a, const EncodedEventPtr &b) { return a->id < b->id; });
            std::vector<EncodedEventPtr> out;
            QCOMPARE(history.eventsAfter(after, mask, &out), covered);
            if (covered)
                QVERIFY2(out == expected, qPrintable(QStringLiteral("seed %1 round %2 event %3").arg(seed).arg(round).arg(ms)));
            const ResumePlanner planner(&history, [](EventId) { return false; });
            const ResumePlanner::Plan plan = planner.plan(after.toByteArray(), mask, {true, 0, e->id}, false);
            QCOMPARE(plan.kind, covered ? ResumePlanner::Plan::Replay : ResumePlanner::Plan::Resync);
            if (!covered)
                QCOMPARE(plan.reason, std::optional<ResyncReason>(ResyncReason::HistoryExceeded));
        }
    }
}

QTEST_MAIN(tst_EventHistory)
#include "tst_eventhistory.moc"
