// StreamStateTable: every (phase, input) pair of EventStreamClient's reconnect logic, against
// the rules written out once more here, the way the client's documentation states them; and
// what holds for every transition (a phase is entered with its reason, a connection is only
// started where one is on its way, a retry is always announced).

#include "streamstatetable.h"

#include <QMetaEnum>
#include <QTest>

using namespace Hermes;
using P = StreamStateTable::Phase;
using I = StreamStateTable::Input;
using A = StreamStateTable::Action;
using R = StreamStateTable::DisconnectReason;
using S = StreamStateTable::State;
using Actions = StreamStateTable::Actions;

Q_DECLARE_METATYPE(StreamStateTable::Phase)
Q_DECLARE_METATYPE(StreamStateTable::Input)

namespace {

template<typename E>
QByteArray nameOf(E value)
{
    return QMetaEnum::fromType<E>().valueToKey(int(value));
}

template<typename E>
QList<E> every(int count)
{
    QList<E> out;
    for (int i = 0; i < count; ++i)
        out.append(E(i));
    return out;
}

struct Expected
{
    P next;
    Actions actions;
    std::optional<R> reason;
};

/// The rules, input by input.
Expected expected(P phase, I input)
{
    const Expected nothing{phase, {}, std::nullopt};
    const bool disconnected = phase == P::Disconnected || phase == P::GaveUp;
    // A request is on its way, or an answer is being read: only then can a connection end.
    const bool hasConnection = phase == P::Connecting || phase == P::Connected || phase == P::Retrying
        || phase == P::Renewing;
    const Expected open{P::Connecting, A::ResetAttempts | A::Connect, R::None};
    const Expected restart{P::Disconnected, A::Drop | A::ThenOpen, R::Closed};
    const Expected skipWait{P::Retrying, A::CancelWait | A::Connect, std::nullopt};
    switch (input) {
    case I::Open: // only from a disconnected client
        return disconnected ? open : nothing;
    case I::Close: // from anywhere, also when already disconnected (the reason becomes Closed)
        return {P::Disconnected, A::Drop, R::Closed};
    case I::Restart: // closed, then opened
        return restart;
    case I::NetworkBack: // a waiting retry goes now; after giving up, it starts again
        return phase == P::Waiting ? skipWait : phase == P::GaveUp ? open : nothing;
    case I::Resumed: // a live-looking connection is replaced; otherwise as NetworkBack
        if (phase == P::Connecting || phase == P::Connected || phase == P::Renewing)
            return restart;
        return phase == P::Waiting ? skipWait : phase == P::GaveUp ? open : nothing;
    case I::WaitOver:
        return phase == P::Waiting ? Expected{P::Retrying, A::Connect, std::nullopt} : nothing;
    case I::Streaming:
        return phase == P::Connecting || phase == P::Retrying || phase == P::Renewing
            ? Expected{P::Connected, A::StartStable, std::nullopt}
            : nothing;
    case I::Stable:
        return phase == P::Connected ? Expected{P::Connected, A::ResetAttempts, std::nullopt} : nothing;
    case I::Rejected:
        return hasConnection ? Expected{P::Disconnected, A::Drop, R::AuthenticationFailed} : nothing;
    case I::Lost:
        return hasConnection ? Expected{P::Waiting, A::ScheduleRetry | A::Announce, std::nullopt} : nothing;
    case I::AttemptsSpent:
        return hasConnection ? Expected{P::GaveUp, A::Drop, R::GaveUp} : nothing;
    case I::Ended:
        return hasConnection ? Expected{P::Disconnected, A::Drop, R::StreamEnded} : nothing;
    case I::Failed:
        return hasConnection ? Expected{P::Disconnected, A::Drop, R::Failed} : nothing;
    case I::Renew: // a planned end of a stream: the next one at once, not shown as an outage
        return phase == P::Connected ? Expected{P::Renewing, A::Connect, std::nullopt} : nothing;
    }
    return nothing;
}

} // namespace

class tst_StreamStateTable : public QObject
{
    Q_OBJECT

private slots:
    void everyTransition_data();
    void everyTransition();
    void whatEveryTransitionKeeps();
    void phasesShowAsStates();
};

void tst_StreamStateTable::everyTransition_data()
{
    QTest::addColumn<P>("phase");
    QTest::addColumn<I>("input");
    QCOMPARE(QMetaEnum::fromType<P>().keyCount(), StreamStateTable::PhaseCount);
    QCOMPARE(QMetaEnum::fromType<I>().keyCount(), StreamStateTable::InputCount);
    for (P phase : every<P>(StreamStateTable::PhaseCount)) {
        for (I input : every<I>(StreamStateTable::InputCount))
            QTest::addRow("%s × %s", nameOf(phase).constData(), nameOf(input).constData()) << phase << input;
    }
}

void tst_StreamStateTable::everyTransition()
{
    QFETCH(P, phase);
    QFETCH(I, input);
    const StreamStateTable::Transition t = StreamStateTable::next(phase, input);
    const Expected e = expected(phase, input);
    QCOMPARE(nameOf(t.next), nameOf(e.next));
    QCOMPARE(t.actions.toInt(), e.actions.toInt());
    QCOMPARE(t.reason.has_value(), e.reason.has_value());
    if (e.reason)
        QCOMPARE(nameOf(*t.reason), nameOf(*e.reason));
}

void tst_StreamStateTable::whatEveryTransitionKeeps()
{
    for (P phase : every<P>(StreamStateTable::PhaseCount)) {
        for (I input : every<I>(StreamStateTable::InputCount)) {
            const StreamStateTable::Transition t = StreamStateTable::next(phase, input);
            const QByteArray where = nameOf(phase) + " × " + nameOf(input);
            const bool disconnected = t.next == P::Disconnected || t.next == P::GaveUp;
            const bool changes = t.next != phase || t.actions || t.reason;
            if (disconnected && changes) {
                // Stopping drops whatever runs, and says why; only giving up leads to GaveUp.
                QVERIFY2(t.actions & A::Drop, where);
                QVERIFY2(t.reason && *t.reason != R::None, where);
                QVERIFY2((t.next == P::GaveUp) == (*t.reason == R::GaveUp), where);
            }
            if (t.reason && *t.reason == R::None) // leaving Disconnected forgets the reason
                QVERIFY2(t.next == P::Connecting, where);
            if (t.actions & A::Connect) // a request only where one is on its way
                QVERIFY2(t.next == P::Connecting || t.next == P::Retrying || t.next == P::Renewing, where);
            if (t.next == P::Renewing && phase != P::Renewing) // only a stream that ran renews
                QVERIFY2(phase == P::Connected, where);
            if (t.actions & A::ScheduleRetry) // every attempt is announced, with its countdown
                QVERIFY2(t.next == P::Waiting && (t.actions & A::Announce), where);
            if (t.actions & A::CancelWait)
                QVERIFY2(phase == P::Waiting, where);
            if (t.actions & A::StartStable)
                QVERIFY2(t.next == P::Connected && phase != P::Connected, where);
            if (t.actions & A::ThenOpen) // a restart: closed first, then Open
                QVERIFY2(t.next == P::Disconnected && (t.actions & A::Drop), where);
            if (t.next == P::Waiting && phase != P::Waiting)
                QVERIFY2(t.actions & A::ScheduleRetry, where);
        }
    }
    // Open after a restart's Close always starts a connection.
    const StreamStateTable::Transition afterClose = StreamStateTable::next(P::Disconnected, I::Open);
    QCOMPARE(nameOf(afterClose.next), nameOf(P::Connecting));
    QVERIFY(afterClose.actions & A::Connect);
}

void tst_StreamStateTable::phasesShowAsStates()
{
    QCOMPARE(StreamStateTable::stateOf(P::Disconnected), S::Disconnected);
    QCOMPARE(StreamStateTable::stateOf(P::GaveUp), S::Disconnected);
    QCOMPARE(StreamStateTable::stateOf(P::Connecting), S::Connecting);
    QCOMPARE(StreamStateTable::stateOf(P::Connected), S::Connected);
    QCOMPARE(StreamStateTable::stateOf(P::Waiting), S::Reconnecting);
    QCOMPARE(StreamStateTable::stateOf(P::Retrying), S::Reconnecting);
    // A planned renewal is not an outage: the indicator stays Connected.
    QCOMPARE(StreamStateTable::stateOf(P::Renewing), S::Connected);
}

QTEST_APPLESS_MAIN(tst_StreamStateTable)
#include "tst_streamstatetable.moc"
