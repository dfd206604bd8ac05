// ResumePlanner: every reason a resume is served, waited for, or answered with resync.

#include "stream/eventhistory.h"
#include "stream/resumeplanner.h"

#include <QTest>

using namespace Hermes;

class tst_ResumePlanner : public QObject
{
    Q_OBJECT

private slots:
    void plan_data();
    void plan();
};

static constexpr quint32 Epoch = 60466176; // "100000"
static constexpr quint32 OtherEpoch = 60466177;

static EncodedEventPtr makeEvent(quint64 ms, quint64 seq, Channel channel)
{
    auto e = std::make_shared<EncodedEvent>();
    e->id = EventId(ms, seq, Epoch);
    e->channel = channel;
    return e;
}

using Kind = ResumePlanner::Plan::Kind;
Q_DECLARE_METATYPE(Kind)

void tst_ResumePlanner::plan_data()
{
    QTest::addColumn<QByteArray>("lastEventId");
    QTest::addColumn<int>("mask");
    QTest::addColumn<bool>("ready");
    QTest::addColumn<bool>("mayArrive");
    QTest::addColumn<bool>("waitOver");
    QTest::addColumn<Kind>("kind");
    QTest::addColumn<QString>("reason");
    QTest::addColumn<QByteArray>("cursor");

    const QByteArray e = EventId::epochText(Epoch);
    const QByteArray o = EventId::epochText(OtherEpoch);
    const int all = Channel::AllMask;
    // The history holds downloads 13..15 (10..12 evicted) and system 11, 14; delivered up to 15.
    QTest::newRow("fresh") << QByteArray() << all << true << false << false << Kind::Live << QString() << e + "-15-0";
    QTest::newRow("fresh, history loading") << QByteArray() << all << false << false << false << Kind::Wait << QString() << QByteArray();
    QTest::newRow("fresh, loading long") << QByteArray() << all << false << false << true << Kind::End << QString() << QByteArray();
    QTest::newRow("resume, loading") << e + "-14-0" << all << false << false << false << Kind::Wait << QString() << QByteArray();
    QTest::newRow("resume, loading too long") << e + "-14-0" << all << false << false << true << Kind::End << QString() << QByteArray();
    QTest::newRow("in history") << e + "-13-0" << all << true << false << false << Kind::Replay << QString() << e + "-13-0";
    QTest::newRow("the newest") << e + "-15-0" << all << true << false << false << Kind::Replay << QString() << e + "-15-0";
    QTest::newRow("the epoch's start, one channel") << e + "-0-0" << int(Channel::bitOf(Channel::System)) << true << false << false << Kind::Replay << QString() << e + "-0-0";
    QTest::newRow("evicted") << e + "-11-0" << all << true << false << false << Kind::Resync << "history_exceeded" << e + "-15-0";
    QTest::newRow("evicted elsewhere only") << e + "-11-0" << int(Channel::bitOf(Channel::System)) << true << false << false << Kind::Replay << QString() << e + "-11-0";
    QTest::newRow("within the history, no event's") << e + "-13-5" << all << true << true << false << Kind::Resync << "unknown_event_id" << e + "-15-0";
    QTest::newRow("within one channel's, no event's") << e + "-14-5" << int(Channel::bitOf(Channel::System)) << true << true << false << Kind::Resync << "unknown_event_id" << e + "-15-0";
    QTest::newRow("below a floor: may have been evicted") << e + "-11-5" << int(Channel::bitOf(Channel::System)) << true << false << false << Kind::Replay << QString() << e + "-11-5";
    QTest::newRow("future, may arrive") << e + "-16-0" << all << true << true << false << Kind::Wait << QString() << QByteArray();
    QTest::newRow("future, waited") << e + "-16-0" << all << true << true << true << Kind::Resync << "unknown_event_id" << e + "-15-0";
    QTest::newRow("future, never issued") << e + "-16-0" << all << true << false << false << Kind::Resync << "unknown_event_id" << e + "-15-0";
    QTest::newRow("another epoch") << o + "-14-0" << all << true << true << false << Kind::Resync << "unknown_history" << e + "-15-0";
    QTest::newRow("no epoch (before epochs)") << QByteArray("14-0") << all << true << true << false << Kind::Resync << "unknown_history" << e + "-15-0";
    QTest::newRow("garbage") << QByteArray("not an id") << all << true << true << false << Kind::Resync << "invalid_last_event_id" << e + "-15-0";
    QTest::newRow("trailing space") << e + "-14-0 " << all << true << true << false << Kind::Resync << "invalid_last_event_id" << e + "-15-0";
}

void tst_ResumePlanner::plan()
{
    QFETCH(QByteArray, lastEventId);
    QFETCH(int, mask);
    QFETCH(bool, ready);
    QFETCH(bool, mayArrive);
    QFETCH(bool, waitOver);
    QFETCH(Kind, kind);
    QFETCH(QString, reason);
    QFETCH(QByteArray, cursor);

    EventHistory history(3);
    for (quint64 ms : {10, 11, 12, 13, 14, 15}) {
        history.append(makeEvent(ms, 0, Channel::Downloads));
        if (ms == 11 || ms == 14)
            history.append(makeEvent(ms, 1, Channel::System));
    }
    ResumePlanner planner(&history, [mayArrive](EventId) { return mayArrive; });
    ResumePlanner::State state;
    state.historyReady = ready;
    state.epoch = Epoch;
    state.delivered = EventId(15, 0, Epoch);
    const ResumePlanner::Plan plan = planner.plan(lastEventId, quint8(mask), state, waitOver);
    QCOMPARE(plan.kind, kind);
    // Only a resync has a reason (the one resync_required carries); an End has one cause.
    QCOMPARE(plan.reason ? QString(wireName(*plan.reason)) : QString(), reason);
    if (!cursor.isEmpty())
        QCOMPARE(plan.cursor.toByteArray(), cursor);
}

QTEST_MAIN(tst_ResumePlanner)
#include "tst_resumeplanner.moc"
