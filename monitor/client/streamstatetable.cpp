#include "streamstatetable.h"

#include <array>

namespace Hermes {

namespace {

using P = StreamStateTable::Phase;
using A = StreamStateTable::Action;
using R = StreamStateTable::DisconnectReason;
using T = StreamStateTable::Transition;

// The transitions that recur.
constexpr T stay(P phase) { return {phase, {}, std::nullopt}; }
/// A first attempt, with the attempts counted from zero.
constexpr T open() { return {P::Connecting, A::ResetAttempts | A::Connect, R::None}; }
/// Everything stops; `why` says why.
constexpr T stop(R why) { return {why == R::GaveUp ? P::GaveUp : P::Disconnected, A::Drop, why}; }
/// A fresh connection: closed, then opened.
constexpr T restart() { return {P::Disconnected, A::Drop | A::ThenOpen, R::Closed}; }
/// The wait is skipped: try now.
constexpr T retryNow() { return {P::Retrying, A::CancelWait | A::Connect, std::nullopt}; }
/// Announced for every attempt, also when already Reconnecting: the indicator shows the
/// attempt number and the countdown.
constexpr T waitToRetry() { return {P::Waiting, A::ScheduleRetry | A::Announce, std::nullopt}; }
/// A planned end: the next connection at once, the State still Connected.
constexpr T renew() { return {P::Renewing, A::Connect, std::nullopt}; }

constexpr int Phases = StreamStateTable::PhaseCount;
constexpr int Inputs = StreamStateTable::InputCount;

// One row per input, one column per phase. Renewing is an attempt on its way that the user
// is not shown: it answers as Retrying does, except that the State stays Connected.
//         Disconnected    GaveUp           Connecting       Connected        Waiting          Retrying
//         Renewing
constexpr std::array<std::array<T, Phases>, Inputs> Table{{
    /* Open */
    {{open(), open(), stay(P::Connecting), stay(P::Connected), stay(P::Waiting), stay(P::Retrying),
      stay(P::Renewing)}},
    /* Close */
    {{stop(R::Closed), stop(R::Closed), stop(R::Closed), stop(R::Closed), stop(R::Closed), stop(R::Closed),
      stop(R::Closed)}},
    /* Restart */
    {{restart(), restart(), restart(), restart(), restart(), restart(), restart()}},
    /* NetworkBack: a pending wait is cut short; having given up, it starts again. An attempt
       on its way, or a connection, is left alone. */
    {{stay(P::Disconnected), open(), stay(P::Connecting), stay(P::Connected), retryNow(), stay(P::Retrying),
      stay(P::Renewing)}},
    /* Resumed: a connection that looks alive after a suspend probably is not. */
    {{stay(P::Disconnected), open(), restart(), restart(), retryNow(), stay(P::Retrying), restart()}},
    /* WaitOver */
    {{stay(P::Disconnected), stay(P::GaveUp), stay(P::Connecting), stay(P::Connected),
      {P::Retrying, A::Connect, std::nullopt}, stay(P::Retrying), stay(P::Renewing)}},
    /* Streaming */
    {{stay(P::Disconnected), stay(P::GaveUp), {P::Connected, A::StartStable, std::nullopt}, stay(P::Connected),
      stay(P::Waiting), {P::Connected, A::StartStable, std::nullopt}, {P::Connected, A::StartStable, std::nullopt}}},
    /* Stable: connected long enough that the next failure starts counting from one. */
    {{stay(P::Disconnected), stay(P::GaveUp), stay(P::Connecting), {P::Connected, A::ResetAttempts, std::nullopt},
      stay(P::Waiting), stay(P::Retrying), stay(P::Renewing)}},
    /* Rejected */
    {{stay(P::Disconnected), stay(P::GaveUp), stop(R::AuthenticationFailed), stop(R::AuthenticationFailed),
      stay(P::Waiting), stop(R::AuthenticationFailed), stop(R::AuthenticationFailed)}},
    /* Lost: a renewal that fails is the first the user hears of it (attempt 1). */
    {{stay(P::Disconnected), stay(P::GaveUp), waitToRetry(), waitToRetry(), stay(P::Waiting), waitToRetry(),
      waitToRetry()}},
    /* AttemptsSpent */
    {{stay(P::Disconnected), stay(P::GaveUp), stop(R::GaveUp), stop(R::GaveUp), stay(P::Waiting), stop(R::GaveUp),
      stop(R::GaveUp)}},
    /* Ended */
    {{stay(P::Disconnected), stay(P::GaveUp), stop(R::StreamEnded), stop(R::StreamEnded), stay(P::Waiting),
      stop(R::StreamEnded), stop(R::StreamEnded)}},
    /* Failed */
    {{stay(P::Disconnected), stay(P::GaveUp), stop(R::Failed), stop(R::Failed), stay(P::Waiting), stop(R::Failed),
      stop(R::Failed)}},
    /* Renew: only a stream that was Connected can end as planned. */
    {{stay(P::Disconnected), stay(P::GaveUp), stay(P::Connecting), renew(), stay(P::Waiting), stay(P::Retrying),
      stay(P::Renewing)}},
}};

} // namespace

StreamStateTable::Transition StreamStateTable::next(Phase phase, Input input)
{
    return Table[std::size_t(input)][std::size_t(phase)];
}

StreamStateTable::State StreamStateTable::stateOf(Phase phase)
{
    switch (phase) {
    case Phase::Disconnected:
    case Phase::GaveUp: return State::Disconnected;
    case Phase::Connecting: return State::Connecting;
    case Phase::Connected:
    case Phase::Renewing: return State::Connected;
    case Phase::Waiting:
    case Phase::Retrying: break;
    }
    return State::Reconnecting;
}

} // namespace Hermes
